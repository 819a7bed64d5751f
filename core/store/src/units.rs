use serde_json::json;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;
use zhiyuan_domain::tenant::UnitSpec;
use zhiyuan_domain::{
    Actor, AuditAction, CivilisationLevel, LocalizedName, Staff, TenantCode, Timestamp, Unit,
    UnitKind,
};

use crate::audit::{AuditRecord, record};
use crate::rows::{enumerated, int, name, region_code, uuid};
use crate::{Store, StoreError};

/// A change to a unit: each field present is replaced.
#[derive(Debug, Clone, Default)]
pub struct UnitUpdate {
    pub name: Option<LocalizedName>,
    pub civilisation_level: Option<CivilisationLevel>,
    pub staff: Option<Staff>,
}

const UNIT_COLUMNS: &str = "id, name_zh, name_en, region_code, kind, civilisation_level, staff";

impl Store {
    pub async fn create_unit(
        &self,
        tenant: &TenantCode,
        spec: &UnitSpec,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<Unit, StoreError> {
        let mut tx = self.begin_write().await?;
        crate::tenants::check_region_and_unit(&mut tx, tenant, &spec.region, None).await?;
        let unit = insert_unit(&mut tx, tenant, Uuid::now_v7(), spec, at).await?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::UnitCreate,
                entity_id: unit.id.to_string(),
                before: None,
                after: Some(json!(unit)),
                reason: None,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(unit)
    }

    pub async fn units(&self, tenant: &TenantCode) -> Result<Vec<Unit>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {UNIT_COLUMNS} FROM units WHERE tenant_code = $1 ORDER BY region_code, name_zh"
        ))
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(unit).collect()
    }

    pub async fn unit(&self, tenant: &TenantCode, id: Uuid) -> Result<Unit, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {UNIT_COLUMNS} FROM units WHERE tenant_code = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        unit(&row)
    }

    pub async fn update_unit(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        update: &UnitUpdate,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<Unit, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "SELECT {UNIT_COLUMNS} FROM units WHERE tenant_code = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let before = unit(&row)?;
        let after = Unit {
            name: update.name.clone().unwrap_or_else(|| before.name.clone()),
            civilisation_level: update
                .civilisation_level
                .unwrap_or(before.civilisation_level),
            staff: update.staff.unwrap_or(before.staff),
            ..before.clone()
        };
        sqlx::query(
            "UPDATE units SET name_zh = $1, name_en = $2, civilisation_level = $3, staff = $4, \
             updated_at = $5 WHERE tenant_code = $6 AND id = $7",
        )
        .bind(&after.name.zh)
        .bind(after.name.en.clone())
        .bind(after.civilisation_level.as_str())
        .bind(i64::from(after.staff.get()))
        .bind(at.unix_millis())
        .bind(tenant.as_str())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::UnitUpdate,
                entity_id: id.to_string(),
                before: Some(json!(before)),
                after: Some(json!(after)),
                reason: None,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

pub(crate) async fn insert_unit(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    id: Uuid,
    spec: &UnitSpec,
    at: Timestamp,
) -> Result<Unit, StoreError> {
    sqlx::query(
        "INSERT INTO units (tenant_code, id, name_zh, name_en, region_code, kind, \
         civilisation_level, staff, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(tenant.as_str())
    .bind(id.to_string())
    .bind(&spec.name.zh)
    .bind(spec.name.en.clone())
    .bind(spec.region.as_str())
    .bind(spec.kind.as_str())
    .bind(spec.civilisation_level.as_str())
    .bind(i64::from(spec.staff.get()))
    .bind(at.unix_millis())
    .execute(&mut *tx)
    .await?;
    Ok(Unit {
        id,
        name: spec.name.clone(),
        region: spec.region.clone(),
        kind: spec.kind,
        civilisation_level: spec.civilisation_level,
        staff: spec.staff,
    })
}

fn unit(row: &AnyRow) -> Result<Unit, StoreError> {
    let staff = int(row, "staff")?;
    Ok(Unit {
        id: uuid(row, "id")?,
        name: name(row)?,
        region: region_code(row, "region_code")?,
        kind: enumerated(row, "kind", UnitKind::from_db)?,
        civilisation_level: enumerated(row, "civilisation_level", CivilisationLevel::from_db)?,
        staff: Staff::parse(staff, "/staff")
            .map_err(|_| StoreError::Corrupt(format!("staff {staff}")))?,
    })
}
