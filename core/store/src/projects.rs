//! Projects and their shifts, needs, and sign-ups.
//!
//! A sign-up takes a place with one conditional statement, `taken = taken + 1 ... WHERE taken <
//! capacity`: on PostgreSQL the row lock makes a second writer re-read the count it changes, on
//! SQLite writers take turns, and the `shifts_within_capacity` constraint stands behind both.
//! A place given back goes, in the same transaction, to the oldest sign-up on the waiting list.

use serde::Serialize;
use serde_json::json;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;
use zhiyuan_domain::{
    Acceptance, Actor, AuditAction, CoordinateSystem, Coordinates, EnrollmentStatus,
    GuardianConsent, InvalidInput, MinorsPolicy, NeedPoster, NeedStatus, NewNeed, NewProject,
    ProjectStatus, RegionCode, Rule, ServiceCategory, TenantCode, Timestamp,
};

use crate::audit::{AuditRecord, masked_contact, record};
use crate::rows::{
    enumerated, int, optional_text, optional_uuid, region_code, text, timestamp, uuid,
};
use crate::{Backend, Store, StoreError};

/// Degrees are kept as whole 1e-7 degrees.
const E7: f64 = 10_000_000.0;

#[derive(Debug, Clone, Serialize)]
pub struct ProjectRecord {
    pub id: Uuid,
    pub team_id: Uuid,
    pub need_id: Option<Uuid>,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub service_categories: Vec<ServiceCategory>,
    pub skills: Vec<String>,
    pub region: RegionCode,
    pub address: String,
    #[serde(serialize_with = "wgs84")]
    pub place: Coordinates,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub contact_name: String,
    pub contact_mobile: String,
    pub minors: MinorsPolicy,
    pub acceptance: Acceptance,
    pub withdrawal_cutoff_hours: u32,
    pub status: ProjectStatus,
    pub decision_reason: Option<String>,
    pub created_at: Timestamp,
    pub changed_at: Timestamp,
    /// Empty where a list of projects was read without them.
    pub shifts: Vec<ShiftRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShiftRecord {
    pub id: Uuid,
    pub project_id: Uuid,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub address: Option<String>,
    #[serde(serialize_with = "optional_wgs84")]
    pub place: Option<Coordinates>,
    pub capacity: u32,
    /// Places held by sign-ups, applied or accepted.
    pub taken: u32,
    pub waiting: u32,
    pub skills: Vec<String>,
    pub check_in_before_minutes: u32,
    pub check_in_after_minutes: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct NeedRecord {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub service_categories: Vec<ServiceCategory>,
    pub region: RegionCode,
    pub address: String,
    #[serde(serialize_with = "optional_wgs84")]
    pub place: Option<Coordinates>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub people_needed: u32,
    pub contact_name: String,
    pub contact_mobile: String,
    pub poster: NeedPoster,
    pub unit: Option<Uuid>,
    pub posted_by: Uuid,
    pub status: NeedStatus,
    pub decision_reason: Option<String>,
    pub posted_at: Timestamp,
    pub changed_at: Timestamp,
}

/// A sign-up, with the shift and project it is for.
#[derive(Debug, Clone, Serialize)]
pub struct EnrollmentRecord {
    pub id: Uuid,
    pub shift_id: Uuid,
    pub project_id: Uuid,
    pub volunteer_id: Uuid,
    /// Who signed up, for those who run the shift; not written into the audit trail.
    #[serde(skip)]
    pub volunteer_name: String,
    #[serde(skip)]
    pub volunteer_number: Option<String>,
    pub status: EnrollmentStatus,
    /// The guardian who consented, for a minor: name, mobile, relationship.
    #[serde(skip)]
    pub guardian: Option<(String, String, String)>,
    pub reason: Option<String>,
    pub enrolled_at: Timestamp,
    pub changed_at: Timestamp,
    pub project_title: String,
    pub shift_starts_at: Timestamp,
    pub shift_ends_at: Timestamp,
    /// For a sign-up on the waiting list: how many are ahead of it.
    pub waiting_ahead: Option<u32>,
}

/// A rectangle of WGS-84 coordinates, in degrees.
#[derive(Debug, Clone, Copy)]
pub struct GeoBox {
    pub min_longitude: f64,
    pub max_longitude: f64,
    pub min_latitude: f64,
    pub max_latitude: f64,
}

/// Which projects to read, in which order.
#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    pub within: Option<GeoBox>,
    /// Only projects of these regions.
    pub regions: Option<Vec<RegionCode>>,
    pub category: Option<ServiceCategory>,
    /// Only projects that overlap this span.
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Only published projects not over at this instant.
    pub open_at: Option<Timestamp>,
    pub team: Option<Uuid>,
    /// Only these statuses (all when empty).
    pub statuses: Vec<ProjectStatus>,
    /// By start, then id, after this pair.
    pub after: Option<(Timestamp, Uuid)>,
    pub limit: u32,
}

fn wgs84<S: serde::Serializer>(place: &Coordinates, serializer: S) -> Result<S::Ok, S::Error> {
    place.wgs84().serialize(serializer)
}

fn optional_wgs84<S: serde::Serializer>(
    place: &Option<Coordinates>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    place.map(|place| place.wgs84()).serialize(serializer)
}

fn e7(degrees: f64) -> i64 {
    (degrees * E7).round() as i64
}

fn place_of(row: &AnyRow, prefix: &str) -> Result<Option<Coordinates>, StoreError> {
    let longitude: Option<i64> = sqlx::Row::try_get(row, format!("{prefix}longitude_e7").as_str())?;
    let latitude: Option<i64> = sqlx::Row::try_get(row, format!("{prefix}latitude_e7").as_str())?;
    match (longitude, latitude) {
        (Some(longitude), Some(latitude)) => Coordinates::parse(
            longitude as f64 / E7,
            latitude as f64 / E7,
            CoordinateSystem::Wgs84,
            "",
        )
        .map(Some)
        .map_err(|_| StoreError::Corrupt(format!("place {longitude}, {latitude}"))),
        _ => Ok(None),
    }
}

fn json_list<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<Vec<T>, StoreError> {
    let value = text(row, column)?;
    serde_json::from_str(&value).map_err(|_| StoreError::Corrupt(format!("{column} {value:?}")))
}

fn count(row: &AnyRow, column: &str) -> Result<u32, StoreError> {
    u32::try_from(int(row, column)?).map_err(|_| StoreError::Corrupt(column.to_owned()))
}

const PROJECT_COLUMNS: &str = "id, team_id, need_id, title, summary, description, categories, \
    skills, region_code, address, longitude_e7, latitude_e7, starts_at, ends_at, contact_name, \
    contact_mobile, minors, acceptance, withdrawal_cutoff_hours, status, decision_reason, \
    created_at, changed_at";

fn project_record(row: &AnyRow) -> Result<ProjectRecord, StoreError> {
    Ok(ProjectRecord {
        id: uuid(row, "id")?,
        team_id: uuid(row, "team_id")?,
        need_id: optional_uuid(row, "need_id")?,
        title: text(row, "title")?,
        summary: text(row, "summary")?,
        description: text(row, "description")?,
        service_categories: json_list(row, "categories")?,
        skills: json_list(row, "skills")?,
        region: region_code(row, "region_code")?,
        address: text(row, "address")?,
        place: place_of(row, "")?.ok_or_else(|| StoreError::Corrupt("project place".into()))?,
        starts_at: timestamp(row, "starts_at")?,
        ends_at: timestamp(row, "ends_at")?,
        contact_name: text(row, "contact_name")?,
        contact_mobile: text(row, "contact_mobile")?,
        minors: enumerated(row, "minors", MinorsPolicy::from_db)?,
        acceptance: enumerated(row, "acceptance", Acceptance::from_db)?,
        withdrawal_cutoff_hours: count(row, "withdrawal_cutoff_hours")?,
        status: enumerated(row, "status", ProjectStatus::from_db)?,
        decision_reason: optional_text(row, "decision_reason")?,
        created_at: timestamp(row, "created_at")?,
        changed_at: timestamp(row, "changed_at")?,
        shifts: Vec::new(),
    })
}

const SHIFT_COLUMNS: &str = "id, project_id, starts_at, ends_at, address, longitude_e7, \
    latitude_e7, capacity, taken, waiting, skills, check_in_before_minutes, check_in_after_minutes";

/// The columns of `list` read from `table`, each named with `prefix`.
fn prefixed_columns(table: &str, list: &str, prefix: &str) -> String {
    list.split(", ")
        .map(|column| format!("{table}.{column} AS {prefix}{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn shift_record(row: &AnyRow) -> Result<ShiftRecord, StoreError> {
    shift_record_prefixed(row, "")
}

fn shift_record_prefixed(row: &AnyRow, prefix: &str) -> Result<ShiftRecord, StoreError> {
    let column = |name: &str| format!("{prefix}{name}");
    Ok(ShiftRecord {
        id: uuid(row, &column("id"))?,
        project_id: uuid(row, &column("project_id"))?,
        starts_at: timestamp(row, &column("starts_at"))?,
        ends_at: timestamp(row, &column("ends_at"))?,
        address: optional_text(row, &column("address"))?,
        place: place_of(row, prefix)?,
        capacity: count(row, &column("capacity"))?,
        taken: count(row, &column("taken"))?,
        waiting: count(row, &column("waiting"))?,
        skills: json_list(row, &column("skills"))?,
        check_in_before_minutes: count(row, &column("check_in_before_minutes"))?,
        check_in_after_minutes: count(row, &column("check_in_after_minutes"))?,
    })
}

const NEED_COLUMNS: &str = "id, title, description, categories, region_code, address, \
    longitude_e7, latitude_e7, starts_at, ends_at, people_needed, contact_name, contact_mobile, \
    poster, unit_id, posted_by, status, decision_reason, posted_at, changed_at";

fn need_record(row: &AnyRow) -> Result<NeedRecord, StoreError> {
    Ok(NeedRecord {
        id: uuid(row, "id")?,
        title: text(row, "title")?,
        description: text(row, "description")?,
        service_categories: json_list(row, "categories")?,
        region: region_code(row, "region_code")?,
        address: text(row, "address")?,
        place: place_of(row, "")?,
        starts_at: timestamp(row, "starts_at")?,
        ends_at: timestamp(row, "ends_at")?,
        people_needed: count(row, "people_needed")?,
        contact_name: text(row, "contact_name")?,
        contact_mobile: text(row, "contact_mobile")?,
        poster: enumerated(row, "poster", NeedPoster::from_db)?,
        unit: optional_uuid(row, "unit_id")?,
        posted_by: uuid(row, "posted_by")?,
        status: enumerated(row, "status", NeedStatus::from_db)?,
        decision_reason: optional_text(row, "decision_reason")?,
        posted_at: timestamp(row, "posted_at")?,
        changed_at: timestamp(row, "changed_at")?,
    })
}

const ENROLLMENT_SELECT: &str = "SELECT e.id, e.shift_id, e.project_id, e.volunteer_id, \
    e.status, e.guardian_name, e.guardian_mobile, e.guardian_relationship, e.reason, \
    e.enrolled_at, e.changed_at, p.title AS project_title, s.starts_at AS shift_starts_at, \
    s.ends_at AS shift_ends_at, v.name AS volunteer_name, v.volunteer_number, \
    (SELECT COUNT(*) FROM enrollments w WHERE w.tenant_code = e.tenant_code \
       AND w.shift_id = e.shift_id AND w.status = 'waitlisted' \
       AND (w.enrolled_at < e.enrolled_at OR (w.enrolled_at = e.enrolled_at AND w.id < e.id))) \
       AS waiting_ahead \
    FROM enrollments e \
    JOIN shifts s ON s.tenant_code = e.tenant_code AND s.id = e.shift_id \
    JOIN projects p ON p.tenant_code = e.tenant_code AND p.id = e.project_id \
    JOIN volunteers v ON v.tenant_code = e.tenant_code AND v.id = e.volunteer_id";

fn enrollment_record(row: &AnyRow) -> Result<EnrollmentRecord, StoreError> {
    let status = enumerated(row, "status", EnrollmentStatus::from_db)?;
    let guardian = match (
        optional_text(row, "guardian_name")?,
        optional_text(row, "guardian_mobile")?,
        optional_text(row, "guardian_relationship")?,
    ) {
        (Some(name), Some(mobile), Some(relationship)) => Some((name, mobile, relationship)),
        _ => None,
    };
    Ok(EnrollmentRecord {
        id: uuid(row, "id")?,
        shift_id: uuid(row, "shift_id")?,
        project_id: uuid(row, "project_id")?,
        volunteer_id: uuid(row, "volunteer_id")?,
        volunteer_name: text(row, "volunteer_name")?,
        volunteer_number: optional_text(row, "volunteer_number")?,
        status,
        guardian,
        reason: optional_text(row, "reason")?,
        enrolled_at: timestamp(row, "enrolled_at")?,
        changed_at: timestamp(row, "changed_at")?,
        project_title: text(row, "project_title")?,
        shift_starts_at: timestamp(row, "shift_starts_at")?,
        shift_ends_at: timestamp(row, "shift_ends_at")?,
        waiting_ahead: (status == EnrollmentStatus::Waitlisted)
            .then(|| count(row, "waiting_ahead"))
            .transpose()?,
    })
}

/// The tenant's settings for projects.
#[derive(Debug, Clone)]
pub struct ProjectSettings {
    /// The office approves each project before it recruits.
    pub approval: bool,
    pub service_categories: Vec<ServiceCategory>,
}

impl Store {
    pub async fn project_settings(
        &self,
        tenant: &TenantCode,
    ) -> Result<ProjectSettings, StoreError> {
        let row =
            sqlx::query("SELECT project_approval, service_categories FROM tenants WHERE code = $1")
                .bind(tenant.as_str())
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        let service_categories = match optional_text(&row, "service_categories")? {
            Some(list) => serde_json::from_str(&list)
                .map_err(|_| StoreError::Corrupt(format!("service categories {list:?}")))?,
            None => ServiceCategory::ALL.to_vec(),
        };
        Ok(ProjectSettings {
            approval: int(&row, "project_approval")? == 1,
            service_categories,
        })
    }

    /// Stores a team's new project as a draft, with its shifts.
    pub async fn create_project(
        &self,
        tenant: &TenantCode,
        team: Uuid,
        project: &NewProject,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<ProjectRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = Uuid::now_v7();
        if let Some(need) = project.need {
            check_need_open(&mut tx, tenant, need).await?;
        }
        sqlx::query(
            "INSERT INTO projects (tenant_code, id, team_id, need_id, title, summary, description, \
             categories, category_bits, skills, region_code, address, longitude_e7, latitude_e7, \
             starts_at, ends_at, contact_name, contact_mobile, minors, acceptance, \
             withdrawal_cutoff_hours, status, created_at, created_by, changed_at) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
              $19, $20, $21, 'draft', $22, $23, $22)",
        )
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(team.to_string())
        .bind(project.need.map(|need| need.to_string()))
        .bind(&project.title)
        .bind(&project.summary)
        .bind(&project.description)
        .bind(json!(project.service_categories).to_string())
        .bind(ServiceCategory::bits(&project.service_categories))
        .bind(json!(project.skills).to_string())
        .bind(project.region.as_str())
        .bind(&project.address)
        .bind(e7(project.place.wgs84().0))
        .bind(e7(project.place.wgs84().1))
        .bind(project.starts_at.unix_millis())
        .bind(project.ends_at.unix_millis())
        .bind(project.contact_name.as_str())
        .bind(project.contact_mobile.as_str())
        .bind(project.minors.as_str())
        .bind(project.acceptance.as_str())
        .bind(i64::from(project.withdrawal_cutoff_hours))
        .bind(at.unix_millis())
        .bind(&actor.name)
        .execute(&mut *tx)
        .await
        .map_err(region_or(tenant))?;
        insert_shifts(&mut tx, tenant, id, project).await?;
        let created = read_project(&mut tx, tenant, id).await?;
        audit_masked(
            &mut tx,
            tenant,
            actor,
            AuditAction::ProjectCreate,
            created.id,
            None,
            &created,
            None,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Replaces a draft's content and shifts; a project no longer a draft is left as it is.
    pub async fn update_project(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        project: &NewProject,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<ProjectRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let before = read_project(&mut tx, tenant, id).await?;
        if let Some(need) = project.need.filter(|need| Some(*need) != before.need_id) {
            check_need_open(&mut tx, tenant, need).await?;
        }
        let changed = sqlx::query(
            "UPDATE projects SET need_id = $1, title = $2, summary = $3, description = $4, \
             categories = $5, category_bits = $6, skills = $7, region_code = $8, address = $9, \
             longitude_e7 = $10, latitude_e7 = $11, starts_at = $12, ends_at = $13, \
             contact_name = $14, contact_mobile = $15, minors = $16, acceptance = $17, \
             withdrawal_cutoff_hours = $18, changed_at = $19 \
             WHERE tenant_code = $20 AND id = $21 AND status = 'draft'",
        )
        .bind(project.need.map(|need| need.to_string()))
        .bind(&project.title)
        .bind(&project.summary)
        .bind(&project.description)
        .bind(json!(project.service_categories).to_string())
        .bind(ServiceCategory::bits(&project.service_categories))
        .bind(json!(project.skills).to_string())
        .bind(project.region.as_str())
        .bind(&project.address)
        .bind(e7(project.place.wgs84().0))
        .bind(e7(project.place.wgs84().1))
        .bind(project.starts_at.unix_millis())
        .bind(project.ends_at.unix_millis())
        .bind(project.contact_name.as_str())
        .bind(project.contact_mobile.as_str())
        .bind(project.minors.as_str())
        .bind(project.acceptance.as_str())
        .bind(i64::from(project.withdrawal_cutoff_hours))
        .bind(at.unix_millis())
        .bind(tenant.as_str())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(region_or(tenant))?;
        if changed.rows_affected() != 1 {
            return Err(wrong_state("/", Rule::ProjectState));
        }
        // A draft has no sign-ups: its shifts are replaced whole.
        sqlx::query("DELETE FROM shifts WHERE tenant_code = $1 AND project_id = $2")
            .bind(tenant.as_str())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        insert_shifts(&mut tx, tenant, id, project).await?;
        let after = read_project(&mut tx, tenant, id).await?;
        audit_masked(
            &mut tx,
            tenant,
            actor,
            AuditAction::ProjectUpdate,
            after.id,
            Some(&before),
            &after,
            None,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Moves a project from one of `from` to `to`, recording why; the state is checked again
    /// in the statement that changes it.
    #[allow(clippy::too_many_arguments)]
    pub async fn change_project_status(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        from: &[ProjectStatus],
        to: ProjectStatus,
        action: AuditAction,
        reason: Option<String>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<ProjectRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let before = read_project(&mut tx, tenant, id).await?;
        if !from.contains(&before.status) {
            return Err(wrong_state("/", Rule::ProjectState));
        }
        let changed = sqlx::query(
            "UPDATE projects SET status = $1, decision_reason = $2, changed_at = $3 \
             WHERE tenant_code = $4 AND id = $5 AND status = $6",
        )
        .bind(to.as_str())
        .bind(reason.clone())
        .bind(at.unix_millis())
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(before.status.as_str())
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() != 1 {
            return Err(wrong_state("/", Rule::ProjectState));
        }
        let after = read_project(&mut tx, tenant, id).await?;
        audit_masked(
            &mut tx,
            tenant,
            actor,
            action,
            after.id,
            Some(&before),
            &after,
            reason,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A project with its shifts.
    pub async fn project(
        &self,
        tenant: &TenantCode,
        id: Uuid,
    ) -> Result<ProjectRecord, StoreError> {
        let mut tx = self.pool.begin().await?;
        let project = read_project(&mut tx, tenant, id).await?;
        tx.commit().await?;
        Ok(project)
    }

    /// The project a shift belongs to, with its shifts.
    pub async fn project_of_shift(
        &self,
        tenant: &TenantCode,
        shift: Uuid,
    ) -> Result<ProjectRecord, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT project_id FROM shifts WHERE tenant_code = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(shift.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let project = read_project(&mut tx, tenant, uuid(&row, "project_id")?).await?;
        tx.commit().await?;
        Ok(project)
    }

    /// A shift and its project (without the project's other shifts), in one read: what a
    /// sign-up needs to know first.
    pub async fn shift_with_project(
        &self,
        tenant: &TenantCode,
        shift: Uuid,
    ) -> Result<(ProjectRecord, ShiftRecord), StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {}, {} FROM shifts s JOIN projects p \
               ON p.tenant_code = s.tenant_code AND p.id = s.project_id \
             WHERE s.tenant_code = $1 AND s.id = $2",
            prefixed_columns("p", PROJECT_COLUMNS, ""),
            prefixed_columns("s", SHIFT_COLUMNS, "shift_"),
        ))
        .bind(tenant.as_str())
        .bind(shift.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((
            project_record(&row)?,
            shift_record_prefixed(&row, "shift_")?,
        ))
    }

    /// A project with its shifts in one statement, without a transaction: what every scan of
    /// a card reads first.
    pub async fn project_at_once(
        &self,
        tenant: &TenantCode,
        id: Uuid,
    ) -> Result<ProjectRecord, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {}, {} FROM projects p JOIN shifts s \
               ON s.tenant_code = p.tenant_code AND s.project_id = p.id \
             WHERE p.tenant_code = $1 AND p.id = $2 ORDER BY s.position",
            prefixed_columns("p", PROJECT_COLUMNS, ""),
            prefixed_columns("s", SHIFT_COLUMNS, "shift_"),
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut project = project_record(rows.first().ok_or(StoreError::NotFound)?)?;
        project.shifts = rows
            .iter()
            .map(|row| shift_record_prefixed(row, "shift_"))
            .collect::<Result<_, _>>()?;
        Ok(project)
    }

    /// Projects as the filter says, without their shifts; by start then id when the filter
    /// pages, else in no particular order.
    pub async fn projects(
        &self,
        tenant: &TenantCode,
        filter: &ProjectFilter,
    ) -> Result<Vec<ProjectRecord>, StoreError> {
        let mut sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE tenant_code = $1");
        let mut next = 2;
        let mut placeholder = |sql: &mut String, clause: &str| {
            sql.push_str(&clause.replace('?', &format!("${next}")));
            next += 1;
        };
        let statuses: Vec<&str> = if filter.open_at.is_some() {
            vec![ProjectStatus::Published.as_str()]
        } else {
            filter
                .statuses
                .iter()
                .map(|status| status.as_str())
                .collect()
        };
        if !statuses.is_empty() {
            sql.push_str(" AND status IN (");
            for (index, _) in statuses.iter().enumerate() {
                placeholder(&mut sql, if index == 0 { "?" } else { ", ?" });
            }
            sql.push(')');
        }
        if filter.within.is_some() {
            placeholder(&mut sql, " AND latitude_e7 >= ?");
            placeholder(&mut sql, " AND latitude_e7 <= ?");
            placeholder(&mut sql, " AND longitude_e7 >= ?");
            placeholder(&mut sql, " AND longitude_e7 <= ?");
        }
        if filter.open_at.is_some() {
            placeholder(&mut sql, " AND ends_at > ?");
        }
        if filter.category.is_some() {
            placeholder(&mut sql, " AND (category_bits & ?) <> 0");
        }
        if filter.from.is_some() {
            placeholder(&mut sql, " AND ends_at > ?");
        }
        if filter.until.is_some() {
            placeholder(&mut sql, " AND starts_at < ?");
        }
        if filter.team.is_some() {
            placeholder(&mut sql, " AND team_id = ?");
        }
        if let Some(regions) = &filter.regions {
            sql.push_str(" AND region_code IN (''");
            for _ in regions {
                placeholder(&mut sql, ", ?");
            }
            sql.push(')');
        }
        if filter.after.is_some() {
            placeholder(&mut sql, " AND (starts_at > ?");
            placeholder(&mut sql, " OR (starts_at = ?");
            placeholder(&mut sql, " AND id > ?))");
        }
        if filter.after.is_some() || filter.within.is_none() {
            sql.push_str(" ORDER BY starts_at, id");
        }
        placeholder(&mut sql, " LIMIT ?");
        let mut query = sqlx::query(&sql).bind(tenant.as_str());
        for status in statuses {
            query = query.bind(status);
        }
        if let Some(within) = filter.within {
            query = query
                .bind(e7(within.min_latitude))
                .bind(e7(within.max_latitude))
                .bind(e7(within.min_longitude))
                .bind(e7(within.max_longitude));
        }
        if let Some(at) = filter.open_at {
            query = query.bind(at.unix_millis());
        }
        if let Some(category) = filter.category {
            query = query.bind(category.bit());
        }
        if let Some(from) = filter.from {
            query = query.bind(from.unix_millis());
        }
        if let Some(until) = filter.until {
            query = query.bind(until.unix_millis());
        }
        if let Some(team) = filter.team {
            query = query.bind(team.to_string());
        }
        if let Some(regions) = &filter.regions {
            for region in regions {
                query = query.bind(region.as_str().to_owned());
            }
        }
        if let Some((start, id)) = filter.after {
            query = query
                .bind(start.unix_millis())
                .bind(start.unix_millis())
                .bind(id.to_string());
        }
        let rows = query
            .bind(i64::from(filter.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(project_record).collect()
    }

    /// The shifts of these projects, by project.
    pub async fn shifts_of(
        &self,
        tenant: &TenantCode,
        projects: &[Uuid],
    ) -> Result<Vec<ShiftRecord>, StoreError> {
        if projects.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> =
            (0..projects.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT {SHIFT_COLUMNS} FROM shifts WHERE tenant_code = $1 AND project_id IN ({}) \
             ORDER BY project_id, position",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(tenant.as_str());
        for project in projects {
            query = query.bind(project.to_string());
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(shift_record)
            .collect()
    }

    /// Records a need, waiting for curation.
    pub async fn post_need(
        &self,
        tenant: &TenantCode,
        need: &NewNeed,
        posted_by: Uuid,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<NeedRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(unit) = need.unit {
            crate::tenants::check_region_and_unit(&mut tx, tenant, &need.region, Some(unit))
                .await?;
        }
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO needs (tenant_code, id, title, description, categories, region_code, \
             address, longitude_e7, latitude_e7, starts_at, ends_at, people_needed, contact_name, \
             contact_mobile, poster, unit_id, posted_by, status, posted_at, changed_at) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
              'submitted', $18, $18)",
        )
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(&need.title)
        .bind(&need.description)
        .bind(json!(need.service_categories).to_string())
        .bind(need.region.as_str())
        .bind(&need.address)
        .bind(need.place.map(|place| e7(place.wgs84().0)))
        .bind(need.place.map(|place| e7(place.wgs84().1)))
        .bind(need.starts_at.unix_millis())
        .bind(need.ends_at.unix_millis())
        .bind(i64::from(need.people_needed))
        .bind(need.contact_name.as_str())
        .bind(need.contact_mobile.as_str())
        .bind(need.poster.as_str())
        .bind(need.unit.map(|unit| unit.to_string()))
        .bind(posted_by.to_string())
        .bind(at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(region_or(tenant))?;
        let created = read_need(&mut tx, tenant, id).await?;
        audit_masked(
            &mut tx,
            tenant,
            actor,
            AuditAction::NeedPost,
            created.id,
            None,
            &created,
            None,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn need(&self, tenant: &TenantCode, id: Uuid) -> Result<NeedRecord, StoreError> {
        let mut tx = self.pool.begin().await?;
        let need = read_need(&mut tx, tenant, id).await?;
        tx.commit().await?;
        Ok(need)
    }

    /// Needs in these statuses (and, with `posted_by`, those the account posted), newest
    /// first, before the cursor's pair.
    pub async fn needs(
        &self,
        tenant: &TenantCode,
        statuses: &[NeedStatus],
        posted_by: Option<Uuid>,
        before: Option<(Timestamp, Uuid)>,
        limit: u32,
    ) -> Result<Vec<NeedRecord>, StoreError> {
        let names: Vec<String> = statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        let mut sql = format!(
            "SELECT {NEED_COLUMNS} FROM needs WHERE tenant_code = $1 AND (status IN ({}) OR posted_by = $2)",
            if names.is_empty() {
                "''".to_owned()
            } else {
                names.join(", ")
            }
        );
        if before.is_some() {
            sql.push_str(" AND (posted_at < $3 OR (posted_at = $3 AND id < $4))");
        }
        sql.push_str(&format!(
            " ORDER BY posted_at DESC, id DESC LIMIT ${}",
            if before.is_some() { 5 } else { 3 }
        ));
        let mut query = sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(posted_by.map_or_else(String::new, |account| account.to_string()));
        if let Some((at, id)) = before {
            query = query.bind(at.unix_millis()).bind(id.to_string());
        }
        query
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(need_record)
            .collect()
    }

    /// Moves a need from `from` to `to`, recording why.
    #[allow(clippy::too_many_arguments)]
    pub async fn change_need_status(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        from: &[NeedStatus],
        to: NeedStatus,
        action: AuditAction,
        reason: Option<String>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<NeedRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let before = read_need(&mut tx, tenant, id).await?;
        if !from.contains(&before.status) {
            return Err(StoreError::Invalid(InvalidInput::new(
                "/",
                Rule::AlreadyDecided,
            )));
        }
        let changed = sqlx::query(
            "UPDATE needs SET status = $1, decision_reason = $2, changed_at = $3 \
             WHERE tenant_code = $4 AND id = $5 AND status = $6",
        )
        .bind(to.as_str())
        .bind(reason.clone())
        .bind(at.unix_millis())
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(before.status.as_str())
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() != 1 {
            return Err(StoreError::Invalid(InvalidInput::new(
                "/",
                Rule::AlreadyDecided,
            )));
        }
        let after = read_need(&mut tx, tenant, id).await?;
        audit_masked(
            &mut tx,
            tenant,
            actor,
            action,
            after.id,
            Some(&before),
            &after,
            reason,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The projects answering a need, drafts left out.
    pub async fn projects_of_need(
        &self,
        tenant: &TenantCode,
        need: Uuid,
    ) -> Result<Vec<ProjectRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects WHERE tenant_code = $1 AND need_id = $2 \
             AND status IN ('submitted', 'published') ORDER BY created_at, id"
        ))
        .bind(tenant.as_str())
        .bind(need.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(project_record).collect()
    }

    /// Signs a volunteer up for a shift: a place if one is free (accepted, or applied where the
    /// team accepts each sign-up), else the waiting list. Refused when the volunteer holds a
    /// live sign-up for this shift or one that overlaps it.
    ///
    /// Everything that can be checked before the shift's row is locked is: from taking a place
    /// to the commit, sign-ups of the shift take turns, so that stretch is kept to the place,
    /// the sign-up's row and its audit event.
    #[allow(clippy::too_many_arguments)]
    pub async fn enroll(
        &self,
        tenant: &TenantCode,
        project: &ProjectRecord,
        shift: &ShiftRecord,
        volunteer: Uuid,
        consent: Option<&GuardianConsent>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<EnrollmentRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        // One statement reads the volunteer's sign-up for this shift, if any, and whether one of
        // theirs overlaps it. On PostgreSQL it also locks the volunteer's row, so that two
        // sign-ups of one person take turns past the check for overlapping shifts; SQLite's
        // writers take turns already.
        let lock = match self.backend {
            Backend::Postgres => " FOR NO KEY UPDATE",
            Backend::Sqlite => "",
        };
        let checked = sqlx::query(&format!(
            "SELECT \
               (SELECT e.id FROM enrollments e WHERE e.tenant_code = v.tenant_code \
                  AND e.shift_id = $3 AND e.volunteer_id = v.id) AS existing_id, \
               (SELECT e.status FROM enrollments e WHERE e.tenant_code = v.tenant_code \
                  AND e.shift_id = $3 AND e.volunteer_id = v.id) AS existing_status, \
               (SELECT COUNT(*) FROM enrollments e JOIN shifts s \
                  ON s.tenant_code = e.tenant_code AND s.id = e.shift_id \
                WHERE e.tenant_code = v.tenant_code AND e.volunteer_id = v.id \
                  AND e.shift_id <> $3 AND e.status IN ('applied', 'accepted', 'waitlisted') \
                  AND s.starts_at < $4 AND s.ends_at > $5) AS clashes, \
               v.name, v.volunteer_number \
             FROM volunteers v WHERE v.tenant_code = $1 AND v.id = $2{lock}"
        ))
        .bind(tenant.as_str())
        .bind(volunteer.to_string())
        .bind(shift.id.to_string())
        .bind(shift.ends_at.unix_millis())
        .bind(shift.starts_at.unix_millis())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let existing = match optional_text(&checked, "existing_status")? {
            Some(status) => {
                let status = EnrollmentStatus::from_db(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("enrollment status {status:?}")))?;
                if status.is_live() {
                    return Err(wrong_state("/", Rule::EnrollmentExists));
                }
                if matches!(
                    status,
                    EnrollmentStatus::Rejected | EnrollmentStatus::Removed
                ) {
                    return Err(StoreError::Refused(Rule::EnrollmentClosedByTeam));
                }
                optional_uuid(&checked, "existing_id")?
            }
            None => None,
        };
        if int(&checked, "clashes")? > 0 {
            return Err(StoreError::Refused(Rule::ShiftClash));
        }
        // The row is written first with the outcome the shift's counts, read moments ago,
        // make likely; only then is the shift's row locked, and the sign-up's own row is
        // written again only when the guess was wrong.
        let placed_status = match project.acceptance {
            Acceptance::Automatic => EnrollmentStatus::Accepted,
            Acceptance::ByTeam => EnrollmentStatus::Applied,
        };
        let guess = if shift.taken < shift.capacity {
            placed_status
        } else {
            EnrollmentStatus::Waitlisted
        };
        let guardian = consent.map(|consent| {
            (
                consent.guardian_name.as_str().to_owned(),
                consent.guardian_mobile.as_str().to_owned(),
                consent.relationship.clone(),
            )
        });
        let (name, mobile, relationship) = match &guardian {
            Some((name, mobile, relationship)) => (
                Some(name.clone()),
                Some(mobile.clone()),
                Some(relationship.clone()),
            ),
            None => (None, None, None),
        };
        let id = match existing {
            Some(id) => {
                sqlx::query(
                    "UPDATE enrollments SET status = $1, guardian_name = $2, guardian_mobile = $3, \
                     guardian_relationship = $4, reason = NULL, enrolled_at = $5, changed_at = $5, \
                     changed_by = $6 WHERE tenant_code = $7 AND id = $8",
                )
                .bind(guess.as_str())
                .bind(name)
                .bind(mobile)
                .bind(relationship)
                .bind(at.unix_millis())
                .bind(&actor.name)
                .bind(tenant.as_str())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
                id
            }
            None => {
                let id = Uuid::now_v7();
                sqlx::query(
                    "INSERT INTO enrollments (tenant_code, id, shift_id, project_id, volunteer_id, \
                     status, guardian_name, guardian_mobile, guardian_relationship, enrolled_at, \
                     changed_at, changed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)",
                )
                .bind(tenant.as_str())
                .bind(id.to_string())
                .bind(shift.id.to_string())
                .bind(shift.project_id.to_string())
                .bind(volunteer.to_string())
                .bind(guess.as_str())
                .bind(name)
                .bind(mobile)
                .bind(relationship)
                .bind(at.unix_millis())
                .bind(&actor.name)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let (status, waiting_ahead) = place_or_wait(
            &mut tx,
            tenant,
            shift.id,
            guess.holds_place(),
            placed_status,
        )
        .await?;
        if status != guess {
            sqlx::query("UPDATE enrollments SET status = $1 WHERE tenant_code = $2 AND id = $3")
                .bind(status.as_str())
                .bind(tenant.as_str())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        let enrollment = EnrollmentRecord {
            id,
            shift_id: shift.id,
            project_id: project.id,
            volunteer_id: volunteer,
            volunteer_name: text(&checked, "name")?,
            volunteer_number: optional_text(&checked, "volunteer_number")?,
            status,
            guardian,
            reason: None,
            enrolled_at: at,
            changed_at: at,
            project_title: project.title.clone(),
            shift_starts_at: shift.starts_at,
            shift_ends_at: shift.ends_at,
            waiting_ahead,
        };
        audit_enrollment(
            &mut tx,
            tenant,
            actor,
            AuditAction::EnrollmentCreate,
            None,
            &enrollment,
            None,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(enrollment)
    }

    /// A volunteer's live sign-up for a shift.
    pub async fn live_enrollment(
        &self,
        tenant: &TenantCode,
        shift: Uuid,
        volunteer: Uuid,
    ) -> Result<EnrollmentRecord, StoreError> {
        let row = sqlx::query(&format!(
            "{ENROLLMENT_SELECT} WHERE e.tenant_code = $1 AND e.shift_id = $2 \
             AND e.volunteer_id = $3 AND e.status IN ('applied', 'accepted', 'waitlisted')"
        ))
        .bind(tenant.as_str())
        .bind(shift.to_string())
        .bind(volunteer.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        enrollment_record(&row)
    }

    pub async fn enrollment(
        &self,
        tenant: &TenantCode,
        id: Uuid,
    ) -> Result<EnrollmentRecord, StoreError> {
        let mut tx = self.pool.begin().await?;
        let enrollment = read_enrollment(&mut tx, tenant, id).await?;
        tx.commit().await?;
        Ok(enrollment)
    }

    /// Ends a live sign-up: withdrawn by the volunteer, or rejected or removed by the team, or
    /// accepted. A place it held goes to the oldest sign-up on the waiting list.
    #[allow(clippy::too_many_arguments)]
    pub async fn change_enrollment(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        to: EnrollmentStatus,
        acceptance: Acceptance,
        reason: Option<String>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<EnrollmentRecord, StoreError> {
        let allowed_from: &[EnrollmentStatus] = match to {
            EnrollmentStatus::Accepted | EnrollmentStatus::Rejected => &[EnrollmentStatus::Applied],
            _ => &[
                EnrollmentStatus::Applied,
                EnrollmentStatus::Accepted,
                EnrollmentStatus::Waitlisted,
            ],
        };
        let action = match to {
            EnrollmentStatus::Accepted => AuditAction::EnrollmentAccept,
            EnrollmentStatus::Rejected => AuditAction::EnrollmentReject,
            EnrollmentStatus::Removed => AuditAction::EnrollmentRemove,
            _ => AuditAction::EnrollmentWithdraw,
        };
        let mut tx = self.begin_write().await?;
        let before = read_enrollment(&mut tx, tenant, id).await?;
        if !allowed_from.contains(&before.status) {
            return Err(wrong_state("/", Rule::EnrollmentState));
        }
        let changed = sqlx::query(
            "UPDATE enrollments SET status = $1, reason = $2, changed_at = $3, changed_by = $4 \
             WHERE tenant_code = $5 AND id = $6 AND status = $7",
        )
        .bind(to.as_str())
        .bind(reason.clone())
        .bind(at.unix_millis())
        .bind(&actor.name)
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(before.status.as_str())
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() != 1 {
            return Err(wrong_state("/", Rule::EnrollmentState));
        }
        if !to.holds_place() {
            let column = if before.status.holds_place() {
                "taken"
            } else {
                "waiting"
            };
            sqlx::query(&format!(
                "UPDATE shifts SET {column} = {column} - 1 WHERE tenant_code = $1 AND id = $2"
            ))
            .bind(tenant.as_str())
            .bind(before.shift_id.to_string())
            .execute(&mut *tx)
            .await?;
            if before.status.holds_place() {
                move_up(&mut tx, tenant, before.shift_id, acceptance, actor, at).await?;
            }
        }
        let after = read_enrollment(&mut tx, tenant, id).await?;
        audit_enrollment(
            &mut tx,
            tenant,
            actor,
            action,
            Some(&before),
            &after,
            reason,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A shift's sign-ups: places in the order they were taken, then the waiting list.
    pub async fn enrollments_of_shift(
        &self,
        tenant: &TenantCode,
        shift: Uuid,
    ) -> Result<Vec<EnrollmentRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{ENROLLMENT_SELECT} WHERE e.tenant_code = $1 AND e.shift_id = $2 \
             ORDER BY e.enrolled_at, e.id"
        ))
        .bind(tenant.as_str())
        .bind(shift.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(enrollment_record).collect()
    }

    /// A volunteer's sign-ups, soonest shift first.
    pub async fn enrollments_of_volunteer(
        &self,
        tenant: &TenantCode,
        volunteer: Uuid,
    ) -> Result<Vec<EnrollmentRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{ENROLLMENT_SELECT} WHERE e.tenant_code = $1 AND e.volunteer_id = $2 \
             ORDER BY s.starts_at, e.id"
        ))
        .bind(tenant.as_str())
        .bind(volunteer.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(enrollment_record).collect()
    }
}

/// Takes one of the shift's places if one is free.
async fn take_place(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    shift: Uuid,
) -> Result<bool, StoreError> {
    let taken = sqlx::query(
        "UPDATE shifts SET taken = taken + 1 WHERE tenant_code = $1 AND id = $2 AND taken < capacity",
    )
    .bind(tenant.as_str())
    .bind(shift.to_string())
    .execute(&mut *tx)
    .await?;
    Ok(taken.rows_affected() == 1)
}

/// Takes a place on the shift, or else a place at the end of its waiting list: a conditional
/// statement each, tried in the order `place_first` says (what the shift's counts made likely).
/// A statement that matches no row locks none, so the shift may fill or free between the two;
/// then they are tried again. Answers the status and, on the list, how many wait ahead.
async fn place_or_wait(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    shift: Uuid,
    place_first: bool,
    placed: EnrollmentStatus,
) -> Result<(EnrollmentStatus, Option<u32>), StoreError> {
    for attempt in 0..16 {
        if (place_first || attempt > 0) && take_place(tx, tenant, shift).await? {
            return Ok((placed, None));
        }
        let waiting = sqlx::query(
            "UPDATE shifts SET waiting = waiting + 1 WHERE tenant_code = $1 AND id = $2 \
             AND taken >= capacity RETURNING waiting",
        )
        .bind(tenant.as_str())
        .bind(shift.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = waiting {
            // The last on the list: everyone else waiting is ahead.
            let ahead = count(&row, "waiting")?.saturating_sub(1);
            return Ok((EnrollmentStatus::Waitlisted, Some(ahead)));
        }
    }
    Err(StoreError::Corrupt(format!(
        "shift {shift} neither has a place nor is full"
    )))
}

/// Gives a free place to the oldest sign-up on the shift's waiting list, if any.
async fn move_up(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    shift: Uuid,
    acceptance: Acceptance,
    actor: &Actor,
    at: Timestamp,
) -> Result<(), StoreError> {
    let next = sqlx::query(
        "SELECT id FROM enrollments WHERE tenant_code = $1 AND shift_id = $2 \
         AND status = 'waitlisted' ORDER BY enrolled_at, id LIMIT 1",
    )
    .bind(tenant.as_str())
    .bind(shift.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(next) = next else {
        return Ok(());
    };
    let id = uuid(&next, "id")?;
    if !take_place(tx, tenant, shift).await? {
        return Ok(());
    }
    let before = read_enrollment(tx, tenant, id).await?;
    let status = match acceptance {
        Acceptance::Automatic => EnrollmentStatus::Accepted,
        Acceptance::ByTeam => EnrollmentStatus::Applied,
    };
    sqlx::query(
        "UPDATE enrollments SET status = $1, changed_at = $2, changed_by = $3 \
         WHERE tenant_code = $4 AND id = $5",
    )
    .bind(status.as_str())
    .bind(at.unix_millis())
    .bind(&actor.name)
    .bind(tenant.as_str())
    .bind(id.to_string())
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE shifts SET waiting = waiting - 1 WHERE tenant_code = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(shift.to_string())
        .execute(&mut *tx)
        .await?;
    let after = read_enrollment(tx, tenant, id).await?;
    audit_enrollment(
        tx,
        tenant,
        actor,
        AuditAction::EnrollmentPromote,
        Some(&before),
        &after,
        None,
        at,
    )
    .await
}

async fn insert_shifts(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    project: Uuid,
    new: &NewProject,
) -> Result<(), StoreError> {
    for (position, shift) in new.shifts.iter().enumerate() {
        sqlx::query(
            "INSERT INTO shifts (tenant_code, id, project_id, position, starts_at, ends_at, address, \
             longitude_e7, latitude_e7, capacity, skills, check_in_before_minutes, \
             check_in_after_minutes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(tenant.as_str())
        .bind(Uuid::now_v7().to_string())
        .bind(project.to_string())
        .bind(position as i64)
        .bind(shift.starts_at.unix_millis())
        .bind(shift.ends_at.unix_millis())
        .bind(shift.address.clone())
        .bind(shift.place.map(|place| e7(place.wgs84().0)))
        .bind(shift.place.map(|place| e7(place.wgs84().1)))
        .bind(i64::from(shift.capacity))
        .bind(json!(shift.skills).to_string())
        .bind(i64::from(shift.check_in_before_minutes))
        .bind(i64::from(shift.check_in_after_minutes))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

async fn read_project(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<ProjectRecord, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {PROJECT_COLUMNS} FROM projects WHERE tenant_code = $1 AND id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let mut project = project_record(&row)?;
    project.shifts = sqlx::query(&format!(
        "SELECT {SHIFT_COLUMNS} FROM shifts WHERE tenant_code = $1 AND project_id = $2 ORDER BY position"
    ))
    .bind(tenant.as_str())
    .bind(id.to_string())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(shift_record)
    .collect::<Result<_, _>>()?;
    Ok(project)
}

async fn read_need(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<NeedRecord, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {NEED_COLUMNS} FROM needs WHERE tenant_code = $1 AND id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    need_record(&row)
}

async fn read_enrollment(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<EnrollmentRecord, StoreError> {
    let row = sqlx::query(&format!(
        "{ENROLLMENT_SELECT} WHERE e.tenant_code = $1 AND e.id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    enrollment_record(&row)
}

/// A need a project may answer: curated and not closed.
async fn check_need_open(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    need: Uuid,
) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT status FROM needs WHERE tenant_code = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(need.to_string())
        .fetch_optional(&mut *tx)
        .await?;
    match row {
        Some(row) if enumerated(&row, "status", NeedStatus::from_db)? == NeedStatus::Open => Ok(()),
        Some(_) => Err(StoreError::Invalid(InvalidInput::new(
            "/need_id",
            Rule::NeedNotOpen,
        ))),
        None => Err(StoreError::Invalid(InvalidInput::new(
            "/need_id",
            Rule::NeedNotOpen,
        ))),
    }
}

fn wrong_state(field: &str, rule: Rule) -> StoreError {
    StoreError::Invalid(InvalidInput::new(field, rule))
}

/// A region that is not the tenant's breaks a foreign key; it is named as the field at fault.
fn region_or(tenant: &TenantCode) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |error| {
        let foreign_key = error
            .as_database_error()
            .is_some_and(|db| db.is_foreign_key_violation());
        if foreign_key {
            tracing::debug!(tenant = %tenant, "a reference outside the tenant");
            StoreError::Invalid(InvalidInput::new("/region", Rule::RegionUnknown))
        } else {
            error.into()
        }
    }
}

/// Projects and needs are recorded as they are stored, their contact's mobile number masked.
#[allow(clippy::too_many_arguments)]
async fn audit_masked<T: Serialize>(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    actor: &Actor,
    action: AuditAction,
    id: Uuid,
    before: Option<&T>,
    after: &T,
    reason: Option<String>,
    at: Timestamp,
) -> Result<(), StoreError> {
    record(
        tx,
        AuditRecord {
            tenant: Some(tenant),
            actor,
            action,
            entity_id: id.to_string(),
            before: before.map(masked_contact),
            after: Some(masked_contact(after)),
            reason,
            at,
        },
    )
    .await
}

/// Sign-ups are recorded by their ids and states; a guardian's details stay out of the trail.
#[allow(clippy::too_many_arguments)]
async fn audit_enrollment(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    actor: &Actor,
    action: AuditAction,
    before: Option<&EnrollmentRecord>,
    after: &EnrollmentRecord,
    reason: Option<String>,
    at: Timestamp,
) -> Result<(), StoreError> {
    let state = |enrollment: &EnrollmentRecord| {
        json!({
            "shift_id": enrollment.shift_id,
            "project_id": enrollment.project_id,
            "volunteer_id": enrollment.volunteer_id,
            "status": enrollment.status,
            "guardian_consent": enrollment.guardian.is_some(),
        })
    };
    record(
        tx,
        AuditRecord {
            tenant: Some(tenant),
            actor,
            action,
            entity_id: after.id.to_string(),
            before: before.map(state),
            after: Some(state(after)),
            reason,
            at,
        },
    )
    .await
}
