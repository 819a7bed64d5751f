//! The answers of the use cases, as every interface shows them: typed, described (their JSON
//! Schemas are in the OpenAPI document), and with personal data already masked for whoever
//! asked. Nothing is shown from storage records directly.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use zhiyuan_domain::ports::{Binding, FailureReason, Hook, HookAnswer};
use zhiyuan_domain::{
    AgeGroup, AuditAction, CardUse, CertificateNumber, CertificateStatus, CivilisationLevel,
    DisputeStatus, Gender, Grant, IdDocumentKind, LegalStatus, LocalizedName, Minutes, RegionCode,
    ServiceCategory, ServiceRecordKind, StarLevel, TeamStatus, TenantCode, Timestamp, TotalsScope,
    TransferStatus, UnitKind, VolunteerNumber, VolunteerStatus,
};
use zhiyuan_store::MembershipStatus;

/// A list of items.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

impl<T> From<Vec<T>> for Items<T> {
    fn from(items: Vec<T>) -> Self {
        Items { items }
    }
}

/// A tenant this node hosts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantView {
    pub code: TenantCode,
    pub name: LocalizedName,
    pub created_at: Timestamp,
}

/// An account, with its grants. Its password is never shown, not even hashed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountView {
    pub id: Uuid,
    /// The tenant it belongs to; absent for an account of the node (operators, node auditors).
    pub tenant: Option<TenantCode>,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    /// Its volunteer record in its tenant, where it has one.
    pub volunteer_id: Option<Uuid>,
    pub created_at: Timestamp,
}

/// A sign-in: the bearer token (also set as an HttpOnly session cookie), until when it works,
/// and whose it is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignedIn {
    pub token: String,
    pub expires_at: Timestamp,
    pub account: AccountView,
}

/// The signed-in account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    pub account: AccountView,
}

/// Sessions ended by signing out everywhere.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignedOutEverywhere {
    pub sessions_ended: u64,
}

/// One change in a tenant's audit trail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEventView {
    /// Its place in the trail, from 1.
    pub seq: u64,
    pub id: Uuid,
    pub actor_account_id: Option<Uuid>,
    pub actor_name: String,
    pub action: AuditAction,
    pub entity_kind: String,
    pub entity_id: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
    pub at: Timestamp,
    /// SHA-256 (hex) over the event and the hash of the one before it.
    pub hash: String,
}

/// A volunteer as the person asking may see them. The identity number is always masked and the
/// age is a bracket; the birth date and the mobile number in full only to the volunteer
/// themselves (their teams' admins see members' numbers in `MemberView`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VolunteerView {
    pub id: Uuid,
    pub account_id: Option<Uuid>,
    pub volunteer_number: Option<VolunteerNumber>,
    pub name: String,
    pub id_kind: IdDocumentKind,
    pub id_number_masked: String,
    pub age_group: Option<AgeGroup>,
    /// Shown to the volunteer alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
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
    /// For reviewers and the office: other registrations, pending or verified, with the same
    /// identity document; only one of them can be verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_document: Option<u64>,
}

/// What a volunteer card shows: the code its QR carries, signed by the tenant, new every
/// minute.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VolunteerCardView {
    pub volunteer_number: VolunteerNumber,
    pub name: String,
    pub tenant: TenantCode,
    pub star_level: StarLevel,
    /// The text of the card's QR code (`ZY1:` and base45), which a project's scanner scans.
    pub code: String,
    pub issued_at: Timestamp,
    /// The code stands until then, and two minutes more for clocks that disagree.
    pub expires_at: Timestamp,
    /// When the app should fetch the next code.
    pub refresh_after_seconds: u64,
}

/// A printed card, for a volunteer without a phone: its code lasts until the card is revoked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PrintedCardView {
    pub serial: u64,
    pub volunteer_number: VolunteerNumber,
    pub name: String,
    pub code: String,
    /// The code as a QR, in SVG, to print.
    pub qr_svg: String,
    pub issued_at: Timestamp,
}

/// The volunteer a scanned card names, as the scanner sees them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CardHolderView {
    pub volunteer_number: VolunteerNumber,
    pub name: String,
    pub star_level: StarLevel,
}

