//! Time on the ground: printed cards, scans and attendances, the append-only service records
//! with the totals kept beside them, disputes, notices, star levels and certificates.
//!
//! A service record is never changed (the database refuses it: migration 0009's triggers). An
//! entry is replaced by a new one that points at it (`corrects`, unique, so an entry is
//! replaced at most once), and the entries in force are those nothing points at. Every write of
//! an entry adjusts `service_totals` by the difference in the same transaction: per volunteer
//! in one row, per team, project and region in one of 64 slots chosen by the volunteer, so
//! that concurrent check-outs at one event do not queue on one row.

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;
use zhiyuan_domain::{
    Actor, AuditAction, CardUse, CertificateNumber, CertificateStatus, DisputeStatus, Minutes,
    RegionCode, Rule, ScanDirection, ServiceRecordKind, StarLevel, TenantCode, Timestamp,
    TotalsScope, VolunteerNumber, VolunteerStatus,
};

use crate::audit::{AuditRecord, record};
use crate::rows::{
    enumerated, int, optional_text, optional_uuid, region_code, text, timestamp, uuid,
};
use crate::{Backend, Store, StoreError, UniqueField};

/// Slots of the team, project and region totals.
const SLOTS: u128 = 64;

/// A printed card's credential.
#[derive(Debug, Clone, Serialize)]
pub struct PrintedCard {
    pub serial: u64,
    pub volunteer_id: Uuid,
    pub issued_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub revocation_reason: Option<String>,
}

/// What a scanner needs to know of the volunteer a card names.
#[derive(Debug, Clone, Serialize)]
pub struct CardHolder {
    pub id: Uuid,
    pub account_id: Option<Uuid>,
    pub volunteer_number: VolunteerNumber,
    pub name: String,
    pub status: VolunteerStatus,
    pub star_level: StarLevel,
    pub region: RegionCode,
    /// When the registration was verified: where tenure is counted from.
    pub verified_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attendance {
    pub id: Uuid,
    pub shift_id: Uuid,
    pub project_id: Uuid,
    pub volunteer_id: Uuid,
    pub checked_in_at: Timestamp,
    pub checked_out_at: Option<Timestamp>,
    pub card: CardUse,
    pub card_serial: Option<u64>,
    /// None while checked in; then whether the time counted.
    pub credited: Option<bool>,
    pub note: Option<String>,
}

/// What a scan checks, read together (`Store::scan_context`).
#[derive(Debug, Clone)]
pub struct ScanContext {
    /// The scan of the same id, if one was made already.
    pub done: Option<DoneScan>,
    /// The volunteer the card's number names, if any.
    pub holder: Option<CardHolder>,
    /// The shifts of the project the volunteer holds an accepted place in.
    pub places: Vec<Place>,
}

/// A scan made already, as much of it as a scan of the same id needs.
#[derive(Debug, Clone)]
pub struct DoneScan {
    pub project_id: Uuid,
    pub attendance_id: Uuid,
}

/// A volunteer's place in a shift, as a scan sees it.
#[derive(Debug, Clone)]
pub struct Place {
    pub shift_id: Uuid,
    pub attendance: Option<Attendance>,
    /// What the volunteer served (entries in force) on the day this attendance's time starts.
    pub same_day_minutes: Minutes,
}

/// A scan that counted, as stored.
#[derive(Debug, Clone, Serialize)]
pub struct ScanRecord {
    pub id: String,
    pub project_id: Uuid,
    pub attendance_id: Uuid,
    pub volunteer_id: Uuid,
    pub direction: ScanDirection,
    pub scanned_at: Timestamp,
    pub offline: bool,
}

/// A scan to write, with what it was checked against.
#[derive(Debug, Clone)]
pub struct NewScan {
    pub id: String,
    pub project_id: Uuid,
    pub shift_id: Uuid,
    pub volunteer_id: Uuid,
    pub token_id: Option<String>,
    pub card: CardUse,
    pub card_serial: Option<u64>,
    /// When the card was scanned: the server's time online, the device's offline.
    pub scanned_at: Timestamp,
    pub received_at: Timestamp,
    pub scanned_by: Uuid,
    pub offline: bool,
}

/// A service record to append.
#[derive(Debug, Clone)]
pub struct NewServiceRecord {
    pub volunteer_id: Uuid,
    pub team_id: Uuid,
    pub project_id: Option<Uuid>,
    pub shift_id: Option<Uuid>,
    pub region: RegionCode,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub minutes: Minutes,
    pub content: String,
    pub kind: ServiceRecordKind,
    pub card: Option<CardUse>,
    pub card_serial: Option<u64>,
    /// The entry this one replaces.
    pub corrects: Option<Uuid>,
    pub reason: Option<String>,
}

/// A service record as stored, with whether it is in force and any unsettled dispute.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceRecord {
    pub id: Uuid,
    pub volunteer_id: Uuid,
    pub team_id: Uuid,
    pub project_id: Option<Uuid>,
    pub shift_id: Option<Uuid>,
    pub region: RegionCode,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub minutes: Minutes,
    pub content: String,
    pub kind: ServiceRecordKind,
    pub card: Option<CardUse>,
    pub card_serial: Option<u64>,
    pub corrects: Option<Uuid>,
    pub reason: Option<String>,
    pub recorded_at: Timestamp,
    pub recorded_by: String,
    pub recorded_by_name: String,
    /// The entry that replaced this one, if any.
    pub corrected_by: Option<Uuid>,
    /// Whether a dispute of it is open or answered, not yet settled.
    pub disputed: bool,
}

impl ServiceRecord {
    pub fn in_force(&self) -> bool {
        self.corrected_by.is_none()
    }
}

/// What a write of an entry leaves: the entry and the volunteer's total in force after it.
#[derive(Debug, Clone)]
pub struct Appended {
    pub record: ServiceRecord,
    pub volunteer_minutes: Minutes,
}

