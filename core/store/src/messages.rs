//! Messages between tenants, of this node or another (federation): the outbox a change writes
//! in its own transaction and the node's sender delivers from, with retries and a hold per
//! destination, until the destination answers or the message is dead; and the inbox that
//! records each incoming message once, with the answer it was given.

use sqlx::any::AnyRow;
use uuid::Uuid;
use zhiyuan_domain::Timestamp;

use crate::rows::{int, optional_text, text, timestamp, uuid};
use crate::service::optional_timestamp;
use crate::{Store, StoreError};

/// A message a tenant sends: where, of what kind, and its body (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub id: Uuid,
    /// The receiving node's URL, or this node's own tenant.
    pub destination: String,
    pub kind: String,
    pub body: String,
}

/// A message still to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMessage {
    /// The sending tenant (or the node's realm).
    pub sender: String,
    pub message: OutgoingMessage,
    pub created_at: Timestamp,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
}

/// What one attempt to deliver a message came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The destination answered: the message is delivered, with its answer.
    Answered(String),
    /// It did not: tried again at `retry_at`, or dead where there is none.
    Failed {
        error: String,
        retry_at: Option<Timestamp>,
    },
}

/// Where the messages to one destination stand, as the operator sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationSummary {
    pub destination: String,
    pub pending: u64,
    pub delivered: u64,
    pub dead: u64,
    /// When the next pending message is due.
    pub next_attempt_at: Option<Timestamp>,
}

/// A message another tenant sent, as the inbox keys it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncomingMessage<'a> {
    /// The sending tenant's DID.
    pub origin: &'a str,
    pub id: &'a str,
    pub kind: &'a str,
}

/// What the inbox made of an incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// The first time: recorded with its answer.
    First,
    /// Sent before: the answer it was given then.
    Again(String),
}

const PENDING: &str = "delivered_at IS NULL AND dead_at IS NULL";

fn pending(row: &AnyRow) -> Result<PendingMessage, StoreError> {
    Ok(PendingMessage {
        sender: text(row, "tenant_code")?,
        message: OutgoingMessage {
            id: uuid(row, "id")?,
            destination: text(row, "destination")?,
            kind: text(row, "kind")?,
            body: text(row, "body")?,
        },
        created_at: timestamp(row, "created_at")?,
        attempts: u32::try_from(int(row, "attempts")?)
            .map_err(|_| StoreError::Corrupt("a message's attempts".into()))?,
        next_attempt_at: timestamp(row, "next_attempt_at")?,
        last_error: optional_text(row, "last_error")?,
    })
}

