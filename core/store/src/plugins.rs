//! Policy plugins a tenant stored, by SHA-256, and the numbered revisions of its bindings of hooks
//! to them. One revision is active; switching and rolling back change which, in one statement.

use sqlx::AnyConnection;
use std::sync::Arc;

use serde_json::json;
use zhiyuan_domain::ports::{
    Binding, Hook, PluginManifest, PluginPackage, PolicyRevision, SwitchOff,
};
use zhiyuan_domain::{Actor, AuditAction, TenantCode, Timestamp};

use crate::audit::{AuditRecord, record};
use crate::rows::{int, optional_text, text, timestamp};
use crate::{Store, StoreError};

/// A stored plugin package, without its bytes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredPlugin {
    pub sha256: String,
    pub name: String,
    pub version: String,
    pub wit_version: String,
    pub hooks: Vec<Hook>,
    pub size: u64,
    pub signed_by: Option<String>,
    pub uploaded_at: Timestamp,
    pub uploaded_by: String,
}

/// A checked package to store, with the name and version its uploader gave.
#[derive(Debug, Clone, Copy)]
pub struct NewPlugin<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub manifest: &'a PluginManifest,
    pub content: &'a [u8],
    /// Kept so that the signature is checked again whenever the package is bound or loaded.
    pub signature: Option<&'a str>,
}

/// One revision of a tenant's bindings, as the history lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RevisionSummary {
    pub revision: u64,
    pub bindings: Vec<Binding>,
    pub created_at: Timestamp,
    pub created_by: String,
}

const PLUGIN_COLUMNS: &str =
    "sha256, name, version, wit_version, hooks, size, signed_by, uploaded_at, uploaded_by";

fn stored_plugin(row: &sqlx::any::AnyRow) -> Result<StoredPlugin, StoreError> {
    let hooks = text(row, "hooks")?
        .split(',')
        .filter(|name| !name.is_empty())
        .map(|name| Hook::parse(name).ok_or_else(|| StoreError::Corrupt(format!("hook {name:?}"))))
        .collect::<Result<_, _>>()?;
    Ok(StoredPlugin {
        sha256: text(row, "sha256")?,
        name: text(row, "name")?,
        version: text(row, "version")?,
        wit_version: text(row, "wit_version")?,
        hooks,
        size: int(row, "size")? as u64,
        signed_by: optional_text(row, "signed_by")?,
        uploaded_at: timestamp(row, "uploaded_at")?,
        uploaded_by: text(row, "uploaded_by")?,
    })
}

fn bindings(row: &sqlx::any::AnyRow) -> Result<Vec<Binding>, StoreError> {
    serde_json::from_str(&text(row, "bindings")?)
        .map_err(|error| StoreError::Corrupt(format!("policy bindings: {error}")))
}

impl Store {
    /// Stores a checked package once; true when it was new to the tenant.
    pub async fn store_plugin(
        &self,
        tenant: &TenantCode,
        plugin: NewPlugin<'_>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let new = insert_plugin(&mut tx, tenant, plugin, actor, at).await?;
        tx.commit().await?;
        Ok(new)
    }

