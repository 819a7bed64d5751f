//! Tenants and what their offices configure: regions with their populations, reviewing
//! bodies, units. A tenant is created from its document, with the bundled plugins it binds as
//! its first policy revision, in one transaction.

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use zhiyuan_domain::ports::{Binding, PluginManifest, PluginPackage, PolicyHost, PolicyRevision};
use zhiyuan_domain::region::parse_population;
use zhiyuan_domain::tenant::UnitSpec;
use zhiyuan_domain::{
    Actor, CivilisationLevel, InvalidInput, LocalizedName, Principal, Region, RegionCode,
    ReviewingBody, Rule, Staff, TenantCode, TenantSpec, Unit, UnitKind,
};
use zhiyuan_store::{NewPlugin, RegionUpdate, StoreError, TenantSummary, UnitUpdate};

use crate::views::TenantView;
use crate::{App, AppError, blocking};

/// A bundled plugin a tenant document binds, checked: the binding, the package, what it is.
pub type CheckedBinding = (Binding, PluginPackage, PluginManifest);

/// A change of a region's figures.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionChange {
    pub resident_population: i64,
}

/// A unit to add.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnitRequest {
    pub name: LocalizedName,
    pub region: String,
    pub kind: UnitKind,
    pub civilisation_level: CivilisationLevel,
    pub staff: i64,
}

/// Changes of a unit; what is left out stays.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitChange {
    pub name: Option<LocalizedName>,
    pub civilisation_level: Option<CivilisationLevel>,
    pub staff: Option<i64>,
}

fn tenant_view(summary: TenantSummary) -> TenantView {
    TenantView {
        code: summary.code,
        name: summary.name,
        created_at: summary.created_at,
    }
}

/// The tenants this node hosts.
pub async fn list(app: &App) -> Result<Vec<TenantView>, AppError> {
    Ok(app
        .store
        .tenants()
        .await?
        .into_iter()
        .map(tenant_view)
        .collect())
}

pub async fn read(app: &App, tenant: &TenantCode) -> Result<TenantView, AppError> {
    Ok(tenant_view(app.store.tenant(tenant).await?))
}

/// The bundled plugins a tenant document binds, checked before anything is written: each
/// names a plugin the node ships, which implements the hook, and no hook is bound twice.
pub fn check_bundled_bindings(
    host: &dyn PolicyHost,
    spec: &TenantSpec,
) -> Result<Vec<CheckedBinding>, AppError> {
    let mut checked: Vec<CheckedBinding> = Vec::new();
    for (i, wanted) in spec.plugins.iter().enumerate() {
        if checked
            .iter()
            .any(|(binding, _, _)| binding.hook == wanted.hook)
        {
            return Err(
                InvalidInput::new(format!("/plugins/{i}/hook"), Rule::HookBoundTwice).into(),
            );
        }
        let (package, manifest) = host
            .bundled(&wanted.plugin)
            .ok_or_else(|| {
                InvalidInput::new(format!("/plugins/{i}/plugin"), Rule::PluginNotBundled)
            })?
            .map_err(|refusal| {
                AppError::Internal(format!("bundled plugin {}: {refusal}", wanted.plugin))
            })?;
        if !manifest.hooks.contains(&wanted.hook) {
            return Err(
                InvalidInput::new(format!("/plugins/{i}/hook"), Rule::PluginLacksHook).into(),
            );
        }
        let binding = Binding {
            hook: wanted.hook,
            plugin: package.sha256.clone(),
            on_failure: wanted.on_failure,
            settings: wanted.settings.clone(),
        };
        checked.push((binding, package, manifest));
    }
    Ok(checked)
}

