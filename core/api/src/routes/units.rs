use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use zhiyuan_domain::tenant::UnitSpec;
use zhiyuan_domain::{CivilisationLevel, LocalizedName, RegionCode, Role, Staff, UnitKind};
use zhiyuan_store::UnitUpdate;

use crate::auth::CurrentUser;
use crate::extract::{Checked, Document, PathParams};
use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize)]
pub(crate) struct UnitCreateBody {
    name: LocalizedName,
    region: String,
    kind: UnitKind,
    civilisation_level: CivilisationLevel,
    staff: i64,
}

impl Document for UnitCreateBody {
    const SCHEMA: SchemaId = SchemaId::UnitCreate;
}

#[derive(Debug, Deserialize)]
pub(crate) struct UnitUpdateBody {
    name: Option<LocalizedName>,
    civilisation_level: Option<CivilisationLevel>,
    staff: Option<i64>,
}

impl Document for UnitUpdateBody {
    const SCHEMA: SchemaId = SchemaId::UnitUpdate;
}

/// The tenant's units (employers) with their staff and civilised-unit level.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/units", tag = "units",
    params(("tenant" = String, Path)),
    responses((status = 200, description = "The units")))]
pub(crate) async fn list_units(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let units = state.store.units(&tenant).await?;
    Ok(Json(json!({ "items": units })))
}

/// Adds a unit (office admin); audited.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/units", tag = "units",
    params(("tenant" = String, Path)),
    request_body(content = Object, description = "schemas/unit-create.schema.json"),
    responses(
        (status = 201, description = "The unit"),
        (status = 409, description = "The tenant has a unit of this name", content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_unit(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    Checked(body): Checked<UnitCreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(&tenant, &[Role::OfficeAdmin])?;
    let spec = UnitSpec {
        name: LocalizedName::parse(&body.name.zh, body.name.en.as_deref(), "/name")?,
        region: RegionCode::parse(&body.region)
            .map_err(|rule| zhiyuan_domain::InvalidInput::new("/region", rule))?,
        kind: body.kind,
        civilisation_level: body.civilisation_level,
        staff: Staff::parse(body.staff, "/staff")?,
    };
    let unit = state
        .store
        .create_unit(&tenant, &spec, &current.actor(), state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(json!(unit))))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/units/{unit_id}", tag = "units",
    params(("tenant" = String, Path), ("unit_id" = String, Path, description = "A UUID")),
    responses((status = 200, description = "The unit"), (status = 404, description = "Not a unit of the tenant")))]
pub(crate) async fn get_unit(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let unit = state.store.unit(&tenant, path.id("unit_id")?).await?;
    Ok(Json(json!(unit)))
}

/// Changes a unit's name, civilised-unit level or staff (office admin); audited.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/units/{unit_id}", tag = "units",
    params(("tenant" = String, Path), ("unit_id" = String, Path, description = "A UUID")),
    request_body(content = Object, description = "schemas/unit-update.schema.json"),
    responses((status = 200, description = "The unit as updated")))]
pub(crate) async fn update_unit(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    Checked(body): Checked<UnitUpdateBody>,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(&tenant, &[Role::OfficeAdmin])?;
    let update = UnitUpdate {
        name: body
            .name
            .map(|name| LocalizedName::parse(&name.zh, name.en.as_deref(), "/name"))
            .transpose()?,
        civilisation_level: body.civilisation_level,
        staff: body
            .staff
            .map(|staff| Staff::parse(staff, "/staff"))
            .transpose()?,
    };
    let unit = state
        .store
        .update_unit(
            &tenant,
            path.id("unit_id")?,
            &update,
            &current.actor(),
            state.clock.now(),
        )
        .await?;
    Ok(Json(json!(unit)))
}
