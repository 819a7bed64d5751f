//! The audit trail: every change written in the transaction that makes it, numbered per tenant
//! (and for the node) and chained by hashes, so that an event changed, removed or reordered
//! afterwards shows.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;
use zhiyuan_domain::{Actor, AuditAction, TenantCode, Timestamp};

use crate::rows::{int, optional_text, optional_uuid, text, timestamp, uuid};
use crate::{Store, StoreError, realm};

/// One change, as it goes into the audit trail: who, when, what, and the entity before and after.
#[derive(Debug, Clone)]
pub struct AuditRecord<'a> {
    /// The tenant whose trail records it; `None` for the node's own.
    pub tenant: Option<&'a TenantCode>,
    pub actor: &'a Actor,
    pub action: AuditAction,
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
    /// Its place in the tenant's trail, from 1.
    pub seq: u64,
    pub id: Uuid,
    pub actor_account_id: Option<Uuid>,
    pub actor_name: String,
    pub action: AuditAction,
    pub entity_kind: String,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub reason: Option<String>,
    pub at: Timestamp,
    /// SHA-256 (hex) over the event and the hash of the one before it.
    pub hash: String,
}

/// Where a trail's chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// The first event whose place or hash is not what the chain says.
    pub seq: u64,
    pub id: Option<Uuid>,
    pub problem: ChainProblem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainProblem {
    /// The event's content or place no longer gives its hash: it was changed, or moved (its
    /// number and the hash before it are part of what its hash covers).
    Changed,
    /// Events are missing before this one, or at the end of the trail.
    Removed,
    /// The trail's head, kept apart from its events and moved with each one, no longer names
    /// this last event: the head was changed or removed, or events were added without it.
    HeadChanged,
}

/// A trail checked from its first event: how many events, and the first break if any.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    /// The tenant's code, or `node`.
    pub trail: String,
    pub events: u64,
    pub first_break: Option<ChainBreak>,
}

