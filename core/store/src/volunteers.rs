use serde::Serialize;
use serde_json::json;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;
use zhiyuan_domain::{
    Actor, AuditAction, Gender, IdDocumentKind, IdNumber, InvalidInput, NewVolunteer, RegionCode,
    Rule, ServiceCategory, TenantCode, Timestamp, VolunteerNumber, VolunteerStatus,
};

use crate::accounts::{NewAccount, insert_account};
use crate::audit::{AuditRecord, record};
use crate::rows::{
    enumerated, int, optional_text, optional_uuid, region_code, text, timestamp, uuid,
};
use crate::{Store, StoreError};

/// A volunteer as stored. The identity number is here only masked; the birth date is read from
/// the sealed number and never serialized; the full mobile number is here, and the use cases
/// decide who sees it.
#[derive(Debug, Clone, Serialize)]
pub struct VolunteerRecord {
    pub id: Uuid,
    pub account_id: Option<Uuid>,
    pub volunteer_number: Option<VolunteerNumber>,
    /// Raised each time a card is issued; a card of an earlier serial no longer counts.
    pub card_serial: u32,
    pub name: String,
    pub id_kind: IdDocumentKind,
    pub id_number_masked: String,
    #[serde(skip)]
    pub birth_date: Option<time::Date>,
    pub gender: Option<Gender>,
    pub mobile: String,
    pub region: RegionCode,
    pub unit: Option<Uuid>,
    pub skills: Vec<String>,
    pub service_categories: Vec<ServiceCategory>,
    pub availability: Option<String>,
    pub status: VolunteerStatus,
    pub decision_reason: Option<String>,
    pub applied_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    /// Other registrations, pending or verified, with the same identity document.
    pub same_document: u64,
}

/// Whose account a registration is made with.
#[derive(Debug, Clone)]
pub enum Registrant {
    /// A new account, created with the registration.
    NewAccount(NewAccount),
    /// The signed-in account of the applicant.
    Account(Uuid),
    /// None: a row of a unit's list.
    Listed,
}

/// A reviewer's decision on an application.
#[derive(Debug, Clone)]
pub enum VolunteerDecision {
    /// Verified, with the public number to give (the caller draws it; a clash is retried).
    Verify(VolunteerNumber),
    Reject {
        reason: String,
    },
}

/// Which volunteers to list.
#[derive(Debug, Clone, Default)]
pub struct VolunteerFilter {
    pub status: Option<VolunteerStatus>,
    /// Only volunteers of these regions.
    pub region_within: Option<Vec<RegionCode>>,
    pub unit: Option<Uuid>,
    pub limit: u32,
    pub offset: u32,
}

const COLUMNS: &str = "v.id, v.account_id, v.volunteer_number, v.card_serial, v.name, v.id_kind, \
    v.id_number_masked, v.id_number_sealed, v.gender, v.mobile, v.region_code, v.unit_id, v.skills, \
    v.service_categories, v.availability, v.status, v.decision_reason, v.applied_at, v.decided_at, \
    (SELECT COUNT(*) FROM volunteers other WHERE other.tenant_code = v.tenant_code \
       AND other.id_number_index = v.id_number_index AND other.id <> v.id \
       AND other.status IN ('pending', 'verified')) AS same_document";