/// Which service records to read.
#[derive(Debug, Clone, Copy)]
pub enum RecordsOf {
    Volunteer(Uuid),
    Team(Uuid),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub minutes: Minutes,
    pub entries: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dispute {
    pub id: Uuid,
    pub record_id: Uuid,
    pub volunteer_id: Uuid,
    pub team_id: Uuid,
    pub status: DisputeStatus,
    pub claim: String,
    pub claimed_minutes: Option<Minutes>,
    pub answer: Option<String>,
    pub answered_at: Option<Timestamp>,
    pub settlement: Option<String>,
    pub settled_at: Option<Timestamp>,
    pub opened_at: Timestamp,
}

/// How the office settles a dispute.
#[derive(Debug, Clone)]
pub enum Settlement {
    /// The entry stands.
    Dismiss { reason: String },
    /// A settlement entry replaces it.
    Uphold {
        reason: String,
        replacement: NewServiceRecord,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub id: Uuid,
    pub volunteer_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub kind: String,
    pub detail: Value,
    pub created_at: Timestamp,
}

/// Whom a notice is for.
#[derive(Debug, Clone, Copy)]
pub enum NoticeFor {
    Volunteer(Uuid),
    Team(Uuid),
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceCertificate {
    pub id: Uuid,
    pub number: Option<CertificateNumber>,
    pub volunteer_id: Uuid,
    /// The team that issues it; none: the office.
    pub team_id: Option<Uuid>,
    pub period_from: Timestamp,
    pub period_to: Timestamp,
    pub purpose: Option<String>,
    pub status: CertificateStatus,
    pub requested_at: Timestamp,
    /// What the certificate states, fixed when it is issued.
    pub facts: Option<Value>,
    pub issued_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub revocation_reason: Option<String>,
}

/// Which certificates to list.
#[derive(Debug, Clone, Copy)]
pub enum CertificatesOf {
    Volunteer(Uuid),
    Team(Uuid),
    Tenant,
}

pub(crate) const RECORD_COLUMNS: &str = "r.id, r.volunteer_id, r.team_id, r.project_id, r.shift_id, \
    r.region_code, r.started_at, r.ended_at, r.minutes, r.content, r.kind, r.card, r.card_serial, \
    r.corrects, r.reason, r.recorded_at, r.recorded_by, r.recorded_by_name, \
    (SELECT c.id FROM service_records c WHERE c.tenant_code = r.tenant_code AND c.corrects = r.id) \
      AS corrected_by, \
    (SELECT COUNT(*) FROM disputes d WHERE d.tenant_code = r.tenant_code AND d.record_id = r.id \
       AND d.status IN ('open', 'answered')) AS disputed";

const SCAN_COLUMNS: &str = "tenant_code, id, project_id, attendance_id, volunteer_id, \
    direction, token_id, scanned_at, received_at, scanned_by, offline";

const ATTENDANCE_COLUMNS: &str = "id, shift_id, project_id, volunteer_id, checked_in_at, \
    checked_out_at, card, card_serial, outcome, note";

const DISPUTE_COLUMNS: &str = "id, record_id, volunteer_id, team_id, status, claim, \
    claimed_minutes, answer, answered_at, settlement, settled_at, opened_at";

pub(crate) const CERTIFICATE_COLUMNS: &str = "id, number, volunteer_id, team_id, period_from, period_to, \
    purpose, status, requested_at, facts, issued_at, revoked_at, revocation_reason";

/// The condition of an entry in force: nothing replaced it.
const IN_FORCE: &str = "NOT EXISTS (SELECT 1 FROM service_records c \
    WHERE c.tenant_code = r.tenant_code AND c.corrects = r.id)";

impl Store {
    /// The verified or other volunteer a card's number names.
    pub async fn card_holder(
        &self,
        tenant: &TenantCode,
        number: &VolunteerNumber,
    ) -> Result<CardHolder, StoreError> {
        let row = sqlx::query(
            "SELECT id, account_id, volunteer_number, name, status, star_level, region_code, \
             decided_at FROM volunteers WHERE tenant_code = $1 AND volunteer_number = $2",
        )
        .bind(tenant.as_str())
        .bind(number.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        card_holder(&row)
    }

    /// The volunteer of an id, as a card shows them.
    pub async fn card_holder_by_id(
        &self,
        tenant: &TenantCode,
        volunteer: Uuid,
    ) -> Result<CardHolder, StoreError> {
        let row = sqlx::query(
            "SELECT id, account_id, volunteer_number, name, status, star_level, region_code, \
             decided_at FROM volunteers WHERE tenant_code = $1 AND id = $2 \
             AND volunteer_number IS NOT NULL",
        )
        .bind(tenant.as_str())
        .bind(volunteer.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        card_holder(&row)
    }

    /// Issues a printed card to a volunteer; a card issued before is revoked with it.
    pub async fn issue_printed_card(
        &self,
        tenant: &TenantCode,
        volunteer: Uuid,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<PrintedCard, StoreError> {
        let mut tx = self.begin_write().await?;
        let earlier = sqlx::query(
            "UPDATE card_credentials SET revoked_at = $3, revoked_by = $4, \
               revocation_reason = 'reissued' \
             WHERE tenant_code = $1 AND volunteer_id = $2 AND revoked_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(volunteer.to_string())
        .bind(at.unix_millis())
        .bind(actor.name.as_str())
        .execute(&mut *tx)
        .await?;
        let serial = int(
            &sqlx::query(
                "SELECT COALESCE(MAX(serial), 0) + 1 AS serial FROM card_credentials \
                 WHERE tenant_code = $1",
            )
            .bind(tenant.as_str())
            .fetch_one(&mut *tx)
            .await?,
            "serial",
        )?;
        sqlx::query(
            "INSERT INTO card_credentials (tenant_code, serial, volunteer_id, issued_at, issued_by) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(tenant.as_str())
        .bind(serial)
        .bind(volunteer.to_string())
        .bind(at.unix_millis())
        .bind(actor.name.as_str())
        .execute(&mut *tx)
        .await?;
        let card = PrintedCard {
            serial: serial as u64,
            volunteer_id: volunteer,
            issued_at: at,
            revoked_at: None,
            revocation_reason: None,
        };
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::CardIssuePrinted,
                entity_id: volunteer.to_string(),
                before: None,
                after: Some(
                    json!({ "serial": card.serial, "revoked_earlier": earlier.rows_affected() }),
                ),
                reason: None,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(card)
    }

    pub async fn printed_card(
        &self,
        tenant: &TenantCode,
        serial: u64,
    ) -> Result<PrintedCard, StoreError> {
        let row = sqlx::query(
            "SELECT serial, volunteer_id, issued_at, revoked_at, revocation_reason \
             FROM card_credentials WHERE tenant_code = $1 AND serial = $2",
        )
        .bind(tenant.as_str())
        .bind(serial as i64)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        printed_card(&row)
    }

    /// Revokes a printed card (lost, stolen): scans of it are refused from now on.
    pub async fn revoke_printed_card(
        &self,
        tenant: &TenantCode,
        serial: u64,
        reason: &str,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<PrintedCard, StoreError> {
        let mut tx = self.begin_write().await?;
        let revoked = sqlx::query(
            "UPDATE card_credentials SET revoked_at = $3, revoked_by = $4, revocation_reason = $5 \
             WHERE tenant_code = $1 AND serial = $2 AND revoked_at IS NULL \
             RETURNING serial, volunteer_id, issued_at, revoked_at, revocation_reason",
        )
        .bind(tenant.as_str())
        .bind(serial as i64)
        .bind(at.unix_millis())
        .bind(actor.name.as_str())
        .bind(reason)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = revoked else {
            // Unknown, or revoked already.
            let exists = sqlx::query(
                "SELECT 1 AS found FROM card_credentials WHERE tenant_code = $1 AND serial = $2",
            )
            .bind(tenant.as_str())
            .bind(serial as i64)
            .fetch_optional(&mut *tx)
            .await?;
            return Err(match exists {
                Some(_) => StoreError::Refused(Rule::CardRevoked),
                None => StoreError::NotFound,
            });
        };
        let card = printed_card(&row)?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::CardRevokePrinted,
                entity_id: card.volunteer_id.to_string(),
                before: None,
                after: Some(json!({ "serial": serial })),
                reason: Some(reason.to_owned()),
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(card)
    }

    /// A scan that counted, by its id.
    pub async fn scan(&self, tenant: &TenantCode, id: &str) -> Result<ScanRecord, StoreError> {
        let row = sqlx::query(
            "SELECT id, project_id, attendance_id, volunteer_id, direction, scanned_at, offline \
             FROM scans WHERE tenant_code = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(ScanRecord {
            id: text(&row, "id")?,
            project_id: uuid(&row, "project_id")?,
            attendance_id: uuid(&row, "attendance_id")?,
            volunteer_id: uuid(&row, "volunteer_id")?,
            direction: enumerated(&row, "direction", ScanDirection::from_db)?,
            scanned_at: timestamp(&row, "scanned_at")?,
            offline: int(&row, "offline")? == 1,
        })
    }

    /// What a scan checks, read in one statement: whether a scan of this id was made already,
    /// the volunteer the card's number names, and the shifts of the project they hold a place
    /// in, each with their attendance of it and the minutes they served on the day that
    /// attendance's time would count on (what the tenant's service-record rule is told).
    pub async fn scan_context(
        &self,
        tenant: &TenantCode,
        scan_id: &str,
        number: Option<&VolunteerNumber>,
        project: Uuid,
    ) -> Result<ScanContext, StoreError> {
        // The day (China Standard Time) an attendance's time starts on: its check-in, or the
        // shift's start if it checked in early.
        const STARTED: &str = "CASE WHEN a.checked_in_at > s.starts_at THEN a.checked_in_at \
            ELSE s.starts_at END";
        let day = format!("((({STARTED}) + 28800000) / 86400000) * 86400000 - 28800000");
        let rows = sqlx::query(&format!(
            "SELECT d.project_id AS done_project_id, d.attendance_id AS done_attendance_id, \
               v.id AS holder_id, v.account_id, v.volunteer_number, v.name, v.status, \
               v.star_level, v.region_code, v.decided_at, \
               e.shift_id AS place, a.id, a.shift_id, a.project_id, a.volunteer_id, \
               a.checked_in_at, a.checked_out_at, a.card, a.card_serial, a.outcome, a.note, \
               CASE WHEN a.id IS NULL THEN 0 ELSE ( \
                 SELECT CAST(COALESCE(SUM(r.minutes), 0) AS BIGINT) FROM service_records r \
                 WHERE r.tenant_code = a.tenant_code AND r.volunteer_id = a.volunteer_id \
                   AND r.started_at >= {day} AND r.started_at < {day} + 86400000 \
                   AND {IN_FORCE}) END AS same_day_minutes \
             FROM (SELECT 1 AS one) o \
             LEFT JOIN scans d ON d.tenant_code = $1 AND d.id = $2 \
             LEFT JOIN volunteers v ON v.tenant_code = $1 AND v.volunteer_number = $3 \
             LEFT JOIN enrollments e ON e.tenant_code = v.tenant_code AND e.volunteer_id = v.id \
               AND e.status = 'accepted' AND e.project_id = $4 \
             LEFT JOIN shifts s ON s.tenant_code = e.tenant_code AND s.id = e.shift_id \
             LEFT JOIN attendances a ON a.tenant_code = e.tenant_code \
               AND a.shift_id = e.shift_id AND a.volunteer_id = e.volunteer_id"
        ))
        .bind(tenant.as_str())
        .bind(scan_id)
        .bind(number.map(VolunteerNumber::as_str))
        .bind(project.to_string())
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else {
            return Err(StoreError::Corrupt("a scan's context read no row".into()));
        };
        let done = match optional_text(first, "done_project_id")? {
            Some(_) => Some(DoneScan {
                project_id: uuid(first, "done_project_id")?,
                attendance_id: uuid(first, "done_attendance_id")?,
            }),
            None => None,
        };
        let holder = match optional_text(first, "holder_id")? {
            Some(_) => Some(card_holder_at(first, "holder_id")?),
            None => None,
        };
        let mut places = Vec::new();
        for row in &rows {
            if optional_text(row, "place")?.is_none() {
                continue;
            }
            places.push(Place {
                shift_id: uuid(row, "place")?,
                attendance: match optional_text(row, "id")? {
                    Some(_) => Some(attendance(row)?),
                    None => None,
                },
                same_day_minutes: Minutes::new(int(row, "same_day_minutes")?.max(0) as u64),
            });
        }
        Ok(ScanContext {
            done,
            holder,
            places,
        })
    }

    pub async fn attendance_by_id(
        &self,
        tenant: &TenantCode,
        id: Uuid,
    ) -> Result<Attendance, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ATTENDANCE_COLUMNS} FROM attendances WHERE tenant_code = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        attendance(&row)
    }

    /// A project's attendances, in the order of check-in.
    pub async fn attendances_of_project(
        &self,
        tenant: &TenantCode,
        project: Uuid,
    ) -> Result<Vec<Attendance>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ATTENDANCE_COLUMNS} FROM attendances WHERE tenant_code = $1 \
             AND project_id = $2 ORDER BY checked_in_at, id"
        ))
        .bind(tenant.as_str())
        .bind(project.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attendance).collect()
    }

