//! Tenants, their regions and reviewing bodies.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use zhiyuan_app::tenants::{self, RegionChange};
use zhiyuan_app::views::{Items, TenantView};
use zhiyuan_domain::{Region, ReviewingBody, TenantConfig};

use crate::access::Access;
use crate::extract::{Checked, Document, PathParams};
use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

impl Document for TenantConfig {
    const SCHEMA: SchemaId = SchemaId::TenantConfig;
    const BODY_LIMIT: usize = 2 * 1024 * 1024;
}

impl Document for RegionChange {
    const SCHEMA: SchemaId = SchemaId::RegionUpdate;
}

/// The tenants this node hosts: public, so that a sign-in page can offer them.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", operation_id = "list_tenants",
    responses((status = 200, description = "Code and name of every tenant", body = Items<TenantView>)))]
pub(crate) async fn list_tenants(
    State(state): State<AppState>,
    _access: Access,
) -> Result<Json<Items<TenantView>>, ApiError> {
    Ok(Json(tenants::list(&state.app).await?.into()))
}

/// Creates a tenant from its configuration document, with the bundled plugins it binds as its
/// first policy revision.
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", operation_id = "create_tenant",
    request_body(content = Object, description = "schemas/tenant-config.schema.json"),
    responses((status = 201, description = "The tenant was created", body = TenantView)))]
pub(crate) async fn create_tenant(
    State(state): State<AppState>,
    access: Access,
    Checked(config): Checked<TenantConfig>,
) -> Result<(StatusCode, Json<TenantView>), ApiError> {
    let spec = config.parse()?;
    let tenant = tenants::create_new(&state.app, access.principal()?, spec).await?;
    Ok((StatusCode::CREATED, Json(tenant)))
}

/// One tenant's code and name (public).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}", tag = "tenants", operation_id = "read_tenant",
    responses((status = 200, description = "The tenant", body = TenantView)))]
pub(crate) async fn get_tenant(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<TenantView>, ApiError> {
    Ok(Json(tenants::read(&state.app, access.tenant()?).await?))
}

/// The tenant's regions with their resident populations, parents first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/regions", tag = "tenants", operation_id = "list_regions",
    responses((status = 200, description = "The regions", body = Items<Region>)))]
pub(crate) async fn list_regions(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<Items<Region>>, ApiError> {
    Ok(Json(
        tenants::regions(&state.app, access.tenant()?).await?.into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/regions/{region}", tag = "tenants", operation_id = "read_region",
    responses((status = 200, description = "The region", body = Region)))]
pub(crate) async fn get_region(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Json<Region>, ApiError> {
    let region = tenants::region(&state.app, access.tenant()?, &path.region("region")?).await?;
    Ok(Json(region))
}

/// Sets a region's resident population; audited.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/regions/{region}", tag = "tenants", operation_id = "update_region",
    request_body(content = Object, description = "schemas/region-update.schema.json"),
    responses((status = 200, description = "The region as updated", body = Region)))]
pub(crate) async fn update_region(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(change): Checked<RegionChange>,
) -> Result<Json<Region>, ApiError> {
    let region = tenants::update_region(
        &state.app,
        access.principal()?,
        access.tenant()?,
        &path.region("region")?,
        change,
    )
    .await?;
    Ok(Json(region))
}

/// The associations, registration authorities and civilisation offices that review at each
/// level.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/reviewing-bodies", tag = "tenants", operation_id = "list_reviewing_bodies",
    responses((status = 200, description = "The reviewing bodies", body = Items<ReviewingBody>)))]
pub(crate) async fn list_reviewing_bodies(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<Items<ReviewingBody>>, ApiError> {
    Ok(Json(
        tenants::reviewing_bodies(&state.app, access.tenant()?)
            .await?
            .into(),
    ))
}
