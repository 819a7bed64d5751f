//! A city office's local policy: plugin packages it uploads (checked, signed where the node
//! requires it, stored by SHA-256), dry runs, and numbered revisions of its bindings of hooks to
//! plugins, switched atomically and rolled back. Every change is audited.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Deserialize;
use utoipa::ToSchema;
use zhiyuan_domain::ports::{
    Binding, Hook, HookCall, OnFailure, PluginRefusal, Policy, PolicyRevision,
};
use zhiyuan_domain::{InvalidInput, Principal, Rule, TenantCode};
use zhiyuan_store::{NewPlugin, RevisionSummary, StoredPlugin};

use crate::views::{
    DryRunFailure, DryRunView, HookState, PluginView, PolicyView, RevisionInForce, RevisionView,
};
use crate::{App, AppError, blocking};

/// Components are small; a policy plugin of several megabytes is a mistake.
pub const PACKAGE_LIMIT: usize = 4 << 20;

/// The bindings of a new revision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindingsRequest {
    pub bindings: Vec<Binding>,
}

/// A revision to put in force again, and why.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchRequest {
    pub revision: u64,
    pub reason: Option<String>,
}

/// A hook of a stored plugin to run on an input, with the settings a binding would give it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunRequest {
    pub hook: Hook,
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

/// A package as uploaded: its name and version as its author gives them, its signature.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub version: String,
    pub signature: Option<String>,
    pub bytes: Vec<u8>,
}

fn plugin_view(plugin: StoredPlugin) -> PluginView {
    PluginView {
        sha256: plugin.sha256,
        name: plugin.name,
        version: plugin.version,
        wit_version: plugin.wit_version,
        hooks: plugin.hooks,
        size: plugin.size,
        signed_by: plugin.signed_by,
        uploaded_at: plugin.uploaded_at,
        uploaded_by: plugin.uploaded_by,
    }
}

fn revision_view(revision: RevisionSummary) -> RevisionView {
    RevisionView {
        revision: revision.revision,
        bindings: revision.bindings,
        created_at: revision.created_at,
        created_by: revision.created_by,
    }
}

/// The tenant's stored plugins.
pub async fn list_plugins(app: &App, tenant: &TenantCode) -> Result<Vec<PluginView>, AppError> {
    Ok(app
        .store
        .plugins(tenant)
        .await?
        .into_iter()
        .map(plugin_view)
        .collect())
}

