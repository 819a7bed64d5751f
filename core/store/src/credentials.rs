//! Signed records as the node keeps them: each signer's keys with the window in which each
//! version signed, and the credentials each tenant issued, appended to its transparency log in
//! the transaction that stores them. Signing happens above the store; what is unissued is read
//! here, with the identity commitment of a registration computed where the number is unsealed,
//! so that the number never leaves the store.

use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use uuid::Uuid;
use zhiyuan_domain::{
    CredentialKind, IdDocumentKind, LogEntry, RegionCode, TenantCode, Timestamp, VolunteerNumber,
};

use crate::log::{LogHead, append_entries, lock_head};
use crate::rows::{enumerated, int, text, timestamp, uuid};
use crate::service::optional_timestamp;
use crate::service::{ServiceCertificate, ServiceRecord};
use crate::{Backend, Store, StoreError};

/// What the salt of an identity commitment is sealed for.
pub(crate) const SALT_PURPOSE: &str = "commitment_salt";

/// Rows of one multi-row insert of credentials (eight parameters each).
const ROWS_PER_INSERT: usize = 500;

/// One version of a signer's key as published, with the window in which it signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub version: u32,
    /// The public key as a Multikey (`z6Mk...`).
    pub public_key: String,
    pub valid_from: Timestamp,
    /// When the next version took over; none while it signs.
    pub valid_until: Option<Timestamp>,
}

/// A verified volunteer whose registration has no credential yet.
#[derive(Debug, Clone)]
pub struct UnissuedRegistration {
    pub volunteer_id: Uuid,
    pub volunteer_number: VolunteerNumber,
    pub name: String,
    pub id_kind: IdDocumentKind,
    pub region: RegionCode,
    pub verified_at: Timestamp,
    /// SHA-256 of the salt, the document's kind, a colon and its number
    /// (`docs/federation.md`): the credential's stand-in for the identity number.
    pub commitment: [u8; 32],
    /// A salt made for this credential, stored with it; none when the volunteer has one.
    pub new_salt: Option<[u8; 32]>,
}

/// What a tenant has issued no credential for yet, oldest first within each kind.
#[derive(Debug, Clone, Default)]
pub struct Unissued {
    pub registrations: Vec<UnissuedRegistration>,
    /// Each with its volunteer's number.
    pub service_records: Vec<(ServiceRecord, VolunteerNumber)>,
    pub certificates: Vec<(ServiceCertificate, VolunteerNumber)>,
}

