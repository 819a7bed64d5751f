//! Volunteers' transfers between tenants (R3), a small state machine on each side, each step
//! one transaction. The source: a request freezes the volunteer (`transferring`) and writes the
//! transfer and its message to the outbox together; the destination's answer completes it
//! (`transferred`, pointing at the destination) or refuses it (verified again), in the
//! transaction that records the message delivered. The destination: the transfer is applied in
//! the transaction that records the message in the inbox, so a message sent again is answered
//! as the first was and applied once.

use serde_json::json;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;
use zhiyuan_domain::{
    Actor, AuditAction, Minutes, NewVolunteer, Rule, TenantCode, Timestamp, TotalsScope,
    TransferStatus, VolunteerNumber, VolunteerStatus,
};

use crate::audit::{AuditRecord, record};
use crate::messages::{IncomingMessage, OutgoingMessage, Received, enqueue, record_received};
use crate::rows::{enumerated, int, optional_text, text, timestamp, uuid};
use crate::service::optional_timestamp;
use crate::volunteers::insert_volunteer;
use crate::{Store, StoreError};

/// What kind of message carries a transfer to its destination.
pub const TRANSFER_MESSAGE: &str = "transfer";

/// A transfer a volunteer asked for.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    pub id: Uuid,
    pub volunteer_id: Uuid,
    /// The destination tenant's DID.
    pub destination: String,
    /// What the volunteer consented to be sent.
    pub consent: String,
}

/// A transfer as its source keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferOut {
    pub id: Uuid,
    pub volunteer_id: Uuid,
    pub destination: String,
    pub status: TransferStatus,
    pub consent: String,
    pub requested_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    /// The destination's signed receipt, once completed.
    pub receipt: Option<String>,
    /// Why the destination refused it.
    pub refusal: Option<String>,
}

/// A transfer as its destination applies it.
#[derive(Debug, Clone)]
pub struct TransferArrival {
    /// Their account, moved with them: under the same username, or with the end of their
    /// volunteer number added where the name is taken here.
    pub account: Option<crate::NewAccount>,
    /// The volunteer as the destination registers them (their personal data, sealed here).
    pub volunteer: NewVolunteer,
    pub volunteer_number: VolunteerNumber,
    /// Verified on the strength of the source's registration, or pending the office's review.
    pub verified: bool,
    /// The id of the registration credential it carried: a registration arrives once.
    pub registration: String,
    /// The credentials with their logs' evidence, as received (no personal data).
    pub bundle: String,
    /// Service records in force it carried, and their minutes.
    pub records: u64,
    pub minutes: Minutes,
}

/// A transfer a tenant received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferIn {
    pub origin: String,
    pub id: String,
    pub volunteer_id: Uuid,
    pub registration: String,
    pub bundle: String,
    pub records: u64,
    pub minutes: Minutes,
    pub received_at: Timestamp,
}

/// A peer tenant's DID document, as this node last checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerDocument {
    pub did: String,
    pub peer_url: String,
    pub document: String,
}

const OUT_COLUMNS: &str = "id, volunteer_id, destination, status, consent, requested_at, \
    completed_at, receipt, refusal";

fn transfer_out(row: &AnyRow) -> Result<TransferOut, StoreError> {
    Ok(TransferOut {
        id: uuid(row, "id")?,
        volunteer_id: uuid(row, "volunteer_id")?,
        destination: text(row, "destination")?,
        status: enumerated(row, "status", TransferStatus::from_db)?,
        consent: text(row, "consent")?,
        requested_at: timestamp(row, "requested_at")?,
        completed_at: optional_timestamp(row, "completed_at")?,
        receipt: optional_text(row, "receipt")?,
        refusal: optional_text(row, "refusal")?,
    })
}

fn transfer_in(row: &AnyRow) -> Result<TransferIn, StoreError> {
    Ok(TransferIn {
        origin: text(row, "origin")?,
        id: text(row, "id")?,
        volunteer_id: uuid(row, "volunteer_id")?,
        registration: text(row, "registration")?,
        bundle: text(row, "bundle")?,
        records: int(row, "records")?.max(0) as u64,
        minutes: Minutes::new(int(row, "minutes")?.max(0) as u64),
        received_at: timestamp(row, "received_at")?,
    })
}

/// Moves a volunteer from one status to another, if they are in the first: answers whether
/// they were.
async fn move_status(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    volunteer: Uuid,
    from: VolunteerStatus,
    to: VolunteerStatus,
    transferred_to: Option<&str>,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE volunteers SET status = $4, transferred_to = $5 \
         WHERE tenant_code = $1 AND id = $2 AND status = $3",
    )
    .bind(tenant.as_str())
    .bind(volunteer.to_string())
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(transferred_to)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1)
}