/// Creates a tenant from its parsed document, with the bundled plugins it binds as its first
/// policy revision. The plugins are checked and prepared before anything is written, and the
/// policy goes in place under the lock every change of policy takes. Answers `false` when the
/// tenant exists already (nothing is changed then).
pub async fn create(app: &App, spec: TenantSpec, actor: &Actor) -> Result<bool, AppError> {
    let _change = app.policy_changes.lock().await;
    let host = app.policies.clone();
    let checking = spec.clone();
    let (bundled, prepared) = blocking(move || {
        let bundled = check_bundled_bindings(host.as_ref(), &checking)?;
        if bundled.is_empty() {
            return Ok((bundled, None));
        }
        let first = PolicyRevision {
            tenant: checking.code.clone(),
            revision: 1,
            bindings: bundled
                .iter()
                .map(|(binding, package, _)| (binding.clone(), package.clone()))
                .collect(),
            switched_off: Vec::new(),
        };
        let prepared = host.prepare(&first).map_err(AppError::PluginRefused)?;
        Ok::<_, AppError>((bundled, Some(prepared)))
    })
    .await??;
    let plugins: Vec<NewPlugin<'_>> = bundled
        .iter()
        .map(|(_, package, manifest)| NewPlugin {
            name: &package.name,
            version: &package.version,
            manifest,
            content: &package.bytes,
            signature: None,
        })
        .collect();
    let bindings: Vec<Binding> = bundled
        .iter()
        .map(|(binding, _, _)| binding.clone())
        .collect();
    match app
        .store
        .create_tenant_with_policy(&spec, &plugins, &bindings, actor, app.clock.now())
        .await
    {
        Ok(()) => {}
        Err(StoreError::Unique(zhiyuan_store::UniqueField::TenantCode)) => return Ok(false),
        Err(error) => return Err(error.into()),
    }
    if let Some(policy) = prepared {
        app.policies.install(&spec.code, policy);
    }
    Ok(true)
}

/// Creates a tenant asked for over an interface: a tenant that exists already is a conflict.
pub async fn create_new(
    app: &App,
    principal: &Principal,
    spec: TenantSpec,
) -> Result<TenantView, AppError> {
    let code = spec.code.clone();
    if !create(app, spec, &principal.actor()).await? {
        return Err(AppError::Conflict(zhiyuan_store::UniqueField::TenantCode));
    }
    read(app, &code).await
}

pub async fn regions(app: &App, tenant: &TenantCode) -> Result<Vec<Region>, AppError> {
    Ok(app.store.regions(tenant).await?)
}

pub async fn region(app: &App, tenant: &TenantCode, code: &RegionCode) -> Result<Region, AppError> {
    Ok(app.store.region(tenant, code).await?)
}

/// Sets a region's resident population; audited.
pub async fn update_region(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    code: &RegionCode,
    change: RegionChange,
) -> Result<Region, AppError> {
    let update = RegionUpdate {
        resident_population: parse_population(change.resident_population, "/resident_population")?,
    };
    Ok(app
        .store
        .update_region(tenant, code, &update, &principal.actor(), app.clock.now())
        .await?)
}

pub async fn reviewing_bodies(
    app: &App,
    tenant: &TenantCode,
) -> Result<Vec<ReviewingBody>, AppError> {
    Ok(app.store.reviewing_bodies(tenant).await?)
}

pub async fn units(app: &App, tenant: &TenantCode) -> Result<Vec<Unit>, AppError> {
    Ok(app.store.units(tenant).await?)
}

pub async fn unit(app: &App, tenant: &TenantCode, id: Uuid) -> Result<Unit, AppError> {
    Ok(Unit::clone(
        &*app.directory.unit(&app.store, tenant, id).await?,
    ))
}

/// Adds a unit; audited.
pub async fn create_unit(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    request: NewUnitRequest,
) -> Result<Unit, AppError> {
    let spec = UnitSpec {
        name: LocalizedName::parse(&request.name.zh, request.name.en.as_deref(), "/name")?,
        region: RegionCode::parse(&request.region)
            .map_err(|rule| InvalidInput::new("/region", rule))?,
        kind: request.kind,
        civilisation_level: request.civilisation_level,
        staff: Staff::parse(request.staff, "/staff")?,
    };
    Ok(app
        .store
        .create_unit(tenant, &spec, &principal.actor(), app.clock.now())
        .await?)
}

/// Changes a unit's name, civilised-unit level or staff; audited.
pub async fn update_unit(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    change: UnitChange,
) -> Result<Unit, AppError> {
    let update = UnitUpdate {
        name: change
            .name
            .map(|name| LocalizedName::parse(&name.zh, name.en.as_deref(), "/name"))
            .transpose()?,
        civilisation_level: change.civilisation_level,
        staff: change
            .staff
            .map(|staff| Staff::parse(staff, "/staff"))
            .transpose()?,
    };
    let unit = app
        .store
        .update_unit(tenant, id, &update, &principal.actor(), app.clock.now())
        .await?;
    app.directory.forget_unit(tenant, id);
    Ok(unit)
}
