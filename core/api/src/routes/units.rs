//! Units (employers) with their staff and civilised-unit level.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use zhiyuan_app::tenants::{self, NewUnitRequest, UnitChange};
use zhiyuan_app::views::Items;
use zhiyuan_domain::Unit;

use crate::access::Access;
use crate::extract::{Checked, Document, PathParams};
use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

impl Document for NewUnitRequest {
    const SCHEMA: SchemaId = SchemaId::UnitCreate;
}

impl Document for UnitChange {
    const SCHEMA: SchemaId = SchemaId::UnitUpdate;
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/units", tag = "units", operation_id = "list_units",
    responses((status = 200, description = "The units", body = Items<Unit>)))]
pub(crate) async fn list_units(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<Items<Unit>>, ApiError> {
    Ok(Json(
        tenants::units(&state.app, access.tenant()?).await?.into(),
    ))
}

/// Adds a unit; audited.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/units", tag = "units", operation_id = "create_unit",
    request_body(content = Object, description = "schemas/unit-create.schema.json"),
    responses((status = 201, description = "The unit", body = Unit)))]
pub(crate) async fn create_unit(
    State(state): State<AppState>,
    access: Access,
    Checked(request): Checked<NewUnitRequest>,
) -> Result<(StatusCode, Json<Unit>), ApiError> {
    let unit =
        tenants::create_unit(&state.app, access.principal()?, access.tenant()?, request).await?;
    Ok((StatusCode::CREATED, Json(unit)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/units/{unit_id}", tag = "units", operation_id = "read_unit",
    responses((status = 200, description = "The unit", body = Unit)))]
pub(crate) async fn get_unit(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Json<Unit>, ApiError> {
    let unit = tenants::unit(&state.app, access.tenant()?, path.id("unit_id")?).await?;
    Ok(Json(unit))
}

/// Changes a unit's name, civilised-unit level or staff; audited.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/units/{unit_id}", tag = "units", operation_id = "update_unit",
    request_body(content = Object, description = "schemas/unit-update.schema.json"),
    responses((status = 200, description = "The unit as updated", body = Unit)))]
pub(crate) async fn update_unit(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(change): Checked<UnitChange>,
) -> Result<Json<Unit>, ApiError> {
    let unit = tenants::update_unit(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("unit_id")?,
        change,
    )
    .await?;
    Ok(Json(unit))
}