/// A volunteer's presence at a shift.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttendanceView {
    pub id: Uuid,
    pub shift_id: Uuid,
    pub volunteer_id: Uuid,
    pub checked_in_at: Timestamp,
    pub checked_out_at: Option<Timestamp>,
    /// Which card was scanned in.
    pub card: CardUse,
    pub card_serial: Option<u64>,
    /// None while checked in; then whether the time counted.
    pub credited: Option<bool>,
    /// Why the time did not count, or how a missing check-out was settled.
    pub note: Option<String>,
}

/// What a scan did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanOutcome {
    CheckedIn,
    CheckedOut,
    /// The same scan was counted before; nothing changed.
    Duplicate,
    /// Refused: the problem says why.
    Refused,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScanView {
    pub scan_id: Uuid,
    pub outcome: ScanOutcome,
    pub volunteer: CardHolderView,
    pub attendance: AttendanceView,
    /// The minutes the attendance earned, once checked out and credited.
    pub credited_minutes: Option<Minutes>,
}

/// Why one scan of a batch was refused.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScanProblem {
    pub code: String,
    /// The JSON Pointer of the field at fault, where one is.
    pub field: Option<String>,
    pub message_zh: String,
    pub message_en: String,
}

impl ScanProblem {
    pub(crate) fn of(error: &crate::AppError) -> ScanProblem {
        use crate::AppError;
        let rule = |rule: zhiyuan_domain::Rule, field: Option<String>| ScanProblem {
            code: rule.code().to_owned(),
            field,
            message_zh: rule.message_zh().to_owned(),
            message_en: rule.message_en().to_owned(),
        };
        match error {
            AppError::Invalid(invalid) => rule(invalid.rule, Some(invalid.field.clone())),
            AppError::WrongState(found)
            | AppError::Refused(found)
            | AppError::Unavailable(found) => rule(*found, None),
            AppError::Policy(violation) => ScanProblem {
                code: violation.code.clone(),
                field: violation.field.clone(),
                message_zh: violation.message_zh.clone(),
                message_en: violation.message_en.clone(),
            },
            other => ScanProblem {
                code: "scan_not_counted".into(),
                field: None,
                message_zh: "扫码未能记录,请稍后重新上传".into(),
                message_en: format!(
                    "the scan was not counted ({}): upload it again later",
                    short_error(other)
                ),
            },
        }
    }
}

fn short_error(error: &crate::AppError) -> &'static str {
    match error {
        crate::AppError::NotFound => "not found",
        crate::AppError::PluginFailed(_) => "a plugin gave no answer",
        crate::AppError::Busy { .. } => "the node is busy",
        _ => "an error of the node",
    }
}

/// One scan of a batch: what it did, or why it was refused.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScanResultView {
    pub scan_id: Uuid,
    pub outcome: ScanOutcome,
    pub scan: Option<ScanView>,
    pub problem: Option<ScanProblem>,
}

/// An uploaded batch of scans, each answered in the order sent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScanBatchView {
    pub counted: u32,
    pub duplicates: u32,
    pub refused: u32,
    pub results: Vec<ScanResultView>,
}

/// A service record (志愿服务记录). Entries are never changed: a correction is a new entry
/// that replaces the one it points at.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceRecordView {
    pub id: Uuid,
    pub volunteer_id: Uuid,
    /// The team that recorded it, and certifies it.
    pub team_id: Uuid,
    pub project_id: Option<Uuid>,
    pub shift_id: Option<Uuid>,
    pub region: RegionCode,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub minutes: Minutes,
    /// What the service was: the project's title, or what a manual entry says.
    pub content: String,
    pub kind: ServiceRecordKind,
    /// The card scanned, for an entry made by scanning.
    pub card: Option<CardUse>,
    pub card_serial: Option<u64>,
    /// The entry this one replaces.
    pub corrects: Option<Uuid>,
    /// The entry that replaced this one.
    pub corrected_by: Option<Uuid>,
    /// Whether the entry counts: nothing replaced it.
    pub in_force: bool,
    pub reason: Option<String>,
    pub recorded_at: Timestamp,
    /// Who recorded it.
    pub recorded_by: String,
    /// Whether a dispute of it is unsettled: its time is not confirmed until it is.
    pub disputed: bool,
}

