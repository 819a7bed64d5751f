use serde::Serialize;
use serde_json::json;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;
use zhiyuan_domain::{
    Actor, AuditAction, InvalidInput, LocalizedName, Region, RegionCode, RegionLevel,
    ReviewingBody, ReviewingBodyKind, Rule, TenantCode, TenantSpec, Timestamp,
};

use crate::audit::{AuditRecord, record};
use crate::rows::{enumerated, int, name, region_code, text, timestamp, uuid};
use crate::{Store, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct TenantSummary {
    pub code: TenantCode,
    pub name: LocalizedName,
    pub created_at: Timestamp,
}

/// A change of a region's figures by its city office.
#[derive(Debug, Clone)]
pub struct RegionUpdate {
    pub resident_population: u64,
}

impl Store {
    /// Creates a tenant with its regions, units and reviewing bodies, all or nothing.
    pub async fn create_tenant(
        &self,
        spec: &TenantSpec,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.create_tenant_with_policy(spec, &[], &[], actor, at)
            .await
    }

    /// Creates a tenant together with the plugins its first policy revision binds, in one
    /// transaction: the tenant never exists without the policy its document asked for.
    pub async fn create_tenant_with_policy(
        &self,
        spec: &TenantSpec,
        plugins: &[crate::NewPlugin<'_>],
        bindings: &[zhiyuan_domain::ports::Binding],
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let keys = self.keys.create_data_keys(spec.code.as_str())?;
        let mut tx = self.begin_write().await?;
        let code = spec.code.as_str();
        sqlx::query(
            "INSERT INTO tenants (code, name_zh, name_en, created_at, created_by, \
             project_approval, service_categories, transfer_review) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(code)
        .bind(&spec.name.zh)
        .bind(spec.name.en.clone())
        .bind(at.unix_millis())
        .bind(&actor.name)
        .bind(i64::from(spec.projects.approval))
        .bind(
            spec.projects
                .service_categories
                .as_ref()
                .map(|categories| serde_json::json!(categories).to_string()),
        )
        .bind(i64::from(spec.transfers.review))
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO tenant_data_keys (tenant_code, key_check) VALUES ($1, $2)")
            .bind(code)
            .bind(keys.check_value())
            .execute(&mut *tx)
            .await?;
        for (position, region) in spec.regions.iter().enumerate() {
            sqlx::query(
                "INSERT INTO regions (tenant_code, code, parent_code, name_zh, name_en, level, \
                 local, resident_population, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(code)
            .bind(region.code.as_str())
            .bind(
                region
                    .parent
                    .as_ref()
                    .map(|parent| parent.as_str().to_owned()),
            )
            .bind(&region.name.zh)
            .bind(region.name.en.clone())
            .bind(region.level.as_str())
            .bind(i64::from(region.local))
            .bind(population(region.resident_population))
            .bind(position as i64)
            .execute(&mut *tx)
            .await?;
        }
        for unit in &spec.units {
            crate::units::insert_unit(&mut tx, &spec.code, Uuid::now_v7(), unit, at).await?;
        }
        for body in &spec.reviewing_bodies {
            let id = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO reviewing_bodies (tenant_code, id, kind, name_zh, name_en, \
                 region_code) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(code)
            .bind(id.to_string())
            .bind(body.kind.as_str())
            .bind(&body.name.zh)
            .bind(body.name.en.clone())
            .bind(body.region.as_str())
            .execute(&mut *tx)
            .await?;
            // An association is also a team: the liaison team of unregistered teams in its
            // region, under the same id.
            if body.kind == ReviewingBodyKind::Association {
                sqlx::query(
                    "INSERT INTO teams (tenant_code, id, name, kind, association, region_code, \
                     contact_name, contact_mobile, legal_status, reviewing_body_id, status, \
                     submitted_at, decided_at, decided_by) \
                     VALUES ($1, $2, $3, 'social_organisation', 1, $4, $3, '', 'registered', $2, \
                     'approved', $5, $5, $6)",
                )
                .bind(code)
                .bind(id.to_string())
                .bind(&body.name.zh)
                .bind(body.region.as_str())
                .bind(at.unix_millis())
                .bind(&actor.name)
                .execute(&mut *tx)
                .await?;
            }
        }
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(&spec.code),
                actor,
                action: AuditAction::TenantCreate,
                entity_id: code.to_owned(),
                before: None,
                after: Some(json!({
                    "name": spec.name,
                    "regions": spec.regions.len(),
                    "units": spec.units.len(),
                    "reviewing_bodies": spec.reviewing_bodies.len(),
                })),
                reason: None,
                at,
            },
        )
        .await?;
        for plugin in plugins {
            crate::plugins::insert_plugin(&mut tx, &spec.code, *plugin, actor, at).await?;
        }
        if !bindings.is_empty() {
            crate::plugins::insert_revision(&mut tx, &spec.code, 1, bindings, actor, at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn tenants(&self) -> Result<Vec<TenantSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, name_zh, name_en, created_at FROM tenants WHERE code <> 'node' \
                 ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(tenant_summary).collect()
    }

    pub async fn tenant(&self, code: &TenantCode) -> Result<TenantSummary, StoreError> {
        let row =
            sqlx::query("SELECT code, name_zh, name_en, created_at FROM tenants WHERE code = $1")
                .bind(code.as_str())
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        tenant_summary(&row)
    }

    /// The tenant's regions, parents before children, in the order its configuration gave.
    pub async fn regions(&self, tenant: &TenantCode) -> Result<Vec<Region>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, parent_code, name_zh, name_en, level, local, resident_population \
             FROM regions WHERE tenant_code = $1 ORDER BY position",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(region).collect()
    }

    pub async fn region(
        &self,
        tenant: &TenantCode,
        code: &RegionCode,
    ) -> Result<Region, StoreError> {
        let row = sqlx::query(
            "SELECT code, parent_code, name_zh, name_en, level, local, resident_population \
             FROM regions WHERE tenant_code = $1 AND code = $2",
        )
        .bind(tenant.as_str())
        .bind(code.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        region(&row)
    }

    pub async fn update_region(
        &self,
        tenant: &TenantCode,
        code: &RegionCode,
        update: &RegionUpdate,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<Region, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT code, parent_code, name_zh, name_en, level, local, resident_population \
             FROM regions WHERE tenant_code = $1 AND code = $2",
        )
        .bind(tenant.as_str())
        .bind(code.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let before = region(&row)?;
        let changed = sqlx::query(
            "UPDATE regions SET resident_population = $1 WHERE tenant_code = $2 AND code = $3",
        )
        .bind(population(update.resident_population))
        .bind(tenant.as_str())
        .bind(code.as_str())
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        let after = Region {
            resident_population: update.resident_population,
            ..before.clone()
        };
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::RegionUpdate,
                entity_id: code.as_str().to_owned(),
                before: Some(json!({ "resident_population": before.resident_population })),
                after: Some(json!({ "resident_population": after.resident_population })),
                reason: None,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn reviewing_bodies(
        &self,
        tenant: &TenantCode,
    ) -> Result<Vec<ReviewingBody>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, name_zh, name_en, region_code FROM reviewing_bodies \
             WHERE tenant_code = $1 ORDER BY region_code, kind, name_zh",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(reviewing_body).collect()
    }

    pub async fn reviewing_body(
        &self,
        tenant: &TenantCode,
        id: Uuid,
    ) -> Result<ReviewingBody, StoreError> {
        let row = sqlx::query(
            "SELECT id, kind, name_zh, name_en, region_code FROM reviewing_bodies \
             WHERE tenant_code = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        reviewing_body(&row)
    }
}

/// Checks, in the caller's transaction, that a region (and a unit, when given) is the
/// tenant's; the field at fault is named as an application names it.
pub(crate) async fn check_region_and_unit(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    region: &RegionCode,
    unit: Option<Uuid>,
) -> Result<(), StoreError> {
    let region_known = sqlx::query("SELECT 1 FROM regions WHERE tenant_code = $1 AND code = $2")
        .bind(tenant.as_str())
        .bind(region.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    if !region_known {
        return Err(StoreError::Invalid(InvalidInput::new(
            "/region",
            Rule::RegionUnknown,
        )));
    }
    if let Some(unit) = unit {
        let unit_known = sqlx::query("SELECT 1 FROM units WHERE tenant_code = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(unit.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !unit_known {
            return Err(StoreError::Invalid(InvalidInput::new(
                "/unit_id",
                Rule::UnitUnknown,
            )));
        }
    }
    Ok(())
}

/// Populations fit in an i64 with room to spare: the largest country has under 2^31 people.
fn population(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn tenant_summary(row: &AnyRow) -> Result<TenantSummary, StoreError> {
    let code = text(row, "code")?;
    Ok(TenantSummary {
        code: TenantCode::parse(&code)
            .map_err(|_| StoreError::Corrupt(format!("tenant code {code:?}")))?,
        name: name(row)?,
        created_at: timestamp(row, "created_at")?,
    })
}

fn region(row: &AnyRow) -> Result<Region, StoreError> {
    let parent = crate::rows::optional_text(row, "parent_code")?
        .map(|code| {
            RegionCode::parse(&code).map_err(|_| StoreError::Corrupt(format!("region {code:?}")))
        })
        .transpose()?;
    Ok(Region {
        code: region_code(row, "code")?,
        parent,
        name: name(row)?,
        level: enumerated(row, "level", RegionLevel::from_db)?,
        local: int(row, "local")? == 1,
        resident_population: u64::try_from(int(row, "resident_population")?)
            .map_err(|_| StoreError::Corrupt("negative population".into()))?,
    })
}

fn reviewing_body(row: &AnyRow) -> Result<ReviewingBody, StoreError> {
    Ok(ReviewingBody {
        id: uuid(row, "id")?,
        kind: enumerated(row, "kind", ReviewingBodyKind::from_db)?,
        name: name(row)?,
        region: region_code(row, "region_code")?,
    })
}