impl Store {
    /// A volunteer asks to move: frozen from now on, with the transfer and its message to the
    /// destination written together. Refused unless the volunteer is verified here
    /// (`TransferUnderWay` where they moved or are moving, `VolunteerNotVerified` otherwise).
    pub async fn request_transfer(
        &self,
        tenant: &TenantCode,
        transfer: &NewTransfer,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<TransferOut, StoreError> {
        let mut tx = self.begin_write().await?;
        let frozen = move_status(
            &mut tx,
            tenant,
            transfer.volunteer_id,
            VolunteerStatus::Verified,
            VolunteerStatus::Transferring,
            None,
        )
        .await?;
        if !frozen {
            let row =
                sqlx::query("SELECT status FROM volunteers WHERE tenant_code = $1 AND id = $2")
                    .bind(tenant.as_str())
                    .bind(transfer.volunteer_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
            let status = enumerated(&row, "status", VolunteerStatus::from_db)?;
            return Err(StoreError::Refused(match status {
                VolunteerStatus::Transferring | VolunteerStatus::Transferred => {
                    Rule::TransferUnderWay
                }
                _ => Rule::VolunteerNotVerified,
            }));
        }
        sqlx::query(
            "INSERT INTO transfers_out (tenant_code, id, volunteer_id, destination, status, \
             consent, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tenant.as_str())
        .bind(transfer.id.to_string())
        .bind(transfer.volunteer_id.to_string())
        .bind(transfer.destination.as_str())
        .bind(TransferStatus::Sending.as_str())
        .bind(transfer.consent.as_str())
        .bind(at.unix_millis())
        .execute(&mut *tx)
        .await?;
        // The message names the transfer only: what it carries (personal data among it) is
        // read when it is sent, and never kept in the outbox.
        let message = OutgoingMessage {
            id: transfer.id,
            destination: transfer.destination.clone(),
            kind: TRANSFER_MESSAGE.to_owned(),
            body: json!({ "transfer": transfer.id }).to_string(),
        };
        enqueue(&mut tx, tenant.as_str(), &message, at).await?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::VolunteerTransfer,
                entity_id: transfer.volunteer_id.to_string(),
                before: None,
                after: Some(json!({
                    "transfer": transfer.id,
                    "destination": transfer.destination,
                })),
                reason: None,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        self.transfer_out(tenant, transfer.id).await
    }

    pub async fn transfer_out(
        &self,
        tenant: &TenantCode,
        id: Uuid,
    ) -> Result<TransferOut, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {OUT_COLUMNS} FROM transfers_out WHERE tenant_code = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        transfer_out(&row)
    }

    /// A volunteer's transfers from this tenant, the latest first.
    pub async fn transfers_of_volunteer(
        &self,
        tenant: &TenantCode,
        volunteer: Uuid,
    ) -> Result<Vec<TransferOut>, StoreError> {
        sqlx::query(&format!(
            "SELECT {OUT_COLUMNS} FROM transfers_out WHERE tenant_code = $1 AND volunteer_id = $2 \
             ORDER BY requested_at DESC, id DESC"
        ))
        .bind(tenant.as_str())
        .bind(volunteer.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(transfer_out)
        .collect()
    }

    /// The destination's answer to a transfer that is sending: with its `receipt` the transfer
    /// is complete and the volunteer transferred; with a `refusal` they are verified here
    /// again. Recorded with the message's delivery, in one transaction; an answer to a
    /// transfer that is no longer sending changes nothing.
    pub async fn settle_transfer(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        answer: &str,
        outcome: Result<&str, &str>,
        at: Timestamp,
    ) -> Result<TransferOut, StoreError> {
        let mut tx = self.begin_write().await?;
        crate::messages::mark_delivered(&mut tx, tenant.as_str(), id, answer, at).await?;
        let (status, receipt, refusal) = match outcome {
            Ok(receipt) => (TransferStatus::Completed, Some(receipt), None),
            Err(refusal) => (TransferStatus::Refused, None, Some(refusal)),
        };
        let row = sqlx::query(
            "UPDATE transfers_out SET status = $3, completed_at = $4, receipt = $5, refusal = $6 \
             WHERE tenant_code = $1 AND id = $2 AND status = 'sending' \
             RETURNING volunteer_id, destination",
        )
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(status.as_str())
        .bind(at.unix_millis())
        .bind(receipt)
        .bind(refusal)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = row {
            let volunteer = uuid(&row, "volunteer_id")?;
            let destination = text(&row, "destination")?;
            let (to, transferred_to, action) = match outcome {
                Ok(_) => (
                    VolunteerStatus::Transferred,
                    Some(destination.as_str()),
                    AuditAction::VolunteerTransferComplete,
                ),
                Err(_) => (
                    VolunteerStatus::Verified,
                    None,
                    AuditAction::VolunteerTransferRefused,
                ),
            };
            move_status(
                &mut tx,
                tenant,
                volunteer,
                VolunteerStatus::Transferring,
                to,
                transferred_to,
            )
            .await?;
            record(
                &mut tx,
                AuditRecord {
                    tenant: Some(tenant),
                    actor: &Actor::system("transfer"),
                    action,
                    entity_id: volunteer.to_string(),
                    before: None,
                    after: Some(json!({ "transfer": id, "destination": destination })),
                    reason: refusal.map(str::to_owned),
                    at,
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.transfer_out(tenant, id).await
    }

    /// Applies a transfer that arrived, once: registers the volunteer with their number, keeps
    /// what came with its provenance and counts its hours in the volunteer's total, in the
    /// transaction that records the message with `answer`. A message received before is
    /// answered as it was then (`Received::Again`) and changes nothing. A registration that
    /// arrived before under another message is refused (`TransferReceivedAlready`), and so is
    /// a document verified here already (`TransferRegisteredHere`).
    pub async fn receive_transfer(
        &self,
        receiver: &TenantCode,
        message: IncomingMessage<'_>,
        arrival: &TransferArrival,
        answer: &str,
        at: Timestamp,
    ) -> Result<(Received, Option<Uuid>), StoreError> {
        let keys = self.verify_data_key(receiver).await?;
        let mut tx = self.begin_write().await?;
        let received = record_received(&mut tx, receiver.as_str(), message, answer, at).await?;
        if let Received::Again(_) = received {
            return Ok((received, None));
        }
        let before = sqlx::query(
            "SELECT 1 AS n FROM transfers_in WHERE tenant_code = $1 AND registration = $2",
        )
        .bind(receiver.as_str())
        .bind(arrival.registration.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if before.is_some() {
            return Err(StoreError::Refused(Rule::TransferReceivedAlready));
        }
        let account_id = match &arrival.account {
            Some(account) => {
                let taken = sqlx::query(
                    "SELECT 1 AS n FROM accounts WHERE tenant_code = $1 AND username = $2",
                )
                .bind(receiver.as_str())
                .bind(account.username.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
                let mut account = account.clone();
                if taken {
                    let number = arrival.volunteer_number.as_str();
                    let suffix = number[number.len() - 4..].to_ascii_lowercase();
                    account.username = zhiyuan_domain::Username::parse(
                        &format!("{}-{suffix}", account.username.as_str()),
                        "/volunteer/account/username",
                    )
                    .map_err(StoreError::Invalid)?;
                }
                let actor = Actor::system("transfer");
                Some(
                    crate::accounts::insert_account(&mut tx, &account, &actor, at)
                        .await?
                        .id,
                )
            }
            None => None,
        };
        let volunteer =
            insert_volunteer(&mut tx, receiver, &keys, &arrival.volunteer, account_id, at).await?;
        let status = if arrival.verified {
            VolunteerStatus::Verified
        } else {
            VolunteerStatus::Pending
        };
        let placed = sqlx::query(
            "UPDATE volunteers SET volunteer_number = $3, status = $4, decided_at = $5, \
             decided_by = $6 WHERE tenant_code = $1 AND id = $2",
        )
        .bind(receiver.as_str())
        .bind(volunteer.id.to_string())
        .bind(arrival.volunteer_number.as_str())
        .bind(status.as_str())
        .bind(arrival.verified.then_some(at.unix_millis()))
        .bind(arrival.verified.then_some(message.origin))
        .execute(&mut *tx)
        .await;
        match placed {
            Ok(_) => {}
            Err(error) => {
                return Err(match StoreError::from(error) {
                    StoreError::Unique(_) => StoreError::Refused(Rule::TransferRegisteredHere),
                    other => other,
                });
            }
        }
        sqlx::query(
            "INSERT INTO transfers_in (tenant_code, origin, id, volunteer_id, registration, \
             bundle, records, minutes, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(receiver.as_str())
        .bind(message.origin)
        .bind(message.id)
        .bind(volunteer.id.to_string())
        .bind(arrival.registration.as_str())
        .bind(arrival.bundle.as_str())
        .bind(arrival.records as i64)
        .bind(arrival.minutes.get() as i64)
        .bind(at.unix_millis())
        .execute(&mut *tx)
        .await?;
        if arrival.records > 0 {
            crate::service::add_to_totals(
                &mut tx,
                receiver,
                &[(TotalsScope::Volunteer, volunteer.id.to_string(), 0)],
                arrival.minutes.get() as i64,
                arrival.records as i64,
            )
            .await?;
        }
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(receiver),
                actor: &Actor::system("transfer"),
                action: AuditAction::VolunteerTransferIn,
                entity_id: volunteer.id.to_string(),
                before: None,
                after: Some(json!({
                    "origin": message.origin,
                    "transfer": message.id,
                    "volunteer_number": arrival.volunteer_number.as_str(),
                    "status": status.as_str(),
                    "records": arrival.records,
                    "minutes": arrival.minutes.get(),
                })),
                reason: None,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok((Received::First, Some(volunteer.id)))
    }

    /// Whether the tenant's office reviews each volunteer who arrives.
    pub async fn transfer_review(&self, tenant: &TenantCode) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT transfer_review FROM tenants WHERE code = $1")
            .bind(tenant.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(int(&row, "transfer_review")? == 1)
    }

    /// A volunteer's service records and issued certificates that have no credential yet: a
    /// transfer carries every one of them signed, so it waits for the issuer's next round.
    pub async fn unsigned_records(
        &self,
        tenant: &TenantCode,
        volunteer: Uuid,
    ) -> Result<u64, StoreError> {
        // A record has at most one credential: what is unsigned is what is recorded less
        // what is signed, each counted by the volunteer's own index.
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM service_records WHERE tenant_code = $1 \
               AND volunteer_id = $2) \
             + (SELECT COUNT(*) FROM certificates WHERE tenant_code = $1 \
               AND volunteer_id = $2 AND status <> 'requested') \
             - (SELECT COUNT(*) FROM credentials WHERE tenant_code = $1 \
               AND volunteer_id = $2 AND kind IN ('service_record', 'certificate')) AS n",
        )
        .bind(tenant.as_str())
        .bind(volunteer.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(int(&row, "n")?.max(0) as u64)
    }

    /// The answer given to a message received before, if it was.
    pub async fn inbox_answer(
        &self,
        receiver: &str,
        origin: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query(
            "SELECT answer FROM inbox WHERE tenant_code = $1 AND origin = $2 AND message_id = $3",
        )
        .bind(receiver)
        .bind(origin)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| text(&row, "answer"))
        .transpose()
    }

    /// What a volunteer brought here, each transfer with its credentials: what a transfer
    /// onwards carries along.
    pub async fn transfers_into(
        &self,
        tenant: &TenantCode,
        volunteer: Uuid,
    ) -> Result<Vec<TransferIn>, StoreError> {
        sqlx::query(
            "SELECT origin, id, volunteer_id, registration, bundle, records, minutes, \
             received_at FROM transfers_in WHERE tenant_code = $1 AND volunteer_id = $2 \
             ORDER BY received_at, origin, id",
        )
        .bind(tenant.as_str())
        .bind(volunteer.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(transfer_in)
        .collect()
    }

    /// Keeps the DID documents of a peer's tenants as checked now, in place of those kept
    /// before for that peer.
    pub async fn replace_peer_documents(
        &self,
        peer_url: &str,
        documents: &[(String, String)],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM peer_documents WHERE tenant_code = $1 AND peer_url = $2")
            .bind(crate::NODE_REALM)
            .bind(peer_url)
            .execute(&mut *tx)
            .await?;
        for (did, document) in documents {
            sqlx::query(
                "INSERT INTO peer_documents (tenant_code, did, peer_url, document, fetched_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_code, did) DO UPDATE SET peer_url = excluded.peer_url, \
                 document = excluded.document, fetched_at = excluded.fetched_at",
            )
            .bind(crate::NODE_REALM)
            .bind(did.as_str())
            .bind(peer_url)
            .bind(document.as_str())
            .bind(at.unix_millis())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The peers' tenants' DID documents this node holds.
    pub async fn peer_documents(&self) -> Result<Vec<PeerDocument>, StoreError> {
        sqlx::query(
            "SELECT did, peer_url, document FROM peer_documents WHERE tenant_code = $1 \
             ORDER BY did",
        )
        .bind(crate::NODE_REALM)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(PeerDocument {
                did: text(row, "did")?,
                peer_url: text(row, "peer_url")?,
                document: text(row, "document")?,
            })
        })
        .collect()
    }
}