impl Unissued {
    pub fn len(&self) -> usize {
        self.registrations.len() + self.service_records.len() + self.certificates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A credential to store, signed and canonical.
#[derive(Debug, Clone)]
pub struct NewCredential {
    /// `urn:uuid:...`, as the credential's `id` says.
    pub id: String,
    pub kind: CredentialKind,
    /// The registration's volunteer, the service record or the certificate.
    pub subject_id: Uuid,
    pub volunteer_id: Uuid,
    /// The signed credential in its canonical form (RFC 8785), whose SHA-256 the log holds.
    pub document: String,
    /// The salt of a registration's commitment, when it was made for it.
    pub new_salt: Option<[u8; 32]>,
}

/// A credential as stored.
#[derive(Debug, Clone)]
pub struct StoredCredential {
    pub id: String,
    pub kind: CredentialKind,
    pub subject_id: Uuid,
    pub volunteer_id: Uuid,
    pub document: String,
    pub issued_at: Timestamp,
}

fn signing_key(row: &AnyRow) -> Result<SigningKeyRecord, StoreError> {
    Ok(SigningKeyRecord {
        version: u32::try_from(int(row, "version")?)
            .map_err(|_| StoreError::Corrupt("signing key version".into()))?,
        public_key: text(row, "public_key")?,
        valid_from: timestamp(row, "valid_from")?,
        valid_until: optional_timestamp(row, "valid_until")?,
    })
}

fn stored_credential(row: &AnyRow) -> Result<StoredCredential, StoreError> {
    Ok(StoredCredential {
        id: text(row, "id")?,
        kind: enumerated(row, "kind", CredentialKind::from_db)?,
        subject_id: uuid(row, "subject_id")?,
        volunteer_id: uuid(row, "volunteer_id")?,
        document: text(row, "document")?,
        issued_at: timestamp(row, "issued_at")?,
    })
}

/// The commitment to an identity document: SHA-256 over the salt, the kind, `:` and the
/// number. Without the salt, which only the volunteer and the tenant hold, the credential
/// tells nothing of the number.
pub fn identity_commitment(salt: &[u8; 32], kind: IdDocumentKind, number: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(kind.as_str().as_bytes());
    hasher.update(b":");
    hasher.update(number.as_bytes());
    hasher.finalize().into()
}

/// The number of the volunteer a row of `r` is about.
const HOLDER_NUMBER: &str = "(SELECT v.volunteer_number FROM volunteers v \
    WHERE v.tenant_code = r.tenant_code AND v.id = r.volunteer_id) AS holder_number";

fn holder_number(row: &AnyRow) -> Result<VolunteerNumber, StoreError> {
    let number = text(row, "holder_number")?;
    VolunteerNumber::parse(&number)
        .map_err(|_| StoreError::Corrupt(format!("volunteer number {number:?}")))
}

/// A volunteer's commitment salt, opened with the tenant's data key.
fn open_salt(
    keys: &zhiyuan_keys::DataKeys,
    tenant: &TenantCode,
    volunteer_id: Uuid,
    sealed: &[u8],
) -> Result<[u8; 32], StoreError> {
    keys.open(tenant.as_str(), SALT_PURPOSE, sealed)
        .ok()
        .and_then(|salt| hex::decode(salt).ok())
        .and_then(|salt| <[u8; 32]>::try_from(salt).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("sealed salt of volunteer {volunteer_id}")))
}

const CREDENTIAL_COLUMNS: &str = "id, kind, subject_id, volunteer_id, document, issued_at";

impl Store {
    /// Records the versions of a signer's key the node signs with (`realm`: a tenant's code,
    /// or the node's), `current` the one that signs from now: a version first seen is valid
    /// from `at`, and every earlier version still open is retired when the current one took
    /// over. Safe to repeat at every start.
    pub async fn record_signing_keys(
        &self,
        realm: &str,
        versions: &[(u32, String)],
        current: u32,
        at: Timestamp,
    ) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let mut tx = self.begin_write().await?;
        for (version, public_key) in versions {
            sqlx::query(
                "INSERT INTO signing_keys (tenant_code, version, public_key, valid_from) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_code, version) DO NOTHING",
            )
            .bind(realm)
            .bind(i64::from(*version))
            .bind(public_key)
            .bind(at.unix_millis())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE signing_keys SET valid_until = \
               (SELECT c.valid_from FROM signing_keys c WHERE c.tenant_code = $1 AND c.version = $2) \
             WHERE tenant_code = $1 AND version < $2 AND valid_until IS NULL",
        )
        .bind(realm)
        .bind(i64::from(current))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.signing_keys(realm).await
    }

    /// Every version of a signer's key, oldest first.
    pub async fn signing_keys(&self, realm: &str) -> Result<Vec<SigningKeyRecord>, StoreError> {
        sqlx::query(
            "SELECT version, public_key, valid_from, valid_until FROM signing_keys \
             WHERE tenant_code = $1 ORDER BY version",
        )
        .bind(realm)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(signing_key)
        .collect()
    }