/// Uploads a plugin package. The node checks its signature where it requires one, before
/// compiling; then that it compiles, exports hooks of a supported WIT version, imports nothing
/// but the log, and answers the conformance inputs. Stored once under its SHA-256; answers
/// whether it was new.
pub async fn upload(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    upload: Upload,
) -> Result<(bool, PluginView), AppError> {
    app.store.tenant(tenant).await?;
    check_name(&upload.name)?;
    check_version(&upload.version)?;
    let host = app.policies.clone();
    let admitted_tenant = tenant.clone();
    let Upload {
        name,
        version,
        signature,
        bytes,
    } = upload;
    let (manifest, bytes, signature) = blocking(move || {
        let manifest = host.admit(&admitted_tenant, &bytes, signature.as_deref());
        (manifest, bytes, signature)
    })
    .await?;
    let manifest = manifest.map_err(AppError::PluginRefused)?;
    let new = app
        .store
        .store_plugin(
            tenant,
            NewPlugin {
                name: &name,
                version: &version,
                manifest: &manifest,
                content: &bytes,
                signature: signature.as_deref(),
            },
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    // Stored once: a second upload of the same bytes answers with what was stored first.
    let stored = app
        .store
        .plugins(tenant)
        .await?
        .into_iter()
        .find(|plugin| plugin.sha256 == manifest.sha256)
        .ok_or_else(|| AppError::Internal("a stored plugin is not listed".into()))?;
    Ok((new, plugin_view(stored)))
}

/// Runs one hook of a stored plugin on the given input and settings. Nothing is put in place and
/// nothing counts against the plugin.
pub async fn dry_run(
    app: &App,
    tenant: &TenantCode,
    sha256: &str,
    request: DryRunRequest,
) -> Result<DryRunView, AppError> {
    let call: HookCall =
        serde_json::from_value(serde_json::json!({ "hook": request.hook, "input": request.input }))
            .map_err(|_| InvalidInput::new("/input", Rule::HookInput))?;
    let package = app.store.plugin_package(tenant, sha256).await?;
    let binding = Binding {
        hook: request.hook,
        plugin: sha256.to_owned(),
        on_failure: OnFailure::FailClosed,
        settings: request.settings,
    };
    let host = app.policies.clone();
    let tenant = tenant.clone();
    let answer = blocking(move || host.dry_run(&tenant, &package, &binding, &call))
        .await?
        .map_err(AppError::PluginRefused)?;
    Ok(match answer {
        Ok(answer) => DryRunView {
            hook: request.hook,
            answer: Some(answer),
            failure: None,
        },
        Err(failure) => DryRunView {
            hook: request.hook,
            answer: None,
            failure: Some(DryRunFailure {
                message: failure.to_string(),
                reason: failure.reason,
            }),
        },
    })
}

/// The tenant's policy: for each hook, what answers it (a plugin and revision, or the built-in
/// default), its binding, whether it was switched off and why; and every revision.
pub async fn read(app: &App, tenant: &TenantCode) -> Result<PolicyView, AppError> {
    let policy = app.policies.for_tenant(tenant);
    let (active, revisions) = app.store.policy_revisions(tenant).await?;
    let bindings: Vec<Binding> = revisions
        .iter()
        .find(|revision| Some(revision.revision) == active)
        .map(|revision| revision.bindings.clone())
        .unwrap_or_default();
    let hooks = Hook::ALL
        .iter()
        .map(|hook| HookState {
            hook: *hook,
            source: policy.source(*hook),
            binding: bindings
                .iter()
                .find(|binding| binding.hook == *hook)
                .cloned(),
            switched_off: policy.switched_off(*hook),
        })
        .collect();
    Ok(PolicyView {
        revision: active,
        hooks,
        revisions: revisions.into_iter().map(revision_view).collect(),
    })
}

/// Binds hooks to stored plugins: a new revision, in force for every request that starts after
/// the answer. Hooks left out answer with the built-in default.
pub async fn bind(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    request: BindingsRequest,
) -> Result<RevisionInForce, AppError> {
    app.store.tenant(tenant).await?;
    let mut seen = BTreeSet::new();
    for (i, binding) in request.bindings.iter().enumerate() {
        if !seen.insert(binding.hook) {
            return Err(
                InvalidInput::new(format!("/bindings/{i}/hook"), Rule::HookBoundTwice).into(),
            );
        }
    }
    let mut bound = Vec::new();
    for (i, binding) in request.bindings.iter().enumerate() {
        let package = app
            .store
            .plugin_package(tenant, &binding.plugin)
            .await
            .map_err(|error| {
                AppError::unknown(format!("/bindings/{i}/plugin"), Rule::PluginUnknown)(
                    error.into(),
                )
            })?;
        bound.push((binding.clone(), package));
    }
    // One change of policy at a time, so that what is in force is what was committed last.
    let _change = app.policy_changes.lock().await;
    let revision = app.store.next_policy_revision(tenant).await?;
    let prepared = prepare(
        app,
        PolicyRevision {
            tenant: tenant.clone(),
            revision,
            bindings: bound,
            switched_off: Vec::new(),
        },
    )
    .await?;
    app.store
        .add_policy_revision(
            tenant,
            revision,
            &request.bindings,
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    app.policies.install(tenant, prepared);
    tracing::info!(%tenant, revision, "policy revision in force");
    Ok(RevisionInForce {
        revision,
        bindings: Some(request.bindings),
    })
}

/// Puts another revision in force: a rollback to an earlier one, or forward again.
pub async fn switch(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    request: SwitchRequest,
) -> Result<RevisionInForce, AppError> {
    let _change = app.policy_changes.lock().await;
    let revision = app
        .store
        .policy_revision(tenant, request.revision)
        .await
        .map_err(|error| {
            AppError::unknown("/revision", Rule::PolicyRevisionUnknown)(error.into())
        })?;
    let prepared = prepare(app, revision).await?;
    app.store
        .switch_policy_revision(
            tenant,
            request.revision,
            &principal.actor(),
            request.reason,
            app.clock.now(),
        )
        .await?;
    app.policies.install(tenant, prepared);
    tracing::info!(%tenant, revision = request.revision, "policy revision switched");
    Ok(RevisionInForce {
        revision: request.revision,
        bindings: None,
    })
}

/// Compiles (or takes from the cache) what a revision binds, off the request threads.
async fn prepare(app: &App, revision: PolicyRevision) -> Result<Arc<dyn Policy>, AppError> {
    let host = app.policies.clone();
    blocking(move || host.prepare(&revision))
        .await?
        .map_err(AppError::PluginRefused)
}

fn check_name(name: &str) -> Result<(), AppError> {
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

fn check_version(version: &str) -> Result<(), AppError> {
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

/// A signature header that is not text is no signature the node can check.
pub fn unreadable_signature() -> AppError {
    AppError::PluginRefused(PluginRefusal::BadSignature)
}
