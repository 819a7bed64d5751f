//! Time on the ground (R2, R15, R19): the volunteer's card, scanning in and out, the service
//! records it makes and those people enter, correct and dispute, the totals, and the star
//! levels they earn.
//!
//! Whoever organises records (谁组织谁记录): an entry belongs to the team whose project it was,
//! and only that team's admins enter or correct its entries; the volunteer disputes, the team
//! answers, the office settles.

use std::sync::Arc;

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use zhiyuan_domain::ports::{Hook, Policy, PolicyError, ServiceRecordFacts, ServiceSummary};
use zhiyuan_domain::{
    CARD_CODE_SECONDS, CardKind, CardToken, EnrollmentStatus, GrantKind, InvalidInput, Minutes,
    Principal, Rule, ScanDirection, Scope, ServiceRecordKind, TenantCode, Timestamp, TotalsScope,
    VolunteerStatus, parse_instant,
};
use zhiyuan_store::{
    Appended, Attendance, CardHolder, NewScan, NewServiceRecord, NoticeFor, Place, ProjectRecord,
    RecordsOf, ServiceRecord, Settlement, ShiftRecord,
};

use crate::projects::{parse_reason, runs};
use crate::views::{
    AttendanceView, CardHolderView, DisputeView, NoticeView, PrintedCardView, ScanBatchView,
    ScanOutcome, ScanResultView, ScanView, ServiceHistoryView, ServiceRecordView, TotalsView,
    VolunteerCardView,
};
use crate::volunteers::own_record;
use crate::{App, AppError, ask};

/// How far back an offline scan may be uploaded.
const OFFLINE_DAYS: i64 = 7;
/// Scans in one upload.
const BATCH_LIMIT: usize = 1000;

/// A scan as the scanner's device sends it online: the server's clock times it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// Drawn by the device; the same id sent again is the same scan.
    pub scan_id: Uuid,
    /// The text of the card's QR code.
    pub code: String,
    /// Check in or out; without it, the first scan of a shift checks in and the second out.
    pub direction: Option<ScanDirection>,
}

/// A scan made offline, uploaded later with the device's time.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineScan {
    pub scan_id: Uuid,
    pub code: String,
    pub direction: Option<ScanDirection>,
    /// When the device scanned the card (RFC 3339).
    pub scanned_at: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanBatch {
    pub scans: Vec<OfflineScan>,
}

/// A team admin's entry of service that no scan recorded.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualEntryRequest {
    pub volunteer_id: Uuid,
    /// The team's project it was for, if any.
    pub project_id: Option<Uuid>,
    pub started_at: String,
    pub ended_at: String,
    /// Minutes to credit; the whole span if not given.
    pub minutes: Option<u64>,
    /// What the service was.
    pub content: String,
    pub reason: String,
}

/// A correction: the entry's replacement, with a reason. Zero minutes void the entry.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// The corrected start and end; the entry's own if not given.
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub minutes: u64,
    pub reason: String,
}

