//! A city office's local policy: plugin packages it uploads (checked, signed where the node
//! requires it, stored by SHA-256), dry runs, and numbered revisions of its bindings of hooks to
//! plugins, switched atomically and rolled back. Every change is audited.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use zhiyuan_domain::ports::{Binding, Hook, HookCall, OnFailure, PolicyRevision};
use zhiyuan_domain::{InvalidInput, Role, Rule, TenantCode};
use zhiyuan_store::{NewPlugin, StoreError};

use crate::auth::CurrentUser;
use crate::extract::{Checked, Document, PathParams};
use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

/// Components are small; a policy plugin of several megabytes is a mistake.
const PACKAGE_LIMIT: usize = 4 << 20;

/// The header that carries a package's signature.
pub const SIGNATURE_HEADER: &str = "zhiyuan-signature";

const MANAGERS: &[Role] = &[Role::OfficeAdmin, Role::Operator];
const READERS: &[Role] = &[Role::OfficeAdmin, Role::Auditor, Role::Operator];

#[derive(Debug, Deserialize)]
pub(crate) struct UploadQuery {
    name: String,
    version: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct BindingsBody {
    bindings: Vec<Binding>,
}

impl Document for BindingsBody {
    const SCHEMA: SchemaId = SchemaId::PolicyBindings;
}

#[derive(Debug, Deserialize)]
pub(crate) struct SwitchBody {
    revision: u64,
    reason: Option<String>,
}

impl Document for SwitchBody {
    const SCHEMA: SchemaId = SchemaId::PolicySwitch;
}

#[derive(Debug, Deserialize)]
pub(crate) struct DryRunBody {
    hook: Hook,
    input: Value,
    #[serde(default)]
    settings: BTreeMap<String, String>,
}

impl Document for DryRunBody {
    const SCHEMA: SchemaId = SchemaId::PluginDryRun;
}

/// The tenant's stored plugins.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/plugins", tag = "policy",
    params(("tenant" = String, Path)),
    responses((status = 200, description = "The stored plugin packages, without their bytes")))]
pub(crate) async fn list_plugins(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(&tenant, READERS)?;
    let plugins = state.store.plugins(&tenant).await?;
    Ok(Json(json!({ "items": plugins })))
}

/// Uploads a plugin package (a WebAssembly component). The node checks its signature where it
/// requires one, before compiling; then that it compiles, exports hooks of a supported WIT version,
/// imports nothing but the log, and answers the conformance inputs. Stored once under its SHA-256.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/plugins", tag = "policy",
    params(
        ("tenant" = String, Path),
        ("name" = String, Query, description = "The plugin's name: lower-case letters, digits and hyphens"),
        ("version" = String, Query, description = "The plugin's version, major.minor.patch"),
        ("zhiyuan-signature" = Option<String>, Header, description = "Ed25519 signature over the package's SHA-256 by a key the node trusts (zhiyuan plugin sign)"),
    ),
    request_body(content = Vec<u8>, description = "The component's bytes", content_type = "application/wasm"),
    responses(
        (status = 201, description = "Stored: sha256, WIT version, hooks, signer"),
        (status = 200, description = "Stored already"),
        (status = 413, description = "Larger than 4 MiB", content_type = "application/problem+json"),
        (status = 422, description = "Refused: unsigned, wrong signature, not a component, wrong world, unknown version, failed conformance", content_type = "application/problem+json"),
    ))]