/// Writes a message to the outbox within the transaction of the change that causes it, due at
/// once.
pub(crate) async fn enqueue(
    tx: &mut sqlx::AnyConnection,
    sender: &str,
    message: &OutgoingMessage,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (tenant_code, id, destination, kind, body, created_at, \
         next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(sender)
    .bind(message.id.to_string())
    .bind(message.destination.as_str())
    .bind(message.kind.as_str())
    .bind(message.body.as_str())
    .bind(at.unix_millis())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Records an incoming message within the transaction that applies it: `Again` with the first
/// answer where it was recorded before, in which case the caller applies nothing.
pub(crate) async fn record_received(
    tx: &mut sqlx::AnyConnection,
    receiver: &str,
    message: IncomingMessage<'_>,
    answer: &str,
    at: Timestamp,
) -> Result<Received, StoreError> {
    let recorded = sqlx::query(
        "INSERT INTO inbox (tenant_code, origin, message_id, kind, received_at, answer) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_code, origin, message_id) DO NOTHING",
    )
    .bind(receiver)
    .bind(message.origin)
    .bind(message.id)
    .bind(message.kind)
    .bind(at.unix_millis())
    .bind(answer)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if recorded == 1 {
        return Ok(Received::First);
    }
    let row = sqlx::query(
        "SELECT answer FROM inbox WHERE tenant_code = $1 AND origin = $2 AND message_id = $3",
    )
    .bind(receiver)
    .bind(message.origin)
    .bind(message.id)
    .fetch_one(&mut *tx)
    .await?;
    Ok(Received::Again(text(&row, "answer")?))
}

/// Records a pending message delivered with its destination's answer, within the transaction
/// that applies the answer. A message delivered or dead already is not found: it is delivered
/// once.
pub(crate) async fn mark_delivered(
    tx: &mut sqlx::AnyConnection,
    sender: &str,
    id: Uuid,
    answer: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    let updated = sqlx::query(&format!(
        "UPDATE outbox SET attempts = attempts + 1, delivered_at = $3, answer = $4 \
         WHERE tenant_code = $1 AND id = $2 AND {PENDING}"
    ))
    .bind(sender)
    .bind(id.to_string())
    .bind(at.unix_millis())
    .bind(answer)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

impl Store {
    /// Sends a message on its own, in a transaction of its own.
    pub async fn send_message(
        &self,
        sender: &str,
        message: &OutgoingMessage,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        enqueue(&mut tx, sender, message, at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records an incoming message that changes nothing else here, with its answer.
    pub async fn receive_message(
        &self,
        receiver: &str,
        message: IncomingMessage<'_>,
        answer: &str,
        at: Timestamp,
    ) -> Result<Received, StoreError> {
        let mut tx = self.begin_write().await?;
        let received = record_received(&mut tx, receiver, message, answer, at).await?;
        tx.commit().await?;
        Ok(received)
    }

    /// The messages due by `now`, the soonest due first.
    pub async fn due_messages(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<PendingMessage>, StoreError> {
        sqlx::query(&format!(
            "SELECT tenant_code, id, destination, kind, body, created_at, attempts, \
             next_attempt_at, last_error FROM outbox \
             WHERE {PENDING} AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, created_at, id LIMIT $2"
        ))
        .bind(now.unix_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(pending)
        .collect()
    }

    /// Records what an attempt to deliver a pending message came to. A message delivered or
    /// dead already is not found: it is delivered once.
    pub async fn record_delivery(
        &self,
        sender: &str,
        id: Uuid,
        delivery: &Delivery,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let (error, retry_at) = match delivery {
            Delivery::Answered(answer) => {
                let mut connection = self.pool.acquire().await?;
                return mark_delivered(&mut connection, sender, id, answer, at).await;
            }
            Delivery::Failed { error, retry_at } => (error, retry_at),
        };
        let updated = sqlx::query(&format!(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $3, \
             next_attempt_at = COALESCE($4, next_attempt_at), \
             dead_at = CASE WHEN $4 IS NULL THEN $5 END \
             WHERE tenant_code = $1 AND id = $2 AND {PENDING}"
        ))
        .bind(sender)
        .bind(id.to_string())
        .bind(error.as_str())
        .bind(retry_at.map(Timestamp::unix_millis))
        .bind(at.unix_millis())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Holds every pending message to `destination` until `until` at the earliest: the backoff
    /// of a destination that does not answer. Answers how many were held.
    pub async fn hold_destination(
        &self,
        destination: &str,
        until: Timestamp,
    ) -> Result<u64, StoreError> {
        Ok(sqlx::query(&format!(
            "UPDATE outbox SET next_attempt_at = $2 \
             WHERE destination = $1 AND {PENDING} AND next_attempt_at < $2"
        ))
        .bind(destination)
        .bind(until.unix_millis())
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Puts a pending message off until `until` without counting an attempt: it is not ready
    /// to send yet (what it carries is still being signed).
    pub async fn postpone_message(
        &self,
        sender: &str,
        id: Uuid,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "UPDATE outbox SET next_attempt_at = $3 WHERE tenant_code = $1 AND id = $2 AND {PENDING}"
        ))
        .bind(sender)
        .bind(id.to_string())
        .bind(until.unix_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The operator sends a dead message again: pending from `at`, its attempts counted anew.
    pub async fn retry_message(
        &self,
        sender: &str,
        id: Uuid,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE outbox SET dead_at = NULL, attempts = 0, next_attempt_at = $3 \
             WHERE tenant_code = $1 AND id = $2 AND dead_at IS NOT NULL",
        )
        .bind(sender)
        .bind(id.to_string())
        .bind(at.unix_millis())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Each destination's messages: pending, delivered and dead, and when the next is due.
    pub async fn outbox_summary(&self) -> Result<Vec<DestinationSummary>, StoreError> {
        sqlx::query(&format!(
            "SELECT destination, \
               SUM(CASE WHEN {PENDING} THEN 1 ELSE 0 END) AS pending, \
               SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered, \
               SUM(CASE WHEN dead_at IS NOT NULL THEN 1 ELSE 0 END) AS dead, \
               MIN(CASE WHEN {PENDING} THEN next_attempt_at END) AS next_attempt_at \
             FROM outbox GROUP BY destination ORDER BY destination"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(DestinationSummary {
                destination: text(row, "destination")?,
                pending: int(row, "pending")? as u64,
                delivered: int(row, "delivered")? as u64,
                dead: int(row, "dead")? as u64,
                next_attempt_at: optional_timestamp(row, "next_attempt_at")?,
            })
        })
        .collect()
    }
}