/// A volunteer's service: the totals of the entries in force, the star level, every entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceHistoryView {
    pub volunteer_id: Uuid,
    pub minutes: Minutes,
    pub hours: u64,
    pub entries: u64,
    pub star_level: StarLevel,
    pub records: Vec<ServiceRecordView>,
}

/// The minutes and entries in force of a volunteer, team, project or region.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TotalsView {
    pub scope: TotalsScope,
    pub id: String,
    pub minutes: Minutes,
    pub hours: u64,
    pub entries: u64,
}

/// A volunteer's dispute of an entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisputeView {
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

impl From<zhiyuan_store::Dispute> for DisputeView {
    fn from(dispute: zhiyuan_store::Dispute) -> Self {
        DisputeView {
            id: dispute.id,
            record_id: dispute.record_id,
            volunteer_id: dispute.volunteer_id,
            team_id: dispute.team_id,
            status: dispute.status,
            claim: dispute.claim,
            claimed_minutes: dispute.claimed_minutes,
            answer: dispute.answer,
            answered_at: dispute.answered_at,
            settlement: dispute.settlement,
            settled_at: dispute.settled_at,
            opened_at: dispute.opened_at,
        }
    }
}

/// Something a volunteer or a team is told.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeView {
    pub id: Uuid,
    /// `star_level`, `dispute_settled`, `certificate_issued`, `missing_check_out`.
    pub kind: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub created_at: Timestamp,
}

/// A certificate of service (志愿服务记录证明), requested or issued.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceCertificateView {
    pub id: Uuid,
    /// Its number in the register, once issued.
    pub number: Option<CertificateNumber>,
    pub volunteer_id: Uuid,
    /// The issuing team; none: the office.
    pub team_id: Option<Uuid>,
    pub period_from: Timestamp,
    pub period_to: Timestamp,
    pub purpose: Option<String>,
    pub status: CertificateStatus,
    pub requested_at: Timestamp,
    pub facts: Option<zhiyuan_domain::CertificateFacts>,
    pub issued_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub revocation_reason: Option<String>,
    /// Where anyone checks it stands.
    pub verification_path: Option<String>,
}

/// A stored file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    pub sha256: String,
    pub media_type: String,
    pub size: u64,
}

/// A team, its contact's mobile masked but to the team's admins.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamView {
    pub id: Uuid,
    pub name: String,
    pub kind: UnitKind,
    /// A volunteer service association, which other teams may choose as liaison.
    pub association: bool,
    pub unit: Option<Uuid>,
    pub region: RegionCode,
    pub contact_name: String,
    pub contact_mobile: String,
    pub legal_status: LegalStatus,
    pub parent_team: Option<Uuid>,
    pub liaison_team: Option<Uuid>,
    pub registration_authority: Option<Uuid>,
    pub credit_code: Option<String>,
    pub org_code: Option<String>,
    /// For an association of the tenant's configuration: the reviewing body it acts as.
    pub reviewing_body: Option<Uuid>,
    pub status: TeamStatus,
    pub decision_reason: Option<String>,
    pub submitted_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    /// SHA-256 of its certificate images.
    pub certificates: Vec<String>,
}

/// A volunteer's membership of a team.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipView {
    pub team_id: Uuid,
    pub volunteer_id: Uuid,
    pub status: MembershipStatusView,
    pub applied_at: Timestamp,
    pub decided_at: Option<Timestamp>,
}

/// Where a membership stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatusView {
    Applied,
    Member,
    Rejected,
    Removed,
    Left,
}

impl From<MembershipStatus> for MembershipStatusView {
    fn from(status: MembershipStatus) -> Self {
        match status {
            MembershipStatus::Applied => MembershipStatusView::Applied,
            MembershipStatus::Member => MembershipStatusView::Member,
            MembershipStatus::Rejected => MembershipStatusView::Rejected,
            MembershipStatus::Removed => MembershipStatusView::Removed,
            MembershipStatus::Left => MembershipStatusView::Left,
        }
    }
}