pub(crate) async fn upload_plugin(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(&tenant, MANAGERS)?;
    state.store.tenant(&tenant).await?;
    let Query(query) = query.map_err(|rejection| ApiError::BadQuery {
        detail: rejection.body_text(),
    })?;
    check_name(&query.name)?;
    check_version(&query.version)?;
    let signature = match headers.get(SIGNATURE_HEADER) {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| {
                    ApiError::PluginRefused(zhiyuan_domain::ports::PluginRefusal::BadSignature)
                })?
                .to_owned(),
        ),
        None => None,
    };
    let bytes = crate::extract::read_body(request.into_body(), PACKAGE_LIMIT).await?;
    let host = state.policies.clone();
    let admitted_tenant = tenant.clone();
    let package = bytes.clone();
    let checked_signature = signature.clone();
    // Compiling takes a while; it runs off the request threads.
    let manifest = tokio::task::spawn_blocking(move || {
        host.admit(&admitted_tenant, &package, checked_signature.as_deref())
    })
    .await
    .map_err(|error| ApiError::Internal(error.to_string()))?
    .map_err(ApiError::PluginRefused)?;
    let new = state
        .store
        .store_plugin(
            &tenant,
            NewPlugin {
                name: &query.name,
                version: &query.version,
                manifest: &manifest,
                content: &bytes,
                signature: signature.as_deref(),
            },
            &current.actor(),
            state.clock.now(),
        )
        .await?;
    // Stored once: a second upload of the same bytes answers with what was stored first.
    let stored = state
        .store
        .plugins(&tenant)
        .await?
        .into_iter()
        .find(|plugin| plugin.sha256 == manifest.sha256)
        .ok_or_else(|| ApiError::Internal("a stored plugin is not listed".into()))?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!(stored))))
}

/// Runs one hook of a stored plugin on the given input and settings. Nothing is put in place and
/// nothing counts against the plugin.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/plugins/{sha256}/dry-run", tag = "policy",
    params(("tenant" = String, Path), ("sha256" = String, Path, description = "SHA-256 of a stored plugin, in hex")),
    request_body(content = Object, description = "schemas/plugin-dry-run.schema.json"),
    responses(
        (status = 200, description = "The plugin's answer, or how it failed"),
        (status = 404, description = "No such plugin"),
        (status = 422, description = "The input does not fit the hook, or the plugin does not implement it", content_type = "application/problem+json"),
    ))]
pub(crate) async fn dry_run(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    Checked(body): Checked<DryRunBody>,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(&tenant, MANAGERS)?;
    let sha256 = path.sha256("sha256")?;
    let call: HookCall = serde_json::from_value(json!({ "hook": body.hook, "input": body.input }))
        .map_err(|_| InvalidInput::new("/input", Rule::HookInput))?;
    let package = state.store.plugin_package(&tenant, &sha256).await?;
    let binding = Binding {
        hook: body.hook,
        plugin: sha256,
        on_failure: OnFailure::FailClosed,
        settings: body.settings,
    };
    let host = state.policies.clone();
    let answer =
        tokio::task::spawn_blocking(move || host.dry_run(&tenant, &package, &binding, &call))
            .await
            .map_err(|error| ApiError::Internal(error.to_string()))?
            .map_err(ApiError::PluginRefused)?;
    Ok(Json(match answer {
        Ok(answer) => json!({ "hook": body.hook, "answer": answer }),
        Err(failure) => json!({
            "hook": body.hook,
            "failure": { "reason": failure.reason, "message": failure.to_string() },
        }),
    }))
}

/// The tenant's policy: for each hook, what answers it (a plugin and revision, or the built-in
/// default), its binding, whether it was switched off and why; and every revision.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/policy", tag = "policy",
    params(("tenant" = String, Path)),
    responses((status = 200, description = "The hooks, the revision in force and the history")))]
pub(crate) async fn get_policy(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(&tenant, READERS)?;
    let policy = state.policies.for_tenant(&tenant);
    let (active, revisions) = state.store.policy_revisions(&tenant).await?;
    let bindings: Vec<Binding> = revisions
        .iter()
        .find(|revision| Some(revision.revision) == active)
        .map(|revision| revision.bindings.clone())
        .unwrap_or_default();
    let hooks: Vec<Value> = Hook::ALL
        .iter()
        .map(|hook| {
            json!({
                "hook": hook,
                "source": policy.source(*hook),
                "binding": bindings.iter().find(|binding| binding.hook == *hook),
                "switched_off": policy.switched_off(*hook),
            })
        })
        .collect();
    Ok(Json(
        json!({ "revision": active, "hooks": hooks, "revisions": revisions }),
    ))
}

/// Binds hooks to stored plugins: a new revision, in force for every request that starts after
/// the answer. Hooks left out answer with the built-in default.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/policy", tag = "policy",
    params(("tenant" = String, Path)),
    request_body(content = Object, description = "schemas/policy-bindings.schema.json"),
    responses(
        (status = 200, description = "The new revision, in force"),
        (status = 422, description = "An unknown plugin, a hook bound twice, or a plugin without the hook", content_type = "application/problem+json"),
    ))]