    /// Checks a volunteer in: their attendance of the shift begins with this scan. On
    /// PostgreSQL both rows are written by one statement (atomic on its own, one round trip);
    /// SQLite, which cannot insert from a common table expression, writes them in a
    /// transaction.
    pub async fn check_in(
        &self,
        tenant: &TenantCode,
        scan: &NewScan,
    ) -> Result<Attendance, StoreError> {
        let attendance = Attendance {
            id: Uuid::now_v7(),
            shift_id: scan.shift_id,
            project_id: scan.project_id,
            volunteer_id: scan.volunteer_id,
            checked_in_at: scan.scanned_at,
            checked_out_at: None,
            card: scan.card,
            card_serial: scan.card_serial,
            credited: None,
            note: None,
        };
        const INSERT_ATTENDANCE: &str = "INSERT INTO attendances (tenant_code, id, shift_id, \
            project_id, volunteer_id, checked_in_at, card, card_serial) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let sql = match self.backend {
            Backend::Postgres => format!(
                "WITH attended AS ({INSERT_ATTENDANCE} RETURNING id) \
                 INSERT INTO scans ({SCAN_COLUMNS}) \
                 SELECT $1, $9, $4, attended.id, $5, $10, $11, $6, $12, $13, $14 FROM attended"
            ),
            Backend::Sqlite => INSERT_ATTENDANCE.to_owned(),
        };
        let insert = sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(attendance.id.to_string())
            .bind(scan.shift_id.to_string())
            .bind(scan.project_id.to_string())
            .bind(scan.volunteer_id.to_string())
            .bind(scan.scanned_at.unix_millis())
            .bind(scan.card.as_str())
            .bind(scan.card_serial.map(|serial| serial as i64));
        match self.backend {
            Backend::Postgres => {
                insert
                    .bind(scan.id.as_str())
                    .bind(ScanDirection::In.as_str())
                    .bind(scan.token_id.as_deref())
                    .bind(scan.received_at.unix_millis())
                    .bind(scan.scanned_by.to_string())
                    .bind(i64::from(scan.offline))
                    .execute(&self.pool)
                    .await
                    .map_err(|error| scan_conflict(error.into()))?;
            }
            Backend::Sqlite => {
                let mut tx = self.begin_write().await?;
                insert
                    .execute(&mut *tx)
                    .await
                    .map_err(|error| scan_conflict(error.into()))?;
                insert_scan(&mut tx, tenant, scan, attendance.id, ScanDirection::In).await?;
                tx.commit().await?;
            }
        }
        Ok(attendance)
    }

    /// Checks a volunteer out: the attendance ends with this scan, and the record it earns, if
    /// the tenant's rule credits it, is appended in the same transaction. A second check-out
    /// of the same attendance finds it closed and is refused.
    pub async fn check_out(
        &self,
        tenant: &TenantCode,
        scan: &NewScan,
        attendance_id: Uuid,
        credit: Result<NewServiceRecord, String>,
        actor: &Actor,
    ) -> Result<(Attendance, Option<Appended>), StoreError> {
        let mut tx = self.begin_write().await?;
        let closed = close_attendance(
            &mut tx,
            self.backend,
            tenant,
            attendance_id,
            Some(scan.scanned_at),
            credit.as_ref().err().cloned(),
            Some(scan),
        )
        .await?;
        let appended = match credit {
            Ok(entry) => Some(
                append(
                    &mut tx,
                    self.backend,
                    tenant,
                    &entry,
                    actor,
                    scan.received_at,
                )
                .await?,
            ),
            Err(_) => None,
        };
        tx.commit().await?;
        Ok((closed, appended))
    }