/// A member or applicant of a team, as its admins and the office see them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberView {
    pub membership: MembershipView,
    pub name: String,
    pub volunteer_number: Option<VolunteerNumber>,
    /// In full to the team's admins, who need to reach their members; masked to the office.
    pub mobile: String,
}

/// The signed-in volunteer's teams, and approved teams to join, their own unit's first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyTeamsView {
    pub memberships: Vec<MembershipView>,
    pub suggestions: Vec<TeamView>,
}

/// A team's admins.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamAdminsView {
    pub admins: Vec<Uuid>,
}

/// One line of the registration report: an area or a unit against its target.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportLine {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<RegionCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<UnitKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub civilisation_level: Option<CivilisationLevel>,
    /// Verified volunteers.
    pub verified: u64,
    /// Resident population of an area, staff of a unit.
    pub denominator: u64,
    /// verified / denominator.
    pub ratio: f64,
    /// The target ratio, where the policy sets one.
    pub target: Option<f64>,
    /// Volunteers still needed to meet the target (0 when met).
    pub shortfall: u64,
}

/// Which policy set the report's targets.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportPolicy {
    pub region_target: String,
    pub unit_target: String,
}

/// Registration ratios of areas and units against their targets, furthest behind first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegistrationReport {
    pub policy: ReportPolicy,
    pub regions: Vec<ReportLine>,
    pub units: Vec<ReportLine>,
}

/// A plugin package a tenant stored, without its bytes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PluginView {
    pub sha256: String,
    pub name: String,
    pub version: String,
    pub wit_version: String,
    pub hooks: Vec<Hook>,
    pub size: u64,
    pub signed_by: Option<String>,
    pub uploaded_at: Timestamp,
    pub uploaded_by: String,
}

/// How a plugin's dry run failed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DryRunFailure {
    pub reason: FailureReason,
    pub message: String,
}

/// A plugin's answer to a dry run, or how it failed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DryRunView {
    pub hook: Hook,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<HookAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<DryRunFailure>,
}

/// One hook of a tenant's policy: what answers it, its binding, whether it was switched off.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HookState {
    pub hook: Hook,
    pub source: String,
    pub binding: Option<Binding>,
    pub switched_off: Option<String>,
}

/// A revision of a tenant's bindings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevisionView {
    pub revision: u64,
    pub bindings: Vec<Binding>,
    pub created_at: Timestamp,
    pub created_by: String,
}

/// A tenant's policy: each hook, the revision in force and every revision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicyView {
    pub revision: Option<u64>,
    pub hooks: Vec<HookState>,
    pub revisions: Vec<RevisionView>,
}

/// A revision of bindings put in force.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevisionInForce {
    pub revision: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bindings: Option<Vec<Binding>>,
}

/// A place, in the coordinate system the answer names: WGS-84 unless the request asked for
/// GCJ-02, which Chinese maps draw in.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct PlaceView {
    pub longitude: f64,
    pub latitude: f64,
    pub system: zhiyuan_domain::CoordinateSystem,
}

/// A shift of a project: its time in Asia/Shanghai, its places and waiting list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShiftView {
    pub id: Uuid,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// Where the shift is, when not at the project's address.
    pub address: Option<String>,
    pub place: Option<PlaceView>,
    pub capacity: u32,
    /// Places held by sign-ups.
    pub taken: u32,
    pub open_places: u32,
    /// Sign-ups on the waiting list.
    pub waiting: u32,
    pub skills: Vec<String>,
    pub check_in_opens_at: Timestamp,
    pub check_in_closes_at: Timestamp,
}

/// A project, with its shifts. The contact's mobile number is masked but for the team's
/// admins, its project lead and the office.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectView {
    pub id: Uuid,
    pub team_id: Uuid,
    /// The need it answers.
    pub need_id: Option<Uuid>,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub service_categories: Vec<ServiceCategory>,
    pub skills: Vec<String>,
    pub region: RegionCode,
    pub address: String,
    pub place: PlaceView,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub contact_name: String,
    pub contact_mobile: String,
    pub minors: zhiyuan_domain::MinorsPolicy,
    pub acceptance: zhiyuan_domain::Acceptance,
    /// A volunteer holding a place may withdraw until this many hours before the shift.
    pub withdrawal_cutoff_hours: u32,
    pub state: zhiyuan_domain::ProjectState,
    /// Why the office sent it back or took it down.
    pub decision_reason: Option<String>,
    pub created_at: Timestamp,
    pub shifts: Vec<ShiftView>,
}