pub(crate) async fn put_policy(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    Checked(body): Checked<BindingsBody>,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(&tenant, MANAGERS)?;
    state.store.tenant(&tenant).await?;
    let mut seen = BTreeSet::new();
    for (i, binding) in body.bindings.iter().enumerate() {
        if !seen.insert(binding.hook) {
            return Err(
                InvalidInput::new(format!("/bindings/{i}/hook"), Rule::HookBoundTwice).into(),
            );
        }
    }
    let mut bound = Vec::new();
    for (i, binding) in body.bindings.iter().enumerate() {
        let package = state
            .store
            .plugin_package(&tenant, &binding.plugin)
            .await
            .map_err(|error| match error {
                StoreError::NotFound => ApiError::Invalid(InvalidInput::new(
                    format!("/bindings/{i}/plugin"),
                    Rule::PluginUnknown,
                )),
                other => other.into(),
            })?;
        bound.push((binding.clone(), package));
    }

    // One change of policy at a time, so that what is in force is what was committed last.
    let _change = state.policy_changes.lock().await;
    let revision = state.store.next_policy_revision(&tenant).await?;
    let prepared = prepare(
        &state,
        PolicyRevision {
            tenant: tenant.clone(),
            revision,
            bindings: bound,
            switched_off: Vec::new(),
        },
    )
    .await?;
    state
        .store
        .add_policy_revision(
            &tenant,
            revision,
            &body.bindings,
            &current.actor(),
            state.clock.now(),
        )
        .await?;
    state.policies.install(&tenant, prepared);
    tracing::info!(%tenant, revision, "policy revision in force");
    Ok(Json(
        json!({ "revision": revision, "bindings": body.bindings }),
    ))
}

/// Puts another revision in force: a rollback to an earlier one, or forward again.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/policy/switch", tag = "policy",
    params(("tenant" = String, Path)),
    request_body(content = Object, description = "schemas/policy-switch.schema.json"),
    responses(
        (status = 200, description = "The revision in force"),
        (status = 422, description = "No such revision", content_type = "application/problem+json"),
    ))]
pub(crate) async fn switch_policy(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    Checked(body): Checked<SwitchBody>,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(&tenant, MANAGERS)?;
    let _change = state.policy_changes.lock().await;
    let revision = load_revision(&state, &tenant, body.revision).await?;
    let prepared = prepare(&state, revision).await?;
    state
        .store
        .switch_policy_revision(
            &tenant,
            body.revision,
            &current.actor(),
            body.reason,
            state.clock.now(),
        )
        .await?;
    state.policies.install(&tenant, prepared);
    tracing::info!(%tenant, revision = body.revision, "policy revision switched");
    Ok(Json(json!({ "revision": body.revision })))
}

async fn load_revision(
    state: &AppState,
    tenant: &TenantCode,
    revision: u64,
) -> Result<PolicyRevision, ApiError> {
    state
        .store
        .policy_revision(tenant, revision)
        .await
        .map_err(|error| match error {
            StoreError::NotFound => {
                ApiError::Invalid(InvalidInput::new("/revision", Rule::PolicyRevisionUnknown))
            }
            other => other.into(),
        })
}

/// Compiles (or takes from the cache) what a revision binds, off the request threads.
async fn prepare(
    state: &AppState,
    revision: PolicyRevision,
) -> Result<std::sync::Arc<dyn zhiyuan_domain::ports::Policy>, ApiError> {
    let host = state.policies.clone();
    tokio::task::spawn_blocking(move || host.prepare(&revision))
        .await
        .map_err(|error| ApiError::Internal(error.to_string()))?
        .map_err(ApiError::PluginRefused)
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let mut chars = name.chars();
    let ok = name.len() <= 40
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(InvalidInput::new("name", Rule::PluginName).into())
    }
}

fn check_version(version: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = version.split('.').collect();
    let ok = version.len() <= 32
        && parts.len() == 3
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(InvalidInput::new("version", Rule::PluginVersion).into())
    }
}
