use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};
use uuid::Uuid;
use zhiyuan_domain::{Actor, TenantCode, Timestamp};

use crate::rows::{optional_text, optional_uuid, text, timestamp, uuid};
use crate::{Store, StoreError};

/// One change, as it goes into the audit trail: who, when, what, and the entity before and after.
#[derive(Debug, Clone)]
pub struct AuditRecord<'a> {
    pub tenant: Option<&'a TenantCode>,
    pub actor: &'a Actor,
    pub action: &'static str,
    pub entity_kind: &'static str,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// Why, where a person gave a reason (a rejection, a correction).
    pub reason: Option<String>,
    pub at: Timestamp,
}

/// One change, as the audit trail shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub action: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub reason: Option<String>,
    pub at: Timestamp,
}

/// Writes the event in the transaction of the change it records, so neither exists without the
/// other.
pub(crate) async fn record(
    tx: &mut Transaction<'static, Any>,
    record: AuditRecord<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (id, tenant_code, actor_id, actor_name, action, entity_kind, \
         entity_id, before_json, after_json, reason, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(record.tenant.map(|tenant| tenant.as_str().to_owned()))
    .bind(record.actor.user_id.map(|id| id.to_string()))
    .bind(record.actor.name.clone())
    .bind(record.action)
    .bind(record.entity_kind)
    .bind(record.entity_id)
    .bind(record.before.map(|value| value.to_string()))
    .bind(record.after.map(|value| value.to_string()))
    .bind(record.reason)
    .bind(record.at.unix_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The newest events of a tenant first.
    pub async fn audit_events(
        &self,
        tenant: &TenantCode,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, actor_id, actor_name, action, entity_kind, entity_id, before_json, \
             after_json, reason, at FROM audit_events WHERE tenant_code = $1 ORDER BY at DESC, id DESC \
             LIMIT $2",
        )
        .bind(tenant.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_event).collect()
    }
}

fn audit_event(row: &AnyRow) -> Result<AuditEvent, StoreError> {
    let json = |column| -> Result<Option<Value>, StoreError> {
        optional_text(row, column)?
            .map(|text| {
                serde_json::from_str(&text)
                    .map_err(|_| StoreError::Corrupt(format!("{column} is not JSON")))
            })
            .transpose()
    };
    Ok(AuditEvent {
        id: uuid(row, "id")?,
        actor_id: optional_uuid(row, "actor_id")?,
        actor_name: text(row, "actor_name")?,
        action: text(row, "action")?,
        entity_kind: text(row, "entity_kind")?,
        entity_id: text(row, "entity_id")?,
        before: json("before_json")?,
        after: json("after_json")?,
        reason: optional_text(row, "reason")?,
        at: timestamp(row, "at")?,
    })
}