/// A project as a search lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectSummaryView {
    pub id: Uuid,
    pub team_id: Uuid,
    pub title: String,
    pub summary: String,
    pub service_categories: Vec<ServiceCategory>,
    pub skills: Vec<String>,
    pub region: RegionCode,
    pub address: String,
    pub place: PlaceView,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub state: zhiyuan_domain::ProjectState,
    /// Metres from the point searched from, where there was one.
    pub distance_m: Option<u32>,
}

/// One page of a search. Pass `next_cursor` back as `cursor` for the next page: a page never
/// repeats or skips a project, whatever is published in between.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectPage {
    pub items: Vec<ProjectSummaryView>,
    pub next_cursor: Option<String>,
}

/// A project suggested to a volunteer, with how well it fits them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuggestionView {
    pub project: ProjectSummaryView,
    /// 0 (no fit) to 100 (best fit), from the tenant's matching policy.
    pub score: u8,
    /// Shifts still to come with a free place and no clash with the volunteer's.
    pub open_shifts: u32,
}

/// A project answering a need.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnsweringProjectView {
    pub project_id: Uuid,
    pub team_id: Uuid,
    pub title: String,
    pub state: zhiyuan_domain::ProjectState,
}

/// A need for help. Its contact's mobile number is masked but for its poster and curators.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NeedView {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub service_categories: Vec<ServiceCategory>,
    pub region: RegionCode,
    pub address: String,
    pub place: Option<PlaceView>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub people_needed: u32,
    pub contact_name: String,
    pub contact_mobile: String,
    pub poster: zhiyuan_domain::NeedPoster,
    pub unit_id: Option<Uuid>,
    pub status: zhiyuan_domain::NeedStatus,
    /// Why a curator set it aside, or how it was closed.
    pub decision_reason: Option<String>,
    pub posted_at: Timestamp,
    /// The projects answering it.
    pub answered_by: Vec<AnsweringProjectView>,
}

/// One page of needs, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NeedPage {
    pub items: Vec<NeedView>,
    pub next_cursor: Option<String>,
}

/// A sign-up for a shift, with the shift's time in Asia/Shanghai.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnrollmentView {
    pub id: Uuid,
    pub shift_id: Uuid,
    pub project_id: Uuid,
    pub project_title: String,
    pub volunteer_id: Uuid,
    /// The volunteer's name, for those who run the shift.
    pub volunteer_name: String,
    pub volunteer_number: Option<String>,
    pub status: zhiyuan_domain::EnrollmentStatus,
    pub shift_starts_at: Timestamp,
    pub shift_ends_at: Timestamp,
    /// On the waiting list: how many are ahead.
    pub waiting_ahead: Option<u32>,
    /// Why the team rejected or removed it.
    pub reason: Option<String>,
    /// A guardian's consent is recorded (for a minor).
    pub guardian_consent: bool,
    pub enrolled_at: Timestamp,
    pub changed_at: Timestamp,
}

/// The holders of a project's grants.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectGrantsView {
    pub project_leads: Vec<Uuid>,
    pub scanners: Vec<Uuid>,
}

/// The proof that a credential is in a tenant's transparency log (RFC 9162, section 2.1.3):
/// with the checkpoint of `size` entries, hashing the entry's leaf up through `hashes` gives
/// the checkpoint's root.
/// A client sends it back as it was served (`CredentialAuditRequest`), its entry left out if it
/// likes: the entry is made again from the credential.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct InclusionProofView {
    pub credential_id: String,
    /// The entry's number in the log, from 0.
    pub index: u64,
    /// The size of the tree the proof is for.
    pub size: u64,
    /// The entry's bytes (the credential's id and digest, each on a line), base64.
    #[serde(default)]
    pub entry: String,
    /// The sibling hashes from the leaf up, base64.
    pub hashes: Vec<String>,
}

