//! Bulk registration (R20): many volunteers in one transaction. The caller has parsed every
//! row; this writes them as fast as the database takes them, sealing each identity number on
//! the way. On SQLite rows go in multi-row statements; on PostgreSQL they are copied (COPY) into
//! a staging table from a connection of the import's own, and moved into `volunteers` in the
//! import's transaction, together with its audit event.

use std::collections::HashSet;

use serde_json::json;
use sqlx::postgres::PgConnection;
use sqlx::{Any, Connection, Transaction};
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
    tx: Transaction<'static, Any>,
    /// On PostgreSQL: the connection that copies rows into the staging table, and the id
    /// under which they wait there.
    staging: Option<(PgConnection, Uuid)>,
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
        let staging = match self.backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some((PgConnection::connect(&self.url.0).await?, Uuid::now_v7())),
        };
        Ok(VolunteerImport {
            tx,
            staging,
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

    /// Writes prepared rows: on SQLite at most `IMPORT_BATCH` per statement, on PostgreSQL
    /// copied into the staging table in one COPY.
    pub async fn insert(&mut self, volunteers: &[PreparedVolunteer]) -> Result<(), StoreError> {
        if let Some((connection, import_id)) = &mut self.staging {
            let text = copy_text(&self.tenant, *import_id, self.at, volunteers);
            let mut copy = connection
                .copy_in_raw(&format!(
                    "COPY volunteer_import_rows ({STAGED_COLUMNS}) FROM STDIN"
                ))
                .await?;
            copy.send(text).await?;
            copy.finish().await?;
            self.imported += volunteers.len() as u64;
            return Ok(());
        }
        for batch in volunteers.chunks(IMPORT_BATCH) {
            let mut sql = String::with_capacity(128 + batch.len() * 80);
            sql.push_str(&format!("INSERT INTO volunteers ({COLUMNS}) VALUES "));
            const COUNT: usize = 16;
            for row in 0..batch.len() {
                if row > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for column in 0..COUNT {
                    if column > 0 {
                        sql.push_str(", ");
                    }
                    // SQLite looks a numbered parameter's name up by a linear scan, which
                    // makes a statement of thousands of `$N` quadratic; plain `?` are bound by
                    // position.
                    sql.push('?');
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
        if let Some((connection, import_id)) = self.staging.take() {
            // The staged rows become volunteers in this transaction; a failure (a document
            // registered meanwhile) rolls it all back, and the staged rows go with the next
            // clean-up.
            sqlx::query(&format!(
                "INSERT INTO volunteers ({COLUMNS}) SELECT {COLUMNS} FROM volunteer_import_rows \
                 WHERE tenant_code = $1 AND import_id = $2"
            ))
            .bind(tenant.as_str())
            .bind(import_id.to_string())
            .execute(&mut *self.tx)
            .await?;
            sqlx::query(
                "DELETE FROM volunteer_import_rows WHERE tenant_code = $1 AND import_id = $2",
            )
            .bind(tenant.as_str())
            .bind(import_id.to_string())
            .execute(&mut *self.tx)
            .await?;
            connection.close().await?;
        }
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

/// The columns an import writes, in the order of its statements.
const COLUMNS: &str = "tenant_code, id, name, id_kind, id_number_sealed, id_number_index, \
    id_number_masked, gender, mobile, region_code, unit_id, skills, service_categories, \
    availability, status, applied_at";

/// The staging table's columns: the import's, then its own.
const STAGED_COLUMNS: &str = "tenant_code, id, name, id_kind, id_number_sealed, \
    id_number_index, id_number_masked, gender, mobile, region_code, unit_id, skills, \
    service_categories, availability, status, applied_at, import_id, staged_at";

/// Rows in COPY's text format: tab between fields, a line per row, `\N` for none, and
/// backslash, tab and line ends escaped in text (bytes as `\\x` and hex).
fn copy_text(
    tenant: &TenantCode,
    import_id: Uuid,
    at: Timestamp,
    volunteers: &[PreparedVolunteer],
) -> Vec<u8> {
    fn text(out: &mut String, value: &str) {
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
    }
    fn field(out: &mut String, value: Option<&str>) {
        match value {
            Some(value) => text(out, value),
            None => out.push_str("\\N"),
        }
        out.push('\t');
    }
    let import_id = import_id.to_string();
    let at = at.unix_millis().to_string();
    let mut out = String::with_capacity(volunteers.len() * 400);
    for prepared in volunteers {
        let volunteer = &prepared.volunteer;
        let facts = volunteer.id_number.resident_facts();
        field(&mut out, Some(tenant.as_str()));
        field(&mut out, Some(&Uuid::now_v7().to_string()));
        field(&mut out, Some(volunteer.name.as_str()));
        field(&mut out, Some(volunteer.id_number.kind().as_str()));
        field(
            &mut out,
            Some(&format!("\\x{}", hex::encode(&prepared.sealed))),
        );
        field(&mut out, Some(&prepared.index));
        field(&mut out, Some(&volunteer.id_number.masked()));
        field(&mut out, facts.map(|facts| facts.gender.as_str()));
        field(&mut out, Some(volunteer.mobile.as_str()));
        field(&mut out, Some(volunteer.region.as_str()));
        field(
            &mut out,
            volunteer.unit.map(|unit| unit.to_string()).as_deref(),
        );
        field(&mut out, Some(&json!(volunteer.skills).to_string()));
        field(
            &mut out,
            Some(&json!(volunteer.service_categories).to_string()),
        );
        field(&mut out, volunteer.availability.as_deref());
        field(&mut out, Some(VolunteerStatus::Pending.as_str()));
        field(&mut out, Some(&at));
        field(&mut out, Some(&import_id));
        out.push_str(&at);
        out.push('\n');
    }
    out.into_bytes()
}