    pub async fn plugins(&self, tenant: &TenantCode) -> Result<Vec<StoredPlugin>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PLUGIN_COLUMNS} FROM plugin_packages WHERE tenant_code = $1 \
             ORDER BY uploaded_at, sha256"
        ))
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_plugin).collect()
    }

    /// A stored package with its bytes.
    pub async fn plugin_package(
        &self,
        tenant: &TenantCode,
        sha256: &str,
    ) -> Result<PluginPackage, StoreError> {
        let row = sqlx::query(
            "SELECT name, version, signature, content FROM plugin_packages \
             WHERE tenant_code = $1 AND sha256 = $2",
        )
        .bind(tenant.as_str())
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let content: Vec<u8> = sqlx::Row::try_get(&row, "content")?;
        Ok(PluginPackage {
            name: text(&row, "name")?,
            version: text(&row, "version")?,
            signature: optional_text(&row, "signature")?,
            sha256: sha256.to_owned(),
            bytes: Arc::from(content),
        })
    }

    /// The revision in force, if the tenant ever bound a hook.
    pub async fn active_policy_revision(
        &self,
        tenant: &TenantCode,
    ) -> Result<Option<u64>, StoreError> {
        let row = sqlx::query("SELECT revision FROM policy_active WHERE tenant_code = $1")
            .bind(tenant.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| int(&row, "revision").map(|r| r as u64))
            .transpose()
    }

    /// Every tenant's revision in force, and when it was put in force: what replicas compare
    /// against the policies they run.
    pub async fn active_policy_revisions(
        &self,
    ) -> Result<Vec<(TenantCode, u64, Timestamp)>, StoreError> {
        let rows = sqlx::query("SELECT tenant_code, revision, changed_at FROM policy_active")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let code = text(row, "tenant_code")?;
                let tenant = TenantCode::parse(&code)
                    .map_err(|_| StoreError::Corrupt(format!("tenant code {code:?}")))?;
                Ok((
                    tenant,
                    int(row, "revision")? as u64,
                    timestamp(row, "changed_at")?,
                ))
            })
            .collect()
    }

    /// The number the next revision will take.
    pub async fn next_policy_revision(&self, tenant: &TenantCode) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(MAX(revision), 0) + 1 AS next FROM policy_revisions \
             WHERE tenant_code = $1",
        )
        .bind(tenant.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(int(&row, "next")? as u64)
    }

    /// A revision with the packages it binds and the hooks switched off at it.
    pub async fn policy_revision(
        &self,
        tenant: &TenantCode,
        revision: u64,
    ) -> Result<PolicyRevision, StoreError> {
        let row = sqlx::query(
            "SELECT bindings FROM policy_revisions WHERE tenant_code = $1 AND revision = $2",
        )
        .bind(tenant.as_str())
        .bind(revision as i64)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let mut bound = Vec::new();
        for binding in bindings(&row)? {
            let package = self.plugin_package(tenant, &binding.plugin).await?;
            bound.push((binding, package));
        }
        let switched_off = sqlx::query(
            "SELECT hook, reason FROM policy_switch_offs WHERE tenant_code = $1 AND revision = $2",
        )
        .bind(tenant.as_str())
        .bind(revision as i64)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let hook = text(row, "hook")?;
            let hook =
                Hook::parse(&hook).ok_or_else(|| StoreError::Corrupt(format!("hook {hook:?}")))?;
            Ok((hook, text(row, "reason")?))
        })
        .collect::<Result<_, StoreError>>()?;
        Ok(PolicyRevision {
            tenant: tenant.clone(),
            revision,
            bindings: bound,
            switched_off,
        })
    }

    /// Every revision, newest first, and the one in force.
    pub async fn policy_revisions(
        &self,
        tenant: &TenantCode,
    ) -> Result<(Option<u64>, Vec<RevisionSummary>), StoreError> {
        let rows = sqlx::query(
            "SELECT revision, bindings, created_at, created_by FROM policy_revisions \
             WHERE tenant_code = $1 ORDER BY revision DESC",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        let revisions = rows
            .iter()
            .map(|row| {
                Ok(RevisionSummary {
                    revision: int(row, "revision")? as u64,
                    bindings: bindings(row)?,
                    created_at: timestamp(row, "created_at")?,
                    created_by: text(row, "created_by")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok((self.active_policy_revision(tenant).await?, revisions))
    }

    /// Records a new revision of the tenant's bindings and puts it in force.
    pub async fn add_policy_revision(
        &self,
        tenant: &TenantCode,
        revision: u64,
        bindings: &[Binding],
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert_revision(&mut tx, tenant, revision, bindings, actor, at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Puts an earlier (or later) revision back in force.
    pub async fn switch_policy_revision(
        &self,
        tenant: &TenantCode,
        revision: u64,
        actor: &Actor,
        reason: Option<String>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let before = activate(&mut tx, tenant, revision, at).await?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::PolicySwitch,
                entity_id: revision.to_string(),
                before: before.map(|r| json!({ "revision": r })),
                after: Some(json!({ "revision": revision })),
                reason,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keeps a hook the host switched off switched off at that revision, across restarts.
    pub async fn record_switch_off(
        &self,
        switch_off: &SwitchOff,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO policy_switch_offs (tenant_code, revision, hook, reason, at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_code, revision, hook) DO NOTHING",
        )
        .bind(switch_off.tenant.as_str())
        .bind(switch_off.revision as i64)
        .bind(switch_off.hook.as_str())
        .bind(&switch_off.reason)
        .bind(at.unix_millis())
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(&switch_off.tenant),
                actor: &Actor::system("plugin-host"),
                action: AuditAction::PolicySwitchOff,
                entity_id: switch_off.revision.to_string(),
                before: None,
                after: Some(json!({ "hook": switch_off.hook, "revision": switch_off.revision })),
                reason: Some(switch_off.reason.clone()),
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Makes `revision` the one in force; the one it replaces, if any.
async fn activate(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    revision: u64,
    at: Timestamp,
) -> Result<Option<u64>, StoreError> {
    let exists = sqlx::query(
        "SELECT 1 AS found FROM policy_revisions WHERE tenant_code = $1 AND revision = $2",
    )
    .bind(tenant.as_str())
    .bind(revision as i64)
    .fetch_optional(&mut *tx)
    .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    let before = sqlx::query("SELECT revision FROM policy_active WHERE tenant_code = $1")
        .bind(tenant.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| int(&row, "revision").map(|r| r as u64))
        .transpose()?;
    sqlx::query(
        "INSERT INTO policy_active (tenant_code, revision, changed_at) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_code) DO UPDATE SET revision = excluded.revision, \
         changed_at = excluded.changed_at",
    )
    .bind(tenant.as_str())
    .bind(revision as i64)
    .bind(at.unix_millis())
    .execute(&mut *tx)
    .await?;
    Ok(before)
}

/// Stores a package in the transaction of the change it belongs to; true when it was new.
pub(crate) async fn insert_plugin(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    plugin: NewPlugin<'_>,
    actor: &Actor,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let NewPlugin {
        name,
        version,
        manifest,
        content,
        signature,
    } = plugin;
    let hooks: Vec<&str> = manifest.hooks.iter().map(|hook| hook.as_str()).collect();
    let stored = sqlx::query(
        "INSERT INTO plugin_packages (tenant_code, sha256, name, version, wit_version, hooks, \
         size, content, signed_by, signature, uploaded_at, uploaded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (tenant_code, sha256) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(&manifest.sha256)
    .bind(name)
    .bind(version)
    .bind(&manifest.wit_version)
    .bind(hooks.join(","))
    .bind(content.len() as i64)
    .bind(content.to_vec())
    .bind(manifest.signed_by.clone())
    .bind(signature.map(str::to_owned))
    .bind(at.unix_millis())
    .bind(&actor.name)
    .execute(&mut *tx)
    .await?;
    let new = stored.rows_affected() == 1;
    if new {
        record(
            tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::PluginUpload,
                entity_id: manifest.sha256.clone(),
                before: None,
                after: Some(json!({
                    "name": name,
                    "version": version,
                    "wit_version": manifest.wit_version,
                    "hooks": hooks,
                    "size": content.len(),
                    "signed_by": manifest.signed_by,
                })),
                reason: None,
                at,
            },
        )
        .await?;
    }
    Ok(new)
}

/// Records a revision and puts it in force, in the transaction of the change it belongs to.
pub(crate) async fn insert_revision(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    revision: u64,
    bindings: &[Binding],
    actor: &Actor,
    at: Timestamp,
) -> Result<(), StoreError> {
    let encoded = serde_json::to_string(bindings).expect("bindings serialize");
    sqlx::query(
        "INSERT INTO policy_revisions (tenant_code, revision, bindings, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant.as_str())
    .bind(revision as i64)
    .bind(encoded)
    .bind(at.unix_millis())
    .bind(&actor.name)
    .execute(&mut *tx)
    .await?;
    let before = activate(tx, tenant, revision, at).await?;
    record(
        tx,
        AuditRecord {
            tenant: Some(tenant),
            actor,
            action: AuditAction::PolicyBind,
            entity_id: revision.to_string(),
            before: before.map(|r| json!({ "revision": r })),
            after: Some(json!({ "revision": revision, "bindings": bindings })),
            reason: None,
            at,
        },
    )
    .await?;
    Ok(())
}
