//! A city office's local policy: plugin packages, dry runs, and revisions of its bindings.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use zhiyuan_app::policy::{
    self, BindingsRequest, DryRunRequest, PACKAGE_LIMIT, SwitchRequest, Upload,
};
use zhiyuan_app::views::{DryRunView, Items, PluginView, PolicyView, RevisionInForce};

use crate::access::Access;
use crate::extract::{Checked, Document, PathParams, QueryOf, read_body};
use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

/// The header that carries a package's signature.
pub const SIGNATURE_HEADER: &str = "zhiyuan-signature";

impl Document for BindingsRequest {
    const SCHEMA: SchemaId = SchemaId::PolicyBindings;
}

impl Document for SwitchRequest {
    const SCHEMA: SchemaId = SchemaId::PolicySwitch;
}

impl Document for DryRunRequest {
    const SCHEMA: SchemaId = SchemaId::PluginDryRun;
}

#[derive(Debug, Deserialize)]
pub(crate) struct UploadQuery {
    name: String,
    version: String,
}

/// The tenant's stored plugins.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/plugins", tag = "policy", operation_id = "list_plugins",
    responses((status = 200, description = "The stored plugin packages, without their bytes", body = Items<PluginView>)))]
pub(crate) async fn list_plugins(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<Items<PluginView>>, ApiError> {
    Ok(Json(
        policy::list_plugins(&state.app, access.tenant()?)
            .await?
            .into(),
    ))
}

/// Uploads a plugin package (a WebAssembly component). The node checks its signature where it
/// requires one, and its size, exports and imports, before compiling; then that it compiles
/// and answers the conformance inputs. Stored once under its SHA-256.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/plugins", tag = "policy", operation_id = "upload_plugin",
    params(
        ("name" = String, Query, pattern = "^[a-z][a-z0-9-]{0,39}$", description = "The plugin's name: lower-case letters, digits and hyphens"),
        ("version" = String, Query, pattern = "^[0-9]+\\.[0-9]+\\.[0-9]+$", max_length = 32, description = "The plugin's version, major.minor.patch, at most 32 characters"),
        ("zhiyuan-signature" = Option<String>, Header, description = "Ed25519 signature over the package's SHA-256 by a key the node trusts (zhiyuan plugin sign)"),
    ),
    request_body(content = Vec<u8>, description = "The component's bytes", content_type = "application/wasm"),
    responses(
        (status = 201, description = "Stored", body = PluginView),
        (status = 200, description = "Stored already", body = PluginView),
    ))]
pub(crate) async fn upload_plugin(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<UploadQuery>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<PluginView>), ApiError> {
    let signature = match headers.get(SIGNATURE_HEADER) {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| policy::unreadable_signature())?
                .to_owned(),
        ),
        None => None,
    };
    let bytes = read_body(&state, request.into_body(), PACKAGE_LIMIT).await?;
    let upload = Upload {
        name: query.name,
        version: query.version,
        signature,
        bytes,
    };
    let (new, plugin) =
        policy::upload(&state.app, access.principal()?, access.tenant()?, upload).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(plugin)))
}

/// Runs one hook of a stored plugin on the given input and settings. Nothing is put in place and
/// nothing counts against the plugin.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/plugins/{sha256}/dry-run", tag = "policy", operation_id = "dry_run_plugin",
    request_body(content = Object, description = "schemas/plugin-dry-run.schema.json"),
    responses((status = 200, description = "The plugin's answer, or how it failed", body = DryRunView)))]
pub(crate) async fn dry_run(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<DryRunRequest>,
) -> Result<Json<DryRunView>, ApiError> {
    let answer = policy::dry_run(
        &state.app,
        access.tenant()?,
        &path.sha256("sha256")?,
        request,
    )
    .await?;
    Ok(Json(answer))
}

/// The tenant's policy: for each hook, what answers it (a plugin and revision, or the built-in
/// default), its binding, whether it was switched off and why; and every revision.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/policy", tag = "policy", operation_id = "read_policy",
    responses((status = 200, description = "The hooks, the revision in force and the history", body = PolicyView)))]
pub(crate) async fn get_policy(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<PolicyView>, ApiError> {
    Ok(Json(policy::read(&state.app, access.tenant()?).await?))
}

/// Binds hooks to stored plugins: a new revision, in force for every request that starts after
/// the answer. Hooks left out answer with the built-in default.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/policy", tag = "policy", operation_id = "bind_policy",
    request_body(content = Object, description = "schemas/policy-bindings.schema.json"),
    responses((status = 200, description = "The new revision, in force", body = RevisionInForce)))]
pub(crate) async fn put_policy(
    State(state): State<AppState>,
    access: Access,
    Checked(request): Checked<BindingsRequest>,
) -> Result<Json<RevisionInForce>, ApiError> {
    let revision = policy::bind(&state.app, access.principal()?, access.tenant()?, request).await?;
    Ok(Json(revision))
}

/// Puts another revision in force: a rollback to an earlier one, or forward again.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/policy/switch", tag = "policy", operation_id = "switch_policy",
    request_body(content = Object, description = "schemas/policy-switch.schema.json"),
    responses((status = 200, description = "The revision in force", body = RevisionInForce)))]
pub(crate) async fn switch_policy(
    State(state): State<AppState>,
    access: Access,
    Checked(request): Checked<SwitchRequest>,
) -> Result<Json<RevisionInForce>, ApiError> {
    let revision =
        policy::switch(&state.app, access.principal()?, access.tenant()?, request).await?;
    Ok(Json(revision))
}