    /// What the tenant has issued no credential for among what was decided, recorded or issued
    /// from `since` on: at most `limit` of each kind, oldest first. Registrations come with
    /// their identity commitment, under the volunteer's salt or, for a first credential, a new
    /// one from `make_salt`.
    pub async fn unissued(
        &self,
        tenant: &TenantCode,
        since: Timestamp,
        limit: u32,
        mut make_salt: impl FnMut() -> [u8; 32],
    ) -> Result<Unissued, StoreError> {
        let keys = self.keys.data_keys(tenant.as_str())?;
        // Each NOT EXISTS stays a probe of the credentials' unique index for each candidate
        // on PostgreSQL (OFFSET 0 keeps the planner from turning it into an anti-join): over
        // tables filled since they were last analysed, the anti-join it chose compared every
        // candidate with every credential, seconds a round for ten thousand records.
        let probe = match self.backend() {
            Backend::Postgres => " OFFSET 0",
            Backend::Sqlite => "",
        };
        let rows = sqlx::query(&format!(
            "SELECT v.id, v.volunteer_number, v.name, v.id_kind, v.id_number_sealed, \
               v.commitment_salt_sealed, v.region_code, v.decided_at FROM volunteers v \
             WHERE v.tenant_code = $1 AND v.status = 'verified' AND v.decided_at >= $2 \
               AND v.volunteer_number IS NOT NULL AND NOT EXISTS (SELECT 1 FROM credentials c \
                 WHERE c.tenant_code = v.tenant_code AND c.kind = 'registration' \
                   AND c.subject_id = v.id{probe}) \
             ORDER BY v.decided_at, v.id LIMIT $3",
        ))
        .bind(tenant.as_str())
        .bind(since.unix_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut registrations = Vec::with_capacity(rows.len());
        for row in &rows {
            let volunteer_id = uuid(row, "id")?;
            let unsealable =
                || StoreError::Corrupt(format!("sealed data of volunteer {volunteer_id}"));
            let sealed: Vec<u8> = sqlx::Row::try_get(row, "id_number_sealed")?;
            let number = keys
                .open(tenant.as_str(), "id_number", &sealed)
                .map_err(|_| unsealable())?;
            let salt_sealed: Option<Vec<u8>> = sqlx::Row::try_get(row, "commitment_salt_sealed")?;
            let (salt, new_salt) = match salt_sealed {
                Some(sealed) => (open_salt(&keys, tenant, volunteer_id, &sealed)?, None),
                None => {
                    let salt = make_salt();
                    (salt, Some(salt))
                }
            };
            let id_kind = enumerated(row, "id_kind", IdDocumentKind::from_db)?;
            let number_text = text(row, "volunteer_number")?;
            registrations.push(UnissuedRegistration {
                volunteer_id,
                volunteer_number: VolunteerNumber::parse(&number_text)
                    .map_err(|_| StoreError::Corrupt(format!("volunteer number {number_text}")))?,
                name: text(row, "name")?,
                id_kind,
                region: crate::rows::region_code(row, "region_code")?,
                verified_at: timestamp(row, "decided_at")?,
                commitment: identity_commitment(&salt, id_kind, &number),
                new_salt,
            });
        }
        let service_records = sqlx::query(&format!(
            "SELECT {}, {HOLDER_NUMBER} FROM service_records r WHERE r.tenant_code = $1 AND r.recorded_at >= $2 \
               AND NOT EXISTS (SELECT 1 FROM credentials c WHERE c.tenant_code = r.tenant_code \
                 AND c.kind = 'service_record' AND c.subject_id = r.id{probe}) \
             ORDER BY r.recorded_at, r.id LIMIT $3",
            crate::service::RECORD_COLUMNS
        ))
        .bind(tenant.as_str())
        .bind(since.unix_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((crate::service::service_record(row)?, holder_number(row)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
        let certificates = sqlx::query(&format!(
            "SELECT {}, {HOLDER_NUMBER} FROM certificates r WHERE r.tenant_code = $1 AND r.status <> 'requested' \
               AND r.issued_at >= $2 AND NOT EXISTS (SELECT 1 FROM credentials c \
                 WHERE c.tenant_code = r.tenant_code AND c.kind = 'certificate' \
                   AND c.subject_id = r.id{probe}) \
             ORDER BY r.issued_at, r.id LIMIT $3",
            crate::service::CERTIFICATE_COLUMNS
        ))
        .bind(tenant.as_str())
        .bind(since.unix_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((crate::service::certificate(row)?, holder_number(row)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Unissued {
            registrations,
            service_records,
            certificates,
        })
    }

    /// Stores credentials and appends their entries to the tenant's log, in one transaction
    /// with the log taken first, so that concurrent issuers take turns: a credential for what
    /// already has one is dropped, not stored twice. A new salt is kept on the volunteer's row,
    /// sealed. Answers how many were stored and the log's new head.
    pub async fn issue_credentials(
        &self,
        tenant: &TenantCode,
        credentials: &[NewCredential],
        at: Timestamp,
    ) -> Result<(usize, LogHead), StoreError> {
        let keys = self.keys.data_keys(tenant.as_str())?;
        let mut tx = self.begin_write().await?;
        lock_head(&mut tx, self.backend, tenant, at).await?;
        // What another issuer stored first is dropped: read in one statement a thousand, so
        // that the write lock is held no longer than the batch takes.
        let mut issued = std::collections::HashSet::new();
        for chunk in credentials.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "SELECT kind, subject_id FROM credentials WHERE tenant_code = $1 \
                 AND subject_id IN ({})",
                crate::parameter_list(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(tenant.as_str());
            for credential in chunk {
                query = query.bind(credential.subject_id.to_string());
            }
            for row in query.fetch_all(&mut *tx).await? {
                issued.insert((text(&row, "kind")?, text(&row, "subject_id")?));
            }
        }
        let mut fresh = Vec::with_capacity(credentials.len());
        for credential in credentials {
            let key = (
                credential.kind.as_str().to_owned(),
                credential.subject_id.to_string(),
            );
            if issued.contains(&key) {
                continue;
            }
            if let Some(salt) = credential.new_salt {
                let kept = sqlx::query(
                    "UPDATE volunteers SET commitment_salt_sealed = $3 \
                     WHERE tenant_code = $1 AND id = $2 AND commitment_salt_sealed IS NULL",
                )
                .bind(tenant.as_str())
                .bind(credential.volunteer_id.to_string())
                .bind(keys.seal(tenant.as_str(), SALT_PURPOSE, &hex::encode(salt)))
                .execute(&mut *tx)
                .await?;
                // Another issuer made the volunteer's salt first: this commitment is not it.
                if kept.rows_affected() == 0 {
                    continue;
                }
            }
            fresh.push(credential);
        }
        for chunk in fresh.chunks(ROWS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|row| {
                    let base = 3 + 5 * row;
                    format!(
                        "($1, ${base}, ${}, ${}, ${}, ${}, $2)",
                        base + 1,
                        base + 2,
                        base + 3,
                        base + 4
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO credentials (tenant_code, id, kind, subject_id, volunteer_id, \
                 document, issued_at) VALUES {}",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql)
                .bind(tenant.as_str())
                .bind(at.unix_millis());
            for credential in chunk {
                query = query
                    .bind(credential.id.as_str())
                    .bind(credential.kind.as_str())
                    .bind(credential.subject_id.to_string())
                    .bind(credential.volunteer_id.to_string())
                    .bind(credential.document.as_str());
            }
            query.execute(&mut *tx).await?;
        }
        let entries: Vec<LogEntry> = fresh
            .iter()
            .map(|credential| LogEntry {
                credential_id: credential.id.clone(),
                digest: Sha256::digest(credential.document.as_bytes()).into(),
            })
            .collect();
        let head = append_entries(&mut tx, self.backend, tenant, &entries, at).await?;
        tx.commit().await?;
        Ok((fresh.len(), head))
    }

    /// One of the tenant's credentials.
    pub async fn credential(
        &self,
        tenant: &TenantCode,
        id: &str,
    ) -> Result<StoredCredential, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE tenant_code = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        stored_credential(&row)
    }

    /// A volunteer's credentials, oldest first.
    pub async fn credentials_of_volunteer(
        &self,
        tenant: &TenantCode,
        volunteer_id: Uuid,
    ) -> Result<Vec<StoredCredential>, StoreError> {
        sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE tenant_code = $1 \
             AND volunteer_id = $2 ORDER BY issued_at, id"
        ))
        .bind(tenant.as_str())
        .bind(volunteer_id.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(stored_credential)
        .collect()
    }

    /// The tenant's credentials issued after the cursor (`issued_at`, `id`), at most `limit`.
    pub async fn credentials(
        &self,
        tenant: &TenantCode,
        after: Option<(Timestamp, String)>,
        limit: u32,
    ) -> Result<Vec<StoredCredential>, StoreError> {
        let (at, id) = after.unwrap_or((Timestamp::from_unix_millis(i64::MIN), String::new()));
        sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE tenant_code = $1 \
             AND (issued_at > $2 OR (issued_at = $2 AND id > $3)) ORDER BY issued_at, id LIMIT $4"
        ))
        .bind(tenant.as_str())
        .bind(at.unix_millis())
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(stored_credential)
        .collect()
    }

    /// The salt of a volunteer's identity commitment, opened for the volunteer; none before
    /// their first registration credential.
    pub async fn commitment_salt(
        &self,
        tenant: &TenantCode,
        volunteer_id: Uuid,
    ) -> Result<Option<[u8; 32]>, StoreError> {
        let keys = self.keys.data_keys(tenant.as_str())?;
        let row = sqlx::query(
            "SELECT commitment_salt_sealed FROM volunteers WHERE tenant_code = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(volunteer_id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let sealed: Option<Vec<u8>> = sqlx::Row::try_get(&row, "commitment_salt_sealed")?;
        sealed
            .map(|sealed| open_salt(&keys, tenant, volunteer_id, &sealed))
            .transpose()
    }
}

/// A peer's log as this node witnesses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessedLog {
    pub origin: String,
    /// The largest checkpoint checked and cosigned: its size, root (base64) and note, with
    /// this node's cosignature.
    pub size: u64,
    pub root: String,
    pub checkpoint: String,
    /// The tenant's DID document the checkpoint was checked with, as fetched: a copy that
    /// outlives the tenant's node.
    pub did_document: String,
    pub checked_at: Timestamp,
    /// What the log did that it must not, once seen: it stays until an operator looks.
    pub alarm: Option<String>,
    /// The checkpoints that show it, one after another.
    pub evidence: Option<String>,
    pub alarm_at: Option<Timestamp>,
}

fn witnessed_log(row: &AnyRow) -> Result<WitnessedLog, StoreError> {
    Ok(WitnessedLog {
        origin: text(row, "origin")?,
        size: int(row, "size")? as u64,
        root: text(row, "root")?,
        checkpoint: text(row, "checkpoint")?,
        did_document: text(row, "did_document")?,
        checked_at: timestamp(row, "checked_at")?,
        alarm: crate::rows::optional_text(row, "alarm")?,
        evidence: crate::rows::optional_text(row, "evidence")?,
        alarm_at: optional_timestamp(row, "alarm_at")?,
    })
}

const WITNESSED_COLUMNS: &str =
    "origin, size, root, checkpoint, did_document, checked_at, alarm, evidence, alarm_at";

impl Store {
    /// Every log this node witnesses, by origin.
    pub async fn witnessed_logs(&self) -> Result<Vec<WitnessedLog>, StoreError> {
        sqlx::query(&format!(
            "SELECT {WITNESSED_COLUMNS} FROM witnessed_logs WHERE tenant_code = 'node' \
             ORDER BY origin"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(witnessed_log)
        .collect()
    }

    /// One log this node witnesses; none before its first checkpoint was cosigned.
    pub async fn witnessed_log(&self, origin: &str) -> Result<Option<WitnessedLog>, StoreError> {
        sqlx::query(&format!(
            "SELECT {WITNESSED_COLUMNS} FROM witnessed_logs WHERE tenant_code = 'node' \
             AND origin = $1"
        ))
        .bind(origin)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(witnessed_log)
        .transpose()
    }

    /// Keeps a checkpoint the node checked and cosigned, with the tenant's DID document it was
    /// checked with, when it is larger than the one kept (the size only grows, whoever writes
    /// at once).
    pub async fn record_cosigned(
        &self,
        origin: &str,
        size: u64,
        root: &str,
        checkpoint: &str,
        did_document: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO witnessed_logs (tenant_code, origin, size, root, checkpoint, \
               did_document, checked_at) VALUES ('node', $1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_code, origin) DO UPDATE SET size = excluded.size, \
               root = excluded.root, checkpoint = excluded.checkpoint, \
               did_document = excluded.did_document, checked_at = excluded.checked_at \
             WHERE witnessed_logs.size <= excluded.size",
        )
        .bind(origin)
        .bind(size as i64)
        .bind(root)
        .bind(checkpoint)
        .bind(did_document)
        .bind(at.unix_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Raises the alarm on a witnessed log, keeping the first alarm raised and its evidence.
    pub async fn raise_witness_alarm(
        &self,
        origin: &str,
        alarm: &str,
        evidence: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE witnessed_logs SET alarm = $2, evidence = $3, alarm_at = $4 \
             WHERE tenant_code = 'node' AND origin = $1 AND alarm IS NULL",
        )
        .bind(origin)
        .bind(alarm)
        .bind(evidence)
        .bind(at.unix_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
