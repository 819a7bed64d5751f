//! Bulk registration (R20): many volunteers in one transaction, written in multi-row
//! statements. The caller has parsed every row; this writes them as fast as the database takes
//! them, sealing each identity number on the way.

use std::collections::HashSet;

use serde_json::json;
use uuid::Uuid;
use zhiyuan_domain::{Actor, AuditAction, NewVolunteer, TenantCode, Timestamp, VolunteerStatus};

use crate::audit::{AuditRecord, record};
use crate::volunteers::id_number_index;
use crate::{Backend, DataKeys, Store, StoreError};

/// Rows per INSERT: 1,000 rows of 16 values stay below the bind limits of SQLite (32766) and
/// PostgreSQL (65535).
pub const IMPORT_BATCH: usize = 1000;

/// An import in progress: one transaction, committed by `finish` or rolled back when dropped.
pub struct VolunteerImport {
    tx: crate::WriteTransaction,
    backend: Backend,
    tenant: TenantCode,
    keys: DataKeys,
    at: Timestamp,
    /// Identity indexes already taken in the database, until a preparer takes them over.
    taken: HashSet<[u8; 32]>,
    imported: u64,
}

/// Seals and indexes rows for an import, off the async threads: the CPU work of an import,
/// which can run while the database writes the rows prepared before.
pub struct ImportPreparer {
    tenant: TenantCode,
    keys: DataKeys,
    /// Identity indexes taken in the database or earlier in this import, as bytes (a third of
    /// the memory of their hex).
    taken: HashSet<[u8; 32]>,
}

/// A row ready to be written: its identity number sealed and indexed.
pub struct PreparedVolunteer {
    volunteer: NewVolunteer,
    index: String,
    sealed: Vec<u8>,
}

impl ImportPreparer {
    /// Prepares a row, or answers `None` when its identity document is registered already
    /// (in the database or earlier in the import).
    pub fn prepare(&mut self, volunteer: NewVolunteer) -> Option<PreparedVolunteer> {
        let index = id_number_index(&self.keys, &volunteer.id_number);
        if !self.taken.insert(index) {
            return None;
        }
        let index = hex::encode(index);
        let sealed = self.keys.seal(
            self.tenant.as_str(),
            "id_number",
            volunteer.id_number.expose(),
        );
        Some(PreparedVolunteer {
            volunteer,
            index,
            sealed,
        })
    }
}

impl Store {
    /// Starts an import into `tenant`.
    pub async fn begin_volunteer_import(
        &self,
        tenant: &TenantCode,
        at: Timestamp,
    ) -> Result<VolunteerImport, StoreError> {
        let keys = self.verify_data_key(tenant).await?;
        let mut tx = self.begin_write().await?;
        // A list registers documents not registered yet: pending or verified registrations
        // count as registered, rejected and voided ones do not.
        let rows = sqlx::query(
            "SELECT id_number_index FROM volunteers WHERE tenant_code = $1 \
             AND status IN ('pending', 'verified')",
        )
        .bind(tenant.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let taken = rows
            .iter()
            .map(|row| {
                let index = crate::rows::text(row, "id_number_index")?;
                hex::decode(&index)
                    .ok()
                    .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                    .ok_or_else(|| StoreError::Corrupt(format!("id_number_index {index:?}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(VolunteerImport {
            tx,
            backend: self.backend,
            tenant: tenant.clone(),
            keys,
            at,
            taken,
            imported: 0,
        })
    }
}

impl VolunteerImport {
    /// The preparer of this import's rows; it takes over the set of registered documents.
    pub fn preparer(&mut self) -> ImportPreparer {
        ImportPreparer {
            tenant: self.tenant.clone(),
            keys: self.keys.clone(),
            taken: std::mem::take(&mut self.taken),
        }
    }

    /// The codes of the tenant's regions and the ids of its units, to check rows against.
    pub async fn known_regions_and_units(
        &mut self,
    ) -> Result<(HashSet<String>, HashSet<Uuid>), StoreError> {
        let regions = sqlx::query("SELECT code FROM regions WHERE tenant_code = $1")
            .bind(self.tenant.as_str())
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(|row| crate::rows::text(row, "code"))
            .collect::<Result<_, _>>()?;
        let units = sqlx::query("SELECT id FROM units WHERE tenant_code = $1")
            .bind(self.tenant.as_str())
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(|row| crate::rows::uuid(row, "id"))
            .collect::<Result<_, _>>()?;
        Ok((regions, units))
    }

    /// Writes prepared rows, at most `IMPORT_BATCH` per statement.
    pub async fn insert(&mut self, volunteers: &[PreparedVolunteer]) -> Result<(), StoreError> {
        for batch in volunteers.chunks(IMPORT_BATCH) {
            let mut sql = String::with_capacity(128 + batch.len() * 80);
            sql.push_str(
                "INSERT INTO volunteers (tenant_code, id, name, id_kind, id_number_sealed, \
                 id_number_index, id_number_masked, gender, mobile, region_code, \
                 unit_id, skills, service_categories, availability, status, applied_at) VALUES ",
            );
            const COLUMNS: usize = 16;
            for row in 0..batch.len() {
                if row > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for column in 0..COLUMNS {
                    if column > 0 {
                        sql.push_str(", ");
                    }
                    // SQLite looks a numbered parameter's name up by a linear scan, which
                    // makes a statement of thousands of `$N` quadratic; plain `?` are bound by
                    // position. PostgreSQL takes only `$N`.
                    match self.backend {
                        Backend::Sqlite => sql.push('?'),
                        Backend::Postgres => {
                            sql.push('$');
                            sql.push_str(&(row * COLUMNS + column + 1).to_string());
                        }
                    }
                }
                sql.push(')');
            }
            let mut query = sqlx::query(&sql);
            for prepared in batch {
                let volunteer = &prepared.volunteer;
                let facts = volunteer.id_number.resident_facts();
                query = query
                    .bind(self.tenant.as_str().to_owned())
                    .bind(Uuid::now_v7().to_string())
                    .bind(volunteer.name.as_str().to_owned())
                    .bind(volunteer.id_number.kind().as_str())
                    .bind(prepared.sealed.clone())
                    .bind(prepared.index.clone())
                    .bind(volunteer.id_number.masked())
                    .bind(facts.map(|facts| facts.gender.as_str()))
                    .bind(volunteer.mobile.as_str().to_owned())
                    .bind(volunteer.region.as_str().to_owned())
                    .bind(volunteer.unit.map(|unit| unit.to_string()))
                    .bind(json!(volunteer.skills).to_string())
                    .bind(json!(volunteer.service_categories).to_string())
                    .bind(volunteer.availability.clone())
                    .bind(VolunteerStatus::Pending.as_str())
                    .bind(self.at.unix_millis());
            }
            query.execute(&mut *self.tx).await?;
            self.imported += batch.len() as u64;
        }
        Ok(())
    }

    pub fn imported(&self) -> u64 {
        self.imported
    }

    /// Commits the import with one audit event that says who imported what.
    pub async fn finish(
        mut self,
        actor: &Actor,
        source: serde_json::Value,
    ) -> Result<u64, StoreError> {
        let tenant = self.tenant.clone();
        record(
            &mut self.tx,
            AuditRecord {
                tenant: Some(&tenant),
                actor,
                action: AuditAction::VolunteerImport,
                entity_id: tenant.as_str().to_owned(),
                before: None,
                after: Some(json!({ "imported": self.imported, "source": source })),
                reason: None,
                at: self.at,
            },
        )
        .await?;
        self.tx.commit().await?;
        Ok(self.imported)
    }
}
