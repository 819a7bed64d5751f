//! Tenants' data keys as the database knows them: the check value stored with a tenant's
//! records, and the rotation that reseals those records under a new key.

use serde_json::json;
use sqlx::Row;
use zhiyuan_domain::{Actor, AuditAction, IdDocumentKind, TenantCode, Timestamp};
use zhiyuan_keys::DataKeys;

use crate::audit::{AuditRecord, record};
use crate::credentials::SALT_PURPOSE;
use crate::rows::{enumerated, text};
use crate::volunteers::document_index;
use crate::{Store, StoreError};

/// What a rotation of a tenant's data key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// Identity numbers sealed again, and indexed, under the new key.
    pub resealed: u64,
    pub old_check: String,
    pub new_check: String,
}

impl Store {
    /// Checks every tenant's data key against the check value stored with its first use, and
    /// stores it for tenants that have none yet. A node given the wrong key stops here rather
    /// than sealing data that no other node could open.
    pub async fn verify_data_keys(&self) -> Result<(), StoreError> {
        for tenant in self.tenants().await? {
            self.verify_data_key(&tenant.code).await?;
        }
        Ok(())
    }

    pub(crate) async fn verify_data_key(
        &self,
        tenant: &TenantCode,
    ) -> Result<DataKeys, StoreError> {
        let stored = sqlx::query("SELECT key_check FROM tenant_data_keys WHERE tenant_code = $1")
            .bind(tenant.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = stored else {
            // Nothing of the tenant is sealed yet: its key may be made now.
            let keys = self.keys.create_data_keys(tenant.as_str())?;
            sqlx::query("INSERT INTO tenant_data_keys (tenant_code, key_check) VALUES ($1, $2)")
                .bind(tenant.as_str())
                .bind(keys.check_value())
                .execute(&self.pool)
                .await?;
            return Ok(keys);
        };
        let check = text(&row, "key_check")?;
        let current = match self.keys.data_keys(tenant.as_str()) {
            Ok(keys) if keys.check_value() == check => return Ok(keys),
            Ok(_) => true,
            Err(zhiyuan_keys::KeyError::Missing(_)) => false,
            Err(error) => return Err(error.into()),
        };
        // The records were resealed under a staged key whose files were not yet swapped: the
        // rotation's last step is done here.
        if let Some(staged) = self.keys.staged_data_keys(tenant.as_str())?
            && staged.check_value() == check
        {
            self.keys.promote_staged_data_key(tenant.as_str())?;
            return Ok(self.keys.data_keys(tenant.as_str())?);
        }
        if current {
            Err(StoreError::WrongDataKey(tenant.to_string()))
        } else {
            Err(StoreError::MissingDataKey {
                tenant: tenant.to_string(),
                check,
            })
        }
    }

    /// Replaces a tenant's data key: stages a new one, reseals and reindexes every identity
    /// number of the tenant under it and stores its check value in one transaction, then makes
    /// it the tenant's key. Run with the tenant's nodes stopped: a node still holding the old
    /// key refuses to start against the resealed records, and a write of one during the
    /// rotation would be sealed under the old key. Cards printed before it no longer verify,
    /// since their codes are keyed by the data key too.
    pub async fn rotate_data_key(
        &self,
        tenant: &TenantCode,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<Rotation, StoreError> {
        let old = self.verify_data_key(tenant).await?;
        let new = self.keys.stage_data_key(tenant.as_str())?;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, id_kind, id_number_sealed, commitment_salt_sealed FROM volunteers \
             WHERE tenant_code = $1",
        )
        .bind(tenant.as_str())
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let id = text(row, "id")?;
            let sealed: Vec<u8> = row.try_get("id_number_sealed")?;
            let number = old
                .open(tenant.as_str(), "id_number", &sealed)
                .map_err(|_| StoreError::Corrupt(format!("sealed id_number of volunteer {id}")))?;
            let kind = enumerated(row, "id_kind", IdDocumentKind::from_db)?;
            // The salt of the identity commitment in the volunteer's registration credential.
            let salt = row
                .try_get::<Option<Vec<u8>>, _>("commitment_salt_sealed")?
                .map(|sealed| {
                    old.open(tenant.as_str(), SALT_PURPOSE, &sealed)
                        .map_err(|_| StoreError::Corrupt(format!("sealed salt of volunteer {id}")))
                })
                .transpose()?;
            sqlx::query(
                "UPDATE volunteers SET id_number_sealed = $1, id_number_index = $2, \
                 commitment_salt_sealed = $5 WHERE tenant_code = $3 AND id = $4",
            )
            .bind(new.seal(tenant.as_str(), "id_number", &number))
            .bind(hex::encode(document_index(&new, kind, &number)))
            .bind(tenant.as_str())
            .bind(&id)
            .bind(salt.map(|salt| new.seal(tenant.as_str(), SALT_PURPOSE, &salt)))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE tenant_data_keys SET key_check = $1 WHERE tenant_code = $2")
            .bind(new.check_value())
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?;
        let rotation = Rotation {
            resealed: rows.len() as u64,
            old_check: old.check_value().to_owned(),
            new_check: new.check_value().to_owned(),
        };
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::DataKeyRotate,
                entity_id: tenant.to_string(),
                before: Some(json!({ "key_check": rotation.old_check })),
                after: Some(
                    json!({ "key_check": rotation.new_check, "resealed": rotation.resealed }),
                ),
                reason: None,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        self.keys.promote_staged_data_key(tenant.as_str())?;
        Ok(rotation)
    }
}