/// Writes the event in the transaction of the change it records, so neither exists without the
/// other. The trail's head row is updated first: it holds the transaction's lock on the trail,
/// so events of a tenant are numbered and chained one after the other.
pub(crate) async fn record(
    tx: &mut AnyConnection,
    record: AuditRecord<'_>,
) -> Result<(), StoreError> {
    let trail = realm(record.tenant);
    // The head is locked from here to the commit, so every write of a trail takes its turn
    // here: one statement, but for a trail's first event.
    let advance = "UPDATE audit_heads SET seq = seq + 1 WHERE tenant_code = $1 RETURNING seq, hash";
    let head = match sqlx::query(advance)
        .bind(trail)
        .fetch_optional(&mut *tx)
        .await?
    {
        Some(head) => head,
        None => {
            sqlx::query(
                "INSERT INTO audit_heads (tenant_code, seq, hash) VALUES ($1, 0, '') \
                 ON CONFLICT (tenant_code) DO NOTHING",
            )
            .bind(trail)
            .execute(&mut *tx)
            .await?;
            sqlx::query(advance).bind(trail).fetch_one(&mut *tx).await?
        }
    };
    let seq = int(&head, "seq")?;
    let previous = text(&head, "hash")?;
    let stored = StoredEvent {
        seq,
        id: Uuid::now_v7().to_string(),
        actor_account_id: record.actor.account_id.map(|id| id.to_string()),
        actor_name: record.actor.name.clone(),
        action: record.action.as_str().to_owned(),
        entity_kind: record.action.entity_kind().to_owned(),
        entity_id: record.entity_id,
        before_json: record.before.map(|value| value.to_string()),
        after_json: record.after.map(|value| value.to_string()),
        reason: record.reason,
        at: record.at.unix_millis(),
    };
    let hash = stored.hash(&previous);
    const INSERT: &str = "INSERT INTO audit_events (tenant_code, seq, id, actor_account_id, \
         actor_name, action, entity_kind, entity_id, before_json, after_json, reason, at, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
    // On PostgreSQL the event and the head's new hash are written in one statement: the head
    // stays locked until the commit, so each round trip saved here is one less that every
    // other write of the trail waits for. SQLite's statements run in the process.
    let postgres = tx.backend_name() == "PostgreSQL";
    let sql = if postgres {
        format!(
            "WITH event AS ({INSERT} RETURNING hash) \
             UPDATE audit_heads SET hash = (SELECT hash FROM event) WHERE tenant_code = $1"
        )
    } else {
        INSERT.to_owned()
    };
    sqlx::query(&sql)
        .bind(trail)
        .bind(stored.seq)
        .bind(&stored.id)
        .bind(&stored.actor_account_id)
        .bind(&stored.actor_name)
        .bind(&stored.action)
        .bind(&stored.entity_kind)
        .bind(&stored.entity_id)
        .bind(&stored.before_json)
        .bind(&stored.after_json)
        .bind(&stored.reason)
        .bind(stored.at)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    if !postgres {
        sqlx::query("UPDATE audit_heads SET hash = $1 WHERE tenant_code = $2")
            .bind(&hash)
            .bind(trail)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// A record as the trail keeps it: as stored, but for its contact's mobile number, masked as
/// office staff see it.
pub(crate) fn masked_contact<T: Serialize>(record: &T) -> Value {
    let mut value = serde_json::json!(record);
    if let Some(mobile) = value.get("contact_mobile").and_then(Value::as_str) {
        value["contact_mobile"] = serde_json::json!(zhiyuan_domain::mask(mobile, 3, 4));
    }
    value
}

/// An event as stored, column by column: what its hash covers, byte for byte.
#[derive(Debug, Clone, Serialize)]
struct StoredEvent {
    seq: i64,
    id: String,
    actor_account_id: Option<String>,
    actor_name: String,
    action: String,
    entity_kind: String,
    entity_id: String,
    before_json: Option<String>,
    after_json: Option<String>,
    reason: Option<String>,
    at: i64,
}

impl StoredEvent {
    /// SHA-256 over the hash of the event before (empty for the first) and the event's columns
    /// as a JSON array, in a fixed order.
    fn hash(&self, previous: &str) -> String {
        let columns = serde_json::json!([
            previous,
            self.seq,
            self.id,
            self.actor_account_id,
            self.actor_name,
            self.action,
            self.entity_kind,
            self.entity_id,
            self.before_json,
            self.after_json,
            self.reason,
            self.at,
        ]);
        hex::encode(Sha256::digest(columns.to_string().as_bytes()))
    }

    fn from_row(row: &AnyRow) -> Result<StoredEvent, StoreError> {
        Ok(StoredEvent {
            seq: int(row, "seq")?,
            id: text(row, "id")?,
            actor_account_id: optional_text(row, "actor_account_id")?,
            actor_name: text(row, "actor_name")?,
            action: text(row, "action")?,
            entity_kind: text(row, "entity_kind")?,
            entity_id: text(row, "entity_id")?,
            before_json: optional_text(row, "before_json")?,
            after_json: optional_text(row, "after_json")?,
            reason: optional_text(row, "reason")?,
            at: int(row, "at")?,
        })
    }
}

const EVENT_COLUMNS: &str = "seq, id, actor_account_id, actor_name, action, entity_kind, \
    entity_id, before_json, after_json, reason, at, hash";

impl Store {
    /// The newest events of a tenant first.
    pub async fn audit_events(
        &self,
        tenant: &TenantCode,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events WHERE tenant_code = $1 \
             ORDER BY seq DESC LIMIT $2"
        ))
        .bind(tenant.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_event).collect()
    }

    /// Chains the events written before the trail was chained (numbered by migration 0006, with
    /// no hash yet), for every trail, and sets each trail's head. Runs once, as that migration
    /// is applied: afterwards an event without its hash or a trail without its head is a break
    /// for `check_audit_trails` to name, never something to chain again.
    pub(crate) async fn chain_audit_trails(&self) -> Result<(), StoreError> {
        let trails = sqlx::query(
            "SELECT DISTINCT tenant_code FROM audit_events WHERE hash IS NULL \
             AND tenant_code NOT IN (SELECT tenant_code FROM audit_heads) ORDER BY tenant_code",
        )
        .fetch_all(&self.pool)
        .await?;
        for trail in trails {
            let trail = text(&trail, "tenant_code")?;
            let mut tx = self.begin_write().await?;
            let rows = sqlx::query(&format!(
                "SELECT {EVENT_COLUMNS} FROM audit_events WHERE tenant_code = $1 ORDER BY seq"
            ))
            .bind(&trail)
            .fetch_all(&mut *tx)
            .await?;
            let mut previous = String::new();
            let mut last = 0;
            for row in &rows {
                let event = StoredEvent::from_row(row)?;
                let hash = match optional_text(row, "hash")? {
                    Some(hash) => hash,
                    None => {
                        let hash = event.hash(&previous);
                        sqlx::query(
                            "UPDATE audit_events SET hash = $1 WHERE tenant_code = $2 AND seq = $3",
                        )
                        .bind(&hash)
                        .bind(&trail)
                        .bind(event.seq)
                        .execute(&mut *tx)
                        .await?;
                        hash
                    }
                };
                previous = hash;
                last = event.seq;
            }
            sqlx::query(
                "INSERT INTO audit_heads (tenant_code, seq, hash) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_code) DO UPDATE SET seq = $2, hash = $3",
            )
            .bind(&trail)
            .bind(last)
            .bind(&previous)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Walks every trail (or one tenant's) from its first event and names the first event that
    /// was changed, removed or reordered.
    pub async fn check_audit_trails(
        &self,
        tenant: Option<&TenantCode>,
    ) -> Result<Vec<ChainReport>, StoreError> {
        let trails: Vec<String> = match tenant {
            Some(tenant) => vec![tenant.as_str().to_owned()],
            // Trails by their heads and by their events: a trail whose head was removed is
            // checked too.
            None => sqlx::query(
                "SELECT tenant_code FROM audit_heads \
                 UNION SELECT tenant_code FROM audit_events ORDER BY tenant_code",
            )
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| text(row, "tenant_code"))
            .collect::<Result<_, _>>()?,
        };
        let mut reports = Vec::new();
        for trail in trails {
            // Read as of one moment, so that events written meanwhile do not look like a break.
            let mut tx = self.pool.begin().await?;
            let rows = sqlx::query(&format!(
                "SELECT {EVENT_COLUMNS} FROM audit_events WHERE tenant_code = $1 ORDER BY seq"
            ))
            .bind(&trail)
            .fetch_all(&mut *tx)
            .await?;
            let head = sqlx::query("SELECT seq, hash FROM audit_heads WHERE tenant_code = $1")
                .bind(&trail)
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| {
                    Ok::<_, StoreError>(Head {
                        seq: int(&row, "seq")?,
                        hash: text(&row, "hash")?,
                    })
                })
                .transpose()?;
            tx.commit().await?;
            reports.push(ChainReport {
                events: rows.len() as u64,
                first_break: first_break(&rows, head)?,
                trail,
            });
        }
        Ok(reports)
    }
}

/// The first place where a trail's events, in the order of their numbers, stop forming the
/// chain: a number skipped or missing at the end (removed), or a hash that the event's content,
/// number and predecessor do not give (changed or moved).
fn first_break(rows: &[AnyRow], head: Option<Head>) -> Result<Option<ChainBreak>, StoreError> {
    let mut previous = String::new();
    let mut expected = 1;
    for row in rows {
        let event = StoredEvent::from_row(row)?;
        let stored_hash = optional_text(row, "hash")?.unwrap_or_default();
        let problem = if event.seq != expected {
            Some(ChainProblem::Removed)
        } else if event.hash(&previous) != stored_hash {
            Some(ChainProblem::Changed)
        } else {
            None
        };
        if let Some(problem) = problem {
            // A changed event is named by its id too; a removed one has none left to give.
            let id = match problem {
                ChainProblem::Changed => Uuid::parse_str(&event.id).ok(),
                ChainProblem::Removed | ChainProblem::HeadChanged => None,
            };
            return Ok(Some(ChainBreak {
                seq: u64::try_from(expected).unwrap_or(0),
                id,
                problem,
            }));
        }
        previous = stored_hash;
        expected += 1;
    }
    let last = expected - 1;
    let at = |seq: i64, problem| {
        Some(ChainBreak {
            seq: u64::try_from(seq).unwrap_or(0),
            id: None,
            problem,
        })
    };
    Ok(match head {
        None if last == 0 => None,
        None => at(last, ChainProblem::HeadChanged),
        Some(head) if head.seq > last => at(expected, ChainProblem::Removed),
        Some(head) if head.seq < last => at(head.seq + 1, ChainProblem::HeadChanged),
        Some(head) if head.hash != previous => at(last, ChainProblem::HeadChanged),
        Some(_) => None,
    })
}

/// A trail's head as stored: the number and hash of its last event.
struct Head {
    seq: i64,
    hash: String,
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
    let action = text(row, "action")?;
    Ok(AuditEvent {
        seq: u64::try_from(int(row, "seq")?).unwrap_or(0),
        id: uuid(row, "id")?,
        actor_account_id: optional_uuid(row, "actor_account_id")?,
        actor_name: text(row, "actor_name")?,
        action: AuditAction::from_db(&action)
            .ok_or_else(|| StoreError::Corrupt(format!("audit action {action:?}")))?,
        entity_kind: text(row, "entity_kind")?,
        entity_id: text(row, "entity_id")?,
        before: json("before_json")?,
        after: json("after_json")?,
        reason: optional_text(row, "reason")?,
        at: timestamp(row, "at")?,
        hash: optional_text(row, "hash")?.unwrap_or_default(),
    })
}
