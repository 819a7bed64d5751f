use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use zhiyuan_domain::region::parse_population;
use zhiyuan_domain::{Role, TenantConfig};
use zhiyuan_store::RegionUpdate;

use crate::auth::CurrentUser;
use crate::extract::{Checked, Document, PathParams};
use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

impl Document for TenantConfig {
    const SCHEMA: SchemaId = SchemaId::TenantConfig;
    const BODY_LIMIT: usize = 2 * 1024 * 1024;
}

#[derive(Debug, Deserialize)]
pub(crate) struct RegionUpdateBody {
    resident_population: i64,
}

impl Document for RegionUpdateBody {
    const SCHEMA: SchemaId = SchemaId::RegionUpdate;
}

/// The tenants this node hosts: public, so that a sign-in page can offer them.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", responses((status = 200, description = "Code and name of every tenant")))]
pub(crate) async fn list_tenants(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let tenants = state.store.tenants().await?;
    Ok(Json(json!({ "items": tenants })))
}

/// Creates a tenant from its configuration document (operator).
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants",
    request_body(content = Object, description = "schemas/tenant-config.schema.json"),
    responses(
        (status = 201, description = "The tenant was created"),
        (status = 409, description = "A tenant with this code exists", content_type = "application/problem+json"),
        (status = 422, description = "The document breaks a rule", content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_tenant(
    State(state): State<AppState>,
    current: CurrentUser,
    Checked(config): Checked<TenantConfig>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if !current.is_operator() {
        return Err(ApiError::Forbidden);
    }
    let spec = config.parse()?;
    // The bundled plugins it binds are checked and prepared before anything is written, and the
    // policy goes in place under the lock every change of policy takes.
    let _change = state.policy_changes.lock().await;
    let host = state.policies.clone();
    let checking = spec.clone();
    let (bundled, prepared) = tokio::task::spawn_blocking(move || {
        let bundled = crate::service::check_bundled_bindings(host.as_ref(), &checking)?;
        if bundled.is_empty() {
            return Ok((bundled, None));
        }
        let first = zhiyuan_domain::ports::PolicyRevision {
            tenant: checking.code.clone(),
            revision: 1,
            bindings: bundled
                .iter()
                .map(|(binding, package, _)| (binding.clone(), package.clone()))
                .collect(),
            switched_off: Vec::new(),
        };
        let prepared = host.prepare(&first).map_err(ApiError::PluginRefused)?;
        Ok::<_, ApiError>((bundled, Some(prepared)))
    })
    .await
    .map_err(|error| ApiError::Internal(error.to_string()))??;
    crate::service::create_tenant(
        &state.store,
        &spec,
        &bundled,
        &current.actor(),
        state.clock.now(),
    )
    .await?;
    if let Some(policy) = prepared {
        state.policies.install(&spec.code, policy);
    }
    let tenant = state.store.tenant(&spec.code).await?;
    Ok((StatusCode::CREATED, Json(json!(tenant))))
}

/// One tenant's code and name (public).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "Division code of the tenant")),
    responses((status = 200, description = "The tenant"), (status = 404, description = "No such tenant")))]
pub(crate) async fn get_tenant(
    State(state): State<AppState>,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = state.store.tenant(&path.tenant()?).await?;
    Ok(Json(json!(tenant)))
}

/// The tenant's regions with their resident populations, parents first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/regions", tag = "tenants",
    params(("tenant" = String, Path, description = "Division code of the tenant")),
    responses((status = 200, description = "The regions")))]
pub(crate) async fn list_regions(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let regions = state.store.regions(&tenant).await?;
    Ok(Json(json!({ "items": regions })))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/regions/{region}", tag = "tenants",
    params(("tenant" = String, Path), ("region" = String, Path, description = "Division code of the region")),
    responses((status = 200, description = "The region"), (status = 404, description = "Not a region of the tenant")))]
pub(crate) async fn get_region(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let region = state.store.region(&tenant, &path.region("region")?).await?;
    Ok(Json(json!(region)))
}

/// Sets a region's resident population (office admin); audited.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/regions/{region}", tag = "tenants",
    params(("tenant" = String, Path), ("region" = String, Path)),
    request_body(content = Object, description = "schemas/region-update.schema.json"),
    responses((status = 200, description = "The region as updated")))]
pub(crate) async fn update_region(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    Checked(body): Checked<RegionUpdateBody>,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(&tenant, &[Role::OfficeAdmin])?;
    let update = RegionUpdate {
        resident_population: parse_population(body.resident_population, "/resident_population")?,
    };
    let region = state
        .store
        .update_region(
            &tenant,
            &path.region("region")?,
            &update,
            &current.actor(),
            state.clock.now(),
        )
        .await?;
    Ok(Json(json!(region)))
}

/// The federations, registration authorities and civilisation offices that review at each
/// level.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/reviewing-bodies", tag = "tenants",
    params(("tenant" = String, Path)),
    responses((status = 200, description = "The reviewing bodies")))]
pub(crate) async fn list_reviewing_bodies(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let bodies = state.store.reviewing_bodies(&tenant).await?;
    Ok(Json(json!({ "items": bodies })))
}