/// A volunteer's dispute of an entry.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeRequest {
    /// What is wrong with it.
    pub claim: String,
    /// The minutes the volunteer believes they served, if that is the question.
    pub claimed_minutes: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeAnswerRequest {
    pub answer: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettlementDecision {
    /// For the volunteer: a settlement entry of `minutes` replaces the disputed one.
    Uphold,
    /// The entry stands.
    Dismiss,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementRequest {
    pub decision: SettlementDecision,
    pub reason: String,
    /// For an upheld dispute: the minutes that stand.
    pub minutes: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevocationRequest {
    pub reason: String,
}

/// The card a verified volunteer's app shows: a code signed by the tenant that stands for a
/// minute (and two more of clock skew), scanned once.
pub async fn card(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
) -> Result<VolunteerCardView, AppError> {
    let record = own_record(app, principal, tenant).await?;
    let (VolunteerStatus::Verified, Some(number)) = (record.status, record.volunteer_number) else {
        return Err(AppError::WrongState(Rule::VolunteerNotVerified));
    };
    let holder = app.store.card_holder(tenant, &number).await?;
    let now = app.clock.now();
    // Whole seconds: the code's times are CWT NumericDates.
    let issued_at = Timestamp::from_unix_millis(now.unix_millis() / 1000 * 1000);
    let expires_at = issued_at.plus_seconds(CARD_CODE_SECONDS);
    let claims = CardToken {
        tenant: tenant.clone(),
        volunteer_number: number.clone(),
        issued_at,
        kind: CardKind::App {
            token_id: hex::encode(rand::random::<[u8; 4]>()),
            expires_at,
        },
    };
    let code = app.cards.seal(&claims).map_err(AppError::Internal)?;
    Ok(VolunteerCardView {
        volunteer_number: number,
        name: record.name,
        tenant: tenant.clone(),
        star_level: holder.star_level,
        code,
        issued_at,
        expires_at,
        refresh_after_seconds: CARD_CODE_SECONDS as u64 - 10,
    })
}

/// How a card's QR is drawn.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QrFormat {
    #[default]
    Svg,
    Png,
}

/// The card's current code as a QR image, for an app that draws none itself: the media type
/// and the image.
pub async fn card_qr(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    format: QrFormat,
) -> Result<(&'static str, Vec<u8>), AppError> {
    let card = card(app, principal, tenant).await?;
    Ok(match format {
        QrFormat::Svg => (
            "image/svg+xml",
            zhiyuan_forms::qr::svg(&card.code)
                .map_err(AppError::Internal)?
                .into_bytes(),
        ),
        QrFormat::Png => (
            "image/png",
            zhiyuan_forms::qr::png(&card.code, 8).map_err(AppError::Internal)?,
        ),
    })
}

/// The office issues a printed card to a volunteer without a phone; one issued before is
/// revoked with it.
pub async fn issue_printed_card(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    volunteer_id: Uuid,
) -> Result<PrintedCardView, AppError> {
    let holder = app.store.card_holder_by_id(tenant, volunteer_id).await?;
    if holder.status != VolunteerStatus::Verified {
        return Err(AppError::WrongState(Rule::VolunteerNotVerified));
    }
    let now = app.clock.now();
    let card = app
        .store
        .issue_printed_card(tenant, volunteer_id, &principal.actor(), now)
        .await?;
    let claims = CardToken {
        tenant: tenant.clone(),
        volunteer_number: holder.volunteer_number.clone(),
        issued_at: Timestamp::from_unix_millis(card.issued_at.unix_millis() / 1000 * 1000),
        kind: CardKind::Printed {
            serial: card.serial,
        },
    };
    let code = app.cards.seal(&claims).map_err(AppError::Internal)?;
    Ok(PrintedCardView {
        serial: card.serial,
        volunteer_number: holder.volunteer_number,
        name: holder.name,
        qr_svg: zhiyuan_forms::qr::svg(&code).map_err(AppError::Internal)?,
        code,
        issued_at: card.issued_at,
    })
}

/// The office revokes a lost printed card by its serial.
pub async fn revoke_printed_card(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    serial: u64,
    request: RevocationRequest,
) -> Result<(), AppError> {
    let reason = parse_reason(Some(request.reason), true, "/reason")?.unwrap_or_default();
    app.store
        .revoke_printed_card(tenant, serial, &reason, &principal.actor(), app.clock.now())
        .await?;
    Ok(())
}

/// Whether the principal may scan cards for the project: those who run it and its scanners.
pub async fn may_scan(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    project_id: Uuid,
) -> Result<(), AppError> {
    scanned_project(app, principal, tenant, project_id)
        .await
        .map(|_| ())
}

/// A project read with what a scan of it needs to know, and whether the principal may scan.
async fn scanned_project(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    project_id: Uuid,
) -> Result<ProjectRecord, AppError> {
    let project = app.store.project_at_once(tenant, project_id).await?;
    if !(runs(principal, tenant, &project)
        || principal.holds(GrantKind::Scanner, Scope::Project(project.id), tenant))
    {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    Ok(project)
}

/// The project's scanner scans a card, online: the first scan of a shift checks in, the
/// second checks out. The same scan id sent again answers what it did the first time.
pub async fn scan(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    project_id: Uuid,
    request: ScanRequest,
) -> Result<ScanView, AppError> {
    let project = scanned_project(app, principal, tenant, project_id).await?;
    let now = app.clock.now();
    let scan = Scan {
        id: request.scan_id,
        code: &request.code,
        direction: request.direction,
        at: now,
        offline: false,
        field: String::new(),
    };
    process(app, principal, tenant, &project, &scan, now).await
}

/// Scans made offline, uploaded as a batch: each is checked again as if scanned at the
/// device's time, in the order they were made; each answers for itself, and a batch uploaded
/// twice counts once.
pub async fn upload_scans(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    project_id: Uuid,
    batch: ScanBatch,
) -> Result<ScanBatchView, AppError> {
    if batch.scans.is_empty() || batch.scans.len() > BATCH_LIMIT {
        return Err(InvalidInput::new("/scans", Rule::ScanBatchSize).into());
    }
    let project = scanned_project(app, principal, tenant, project_id).await?;
    let now = app.clock.now();
    let earliest = now.plus_seconds(-OFFLINE_DAYS * 24 * 3600);
    let latest = now.plus_seconds(zhiyuan_domain::CARD_CLOCK_SKEW_SECONDS);
    let mut timed = Vec::with_capacity(batch.scans.len());
    let mut results = Vec::with_capacity(batch.scans.len());
    for (index, scan) in batch.scans.iter().enumerate() {
        let field = format!("/scans/{index}/scanned_at");
        match parse_instant(&scan.scanned_at, &field) {
            Ok(at) if at >= earliest && at <= latest => timed.push((at, index)),
            Ok(_) => results.push((
                index,
                refusal(
                    scan.scan_id,
                    InvalidInput::new(field, Rule::ScanTime).into(),
                ),
            )),
            Err(invalid) => results.push((index, refusal(scan.scan_id, invalid.into()))),
        }
    }
    timed.sort();
    for (at, index) in timed {
        let offline = &batch.scans[index];
        let scan = Scan {
            id: offline.scan_id,
            code: &offline.code,
            direction: offline.direction,
            at,
            offline: true,
            field: format!("/scans/{index}"),
        };
        let result = match process(app, principal, tenant, &project, &scan, now).await {
            Ok(view) => ScanResultView {
                scan_id: offline.scan_id,
                outcome: view.outcome,
                scan: Some(view),
                problem: None,
            },
            Err(AppError::Internal(cause)) => return Err(AppError::Internal(cause)),
            Err(error) => refusal(offline.scan_id, error),
        };
        results.push((index, result));
    }
    results.sort_by_key(|(index, _)| *index);
    let results: Vec<ScanResultView> = results.into_iter().map(|(_, result)| result).collect();
    Ok(ScanBatchView {
        counted: results
            .iter()
            .filter(|result| {
                matches!(
                    result.outcome,
                    ScanOutcome::CheckedIn | ScanOutcome::CheckedOut
                )
            })
            .count() as u32,
        duplicates: results
            .iter()
            .filter(|result| result.outcome == ScanOutcome::Duplicate)
            .count() as u32,
        refused: results
            .iter()
            .filter(|result| result.outcome == ScanOutcome::Refused)
            .count() as u32,
        results,
    })
}

fn refusal(scan_id: Uuid, error: AppError) -> ScanResultView {
    ScanResultView {
        scan_id,
        outcome: ScanOutcome::Refused,
        scan: None,
        problem: Some(crate::views::ScanProblem::of(&error)),
    }
}

struct Scan<'a> {
    id: Uuid,
    code: &'a str,
    direction: Option<ScanDirection>,
    /// When the card was scanned.
    at: Timestamp,
    offline: bool,
    /// Where in the request the scan is, for the fields of its problems.
    field: String,
}

async fn process(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    project: &ProjectRecord,
    scan: &Scan<'_>,
    now: Timestamp,
) -> Result<ScanView, AppError> {
    let code_field = format!("{}/code", scan.field);
    let card_error = |rule: Rule| AppError::from(InvalidInput::new(code_field.clone(), rule));
    // The card is opened first for the number the read needs; what is wrong with it is told
    // only if this is not the same scan again, which answers what it did the first time.
    let opened = app.cards.open(tenant, scan.code);
    let context = app
        .store
        .scan_context(
            tenant,
            &scan.id.to_string(),
            opened.as_ref().ok().map(|claims| &claims.volunteer_number),
            project.id,
        )
        .await?;
    if let Some(done) = &context.done {
        if done.project_id != project.id {
            return Err(
                InvalidInput::new(format!("{}/scan_id", scan.field), Rule::ScanIdTaken).into(),
            );
        }
        return duplicate(app, tenant, project, &done.attendance_id, scan.id).await;
    }
    let claims = opened.map_err(card_error)?;
    claims.check_time(scan.at).map_err(card_error)?;
    let holder = context
        .holder
        .clone()
        .filter(|holder| holder.status == VolunteerStatus::Verified)
        .ok_or_else(|| card_error(Rule::CardVolunteerUnknown))?;
    let (token_id, card_serial) = match &claims.kind {
        CardKind::App { token_id, .. } => (Some(token_id.clone()), None),
        CardKind::Printed { serial } => {
            let card = app
                .store
                .printed_card(tenant, *serial)
                .await
                .map_err(|_| card_error(Rule::CardRevoked))?;
            if card.volunteer_id != holder.id || card.revoked_at.is_some() {
                return Err(card_error(Rule::CardRevoked));
            }
            (None, Some(*serial))
        }
    };
    let (shift, attendance, same_day) = shift_of_scan(project, context.places, scan.at)?;
    let direction = match (scan.direction, &attendance) {
        (Some(direction), _) => direction,
        (None, None) => ScanDirection::In,
        (None, Some(_)) => ScanDirection::Out,
    };
    let new_scan = NewScan {
        id: scan.id.to_string(),
        project_id: project.id,
        shift_id: shift.id,
        volunteer_id: holder.id,
        token_id,
        card: claims.card_use(),
        card_serial,
        scanned_at: scan.at,
        received_at: now,
        scanned_by: principal.account_id,
        offline: scan.offline,
    };
    let written = match (direction, attendance) {
        (ScanDirection::In, None) => app
            .store
            .check_in(tenant, &new_scan)
            .await
            .map(|attendance| (attendance, None)),
        (ScanDirection::In, Some(attendance)) => {
            return Err(AppError::WrongState(if attendance.credited.is_none() {
                Rule::AlreadyCheckedIn
            } else {
                Rule::AlreadyCheckedOut
            }));
        }
        (ScanDirection::Out, None) => {
            return Err(AppError::WrongState(Rule::CheckOutWithoutCheckIn));
        }
        (ScanDirection::Out, Some(attendance)) if attendance.credited.is_some() => {
            return Err(AppError::WrongState(Rule::AlreadyCheckedOut));
        }
        (ScanDirection::Out, Some(attendance)) => {
            let policy = app.policies.for_tenant(tenant);
            let credit = credit(
                policy,
                project,
                &shift,
                &attendance,
                scan.at,
                true,
                same_day,
            )
            .await?;
            app.store
                .check_out(tenant, &new_scan, attendance.id, credit, &principal.actor())
                .await
        }
    };
    let (attendance, appended) = match written {
        Ok(written) => written,
        // The same scan id raced in from another upload: it is the same scan.
        Err(zhiyuan_store::StoreError::Refused(Rule::ScanIdTaken)) => {
            let done = app.store.scan(tenant, &scan.id.to_string()).await?;
            if done.project_id != project.id {
                return Err(InvalidInput::new(
                    format!("{}/scan_id", scan.field),
                    Rule::ScanIdTaken,
                )
                .into());
            }
            return duplicate(app, tenant, project, &done.attendance_id, scan.id).await;
        }
        Err(zhiyuan_store::StoreError::Refused(Rule::CardCodeReplayed)) => {
            return Err(card_error(Rule::CardCodeReplayed));
        }
        Err(error) => return Err(error.into()),
    };
    if let Some(appended) = &appended {
        update_star_level(app, tenant, &holder, appended, principal).await?;
    }
    Ok(scan_view(
        scan.id,
        match direction {
            ScanDirection::In => ScanOutcome::CheckedIn,
            ScanDirection::Out => ScanOutcome::CheckedOut,
        },
        &holder,
        attendance,
        appended.map(|appended| appended.record.minutes),
    ))
}

async fn duplicate(
    app: &App,
    tenant: &TenantCode,
    project: &ProjectRecord,
    attendance: &Uuid,
    scan_id: Uuid,
) -> Result<ScanView, AppError> {
    let attendance = app.store.attendance_by_id(tenant, *attendance).await?;
    let holder = app
        .store
        .card_holder_by_id(tenant, attendance.volunteer_id)
        .await?;
    let credited = match attendance.credited {
        Some(true) => app
            .store
            .service_records(tenant, RecordsOf::Volunteer(holder.id), true, None)
            .await?
            .into_iter()
            .find(|entry| {
                entry.shift_id == Some(attendance.shift_id) && entry.project_id == Some(project.id)
            })
            .map(|entry| entry.minutes),
        _ => None,
    };
    Ok(scan_view(
        scan_id,
        ScanOutcome::Duplicate,
        &holder,
        attendance,
        credited,
    ))
}

fn scan_view(
    scan_id: Uuid,
    outcome: ScanOutcome,
    holder: &CardHolder,
    attendance: Attendance,
    credited_minutes: Option<Minutes>,
) -> ScanView {
    ScanView {
        scan_id,
        outcome,
        volunteer: CardHolderView {
            volunteer_number: holder.volunteer_number.clone(),
            name: holder.name.clone(),
            star_level: holder.star_level,
        },
        attendance: attendance_view(attendance),
        credited_minutes,
    }
}

pub(crate) fn attendance_view(attendance: Attendance) -> AttendanceView {
    AttendanceView {
        id: attendance.id,
        shift_id: attendance.shift_id,
        volunteer_id: attendance.volunteer_id,
        checked_in_at: attendance.checked_in_at,
        checked_out_at: attendance.checked_out_at,
        card: attendance.card,
        card_serial: attendance.card_serial,
        credited: attendance.credited,
        note: attendance.note,
    }
}

/// The shift of the project the volunteer holds a place in whose check-in window holds `at`,
/// with their attendance of it if any and what they served on its day: refused if they hold
/// none, or none is open to check-in then.
fn shift_of_scan(
    project: &ProjectRecord,
    places: Vec<Place>,
    at: Timestamp,
) -> Result<(ShiftRecord, Option<Attendance>, Minutes), AppError> {
    if places.is_empty() {
        return Err(AppError::WrongState(Rule::NotEnrolled));
    }
    let minute = 60_000;
    let shift = project
        .shifts
        .iter()
        .filter(|shift| places.iter().any(|place| place.shift_id == shift.id))
        .filter(|shift| {
            let opens =
                shift.starts_at.unix_millis() - i64::from(shift.check_in_before_minutes) * minute;
            let closes =
                shift.ends_at.unix_millis() + i64::from(shift.check_in_after_minutes) * minute;
            (opens..=closes).contains(&at.unix_millis())
        })
        // Of two windows that meet, the shift nearest in time.
        .min_by_key(|shift| (shift.starts_at.unix_millis() - at.unix_millis()).abs())
        .cloned()
        .ok_or(AppError::WrongState(Rule::ScanOutsideWindow))?;
    let place = places
        .into_iter()
        .find(|place| place.shift_id == shift.id)
        .ok_or(AppError::WrongState(Rule::NotEnrolled))?;
    Ok((shift, place.attendance, place.same_day_minutes))
}

/// What an attendance earns, as the tenant's service-record rule says: the time within the
/// shift, or why it earns nothing. `same_day` is what the volunteer served, in entries in
/// force, on the day its time starts.
async fn credit(
    policy: Arc<dyn Policy>,
    project: &ProjectRecord,
    shift: &ShiftRecord,
    attendance: &Attendance,
    ended_at: Timestamp,
    checked_out: bool,
    same_day: Minutes,
) -> Result<Result<NewServiceRecord, String>, AppError> {
    let started = attendance.checked_in_at.max(shift.starts_at);
    let ended = ended_at.min(shift.ends_at);
    let Some(minutes) = Minutes::between(started.unix_millis(), ended.unix_millis()) else {
        return Ok(Err("no time within the shift".to_owned()));
    };
    let facts = ServiceRecordFacts {
        started_at: started.unix_millis(),
        ended_at: ended.unix_millis(),
        shift: Some((shift.starts_at.unix_millis(), shift.ends_at.unix_millis())),
        same_day_minutes: same_day,
        checked_out,
    };
    match ask(policy, Hook::ServiceRecord, move |policy| {
        policy.check_service_record(&facts)
    })
    .await?
    {
        Ok(()) => Ok(Ok(NewServiceRecord {
            volunteer_id: attendance.volunteer_id,
            team_id: project.team_id,
            project_id: Some(project.id),
            shift_id: Some(shift.id),
            region: project.region.clone(),
            started_at: started,
            ended_at: ended,
            minutes,
            content: project.title.clone(),
            kind: if checked_out {
                ServiceRecordKind::Scan
            } else {
                ServiceRecordKind::MissingCheckOut
            },
            card: Some(attendance.card),
            card_serial: attendance.card_serial,
            corrects: None,
            reason: None,
        })),
        Err(PolicyError::Violation(violation)) => {
            Ok(Err(format!("{}: {}", violation.code, violation.message_en)))
        }
        Err(PolicyError::Failed(failure)) => Err(AppError::PluginFailed(failure)),
    }
}

/// The day (China Standard Time) an instant falls on, as a span of instants.
fn day_of(at: Timestamp) -> (Timestamp, Timestamp) {
    const DAY: i64 = 24 * 3600 * 1000;
    const SHANGHAI: i64 = 8 * 3600 * 1000;
    let start = (at.unix_millis() + SHANGHAI).div_euclid(DAY) * DAY - SHANGHAI;
    (
        Timestamp::from_unix_millis(start),
        Timestamp::from_unix_millis(start + DAY),
    )
}

/// Sets the volunteer's star level from their total after an entry, through the tenant's
/// star-level rule; a change is an event the volunteer sees.
async fn update_star_level(
    app: &App,
    tenant: &TenantCode,
    holder: &CardHolder,
    appended: &Appended,
    principal: &Principal,
) -> Result<(), AppError> {
    update_star_level_to(
        app,
        tenant,
        holder,
        appended.volunteer_minutes,
        &principal.actor(),
    )
    .await
}

/// Sets a volunteer's star level from their total as it stands (after a transfer brought
/// hours), through the tenant's star-level rule.
pub(crate) async fn update_star_level_of(
    app: &App,
    tenant: &TenantCode,
    volunteer: uuid::Uuid,
) -> Result<(), AppError> {
    let holder = app.store.card_holder_by_id(tenant, volunteer).await?;
    let total = app
        .store
        .service_totals(tenant, TotalsScope::Volunteer, &volunteer.to_string())
        .await?
        .minutes;
    update_star_level_to(
        app,
        tenant,
        &holder,
        total,
        &zhiyuan_domain::Actor::system("transfer"),
    )
    .await
}

async fn update_star_level_to(
    app: &App,
    tenant: &TenantCode,
    holder: &CardHolder,
    total: Minutes,
    actor: &zhiyuan_domain::Actor,
) -> Result<(), AppError> {
    let now = app.clock.now();
    let summary = ServiceSummary {
        service_minutes: total,
        registered_on: holder.verified_at.unwrap_or(now).shanghai_date(),
        as_of: now.shanghai_date(),
    };
    let policy = app.policies.for_tenant(tenant);
    let level = ask(policy, Hook::StarLevel, move |policy| {
        policy.star_level(&summary)
    })
    .await?
    .map_err(AppError::PluginFailed)?;
    if level == holder.star_level {
        return Ok(());
    }
    app.store
        .set_star_level(tenant, holder.id, level, total, actor, now)
        .await?;
    Ok(())
}

/// Closes the attendances whose check-out never came, once their shift's check-in window has
/// closed: credited or not as the tenant's service-record rule says (the built-in rule credits
/// nothing), with a notice to the team. Run by the node's maintenance; answers how many.
pub async fn settle_missing_check_outs(app: &App) -> Result<usize, AppError> {
    let now = app.clock.now();
    let open = app.store.open_attendances_before(now, 500).await?;
    let actor = zhiyuan_domain::Actor::system("maintenance");
    let mut settled = 0;
    for (tenant, attendance) in open {
        let project = app.store.project(&tenant, attendance.project_id).await?;
        let Some(shift) = project
            .shifts
            .iter()
            .find(|shift| shift.id == attendance.shift_id)
        else {
            continue;
        };
        let day = day_of(attendance.checked_in_at.max(shift.starts_at));
        let same_day = app
            .store
            .minutes_between(&tenant, attendance.volunteer_id, day.0, day.1)
            .await?;
        let policy = app.policies.for_tenant(&tenant);
        let credit = credit(
            policy,
            &project,
            shift,
            &attendance,
            shift.ends_at,
            false,
            same_day,
        )
        .await?;
        match app
            .store
            .settle_missing_check_out(&tenant, attendance.id, project.team_id, credit, &actor, now)
            .await
        {
            Ok((_, appended)) => {
                settled += 1;
                if let Some(appended) = appended {
                    let holder = app
                        .store
                        .card_holder_by_id(&tenant, attendance.volunteer_id)
                        .await?;
                    update_star_level_to(app, &tenant, &holder, appended.volunteer_minutes, &actor)
                        .await?;
                }
            }
            // Checked out meanwhile.
            Err(zhiyuan_store::StoreError::Refused(Rule::AlreadyCheckedOut)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(settled)
}

/// Those who see a project's attendances: those who run or scan it, the office and auditors.
pub async fn attendances(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    project_id: Uuid,
) -> Result<Vec<AttendanceView>, AppError> {
    let project = app.store.project(tenant, project_id).await?;
    if !(runs(principal, tenant, &project)
        || principal.holds(GrantKind::Scanner, Scope::Project(project.id), tenant)
        || office_reader(principal, tenant))
    {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    Ok(app
        .store
        .attendances_of_project(tenant, project_id)
        .await?
        .into_iter()
        .map(attendance_view)
        .collect())
}

fn office_reader(principal: &Principal, tenant: &TenantCode) -> bool {
    [
        GrantKind::OfficeAdmin,
        GrantKind::Auditor,
        GrantKind::Operator,
    ]
    .into_iter()
    .any(|kind| principal.holds_in(kind, Some(tenant)))
}

fn team_admin(principal: &Principal, tenant: &TenantCode, team: Uuid) -> bool {
    principal.holds(GrantKind::TeamAdmin, Scope::Team(team), tenant)
}

pub(crate) fn record_view(entry: ServiceRecord) -> ServiceRecordView {
    ServiceRecordView {
        in_force: entry.in_force(),
        id: entry.id,
        volunteer_id: entry.volunteer_id,
        team_id: entry.team_id,
        project_id: entry.project_id,
        shift_id: entry.shift_id,
        region: entry.region,
        started_at: entry.started_at,
        ended_at: entry.ended_at,
        minutes: entry.minutes,
        content: entry.content,
        kind: entry.kind,
        card: entry.card,
        card_serial: entry.card_serial,
        corrects: entry.corrects,
        corrected_by: entry.corrected_by,
        reason: entry.reason,
        recorded_at: entry.recorded_at,
        recorded_by: entry.recorded_by_name,
        disputed: entry.disputed,
    }
}

/// Minutes given for an entry: more than none, at most the span. `allow_zero` for a
/// correction that voids.
fn parse_minutes(
    minutes: Option<u64>,
    started_at: Timestamp,
    ended_at: Timestamp,
    allow_zero: bool,
    field: &str,
) -> Result<Minutes, AppError> {
    let span = Minutes::between(started_at.unix_millis(), ended_at.unix_millis())
        .ok_or_else(|| InvalidInput::new("/ended_at", Rule::EndsBeforeStart))?;
    let minutes = minutes.map_or(span, Minutes::new);
    if minutes > span || (minutes == Minutes::ZERO && !allow_zero) {
        return Err(InvalidInput::new(field, Rule::ServiceMinutes).into());
    }
    Ok(minutes)
}

/// Checks an entry people made against the tenant's service-record rule (a day's limit).
async fn check_entry(
    app: &App,
    tenant: &TenantCode,
    entry: &NewServiceRecord,
) -> Result<(), AppError> {
    if entry.minutes == Minutes::ZERO {
        return Ok(());
    }
    let day = day_of(entry.started_at);
    let same_day = app
        .store
        .minutes_between(tenant, entry.volunteer_id, day.0, day.1)
        .await?;
    // The entry it replaces no longer counts toward the day.
    let replaced = match entry.corrects {
        Some(id) => {
            let old = app.store.service_record(tenant, id).await?;
            if day_of(old.started_at) == day {
                old.minutes
            } else {
                Minutes::ZERO
            }
        }
        None => Minutes::ZERO,
    };
    let facts = ServiceRecordFacts {
        started_at: entry.started_at.unix_millis(),
        ended_at: entry.ended_at.unix_millis(),
        shift: None,
        same_day_minutes: Minutes::new(same_day.get().saturating_sub(replaced.get())),
        checked_out: true,
    };
    let policy = app.policies.for_tenant(tenant);
    ask(policy, Hook::ServiceRecord, move |policy| {
        policy.check_service_record(&facts)
    })
    .await??;
    Ok(())
}

async fn appended_and_levelled(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    appended: Appended,
) -> Result<ServiceRecordView, AppError> {
    let holder = app
        .store
        .card_holder_by_id(tenant, appended.record.volunteer_id)
        .await?;
    update_star_level(app, tenant, &holder, &appended, principal).await?;
    Ok(record_view(appended.record))
}

/// A team's admin enters service no scan recorded, with a reason, for a member of the team
/// or someone who held a place in the named project.
pub async fn record_service(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    team_id: Uuid,
    request: ManualEntryRequest,
) -> Result<ServiceRecordView, AppError> {
    if !team_admin(principal, tenant, team_id) {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    let reason = parse_reason(Some(request.reason), true, "/reason")?.unwrap_or_default();
    let content = request.content.trim().to_owned();
    zhiyuan_domain::check_text(&content, 200, "/content")?;
    if content.is_empty() {
        return Err(InvalidInput::new("/content", Rule::NameEmpty).into());
    }
    let started_at = parse_instant(&request.started_at, "/started_at")?;
    let ended_at = parse_instant(&request.ended_at, "/ended_at")?;
    let minutes = parse_minutes(request.minutes, started_at, ended_at, false, "/minutes")?;
    if ended_at > app.clock.now() {
        return Err(InvalidInput::new("/ended_at", Rule::ServiceInFuture).into());
    }
    let team = app.store.team(tenant, team_id).await?;
    let (project, region) = match request.project_id {
        Some(project_id) => {
            let project = app
                .store
                .project(tenant, project_id)
                .await
                .map_err(|error| {
                    AppError::unknown("/project_id", Rule::GrantTargetUnknown)(error.into())
                })?;
            if project.team_id != team_id {
                return Err(InvalidInput::new("/project_id", Rule::GrantTargetUnknown).into());
            }
            let region = project.region.clone();
            (Some(project), region)
        }
        None => (None, team.region.clone()),
    };
    let enrolled = match &project {
        Some(project) => app
            .store
            .enrollments_of_volunteer(tenant, request.volunteer_id)
            .await?
            .iter()
            .any(|enrollment| {
                enrollment.project_id == project.id
                    && enrollment.status == EnrollmentStatus::Accepted
            }),
        None => false,
    };
    if !enrolled {
        crate::teams::member_account(app, tenant, team_id, request.volunteer_id).await?;
    }
    let entry = NewServiceRecord {
        volunteer_id: request.volunteer_id,
        team_id,
        project_id: project.as_ref().map(|project| project.id),
        shift_id: None,
        region,
        started_at,
        ended_at,
        minutes,
        content,
        kind: ServiceRecordKind::Manual,
        card: None,
        card_serial: None,
        corrects: None,
        reason: Some(reason),
    };
    check_entry(app, tenant, &entry).await?;
    let appended = app
        .store
        .record_service(tenant, &entry, &principal.actor(), app.clock.now())
        .await?;
    appended_and_levelled(app, principal, tenant, appended).await
}

/// The team that recorded an entry corrects it: a new entry replaces it, with a reason.
pub async fn correct(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    record_id: Uuid,
    request: CorrectionRequest,
) -> Result<ServiceRecordView, AppError> {
    let entry = app.store.service_record(tenant, record_id).await?;
    if !team_admin(principal, tenant, entry.team_id) {
        return Err(AppError::Refused(Rule::CorrectionOtherTeam));
    }
    if !entry.in_force() {
        return Err(AppError::WrongState(Rule::AlreadyCorrected));
    }
    let reason = parse_reason(Some(request.reason), true, "/reason")?.unwrap_or_default();
    let started_at = match &request.started_at {
        Some(text) => parse_instant(text, "/started_at")?,
        None => entry.started_at,
    };
    let ended_at = match &request.ended_at {
        Some(text) => parse_instant(text, "/ended_at")?,
        None => entry.ended_at,
    };
    let minutes = parse_minutes(
        Some(request.minutes),
        started_at,
        ended_at,
        true,
        "/minutes",
    )?;
    if ended_at > app.clock.now() {
        return Err(InvalidInput::new("/ended_at", Rule::ServiceInFuture).into());
    }
    let replacement = NewServiceRecord {
        started_at,
        ended_at,
        minutes,
        kind: ServiceRecordKind::Correction,
        corrects: Some(entry.id),
        reason: Some(reason),
        ..replacement_of(&entry)
    };
    check_entry(app, tenant, &replacement).await?;
    let appended = app
        .store
        .record_service(tenant, &replacement, &principal.actor(), app.clock.now())
        .await?;
    appended_and_levelled(app, principal, tenant, appended).await
}

/// An entry like `entry`, to replace it.
fn replacement_of(entry: &ServiceRecord) -> NewServiceRecord {
    NewServiceRecord {
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
        corrects: Some(entry.id),
        reason: None,
    }
}

/// The signed-in volunteer's service: totals, star level and every entry, replaced ones too.
pub async fn own_history(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
) -> Result<ServiceHistoryView, AppError> {
    let volunteer = own_record(app, principal, tenant).await?;
    history(app, tenant, volunteer.id).await
}

/// A volunteer's service, for the office and auditors.
pub async fn volunteer_history(
    app: &App,
    tenant: &TenantCode,
    volunteer_id: Uuid,
) -> Result<ServiceHistoryView, AppError> {
    app.store.volunteer(tenant, volunteer_id).await?;
    history(app, tenant, volunteer_id).await
}

async fn history(
    app: &App,
    tenant: &TenantCode,
    volunteer_id: Uuid,
) -> Result<ServiceHistoryView, AppError> {
    let totals = app
        .store
        .service_totals(tenant, TotalsScope::Volunteer, &volunteer_id.to_string())
        .await?;
    let star_level = match app.store.card_holder_by_id(tenant, volunteer_id).await {
        Ok(holder) => holder.star_level,
        Err(zhiyuan_store::StoreError::NotFound) => zhiyuan_domain::StarLevel::NONE,
        Err(error) => return Err(error.into()),
    };
    let records = app
        .store
        .service_records(tenant, RecordsOf::Volunteer(volunteer_id), false, None)
        .await?;
    Ok(ServiceHistoryView {
        volunteer_id,
        minutes: totals.minutes,
        hours: totals.minutes.whole_hours(),
        entries: totals.entries,
        star_level,
        records: records.into_iter().map(record_view).collect(),
    })
}

/// A team's entries, to its admins, the office and auditors.
pub async fn team_records(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    team_id: Uuid,
) -> Result<Vec<ServiceRecordView>, AppError> {
    if !(team_admin(principal, tenant, team_id) || office_reader(principal, tenant)) {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    app.store.team(tenant, team_id).await?;
    Ok(app
        .store
        .service_records(tenant, RecordsOf::Team(team_id), false, None)
        .await?
        .into_iter()
        .map(record_view)
        .collect())
}

/// The totals kept for a volunteer, team, project or region (and the regions under it).
pub async fn totals(
    app: &App,
    tenant: &TenantCode,
    scope: TotalsScope,
    id: &str,
) -> Result<TotalsView, AppError> {
    let ids: Vec<String> = match scope {
        TotalsScope::Region => {
            let code = zhiyuan_domain::RegionCode::parse(id).map_err(|_| AppError::NotFound)?;
            let regions = app.store.regions(tenant).await?;
            regions
                .iter()
                .filter(|region| {
                    let mut at = Some(region.code.clone());
                    while let Some(current) = at {
                        if current == code {
                            return true;
                        }
                        at = regions
                            .iter()
                            .find(|candidate| candidate.code == current)
                            .and_then(|candidate| candidate.parent.clone());
                    }
                    false
                })
                .map(|region| region.code.as_str().to_owned())
                .collect()
        }
        _ => vec![
            Uuid::parse_str(id)
                .map_err(|_| AppError::NotFound)?
                .to_string(),
        ],
    };
    if ids.is_empty() {
        // A region that is not the tenant's.
        return Err(AppError::NotFound);
    }
    let mut minutes = Minutes::ZERO;
    let mut entries = 0;
    for id in &ids {
        let totals = app.store.service_totals(tenant, scope, id).await?;
        minutes = minutes.saturating_add(totals.minutes);
        entries += totals.entries;
    }
    Ok(TotalsView {
        scope,
        id: id.to_owned(),
        minutes,
        hours: minutes.whole_hours(),
        entries,
    })
}

/// The signed-in volunteer disputes one of their entries.
pub async fn dispute(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    record_id: Uuid,
    request: DisputeRequest,
) -> Result<DisputeView, AppError> {
    let volunteer = own_record(app, principal, tenant).await?;
    let entry = app.store.service_record(tenant, record_id).await?;
    if entry.volunteer_id != volunteer.id {
        return Err(AppError::Refused(Rule::NotOwnRecord));
    }
    if !entry.in_force() {
        return Err(AppError::WrongState(Rule::AlreadyCorrected));
    }
    let claim = parse_reason(Some(request.claim), true, "/claim")?.unwrap_or_default();
    let dispute = app
        .store
        .open_dispute(
            tenant,
            &entry,
            &claim,
            request.claimed_minutes.map(Minutes::new),
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    Ok(dispute.into())
}

/// The team answers a dispute of one of its entries.
pub async fn answer_dispute(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    dispute_id: Uuid,
    request: DisputeAnswerRequest,
) -> Result<DisputeView, AppError> {
    let dispute = app.store.dispute(tenant, dispute_id).await?;
    if !team_admin(principal, tenant, dispute.team_id) {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    let answer = parse_reason(Some(request.answer), true, "/answer")?.unwrap_or_default();
    Ok(app
        .store
        .answer_dispute(
            tenant,
            dispute_id,
            &answer,
            &principal.actor(),
            app.clock.now(),
        )
        .await?
        .into())
}

/// The office settles a dispute: it dismisses it, or upholds it with the minutes that stand,
/// which a settlement entry records in place of the disputed one.
pub async fn settle_dispute(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    dispute_id: Uuid,
    request: SettlementRequest,
) -> Result<DisputeView, AppError> {
    let dispute = app.store.dispute(tenant, dispute_id).await?;
    if !dispute.status.unsettled() {
        return Err(AppError::WrongState(Rule::DisputeState));
    }
    let reason = parse_reason(Some(request.reason), true, "/reason")?.unwrap_or_default();
    let settlement = match request.decision {
        SettlementDecision::Dismiss => Settlement::Dismiss { reason },
        SettlementDecision::Uphold => {
            let entry = app.store.service_record(tenant, dispute.record_id).await?;
            if !entry.in_force() {
                return Err(AppError::WrongState(Rule::AlreadyCorrected));
            }
            let minutes = request
                .minutes
                .ok_or_else(|| InvalidInput::new("/minutes", Rule::ServiceMinutes))?;
            let minutes = parse_minutes(
                Some(minutes),
                entry.started_at,
                entry.ended_at,
                true,
                "/minutes",
            )?;
            let replacement = NewServiceRecord {
                minutes,
                kind: ServiceRecordKind::Settlement,
                reason: Some(reason.clone()),
                ..replacement_of(&entry)
            };
            Settlement::Uphold {
                reason,
                replacement,
            }
        }
    };
    let (settled, appended) = app
        .store
        .settle_dispute(
            tenant,
            dispute_id,
            &settlement,
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    if let Some(appended) = appended {
        appended_and_levelled(app, principal, tenant, appended).await?;
    }
    Ok(settled.into())
}

/// Disputes of a team (to its admins) or of the tenant (to the office and auditors).
pub async fn disputes(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    team: Option<Uuid>,
) -> Result<Vec<DisputeView>, AppError> {
    let allowed = match team {
        Some(team) => team_admin(principal, tenant, team) || office_reader(principal, tenant),
        None => office_reader(principal, tenant),
    };
    if !allowed {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    Ok(app
        .store
        .disputes(tenant, team)
        .await?
        .into_iter()
        .map(DisputeView::from)
        .collect())
}

/// What the signed-in volunteer has been told: star levels reached, disputes settled,
/// certificates issued.
pub async fn own_notices(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
) -> Result<Vec<NoticeView>, AppError> {
    let volunteer = own_record(app, principal, tenant).await?;
    notices(app, tenant, NoticeFor::Volunteer(volunteer.id)).await
}

/// What a team's admins have been told: check-outs that never came.
pub async fn team_notices(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    team_id: Uuid,
) -> Result<Vec<NoticeView>, AppError> {
    if !team_admin(principal, tenant, team_id) {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    notices(app, tenant, NoticeFor::Team(team_id)).await
}

async fn notices(
    app: &App,
    tenant: &TenantCode,
    of: NoticeFor,
) -> Result<Vec<NoticeView>, AppError> {
    Ok(app
        .store
        .notices(tenant, of, 200)
        .await?
        .into_iter()
        .map(|notice| NoticeView {
            id: notice.id,
            kind: notice.kind,
            detail: notice.detail,
            created_at: notice.created_at,
        })
        .collect())
}