/// The proof that a tenant's log at `from` entries is a prefix of the log at `to` entries
/// (RFC 9162, section 2.1.4).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsistencyProofView {
    pub from: u64,
    pub to: u64,
    /// The proof's hashes, base64.
    pub hashes: Vec<String>,
}

/// A credential a tenant issued: a W3C Verifiable Credential 2.0 with its `eddsa-jcs-2022`
/// proof, as signed (`docs/federation.md`), and what it is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CredentialView {
    /// The credential's id (`urn:uuid:...`), as in its log entry.
    pub id: String,
    pub kind: zhiyuan_domain::CredentialKind,
    /// The volunteer registered, the service record or the certificate.
    pub subject_id: Uuid,
    pub issued_at: Timestamp,
    /// The signed credential.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// A volunteer's own credentials, and the salt of the commitment to their identity document
/// that their registration credential carries (SHA-256 of the salt, the document's kind, `:`
/// and its number), base64url: theirs to show whom they choose.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwnCredentialsView {
    pub items: Vec<CredentialView>,
    pub identity_salt: Option<String>,
    /// The tenant's log at the time of the answer, as a signed checkpoint (a C2SP signed note).
    pub checkpoint: String,
    /// Each credential's proof of inclusion in the checkpoint's tree, in the order of `items`.
    pub inclusion: Vec<InclusionProofView>,
}

/// A volunteer's transfer to another tenant, as its source shows it: each step the volunteer
/// sees.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferView {
    pub id: Uuid,
    /// The destination tenant's DID.
    pub destination: String,
    pub status: TransferStatus,
    pub requested_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    /// The destination's signed receipt (a Verifiable Credential), once completed.
    #[schema(value_type = Option<Object>)]
    pub receipt: Option<serde_json::Value>,
    /// Why the destination refused it.
    pub refusal: Option<String>,
}

/// Where the messages to one destination stand, as the operator sees them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DestinationView {
    /// The destination tenant's DID.
    pub destination: String,
    pub pending: u64,
    pub delivered: u64,
    /// Given up after the attempts the node makes; the operator may send them again.
    pub dead: u64,
    /// When the next pending message is due.
    pub next_attempt_at: Option<Timestamp>,
}

/// A list of transfers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransfersView {
    pub items: Vec<TransferView>,
}

/// What an auditor's checks found of one credential.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CredentialFindingView {
    /// The credential's id, as it says.
    pub id: String,
    pub verified: bool,
    /// Its issuer, where it verified.
    pub issuer: Option<String>,
    /// The size of its issuer's log checkpoint it was shown to be in; none where its log was
    /// not checked (no checkpoint of an issuer this node holds, and none in the bundle).
    pub logged_in: Option<u64>,
    /// Why it was refused, naming what failed.
    pub refusal: Option<String>,
}

/// The checks of a bundle of credentials: each credential's finding, in the bundle's order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CredentialAuditView {
    pub items: Vec<CredentialFindingView>,
    pub verified: u32,
    pub refused: u32,
}

/// A peer's log as this node witnesses it: the largest checkpoint it checked and cosigned, and
/// the alarm it raised if the log forked, shrank or stopped extending it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WitnessedLogView {
    /// The log's name (its checkpoints' origin).
    pub origin: String,
    pub size: u64,
    /// The root hash, base64.
    pub root: String,
    /// The checkpoint as a signed note, with this node's cosignature (C2SP tlog-cosignature).
    pub checkpoint: String,
    /// The tenant's DID document the checkpoint was checked with: a copy kept here, so that
    /// the tenant's credentials stay checkable if its node is gone.
    #[schema(value_type = Object)]
    pub did_document: serde_json::Value,
    pub checked_at: Timestamp,
    /// What the log did that it must not.
    pub alarm: Option<String>,
    /// The checkpoint cosigned before and the one that does not extend it, one after the other.
    pub evidence: Option<String>,
    pub alarm_at: Option<Timestamp>,
}