    /// Attendances still open whose shift's check-in window closed before `cutoff`, in every
    /// tenant: the check-outs that never came.
    pub async fn open_attendances_before(
        &self,
        cutoff: Timestamp,
        limit: u32,
    ) -> Result<Vec<(TenantCode, Attendance)>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.tenant_code, a.id, a.shift_id, a.project_id, a.volunteer_id, \
               a.checked_in_at, a.checked_out_at, a.card, a.card_serial, a.outcome, a.note \
             FROM attendances a JOIN shifts s ON s.tenant_code = a.tenant_code AND s.id = a.shift_id \
             WHERE a.outcome IS NULL \
               AND s.ends_at + s.check_in_after_minutes * 60000 < $1 \
             ORDER BY a.checked_in_at LIMIT $2",
        )
        .bind(cutoff.unix_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let code = text(row, "tenant_code")?;
                let tenant = TenantCode::parse(&code)
                    .map_err(|_| StoreError::Corrupt(format!("tenant code {code:?}")))?;
                Ok((tenant, attendance(row)?))
            })
            .collect()
    }

    /// Closes an attendance whose check-out never came: credited as the tenant's rule says,
    /// or not, with a notice to the team either way.
    pub async fn settle_missing_check_out(
        &self,
        tenant: &TenantCode,
        attendance_id: Uuid,
        team: Uuid,
        credit: Result<NewServiceRecord, String>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(Attendance, Option<Appended>), StoreError> {
        let mut tx = self.begin_write().await?;
        let ended_at = credit.as_ref().ok().map(|entry| entry.ended_at);
        let closed = close_attendance(
            &mut tx,
            self.backend,
            tenant,
            attendance_id,
            ended_at,
            Some(match &credit {
                Ok(_) => "no check-out: credited to the end of the shift".to_owned(),
                Err(why) => why.clone(),
            }),
            None,
        )
        .await?;
        let appended = match &credit {
            Ok(entry) => Some(append(&mut tx, self.backend, tenant, entry, actor, at).await?),
            Err(_) => None,
        };
        insert_notice(
            &mut tx,
            tenant,
            NoticeFor::Team(team),
            "missing_check_out",
            &json!({
                "attendance_id": attendance_id,
                "volunteer_id": closed.volunteer_id,
                "shift_id": closed.shift_id,
                "credited_minutes": appended.as_ref().map(|done| done.record.minutes),
                "note": closed.note,
            }),
            at,
        )
        .await?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::ServiceRecordMissingCheckOut,
                entity_id: attendance_id.to_string(),
                before: None,
                after: Some(json!({
                    "credited": appended.is_some(),
                    "record_id": appended.as_ref().map(|done| done.record.id),
                })),
                reason: closed.note.clone(),
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok((closed, appended))
    }

    /// Appends an entry a person made (a manual entry, a correction), with its audit event.
    pub async fn record_service(
        &self,
        tenant: &TenantCode,
        entry: &NewServiceRecord,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<Appended, StoreError> {
        let mut tx = self.begin_write().await?;
        let appended = append(&mut tx, self.backend, tenant, entry, actor, at).await?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: match entry.kind {
                    ServiceRecordKind::Correction => AuditAction::ServiceRecordCorrect,
                    _ => AuditAction::ServiceRecordManual,
                },
                entity_id: appended.record.id.to_string(),
                before: entry.corrects.map(|id| json!({ "corrects": id })),
                after: Some(serde_json::to_value(&appended.record).unwrap_or(Value::Null)),
                reason: entry.reason.clone(),
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(appended)
    }

    pub async fn service_record(
        &self,
        tenant: &TenantCode,
        id: Uuid,
    ) -> Result<ServiceRecord, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM service_records r WHERE r.tenant_code = $1 AND r.id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        service_record(&row)
    }

    /// A volunteer's or a team's entries, newest service first; with `in_force_only`, without
    /// those replaced.
    pub async fn service_records(
        &self,
        tenant: &TenantCode,
        of: RecordsOf,
        in_force_only: bool,
        between: Option<(Timestamp, Timestamp)>,
    ) -> Result<Vec<ServiceRecord>, StoreError> {
        let (column, id) = match of {
            RecordsOf::Volunteer(id) => ("volunteer_id", id),
            RecordsOf::Team(id) => ("team_id", id),
        };
        let force = if in_force_only {
            format!(" AND {IN_FORCE}")
        } else {
            String::new()
        };
        let (from, to) = between.map_or((i64::MIN, i64::MAX), |(from, to)| {
            (from.unix_millis(), to.unix_millis())
        });
        let rows = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM service_records r WHERE r.tenant_code = $1 \
             AND r.{column} = $2 AND r.started_at >= $3 AND r.started_at < $4{force} \
             ORDER BY r.started_at DESC, r.recorded_at DESC"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(service_record).collect()
    }

    /// Minutes in force of a volunteer's entries that started within a span (a day).
    pub async fn minutes_between(
        &self,
        tenant: &TenantCode,
        volunteer: Uuid,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Minutes, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT CAST(COALESCE(SUM(r.minutes), 0) AS BIGINT) AS minutes FROM service_records r \
             WHERE r.tenant_code = $1 AND r.volunteer_id = $2 AND r.started_at >= $3 \
               AND r.started_at < $4 AND {IN_FORCE}"
        ))
        .bind(tenant.as_str())
        .bind(volunteer.to_string())
        .bind(from.unix_millis())
        .bind(to.unix_millis())
        .fetch_one(&self.pool)
        .await?;
        Ok(Minutes::new(int(&row, "minutes")?.max(0) as u64))
    }

    /// The totals kept for a volunteer, team, project or region.
    pub async fn service_totals(
        &self,
        tenant: &TenantCode,
        scope: TotalsScope,
        id: &str,
    ) -> Result<Totals, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(minutes), 0) AS BIGINT) AS minutes, \
               CAST(COALESCE(SUM(entries), 0) AS BIGINT) AS entries \
             FROM service_totals WHERE tenant_code = $1 AND scope = $2 AND scope_id = $3",
        )
        .bind(tenant.as_str())
        .bind(scope.as_str())
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(Totals {
            minutes: Minutes::new(int(&row, "minutes")?.max(0) as u64),
            entries: int(&row, "entries")?.max(0) as u64,
        })
    }

    /// Sets a volunteer's star level, if their total in force is still `for_minutes` (a later
    /// write sets it from its own total) and the level changed; the volunteer is told.
    /// Answers whether it changed.
    pub async fn set_star_level(
        &self,
        tenant: &TenantCode,
        volunteer: Uuid,
        level: StarLevel,
        for_minutes: Minutes,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let before = sqlx::query(
            "UPDATE volunteers SET star_level = $3 WHERE tenant_code = $1 AND id = $2 \
               AND star_level <> $3 \
               AND (SELECT CAST(COALESCE(SUM(t.minutes), 0) AS BIGINT) FROM service_totals t \
                    WHERE t.tenant_code = $1 AND t.scope = 'volunteer' AND t.scope_id = $2) = $4 \
             RETURNING id",
        )
        .bind(tenant.as_str())
        .bind(volunteer.to_string())
        .bind(i64::from(level.stars()))
        .bind(for_minutes.get() as i64)
        .fetch_optional(&mut *tx)
        .await?;
        if before.is_none() {
            return Ok(false);
        }
        let detail = json!({ "star_level": level, "service_minutes": for_minutes });
        insert_notice(
            &mut tx,
            tenant,
            NoticeFor::Volunteer(volunteer),
            "star_level",
            &detail,
            at,
        )
        .await?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::VolunteerStarLevel,
                entity_id: volunteer.to_string(),
                before: None,
                after: Some(detail),
                reason: None,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn notices(
        &self,
        tenant: &TenantCode,
        of: NoticeFor,
        limit: u32,
    ) -> Result<Vec<Notice>, StoreError> {
        let (column, id) = match of {
            NoticeFor::Volunteer(id) => ("volunteer_id", id),
            NoticeFor::Team(id) => ("team_id", id),
        };
        let rows = sqlx::query(&format!(
            "SELECT id, volunteer_id, team_id, kind, detail, created_at FROM notices \
             WHERE tenant_code = $1 AND {column} = $2 ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Notice {
                    id: uuid(row, "id")?,
                    volunteer_id: optional_uuid(row, "volunteer_id")?,
                    team_id: optional_uuid(row, "team_id")?,
                    kind: text(row, "kind")?,
                    detail: serde_json::from_str(&text(row, "detail")?)
                        .map_err(|_| StoreError::Corrupt("notice detail".into()))?,
                    created_at: timestamp(row, "created_at")?,
                })
            })
            .collect()
    }

    /// Opens a volunteer's dispute of an entry; one unsettled dispute an entry.
    pub async fn open_dispute(
        &self,
        tenant: &TenantCode,
        entry: &ServiceRecord,
        claim: &str,
        claimed_minutes: Option<Minutes>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<Dispute, StoreError> {
        let mut tx = self.begin_write().await?;
        let dispute = Dispute {
            id: Uuid::now_v7(),
            record_id: entry.id,
            volunteer_id: entry.volunteer_id,
            team_id: entry.team_id,
            status: DisputeStatus::Open,
            claim: claim.to_owned(),
            claimed_minutes,
            answer: None,
            answered_at: None,
            settlement: None,
            settled_at: None,
            opened_at: at,
        };
        sqlx::query(
            "INSERT INTO disputes (tenant_code, id, record_id, volunteer_id, team_id, status, \
               claim, claimed_minutes, opened_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8)",
        )
        .bind(tenant.as_str())
        .bind(dispute.id.to_string())
        .bind(entry.id.to_string())
        .bind(entry.volunteer_id.to_string())
        .bind(entry.team_id.to_string())
        .bind(claim)
        .bind(claimed_minutes.map(|minutes| minutes.get() as i64))
        .bind(at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(|error| match StoreError::from(error) {
            StoreError::Unique(UniqueField::UnsettledDispute) => {
                StoreError::Refused(Rule::DisputeExists)
            }
            other => other,
        })?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::DisputeOpen,
                entity_id: dispute.id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&dispute).unwrap_or(Value::Null)),
                reason: Some(claim.to_owned()),
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(dispute)
    }

    pub async fn dispute(&self, tenant: &TenantCode, id: Uuid) -> Result<Dispute, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DISPUTE_COLUMNS} FROM disputes WHERE tenant_code = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        dispute(&row)
    }

    /// Disputes of a team, or of the tenant; unsettled first, then the newest.
    pub async fn disputes(
        &self,
        tenant: &TenantCode,
        team: Option<Uuid>,
    ) -> Result<Vec<Dispute>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DISPUTE_COLUMNS} FROM disputes WHERE tenant_code = $1 \
             AND ($2 = '' OR team_id = $2) \
             ORDER BY CASE WHEN status IN ('open', 'answered') THEN 0 ELSE 1 END, opened_at DESC"
        ))
        .bind(tenant.as_str())
        .bind(team.map(|id| id.to_string()).unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(dispute).collect()
    }

    /// The team's answer to an open dispute.
    pub async fn answer_dispute(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        answer: &str,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<Dispute, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "UPDATE disputes SET status = 'answered', answer = $3, answered_by = $4, \
               answered_at = $5 WHERE tenant_code = $1 AND id = $2 AND status = 'open' \
             RETURNING {DISPUTE_COLUMNS}"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(answer)
        .bind(actor.name.as_str())
        .bind(at.unix_millis())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::Refused(Rule::DisputeState))?;
        let answered = dispute(&row)?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::DisputeAnswer,
                entity_id: id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&answered).unwrap_or(Value::Null)),
                reason: Some(answer.to_owned()),
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(answered)
    }

    /// The office's settlement of an unsettled dispute: dismissed, or upheld with a settlement
    /// entry replacing the disputed one. The volunteer is told.
    pub async fn settle_dispute(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        settlement: &Settlement,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<(Dispute, Option<Appended>), StoreError> {
        let mut tx = self.begin_write().await?;
        let (status, reason) = match settlement {
            Settlement::Dismiss { reason } => (DisputeStatus::Dismissed, reason),
            Settlement::Uphold { reason, .. } => (DisputeStatus::Upheld, reason),
        };
        let row = sqlx::query(&format!(
            "UPDATE disputes SET status = $3, settlement = $4, settled_by = $5, settled_at = $6 \
             WHERE tenant_code = $1 AND id = $2 AND status IN ('open', 'answered') \
             RETURNING {DISPUTE_COLUMNS}"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(status.as_str())
        .bind(reason.as_str())
        .bind(actor.name.as_str())
        .bind(at.unix_millis())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::Refused(Rule::DisputeState))?;
        let settled = dispute(&row)?;
        let appended = match settlement {
            Settlement::Uphold { replacement, .. } => {
                Some(append(&mut tx, self.backend, tenant, replacement, actor, at).await?)
            }
            Settlement::Dismiss { .. } => None,
        };
        insert_notice(
            &mut tx,
            tenant,
            NoticeFor::Volunteer(settled.volunteer_id),
            "dispute_settled",
            &json!({
                "dispute_id": settled.id,
                "record_id": settled.record_id,
                "status": settled.status,
                "settlement": reason,
                "replaced_by": appended.as_ref().map(|done| done.record.id),
            }),
            at,
        )
        .await?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: match status {
                    DisputeStatus::Upheld => AuditAction::DisputeUphold,
                    _ => AuditAction::DisputeDismiss,
                },
                entity_id: id.to_string(),
                before: None,
                after: Some(json!({
                    "dispute": settled,
                    "replaced_by": appended.as_ref().map(|done| done.record.id),
                })),
                reason: Some(reason.clone()),
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok((settled, appended))
    }

    /// A volunteer's request for a certificate.
    #[allow(clippy::too_many_arguments)]
    pub async fn request_certificate(
        &self,
        tenant: &TenantCode,
        volunteer: Uuid,
        team: Option<Uuid>,
        period: (Timestamp, Timestamp),
        purpose: Option<&str>,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<ServiceCertificate, StoreError> {
        let mut tx = self.begin_write().await?;
        let certificate = ServiceCertificate {
            id: Uuid::now_v7(),
            number: None,
            volunteer_id: volunteer,
            team_id: team,
            period_from: period.0,
            period_to: period.1,
            purpose: purpose.map(str::to_owned),
            status: CertificateStatus::Requested,
            requested_at: at,
            facts: None,
            issued_at: None,
            revoked_at: None,
            revocation_reason: None,
        };
        sqlx::query(
            "INSERT INTO certificates (tenant_code, id, volunteer_id, team_id, period_from, \
               period_to, purpose, status, requested_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested', $8)",
        )
        .bind(tenant.as_str())
        .bind(certificate.id.to_string())
        .bind(volunteer.to_string())
        .bind(team.map(|id| id.to_string()))
        .bind(period.0.unix_millis())
        .bind(period.1.unix_millis())
        .bind(purpose)
        .bind(at.unix_millis())
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::CertificateRequest,
                entity_id: certificate.id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&certificate).unwrap_or(Value::Null)),
                reason: None,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(certificate)
    }

    pub async fn certificate(
        &self,
        tenant: &TenantCode,
        id: Uuid,
    ) -> Result<ServiceCertificate, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE tenant_code = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        certificate(&row)
    }

    pub async fn certificate_by_number(
        &self,
        number: &CertificateNumber,
    ) -> Result<ServiceCertificate, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE tenant_code = $1 AND number = $2"
        ))
        .bind(number.tenant().as_str())
        .bind(number.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        certificate(&row)
    }

    /// Certificates, newest request first.
    pub async fn certificates(
        &self,
        tenant: &TenantCode,
        of: CertificatesOf,
    ) -> Result<Vec<ServiceCertificate>, StoreError> {
        let (filter, id) = match of {
            CertificatesOf::Volunteer(id) => (" AND volunteer_id = $2", id.to_string()),
            CertificatesOf::Team(id) => (" AND team_id = $2", id.to_string()),
            CertificatesOf::Tenant => (" AND $2 = ''", String::new()),
        };
        let rows = sqlx::query(&format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE tenant_code = $1{filter} \
             ORDER BY requested_at DESC, id DESC"
        ))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(certificate).collect()
    }

    /// Issues a requested certificate: the next number of the year's register, and the facts
    /// it states, fixed from now on. Refused if an entry it would count is disputed, checked
    /// again within the transaction.
    pub async fn issue_certificate(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        facts: &Value,
        counted: &[Uuid],
        actor: &Actor,
        at: Timestamp,
    ) -> Result<ServiceCertificate, StoreError> {
        let mut tx = self.begin_write().await?;
        let year = at.shanghai_date().year();
        let prefix = format!("{tenant}-{year:04}-");
        let last = sqlx::query(
            "SELECT MAX(number) AS number FROM certificates WHERE tenant_code = $1 \
             AND number LIKE $2",
        )
        .bind(tenant.as_str())
        .bind(format!("{prefix}%"))
        .fetch_one(&mut *tx)
        .await?;
        let place = optional_text(&last, "number")?
            .and_then(|number| number[prefix.len()..].parse::<u64>().ok())
            .unwrap_or(0)
            + 1;
        let number = CertificateNumber::new(tenant, year, place);
        for entry in counted {
            let disputed = sqlx::query(
                "SELECT 1 AS found FROM disputes WHERE tenant_code = $1 AND record_id = $2 \
                 AND status IN ('open', 'answered')",
            )
            .bind(tenant.as_str())
            .bind(entry.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            if disputed.is_some() {
                return Err(StoreError::Refused(Rule::HoursNotConfirmed));
            }
        }
        let row = sqlx::query(&format!(
            "UPDATE certificates SET status = 'issued', number = $3, facts = $4, issued_at = $5, \
               issued_by = $6 WHERE tenant_code = $1 AND id = $2 AND status = 'requested' \
             RETURNING {CERTIFICATE_COLUMNS}"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(number.as_str())
        .bind(facts.to_string())
        .bind(at.unix_millis())
        .bind(actor.name.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::Refused(Rule::CertificateState))?;
        let issued = certificate(&row)?;
        insert_notice(
            &mut tx,
            tenant,
            NoticeFor::Volunteer(issued.volunteer_id),
            "certificate_issued",
            &json!({ "certificate_id": id, "number": number }),
            at,
        )
        .await?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::CertificateIssue,
                entity_id: id.to_string(),
                before: None,
                after: Some(json!({ "number": number, "counted": counted })),
                reason: None,
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(issued)
    }

    pub async fn revoke_certificate(
        &self,
        tenant: &TenantCode,
        id: Uuid,
        reason: &str,
        actor: &Actor,
        at: Timestamp,
    ) -> Result<ServiceCertificate, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "UPDATE certificates SET status = 'revoked', revoked_at = $3, revoked_by = $4, \
               revocation_reason = $5 WHERE tenant_code = $1 AND id = $2 AND status = 'issued' \
             RETURNING {CERTIFICATE_COLUMNS}"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(at.unix_millis())
        .bind(actor.name.as_str())
        .bind(reason)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::Refused(Rule::CertificateState))?;
        let revoked = certificate(&row)?;
        record(
            &mut tx,
            AuditRecord {
                tenant: Some(tenant),
                actor,
                action: AuditAction::CertificateRevoke,
                entity_id: id.to_string(),
                before: None,
                after: Some(json!({ "number": revoked.number })),
                reason: Some(reason.to_owned()),
                at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }
}

async fn insert_scan(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    scan: &NewScan,
    attendance: Uuid,
    direction: ScanDirection,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO scans ({SCAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(tenant.as_str())
    .bind(scan.id.as_str())
    .bind(scan.project_id.to_string())
    .bind(attendance.to_string())
    .bind(scan.volunteer_id.to_string())
    .bind(direction.as_str())
    .bind(scan.token_id.as_deref())
    .bind(scan.scanned_at.unix_millis())
    .bind(scan.received_at.unix_millis())
    .bind(scan.scanned_by.to_string())
    .bind(i64::from(scan.offline))
    .execute(&mut *tx)
    .await
    .map_err(|error| scan_conflict(error.into()))?;
    Ok(())
}

/// The uniqueness a scan can break, as the rule it breaks.
fn scan_conflict(error: StoreError) -> StoreError {
    match error {
        StoreError::Unique(UniqueField::ScanId) => StoreError::Refused(Rule::ScanIdTaken),
        StoreError::Unique(UniqueField::CardToken) => StoreError::Refused(Rule::CardCodeReplayed),
        StoreError::Unique(UniqueField::Attendance) => StoreError::Refused(Rule::AlreadyCheckedIn),
        other => other,
    }
}

/// Ends an open attendance, at `ended_at` if it has one, with the scan that checked out if
/// one did; refused if it is closed already. On PostgreSQL the scan is written by the same
/// statement.
async fn close_attendance(
    tx: &mut AnyConnection,
    backend: Backend,
    tenant: &TenantCode,
    id: Uuid,
    ended_at: Option<Timestamp>,
    not_credited: Option<String>,
    scan: Option<&NewScan>,
) -> Result<Attendance, StoreError> {
    const CLOSE: &str = "UPDATE attendances SET checked_out_at = $3, outcome = $4, note = $5 \
        WHERE tenant_code = $1 AND id = $2 AND outcome IS NULL";
    let together = backend == Backend::Postgres && scan.is_some();
    let sql = if together {
        format!(
            "WITH scanned AS (INSERT INTO scans ({SCAN_COLUMNS}) \
               VALUES ($1, $6, $7, $2, $8, $9, $10, $11, $12, $13, $14)) \
             {CLOSE} RETURNING {ATTENDANCE_COLUMNS}"
        )
    } else {
        format!("{CLOSE} RETURNING {ATTENDANCE_COLUMNS}")
    };
    let mut query = sqlx::query(&sql)
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(ended_at.map(Timestamp::unix_millis))
        .bind(if not_credited.is_some() {
            "not_credited"
        } else {
            "credited"
        })
        .bind(not_credited);
    if let (true, Some(scan)) = (together, scan) {
        query = query
            .bind(scan.id.as_str())
            .bind(scan.project_id.to_string())
            .bind(scan.volunteer_id.to_string())
            .bind(ScanDirection::Out.as_str())
            .bind(scan.token_id.as_deref())
            .bind(scan.scanned_at.unix_millis())
            .bind(scan.received_at.unix_millis())
            .bind(scan.scanned_by.to_string())
            .bind(i64::from(scan.offline));
    }
    let row = query
        .fetch_optional(&mut *tx)
        .await
        .map_err(|error| scan_conflict(error.into()))?
        .ok_or(StoreError::Refused(Rule::AlreadyCheckedOut))?;
    let closed = attendance(&row)?;
    if let (false, Some(scan)) = (together, scan) {
        insert_scan(tx, tenant, scan, id, ScanDirection::Out).await?;
    }
    Ok(closed)
}

/// Appends an entry: refused if it overlaps an entry of the volunteer in force (other than
/// the one it replaces) or replaces an entry replaced already; the totals move by the
/// difference it makes. On PostgreSQL the volunteer's row is locked first, so that two
/// entries of one person take turns past the check for overlaps.
async fn append(
    tx: &mut AnyConnection,
    backend: Backend,
    tenant: &TenantCode,
    entry: &NewServiceRecord,
    actor: &Actor,
    at: Timestamp,
) -> Result<Appended, StoreError> {
    if backend == Backend::Postgres {
        sqlx::query(
            "SELECT id FROM volunteers WHERE tenant_code = $1 AND id = $2 FOR NO KEY UPDATE",
        )
        .bind(tenant.as_str())
        .bind(entry.volunteer_id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
    }
    let replaced = match entry.corrects {
        Some(id) => {
            let row = sqlx::query(&format!(
                "SELECT {RECORD_COLUMNS} FROM service_records r WHERE r.tenant_code = $1 AND r.id = $2"
            ))
            .bind(tenant.as_str())
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
            let replaced = service_record(&row)?;
            if !replaced.in_force() {
                return Err(StoreError::Refused(Rule::AlreadyCorrected));
            }
            Some(replaced)
        }
        None => None,
    };
    // What the totals lose: the replaced entry, under its own team, project and region.
    if let Some(old) = &replaced {
        let scopes = scopes(old.volunteer_id, old.team_id, old.project_id, &old.region);
        add_to_totals(tx, tenant, &scopes, -(old.minutes.get() as i64), -1).await?;
    }
    // The entry is written only if it overlaps no entry of the volunteer in force (but the
    // one it replaces); on PostgreSQL the totals move in the same statement, and only if it
    // was.
    let id = Uuid::now_v7();
    let insert = format!(
        "INSERT INTO service_records (tenant_code, id, volunteer_id, team_id, project_id, \
           shift_id, region_code, started_at, ended_at, minutes, content, kind, card, card_serial, \
           corrects, reason, recorded_at, recorded_by, recorded_by_name) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
           $19 WHERE $10 = 0 OR NOT EXISTS (SELECT 1 FROM service_records r \
             WHERE r.tenant_code = $1 AND r.volunteer_id = $3 AND r.started_at < $9 \
               AND r.ended_at > $8 AND r.minutes > 0 AND r.id <> COALESCE($15, '') \
               AND {IN_FORCE})"
    );
    let counted = scopes(
        entry.volunteer_id,
        entry.team_id,
        entry.project_id,
        &entry.region,
    );
    let sql = match backend {
        Backend::Postgres => format!(
            "WITH appended AS ({insert} RETURNING id) {}",
            totals_upsert(20, counted.len(), "appended")
        ),
        Backend::Sqlite => insert,
    };
    let mut query = sqlx::query(&sql)
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(entry.volunteer_id.to_string())
        .bind(entry.team_id.to_string())
        .bind(entry.project_id.map(|id| id.to_string()))
        .bind(entry.shift_id.map(|id| id.to_string()))
        .bind(entry.region.as_str())
        .bind(entry.started_at.unix_millis())
        .bind(entry.ended_at.unix_millis())
        .bind(entry.minutes.get() as i64)
        .bind(entry.content.as_str())
        .bind(entry.kind.as_str())
        .bind(entry.card.map(CardUse::as_str))
        .bind(entry.card_serial.map(|serial| serial as i64))
        .bind(entry.corrects.map(|id| id.to_string()))
        .bind(entry.reason.as_deref())
        .bind(at.unix_millis())
        .bind(recorded_by(actor))
        .bind(actor.name.as_str());
    let conflict = |error: sqlx::Error| match StoreError::from(error) {
        StoreError::Unique(UniqueField::Correction) => StoreError::Refused(Rule::AlreadyCorrected),
        other => other,
    };
    let volunteer_minutes = match backend {
        Backend::Postgres => {
            query = query
                .bind(entry.minutes.get() as i64)
                .bind(1i64)
                .bind(tenant.as_str());
            for (scope, id, slot) in &counted {
                query = query.bind(scope.as_str()).bind(id.as_str()).bind(*slot);
            }
            let rows = query.fetch_all(&mut *tx).await.map_err(conflict)?;
            if rows.is_empty() {
                return Err(StoreError::Refused(Rule::ServiceOverlaps));
            }
            volunteer_total(&rows)?
        }
        Backend::Sqlite => {
            let written = query.execute(&mut *tx).await.map_err(conflict)?;
            if written.rows_affected() == 0 {
                return Err(StoreError::Refused(Rule::ServiceOverlaps));
            }
            add_to_totals(tx, tenant, &counted, entry.minutes.get() as i64, 1).await?
        }
    };
    Ok(Appended {
        record: ServiceRecord {
            id,
            volunteer_id: entry.volunteer_id,
            team_id: entry.team_id,
            project_id: entry.project_id,
            shift_id: entry.shift_id,
            region: entry.region.clone(),
            started_at: entry.started_at,
            ended_at: entry.ended_at,
            minutes: entry.minutes,
            content: entry.content.clone(),
            kind: entry.kind,
            card: entry.card,
            card_serial: entry.card_serial,
            corrects: entry.corrects,
            reason: entry.reason.clone(),
            recorded_at: at,
            recorded_by: recorded_by(actor),
            recorded_by_name: actor.name.clone(),
            corrected_by: None,
            disputed: false,
        },
        volunteer_minutes,
    })
}

/// Who recorded an entry: their account, or the command for the node's own work.
fn recorded_by(actor: &Actor) -> String {
    actor
        .account_id
        .map_or_else(|| actor.name.clone(), |id| id.to_string())
}

/// The totals an entry counts in, each with its slot.
fn scopes(
    volunteer: Uuid,
    team: Uuid,
    project: Option<Uuid>,
    region: &RegionCode,
) -> Vec<(TotalsScope, String, i64)> {
    let slot = (volunteer.as_u128() % SLOTS) as i64;
    let mut scopes = vec![
        (TotalsScope::Volunteer, volunteer.to_string(), 0),
        (TotalsScope::Team, team.to_string(), slot),
        (TotalsScope::Region, region.as_str().to_owned(), slot),
    ];
    if let Some(project) = project {
        scopes.push((TotalsScope::Project, project.to_string(), slot));
    }
    scopes
}

/// The statement that moves the totals of `scopes` scopes by one entry's minutes: its
/// parameters from `$first` are the minutes, the entries, the tenant, then each scope's name,
/// id and slot; with `only_after`, it moves them only if that table expression has a row.
/// It answers each total after the move.
fn totals_upsert(first: usize, scopes: usize, only_after: &str) -> String {
    let (minutes, entries, tenant) = (first, first + 1, first + 2);
    let values: Vec<String> = (0..scopes)
        .map(|at| {
            let base = first + 3 + 3 * at;
            format!(
                "(${tenant}, ${base}, ${}, ${}, ${minutes}, ${entries})",
                base + 1,
                base + 2
            )
        })
        .collect();
    let source = if only_after.is_empty() {
        format!("VALUES {}", values.join(", "))
    } else {
        format!(
            "SELECT * FROM (VALUES {}) AS moved WHERE EXISTS (SELECT 1 FROM {only_after})",
            values.join(", ")
        )
    };
    format!(
        "INSERT INTO service_totals (tenant_code, scope, scope_id, slot, minutes, entries) \
         {source} \
         ON CONFLICT (tenant_code, scope, scope_id, slot) DO UPDATE \
         SET minutes = service_totals.minutes + excluded.minutes, \
             entries = service_totals.entries + excluded.entries \
         RETURNING scope, minutes"
    )
}

/// Moves the totals of every scope by one entry's minutes, in one statement; answers the
/// volunteer's total after it (the volunteer's row is their only one).
pub(crate) async fn add_to_totals(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    scopes: &[(TotalsScope, String, i64)],
    minutes: i64,
    entries: i64,
) -> Result<Minutes, StoreError> {
    let sql = totals_upsert(1, scopes.len(), "");
    let mut query = sqlx::query(&sql)
        .bind(minutes)
        .bind(entries)
        .bind(tenant.as_str());
    for (scope, id, slot) in scopes {
        query = query.bind(scope.as_str()).bind(id.as_str()).bind(*slot);
    }
    volunteer_total(&query.fetch_all(&mut *tx).await?)
}

/// The volunteer's total among the totals a move answers.
fn volunteer_total(rows: &[AnyRow]) -> Result<Minutes, StoreError> {
    let mut volunteer = Minutes::ZERO;
    for row in rows {
        if text(row, "scope")? == TotalsScope::Volunteer.as_str() {
            volunteer = Minutes::new(int(row, "minutes")?.max(0) as u64);
        }
    }
    Ok(volunteer)
}

async fn insert_notice(
    tx: &mut AnyConnection,
    tenant: &TenantCode,
    to: NoticeFor,
    kind: &str,
    detail: &Value,
    at: Timestamp,
) -> Result<(), StoreError> {
    let (volunteer, team) = match to {
        NoticeFor::Volunteer(id) => (Some(id.to_string()), None),
        NoticeFor::Team(id) => (None, Some(id.to_string())),
    };
    sqlx::query(
        "INSERT INTO notices (tenant_code, id, volunteer_id, team_id, kind, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant.as_str())
    .bind(Uuid::now_v7().to_string())
    .bind(volunteer)
    .bind(team)
    .bind(kind)
    .bind(detail.to_string())
    .bind(at.unix_millis())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub(crate) fn optional_timestamp(
    row: &AnyRow,
    column: &str,
) -> Result<Option<Timestamp>, StoreError> {
    Ok(sqlx::Row::try_get::<Option<i64>, _>(row, column)?.map(Timestamp::from_unix_millis))
}

fn optional_int(row: &AnyRow, column: &str) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::Row::try_get::<Option<i64>, _>(row, column)?)
}

fn card_holder(row: &AnyRow) -> Result<CardHolder, StoreError> {
    card_holder_at(row, "id")
}

/// A card holder from a row whose volunteer id is in the column `id`.
fn card_holder_at(row: &AnyRow, id: &str) -> Result<CardHolder, StoreError> {
    let number = text(row, "volunteer_number")?;
    Ok(CardHolder {
        id: uuid(row, id)?,
        account_id: optional_uuid(row, "account_id")?,
        volunteer_number: VolunteerNumber::parse(&number)
            .map_err(|_| StoreError::Corrupt(format!("volunteer number {number:?}")))?,
        name: text(row, "name")?,
        status: enumerated(row, "status", VolunteerStatus::from_db)?,
        star_level: StarLevel::new(int(row, "star_level")? as u8)
            .ok_or_else(|| StoreError::Corrupt("star level".into()))?,
        region: region_code(row, "region_code")?,
        verified_at: optional_timestamp(row, "decided_at")?,
    })
}

fn printed_card(row: &AnyRow) -> Result<PrintedCard, StoreError> {
    Ok(PrintedCard {
        serial: int(row, "serial")? as u64,
        volunteer_id: uuid(row, "volunteer_id")?,
        issued_at: timestamp(row, "issued_at")?,
        revoked_at: optional_timestamp(row, "revoked_at")?,
        revocation_reason: optional_text(row, "revocation_reason")?,
    })
}

fn attendance(row: &AnyRow) -> Result<Attendance, StoreError> {
    Ok(Attendance {
        id: uuid(row, "id")?,
        shift_id: uuid(row, "shift_id")?,
        project_id: uuid(row, "project_id")?,
        volunteer_id: uuid(row, "volunteer_id")?,
        checked_in_at: timestamp(row, "checked_in_at")?,
        checked_out_at: optional_timestamp(row, "checked_out_at")?,
        card: enumerated(row, "card", CardUse::from_db)?,
        card_serial: optional_int(row, "card_serial")?.map(|serial| serial as u64),
        credited: optional_text(row, "outcome")?.map(|outcome| outcome == "credited"),
        note: optional_text(row, "note")?,
    })
}

pub(crate) fn service_record(row: &AnyRow) -> Result<ServiceRecord, StoreError> {
    Ok(ServiceRecord {
        id: uuid(row, "id")?,
        volunteer_id: uuid(row, "volunteer_id")?,
        team_id: uuid(row, "team_id")?,
        project_id: optional_uuid(row, "project_id")?,
        shift_id: optional_uuid(row, "shift_id")?,
        region: region_code(row, "region_code")?,
        started_at: timestamp(row, "started_at")?,
        ended_at: timestamp(row, "ended_at")?,
        minutes: Minutes::new(int(row, "minutes")?.max(0) as u64),
        content: text(row, "content")?,
        kind: enumerated(row, "kind", ServiceRecordKind::from_db)?,
        card: optional_text(row, "card")?
            .map(|card| {
                CardUse::from_db(&card).ok_or_else(|| StoreError::Corrupt(format!("card {card:?}")))
            })
            .transpose()?,
        card_serial: optional_int(row, "card_serial")?.map(|serial| serial as u64),
        corrects: optional_uuid(row, "corrects")?,
        reason: optional_text(row, "reason")?,
        recorded_at: timestamp(row, "recorded_at")?,
        recorded_by: text(row, "recorded_by")?,
        recorded_by_name: text(row, "recorded_by_name")?,
        corrected_by: optional_uuid(row, "corrected_by")?,
        disputed: int(row, "disputed")? > 0,
    })
}

fn dispute(row: &AnyRow) -> Result<Dispute, StoreError> {
    Ok(Dispute {
        id: uuid(row, "id")?,
        record_id: uuid(row, "record_id")?,
        volunteer_id: uuid(row, "volunteer_id")?,
        team_id: uuid(row, "team_id")?,
        status: enumerated(row, "status", DisputeStatus::from_db)?,
        claim: text(row, "claim")?,
        claimed_minutes: optional_int(row, "claimed_minutes")?
            .map(|minutes| Minutes::new(minutes.max(0) as u64)),
        answer: optional_text(row, "answer")?,
        answered_at: optional_timestamp(row, "answered_at")?,
        settlement: optional_text(row, "settlement")?,
        settled_at: optional_timestamp(row, "settled_at")?,
        opened_at: timestamp(row, "opened_at")?,
    })
}

pub(crate) fn certificate(row: &AnyRow) -> Result<ServiceCertificate, StoreError> {
    Ok(ServiceCertificate {
        id: uuid(row, "id")?,
        number: optional_text(row, "number")?
            .map(|number| {
                CertificateNumber::parse(&number)
                    .map_err(|_| StoreError::Corrupt(format!("certificate number {number:?}")))
            })
            .transpose()?,
        volunteer_id: uuid(row, "volunteer_id")?,
        team_id: optional_uuid(row, "team_id")?,
        period_from: timestamp(row, "period_from")?,
        period_to: timestamp(row, "period_to")?,
        purpose: optional_text(row, "purpose")?,
        status: enumerated(row, "status", CertificateStatus::from_db)?,
        requested_at: timestamp(row, "requested_at")?,
        facts: optional_text(row, "facts")?
            .map(|facts| {
                serde_json::from_str(&facts)
                    .map_err(|_| StoreError::Corrupt("certificate facts".into()))
            })
            .transpose()?,
        issued_at: optional_timestamp(row, "issued_at")?,
        revoked_at: optional_timestamp(row, "revoked_at")?,
        revocation_reason: optional_text(row, "revocation_reason")?,
    })
}