impl Store {
    /// Registers an application (pending), with the account it is made with. Another
    /// application with the same document blocks nothing: only one of them can be verified.
    pub async fn register_volunteer(
        &self,
        tenant: &TenantCode,
        volunteer: &NewVolunteer,
        registrant: &Registrant,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<VolunteerRecord, StoreError> {
        let keys = self.verify_data_key(tenant).await?;
        let mut tx = self.begin_write().await?;
        crate::tenants::check_region_and_unit(&mut tx, tenant, &volunteer.region, volunteer.unit)
            .await?;
        let account_id = match registrant {
            Registrant::NewAccount(account) => {
                Some(insert_account(&mut tx, account, actor, at).await?.id)
            }
            Registrant::Account(id) => Some(*id),
            Registrant::Listed => None,
        };
        let mut record =
            insert_volunteer(&mut tx, tenant, &keys, volunteer, account_id, at).await?;
        record.same_document = same_document(&mut tx, tenant, record.id).await?;
        record_change(
            &mut tx,
            tenant,
            actor,
            AuditAction::VolunteerRegister,
            &record,
            None,
            None,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn volunteer(
        &self,
        tenant: &TenantCode,
        id: Uuid,
    ) -> Result<VolunteerRecord, StoreError> {
        let keys = self.keys.data_keys(tenant.as_str())?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM volunteers v WHERE v.tenant_code = $1 AND v.id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        volunteer_record(&row, tenant, &keys)
    }

    /// The volunteer record of an account.
    pub async fn volunteer_of_account(
        &self,
        tenant: &TenantCode,
        account_id: Uuid,
    ) -> Result<VolunteerRecord, StoreError> {
        let keys = self.keys.data_keys(tenant.as_str())?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM volunteers v WHERE v.tenant_code = $1 AND v.account_id = $2"
        ))
        .bind(tenant.as_str())
        .bind(account_id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        volunteer_record(&row, tenant, &keys)
    }

    pub async fn volunteers(
        &self,
        tenant: &TenantCode,
        filter: &VolunteerFilter,
    ) -> Result<Vec<VolunteerRecord>, StoreError> {
        let keys = self.keys.data_keys(tenant.as_str())?;
        let mut sql = format!("SELECT {COLUMNS} FROM volunteers v WHERE v.tenant_code = $1");
        let mut binds: Vec<String> = vec![tenant.as_str().to_owned()];
        if let Some(status) = filter.status {
            binds.push(status.as_str().to_owned());
            sql.push_str(&format!(" AND v.status = ${}", binds.len()));
        }
        if let Some(unit) = filter.unit {
            binds.push(unit.to_string());
            sql.push_str(&format!(" AND v.unit_id = ${}", binds.len()));
        }
        if let Some(regions) = &filter.region_within {
            if regions.is_empty() {
                return Ok(Vec::new());
            }
            let placeholders: Vec<String> = regions
                .iter()
                .map(|region| {
                    binds.push(region.as_str().to_owned());
                    format!("${}", binds.len())
                })
                .collect();
            sql.push_str(&format!(
                " AND v.region_code IN ({})",
                placeholders.join(", ")
            ));
        }
        sql.push_str(&format!(
            " ORDER BY v.applied_at, v.id LIMIT {} OFFSET {}",
            filter.limit.max(1),
            filter.offset
        ));
        let mut query = sqlx::query(&sql);
        for bind in binds {
            query = query.bind(bind);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| volunteer_record(row, tenant, &keys))
            .collect()
    }

    /// Records a reviewer's decision on a pending application. Verifying one whose document
    /// is verified already fails on the index that keeps one verified registration a document.
    pub async fn decide_volunteer(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        decision: &VolunteerDecision,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<VolunteerRecord, StoreError> {
        let keys = self.keys.data_keys(tenant.as_str())?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM volunteers v WHERE v.tenant_code = $1 AND v.id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let before = volunteer_record(&row, tenant, &keys)?;
        if before.status != VolunteerStatus::Pending {
            return Err(StoreError::Invalid(InvalidInput::new(
                "/decision",
                Rule::AlreadyDecided,
            )));
        }
        let (status, number, reason, action) = match decision {
            VolunteerDecision::Verify(number) => (
                VolunteerStatus::Verified,
                Some(number.clone()),
                None,
                AuditAction::VolunteerVerify,
            ),
            VolunteerDecision::Reject { reason } => (
                VolunteerStatus::Rejected,
                None,
                Some(reason.clone()),
                AuditAction::VolunteerReject,
            ),
        };
        let decided = sqlx::query(
            // A volunteer who arrived by transfer keeps the number they came with.
            "UPDATE volunteers SET status = $1, \
             volunteer_number = COALESCE(volunteer_number, $2), decision_reason = $3, \
             decided_at = $4, decided_by = $5, card_serial = card_serial + $6 \
             WHERE tenant_code = $7 AND id = $8 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(number.as_ref().map(|number| number.as_str().to_owned()))
        .bind(reason.clone())
        .bind(at.unix_millis())
        .bind(&actor.name)
        .bind(i64::from(status == VolunteerStatus::Verified))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        // Checked again in the update: of two reviewers deciding at once, one wins.
        if decided.rows_affected() != 1 {
            return Err(StoreError::Invalid(InvalidInput::new(
                "/decision",
                Rule::AlreadyDecided,
            )));
        }
        let after = VolunteerRecord {
            status,
            volunteer_number: before.volunteer_number.clone().or(number),
            decision_reason: reason.clone(),
            decided_at: Some(at),
            card_serial: before.card_serial + u32::from(status == VolunteerStatus::Verified),
            ..before.clone()
        };
        record_change(
            &mut tx,
            tenant,
            actor,
            action,
            &after,
            Some(&before),
            reason,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Voids a registration, pending or verified: one made with someone else's document, or
    /// challenged at the office by the person presenting it. The reason is recorded.
    pub async fn void_volunteer(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        reason: &str,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<VolunteerRecord, StoreError> {
        let keys = self.keys.data_keys(tenant.as_str())?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM volunteers v WHERE v.tenant_code = $1 AND v.id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let before = volunteer_record(&row, tenant, &keys)?;
        let voided = sqlx::query(
            "UPDATE volunteers SET status = 'voided', decision_reason = $1, decided_at = $2, \
             decided_by = $3 WHERE tenant_code = $4 AND id = $5 \
             AND status IN ('pending', 'verified')",
        )
        .bind(reason)
        .bind(at.unix_millis())
        .bind(&actor.name)
        .bind(tenant.as_str())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if voided.rows_affected() != 1 {
            return Err(StoreError::Invalid(InvalidInput::new(
                "/reason",
                Rule::AlreadyDecided,
            )));
        }
        let after = VolunteerRecord {
            status: VolunteerStatus::Voided,
            decision_reason: Some(reason.to_owned()),
            decided_at: Some(at),
            ..before.clone()
        };
        record_change(
            &mut tx,
            tenant,
            actor,
            AuditAction::VolunteerVoid,
            &after,
            Some(&before),
            Some(reason.to_owned()),
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The identity number in the clear, for the few uses that need it (the identity check of a
    /// verification). Every reading is itself audited.
    pub async fn reveal_id_number(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<String, StoreError> {
        let keys = self.verify_data_key(tenant).await?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT id_number_sealed FROM volunteers WHERE tenant_code = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let sealed: Vec<u8> = sqlx::Row::try_get(&row, "id_number_sealed")?;
        let number = keys
            .open(tenant.as_str(), "id_number", &sealed)
            .map_err(|_| unsealable(tenant))?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::VolunteerRevealIdNumber,
                entity_id: id.to_string(),
                before: None,
                after: None,
                reason: None,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(number)
    }
}

pub(crate) async fn insert_volunteer(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    keys: &crate::DataKeys,
    volunteer: &NewVolunteer,
    account_id: Option<Uuid>,
    at: Timestamp,
) -> Result<VolunteerRecord, StoreError> {
    let id = Uuid::now_v7();
    let facts = volunteer.id_number.resident_facts();
    let record = VolunteerRecord {
        id,
        account_id,
        volunteer_number: None,
        card_serial: 0,
        name: volunteer.name.as_str().to_owned(),
        id_kind: volunteer.id_number.kind(),
        id_number_masked: volunteer.id_number.masked(),
        birth_date: facts.map(|facts| facts.birth_date),
        gender: facts.map(|facts| facts.gender),
        mobile: volunteer.mobile.as_str().to_owned(),
        region: volunteer.region.clone(),
        unit: volunteer.unit,
        skills: volunteer.skills.clone(),
        service_categories: volunteer.service_categories.clone(),
        availability: volunteer.availability.clone(),
        status: VolunteerStatus::Pending,
        decision_reason: None,
        applied_at: at,
        decided_at: None,
        same_document: 0,
    };
    sqlx::query(
        "INSERT INTO volunteers (tenant_code, id, account_id, name, id_kind, id_number_sealed, \
         id_number_index, id_number_masked, gender, mobile, region_code, unit_id, \
         skills, service_categories, availability, status, applied_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(tenant.as_str())
    .bind(id.to_string())
    .bind(account_id.map(|id| id.to_string()))
    .bind(&record.name)
    .bind(record.id_kind.as_str())
    .bind(keys.seal(tenant.as_str(), "id_number", volunteer.id_number.expose()))
    .bind(hex::encode(id_number_index(keys, &volunteer.id_number)))
    .bind(&record.id_number_masked)
    .bind(record.gender.map(|gender| gender.as_str().to_owned()))
    .bind(&record.mobile)
    .bind(record.region.as_str())
    .bind(record.unit.map(|unit| unit.to_string()))
    .bind(json!(record.skills).to_string())
    .bind(json!(record.service_categories).to_string())
    .bind(record.availability.clone())
    .bind(VolunteerStatus::Pending.as_str())
    .bind(at.unix_millis())
    .execute(&mut *tx)
    .await?;
    Ok(record)
}

/// The index covers kind and number, so a passport and a permit that share digits differ.
pub(crate) fn id_number_index(keys: &crate::DataKeys, id_number: &IdNumber) -> [u8; 32] {
    document_index(keys, id_number.kind(), id_number.expose())
}

/// The index of a document by its kind and its number as sealed.
pub(crate) fn document_index(
    keys: &crate::DataKeys,
    kind: IdDocumentKind,
    number: &str,
) -> [u8; 32] {
    keys.index_bytes("id_number", &format!("{}:{number}", kind.as_str()))
}

/// Other registrations, pending or verified, with the document of this one.
async fn same_document(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<u64, StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM volunteers other JOIN volunteers v \
         ON other.tenant_code = v.tenant_code AND other.id_number_index = v.id_number_index \
         WHERE v.tenant_code = $1 AND v.id = $2 AND other.id <> v.id \
         AND other.status IN ('pending', 'verified')",
    )
    .bind(tenant.as_str())
    .bind(id.to_string())
    .fetch_one(&mut *tx)
    .await?;
    Ok(u64::try_from(int(&row, "n")?).unwrap_or(0))
}

/// Audit events carry the record as office staff see it: number masked, mobile masked, no
/// birth date.
#[allow(clippy::too_many_arguments)]
async fn record_change(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    actor: &Actor,
    action: AuditAction,
    after: &VolunteerRecord,
    before: Option<&VolunteerRecord>,
    reason: Option<String>,
    at: Timestamp,
) -> Result<(), StoreError> {
    let masked = |record: &VolunteerRecord| {
        let mut value = json!(record);
        value["mobile"] = json!(zhiyuan_domain::mask(&record.mobile, 3, 4));
        value
    };
    record(
        tx,
        AuditRecord {
            tenant: Some(tenant),
            actor,
            action,
            entity_id: after.id.to_string(),
            before: before.map(masked),
            after: Some(masked(after)),
            reason,
            at,
        },
    )
    .await
}

/// A volunteer row; the birth date comes from the sealed number, opened with the tenant's key.
fn volunteer_record(
    row: &AnyRow,
    tenant: &TenantCode,
    keys: &crate::DataKeys,
) -> Result<VolunteerRecord, StoreError> {
    let list = |column: &str| -> Result<serde_json::Value, StoreError> {
        serde_json::from_str(&text(row, column)?)
            .map_err(|_| StoreError::Corrupt(format!("{column} is not JSON")))
    };
    let decided_at =
        sqlx::Row::try_get::<Option<i64>, _>(row, "decided_at")?.map(Timestamp::from_unix_millis);
    let id_kind = enumerated(row, "id_kind", IdDocumentKind::from_db)?;
    let birth_date = if id_kind == IdDocumentKind::ResidentIdCard {
        let sealed: Vec<u8> = sqlx::Row::try_get(row, "id_number_sealed")?;
        let number = keys
            .open(tenant.as_str(), "id_number", &sealed)
            .map_err(|_| unsealable(tenant))?;
        zhiyuan_domain::resident_birth_date(&number)
    } else {
        None
    };
    Ok(VolunteerRecord {
        id: uuid(row, "id")?,
        account_id: optional_uuid(row, "account_id")?,
        volunteer_number: optional_text(row, "volunteer_number")?
            .map(|number| {
                VolunteerNumber::parse(&number)
                    .map_err(|_| StoreError::Corrupt(format!("volunteer number {number}")))
            })
            .transpose()?,
        card_serial: u32::try_from(int(row, "card_serial")?)
            .map_err(|_| StoreError::Corrupt("card serial".into()))?,
        name: text(row, "name")?,
        id_kind,
        id_number_masked: text(row, "id_number_masked")?,
        birth_date,
        gender: optional_text(row, "gender")?
            .as_deref()
            .and_then(Gender::from_db),
        mobile: text(row, "mobile")?,
        region: region_code(row, "region_code")?,
        unit: optional_uuid(row, "unit_id")?,
        skills: serde_json::from_value(list("skills")?)
            .map_err(|_| StoreError::Corrupt("skills".into()))?,
        service_categories: serde_json::from_value(list("service_categories")?)
            .map_err(|_| StoreError::Corrupt("service_categories".into()))?,
        availability: optional_text(row, "availability")?,
        status: enumerated(row, "status", VolunteerStatus::from_db)?,
        decision_reason: optional_text(row, "decision_reason")?,
        applied_at: timestamp(row, "applied_at")?,
        decided_at,
        same_document: u64::try_from(int(row, "same_document")?).unwrap_or(0),
    })
}

impl Store {
    /// Verified volunteers of a tenant, counted by their own region and by their unit, in one
    /// pass over the index `volunteers_unit`.
    pub async fn verified_counts(
        &self,
        tenant: &TenantCode,
    ) -> Result<(Vec<(RegionCode, u64)>, Vec<(Uuid, u64)>), StoreError> {
        // Tallies the triggers of migration 0005 keep as volunteers are verified.
        let rows = sqlx::query(
            "SELECT NULLIF(unit_key, '') AS unit_id, region_code, n FROM verified_tallies \
             WHERE tenant_code = $1 AND n > 0",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut by_region: std::collections::HashMap<RegionCode, u64> =
            std::collections::HashMap::new();
        let mut by_unit: std::collections::HashMap<Uuid, u64> = std::collections::HashMap::new();
        for row in &rows {
            let count = u64::try_from(int(row, "n")?).unwrap_or(0);
            *by_region
                .entry(region_code(row, "region_code")?)
                .or_default() += count;
            if let Some(unit) = optional_uuid(row, "unit_id")? {
                *by_unit.entry(unit).or_default() += count;
            }
        }
        Ok((
            by_region.into_iter().collect(),
            by_unit.into_iter().collect(),
        ))
    }
}

/// A sealed number that the tenant's key does not open: the record is not what was written.
fn unsealable(tenant: &TenantCode) -> StoreError {
    StoreError::Corrupt(format!("sealed id_number of tenant {tenant}"))
}
