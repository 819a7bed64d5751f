//! Tenant files: the ones bundled with the node and the ones its configuration names.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use zhiyuan_api::Schemas;
use zhiyuan_app::App;
use zhiyuan_domain::{Actor, Clock, TenantConfig, TenantSpec};
use zhiyuan_store::Store;

use crate::NodeConfig;

/// The tenant files that ship with the node, by name.
pub const BUNDLED: [(&str, &str); 2] = [
    ("suizhou", include_str!("../../suizhou/tenant.toml")),
    ("ezhou", include_str!("../../ezhou/tenant.toml")),
];

/// Parses a tenant file: TOML, checked against `schemas/tenant-config.schema.json`, then
/// against the domain's rules. Errors name the field, e.g. `/regions/2/parent`.
pub fn parse_tenant_toml(schemas: &Schemas, text: &str) -> anyhow::Result<TenantSpec> {
    let document: serde_json::Value = toml::from_str(text).context("not valid TOML")?;
    let described = |problem: zhiyuan_api::Problem| {
        anyhow!(
            "{} ({}{})",
            problem.message.en,
            problem.code,
            problem
                .field
                .map(|field| format!(" at {field}"))
                .unwrap_or_default()
        )
    };
    schemas
        .check(zhiyuan_api::SchemaId::TenantConfig, &document)
        .map_err(|error| described(error.problem()))?;
    let config: TenantConfig = serde_json::from_value(document).context("tenant file")?;
    config
        .parse()
        .map_err(|invalid| described(zhiyuan_api::ApiError::from(invalid).problem()))
}

/// The use cases with the node's policy host, opened when a tenant is first created.
async fn app_for_creating(
    store: &Store,
    config: &NodeConfig,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<App> {
    Ok(crate::open_app(config, store.clone(), clock).await?.0)
}

/// Creates the tenant, with the bundled plugins its file binds, unless it exists; nothing when a
/// binding names a plugin the node does not ship. Answers whether it created it.
async fn create(app: &App, spec: TenantSpec, actor: &Actor) -> anyhow::Result<bool> {
    let code = spec.code.clone();
    zhiyuan_app::tenants::create(app, spec, actor)
        .await
        .map_err(|error| {
            let problem = zhiyuan_api::ApiError::from(error).problem();
            anyhow!(
                "tenant {code}: {} ({}{})",
                problem.message.en,
                problem.code,
                problem
                    .field
                    .map(|field| format!(" at {field}"))
                    .unwrap_or_default()
            )
        })
}

/// Loads the bundled tenants (if configured) and the configured tenant files.
pub async fn load_configured(
    store: &Store,
    config: &NodeConfig,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<()> {
    let schemas = Schemas::compile().map_err(|e| anyhow!(e))?;
    let actor = Actor::system("startup");
    // Only a tenant created now binds plugins; most starts find every tenant there already.
    let mut app = None;
    if config.load_bundled_tenants {
        for (name, text) in BUNDLED {
            let spec = parse_tenant_toml(&schemas, text)
                .with_context(|| format!("bundled tenant {name}"))?;
            if store.tenant(&spec.code).await.is_ok() {
                continue;
            }
            let app = match &mut app {
                Some(app) => app,
                None => app.insert(app_for_creating(store, config, clock.clone()).await?),
            };
            let code = spec.code.clone();
            if create(app, spec, &actor).await? {
                tracing::info!(tenant = %code, "created bundled tenant {name}");
            }
        }
    }
    for path in &config.tenant_files {
        load_file(store, config, &schemas, path, &actor, clock.clone()).await?;
    }
    Ok(())
}

/// Creates the tenant a file describes, with the bundled plugins it binds, unless it exists.
pub async fn load_file(
    store: &Store,
    config: &NodeConfig,
    schemas: &Schemas,
    path: &Path,
    actor: &Actor,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading tenant file {}", path.display()))?;
    let spec = parse_tenant_toml(schemas, &text)
        .with_context(|| format!("in tenant file {}", path.display()))?;
    if store.tenant(&spec.code).await.is_ok() {
        return Ok(false);
    }
    let app = app_for_creating(store, config, clock).await?;
    let code = spec.code.clone();
    let created = create(&app, spec, actor).await?;
    if created {
        tracing::info!(tenant = %code, "created tenant from {}", path.display());
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_tenants_are_valid() {
        let schemas = Schemas::compile().unwrap();
        for (name, text) in BUNDLED {
            let spec =
                parse_tenant_toml(&schemas, text).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            assert!(spec.units.len() >= 8, "{name}");
            assert!(!spec.reviewing_bodies.is_empty(), "{name}");
        }
    }

    #[test]
    fn a_broken_tenant_file_names_the_field() {
        let schemas = Schemas::compile().unwrap();
        let text = BUNDLED[1]
            .1
            .replacen("parent = \"420700\"", "parent = \"429900\"", 1);
        let error = parse_tenant_toml(&schemas, &text).unwrap_err().to_string();
        assert!(
            error.contains("region_parent_unknown at /regions/1/parent"),
            "{error}"
        );
        let text = BUNDLED[1].1.replacen("staff =", "staf =", 1);
        let error = parse_tenant_toml(&schemas, &text).unwrap_err().to_string();
        assert!(error.contains("schema_violation"), "{error}");
    }
}
