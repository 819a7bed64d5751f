//! Who may do what: the grants an account holds, the actions of the system, and the one table
//! that says which grant allows which action.
//!
//! An account belongs to a tenant (or, for operators and node-wide auditors, to the node) and
//! holds any number of grants, each a capability scoped to what it applies to: a reviewer acts
//! for one reviewing body, a team admin for one team. Being a volunteer is no grant: it is having
//! a volunteer record. `PERMISSIONS` is the only place that says who may do what; the HTTP layer
//! checks it before it reads a request's body, and the use cases check the scope of a grant
//! against the resource they load.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::stored::stored_names;
use crate::{Actor, InvalidInput, Rule, TenantCode};

/// A capability an account may hold.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    /// The provincial operator hosting the node: node-wide.
    Operator,
    /// Reads everything of a tenant (or, node-wide, of every tenant), changes nothing.
    Auditor,
    /// The city office (文明办, 民政局) administering a tenant.
    OfficeAdmin,
    /// Decides applications for one reviewing body, at that body's level only.
    Reviewer,
    /// Administers one team: its members, its application, its projects.
    TeamAdmin,
    /// Runs one project for its team.
    ProjectLead,
    /// Scans cards in and out for one project.
    Scanner,
    /// Issues service certificates for one team or reviewing body.
    CertificateIssuer,
}

stored_names!(GrantKind {
    Operator = "operator",
    Auditor = "auditor",
    OfficeAdmin = "office_admin",
    Reviewer = "reviewer",
    TeamAdmin = "team_admin",
    ProjectLead = "project_lead",
    Scanner = "scanner",
    CertificateIssuer = "certificate_issuer",
});

impl fmt::Display for GrantKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a grant applies to. Every scope but `Node` lies within the tenant of the account that
/// holds the grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Node,
    Tenant,
    ReviewingBody(Uuid),
    Team(Uuid),
    Project(Uuid),
}

impl Scope {
    /// The scope as stored and exchanged: `node`, `tenant`, `reviewing_body:<id>`, `team:<id>`,
    /// `project:<id>`.
    pub fn to_text(self) -> String {
        match self {
            Scope::Node => "node".to_owned(),
            Scope::Tenant => "tenant".to_owned(),
            Scope::ReviewingBody(id) => format!("reviewing_body:{id}"),
            Scope::Team(id) => format!("team:{id}"),
            Scope::Project(id) => format!("project:{id}"),
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "node" => return Some(Scope::Node),
            "tenant" => return Some(Scope::Tenant),
            _ => {}
        }
        let (kind, id) = text.split_once(':')?;
        let id = Uuid::parse_str(id).ok()?;
        match kind {
            "reviewing_body" => Some(Scope::ReviewingBody(id)),
            "team" => Some(Scope::Team(id)),
            "project" => Some(Scope::Project(id)),
            _ => None,
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_text())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Scope::parse(&text).ok_or_else(|| serde::de::Error::custom("not a scope"))
    }
}

/// A capability scoped to what it applies to. Only fitting pairs can be built: a reviewer acts
/// for a reviewing body, an operator for the node, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub kind: GrantKind,
    pub scope: Scope,
}

impl Grant {
    /// A grant of `kind` over `scope`, for an account of a tenant (`node_wide` false) or of the
    /// node; `field` names the grant in the document that asked for it.
    pub fn new(
        kind: GrantKind,
        scope: Scope,
        node_wide: bool,
        field: &str,
    ) -> Result<Grant, InvalidInput> {
        let fits = match (kind, scope) {
            (GrantKind::Operator, Scope::Node) => node_wide,
            (GrantKind::Auditor, Scope::Node) => node_wide,
            (GrantKind::Auditor, Scope::Tenant) | (GrantKind::OfficeAdmin, Scope::Tenant) => {
                !node_wide
            }
            (GrantKind::Reviewer, Scope::ReviewingBody(_))
            | (GrantKind::TeamAdmin, Scope::Team(_))
            | (GrantKind::ProjectLead, Scope::Project(_))
            | (GrantKind::Scanner, Scope::Project(_))
            | (GrantKind::CertificateIssuer, Scope::Team(_))
            | (GrantKind::CertificateIssuer, Scope::ReviewingBody(_)) => !node_wide,
            _ => false,
        };
        if fits {
            Ok(Grant { kind, scope })
        } else {
            Err(InvalidInput::new(field, Rule::GrantScope))
        }
    }

    pub fn is_node_wide(self) -> bool {
        self.scope == Scope::Node
    }
}

/// Everything a person can ask of a node. Each route of the API performs exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ReadHealth,
    ReadReadiness,
    ReadApiDocument,
    ReadMetrics,
    ListTenants,
    ReadTenant,
    CreateTenant,
    SignIn,
    ReadSession,
    SignOut,
    SignOutEverywhere,
    ListNodeAccounts,
    ListRegions,
    ReadRegion,
    UpdateRegion,
    ListReviewingBodies,
    ListUnits,
    ReadUnit,
    CreateUnit,
    UpdateUnit,
    ListAccounts,
    ReadAccount,
    CreateAccount,
    ChangeGrants,
    ReadAuditTrail,
    RegisterVolunteer,
    ListVolunteers,
    ReadOwnVolunteer,
    ReadOwnCard,
    ReadVolunteer,
    DecideVolunteer,
    VoidRegistration,
    UploadFile,
    ReadFile,
    ApplyTeam,
    ListTeams,
    ReadTeam,
    ReviewQueue,
    ResubmitTeam,
    DecideTeam,
    ListMembers,
    JoinTeam,
    LeaveTeam,
    DecideMember,
    AppointTeamAdmin,
    ListOwnTeams,
    ReadRegistrationReport,
    ListPlugins,
    UploadPlugin,
    DryRunPlugin,
    ReadPolicy,
    BindPolicy,
    SwitchPolicy,
    PostNeed,
    ListNeeds,
    ReadNeed,
    CurateNeed,
    CloseNeed,
    CreateProject,
    UpdateProject,
    PublishProject,
    DecideProject,
    TakeDownProject,
    SearchProjects,
    ReadProject,
    ListTeamProjects,
    SuggestProjects,
    Enroll,
    Withdraw,
    ListEnrollments,
    DecideEnrollment,
    ListOwnEnrollments,
    ChangeProjectGrants,
    ReadOwnCardQr,
    IssuePrintedCard,
    RevokePrintedCard,
    ScanCard,
    UploadScans,
    ListAttendances,
    RecordService,
    CorrectServiceRecord,
    ListTeamServiceRecords,
    ListVolunteerServiceRecords,
    ListOwnServiceRecords,
    DisputeServiceRecord,
    AnswerDispute,
    SettleDispute,
    ListDisputes,
    ReadServiceTotals,
    ListOwnNotices,
    ListTeamNotices,
    RequestCertificate,
    ListOwnCertificates,
    ListCertificates,
    IssueCertificate,
    RevokeCertificate,
    ReadCertificatePage,
    ReadCertificatePdf,
    VerifyCertificate,
    ReadLogCheckpoint,
    ReadLogTile,
    ProveLogInclusion,
    ProveLogConsistency,
    ReadOperatorDid,
    ReadTenantDid,
    ListOwnCredentials,
    ListCredentials,
    ListWitnessedLogs,
    AuditCredentials,
    RequestTransfer,
    ListOwnTransfers,
    ReceiveMessage,
    ListOutbox,
    RetryMessage,
}

/// Who an action is open to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in account of the tenant the action is in (of the node, for actions outside
    /// any tenant).
    Account,
    /// The account the action is about, itself.
    Itself,
    /// An account with a volunteer record in the tenant: the volunteer the action is about.
    Volunteer,
    /// An account holding this grant, over the tenant or the resource the action is about.
    Holder(GrantKind),
}

use GrantKind::{
    Auditor, CertificateIssuer, OfficeAdmin, Operator, ProjectLead, Reviewer as ReviewerGrant,
    Scanner, TeamAdmin as TeamAdminGrant,
};
use Who::{Account, Holder, Itself, Public, Volunteer};

/// The permission table: which grant allows which action. Operators and node-wide auditors hold
/// their grants over every tenant; every other grant only within its account's tenant.
pub const PERMISSIONS: &[(Action, &[Who])] = &[
    (Action::ReadHealth, &[Public]),
    (Action::ReadReadiness, &[Public]),
    (Action::ReadApiDocument, &[Public]),
    (Action::ReadMetrics, &[Holder(Operator)]),
    (Action::ListTenants, &[Public]),
    (Action::ReadTenant, &[Public]),
    (Action::CreateTenant, &[Holder(Operator)]),
    (Action::SignIn, &[Public]),
    (Action::ReadSession, &[Account]),
    (Action::SignOut, &[Account]),
    (Action::SignOutEverywhere, &[Account]),
    (Action::ListNodeAccounts, &[Holder(Operator)]),
    (
        Action::ListRegions,
        &[Account, Holder(Operator), Holder(Auditor)],
    ),
    (
        Action::ReadRegion,
        &[Account, Holder(Operator), Holder(Auditor)],
    ),
    (Action::UpdateRegion, &[Holder(OfficeAdmin)]),
    (
        Action::ListReviewingBodies,
        &[Account, Holder(Operator), Holder(Auditor)],
    ),
    (
        Action::ListUnits,
        &[Account, Holder(Operator), Holder(Auditor)],
    ),
    (
        Action::ReadUnit,
        &[Account, Holder(Operator), Holder(Auditor)],
    ),
    (Action::CreateUnit, &[Holder(OfficeAdmin)]),
    (Action::UpdateUnit, &[Holder(OfficeAdmin)]),
    (
        Action::ListAccounts,
        &[Holder(OfficeAdmin), Holder(Auditor), Holder(Operator)],
    ),
    (
        Action::ReadAccount,
        &[
            Itself,
            Holder(OfficeAdmin),
            Holder(Auditor),
            Holder(Operator),
        ],
    ),
    (
        Action::CreateAccount,
        &[Holder(OfficeAdmin), Holder(Operator)],
    ),
    (
        Action::ChangeGrants,
        &[Holder(OfficeAdmin), Holder(Operator)],
    ),
    (
        Action::ReadAuditTrail,
        &[Holder(OfficeAdmin), Holder(Auditor), Holder(Operator)],
    ),
    (Action::RegisterVolunteer, &[Public]),
    (
        Action::ListVolunteers,
        &[
            Holder(OfficeAdmin),
            Holder(Auditor),
            Holder(Operator),
            Holder(ReviewerGrant),
        ],
    ),
    (Action::ReadOwnVolunteer, &[Volunteer]),
    (Action::ReadOwnCard, &[Volunteer]),
    (
        Action::ReadVolunteer,
        &[
            Volunteer,
            Holder(OfficeAdmin),
            Holder(Auditor),
            Holder(Operator),
            Holder(ReviewerGrant),
        ],
    ),
    (
        Action::DecideVolunteer,
        &[Holder(OfficeAdmin), Holder(ReviewerGrant)],
    ),
    (Action::VoidRegistration, &[Holder(OfficeAdmin)]),
    (
        Action::UploadFile,
        &[Volunteer, Holder(TeamAdminGrant), Holder(OfficeAdmin)],
    ),
    (
        Action::ReadFile,
        &[Account, Holder(Operator), Holder(Auditor)],
    ),
    (
        Action::ApplyTeam,
        &[Volunteer, Holder(TeamAdminGrant), Holder(OfficeAdmin)],
    ),
    (
        Action::ListTeams,
        &[Account, Holder(Operator), Holder(Auditor)],
    ),
    (
        Action::ReadTeam,
        &[Account, Holder(Operator), Holder(Auditor)],
    ),
    (
        Action::ReviewQueue,
        &[Holder(ReviewerGrant), Holder(TeamAdminGrant)],
    ),
    (Action::ResubmitTeam, &[Holder(TeamAdminGrant)]),
    (
        Action::DecideTeam,
        &[Holder(ReviewerGrant), Holder(TeamAdminGrant)],
    ),
    (
        Action::ListMembers,
        &[
            Holder(TeamAdminGrant),
            Holder(OfficeAdmin),
            Holder(Auditor),
            Holder(Operator),
        ],
    ),
    (Action::JoinTeam, &[Volunteer]),
    (Action::LeaveTeam, &[Volunteer]),
    (Action::DecideMember, &[Holder(TeamAdminGrant)]),
    (Action::AppointTeamAdmin, &[Holder(TeamAdminGrant)]),
    (Action::ListOwnTeams, &[Volunteer]),
    (
        Action::ReadRegistrationReport,
        &[
            Holder(OfficeAdmin),
            Holder(Auditor),
            Holder(Operator),
            Holder(ReviewerGrant),
        ],
    ),
    (
        Action::ListPlugins,
        &[Holder(OfficeAdmin), Holder(Auditor), Holder(Operator)],
    ),
    (
        Action::UploadPlugin,
        &[Holder(OfficeAdmin), Holder(Operator)],
    ),
    (
        Action::DryRunPlugin,
        &[Holder(OfficeAdmin), Holder(Operator)],
    ),
    (
        Action::ReadPolicy,
        &[Holder(OfficeAdmin), Holder(Auditor), Holder(Operator)],
    ),
    (Action::BindPolicy, &[Holder(OfficeAdmin), Holder(Operator)]),
    (
        Action::SwitchPolicy,
        &[Holder(OfficeAdmin), Holder(Operator)],
    ),
    (Action::PostNeed, &[Account]),
    (Action::ListNeeds, &[Public]),
    (Action::ReadNeed, &[Public]),
    (
        Action::CurateNeed,
        &[Holder(OfficeAdmin), Holder(ReviewerGrant)],
    ),
    (Action::CloseNeed, &[Account]),
    (Action::CreateProject, &[Holder(TeamAdminGrant)]),
    (
        Action::UpdateProject,
        &[Holder(TeamAdminGrant), Holder(ProjectLead)],
    ),
    (Action::PublishProject, &[Holder(TeamAdminGrant)]),
    (Action::DecideProject, &[Holder(OfficeAdmin)]),
    (Action::TakeDownProject, &[Holder(OfficeAdmin)]),
    (Action::SearchProjects, &[Public]),
    (Action::ReadProject, &[Public]),
    (Action::ListTeamProjects, &[Public]),
    (Action::SuggestProjects, &[Volunteer]),
    (Action::Enroll, &[Volunteer]),
    (Action::Withdraw, &[Volunteer]),
    (
        Action::ListEnrollments,
        &[
            Holder(TeamAdminGrant),
            Holder(ProjectLead),
            Holder(Scanner),
            Holder(OfficeAdmin),
            Holder(Auditor),
            Holder(Operator),
        ],
    ),
    (
        Action::DecideEnrollment,
        &[Holder(TeamAdminGrant), Holder(ProjectLead)],
    ),
    (Action::ListOwnEnrollments, &[Volunteer]),
    (Action::ChangeProjectGrants, &[Holder(TeamAdminGrant)]),
    (Action::ReadOwnCardQr, &[Volunteer]),
    (Action::IssuePrintedCard, &[Holder(OfficeAdmin)]),
    (Action::RevokePrintedCard, &[Holder(OfficeAdmin)]),
    (
        Action::ScanCard,
        &[Holder(Scanner), Holder(ProjectLead), Holder(TeamAdminGrant)],
    ),
    (
        Action::UploadScans,
        &[Holder(Scanner), Holder(ProjectLead), Holder(TeamAdminGrant)],
    ),
    (
        Action::ListAttendances,
        &[
            Holder(Scanner),
            Holder(ProjectLead),
            Holder(TeamAdminGrant),
            Holder(OfficeAdmin),
            Holder(Auditor),
            Holder(Operator),
        ],
    ),
    (Action::RecordService, &[Holder(TeamAdminGrant)]),
    (Action::CorrectServiceRecord, &[Holder(TeamAdminGrant)]),
    (
        Action::ListTeamServiceRecords,
        &[
            Holder(TeamAdminGrant),
            Holder(OfficeAdmin),
            Holder(Auditor),
            Holder(Operator),
        ],
    ),
    (
        Action::ListVolunteerServiceRecords,
        &[Holder(OfficeAdmin), Holder(Auditor), Holder(Operator)],
    ),
    (Action::ListOwnServiceRecords, &[Volunteer]),
    (Action::DisputeServiceRecord, &[Volunteer]),
    (Action::AnswerDispute, &[Holder(TeamAdminGrant)]),
    (Action::SettleDispute, &[Holder(OfficeAdmin)]),
    (
        Action::ListDisputes,
        &[
            Holder(TeamAdminGrant),
            Holder(OfficeAdmin),
            Holder(Auditor),
            Holder(Operator),
        ],
    ),
    (
        Action::ReadServiceTotals,
        &[Holder(OfficeAdmin), Holder(Auditor), Holder(Operator)],
    ),
    (Action::ListOwnNotices, &[Volunteer]),
    (Action::ListTeamNotices, &[Holder(TeamAdminGrant)]),
    (Action::RequestCertificate, &[Volunteer]),
    (Action::ListOwnCertificates, &[Volunteer]),
    (
        Action::ListCertificates,
        &[
            Holder(TeamAdminGrant),
            Holder(CertificateIssuer),
            Holder(OfficeAdmin),
            Holder(Auditor),
            Holder(Operator),
        ],
    ),
    (
        Action::IssueCertificate,
        &[
            Holder(TeamAdminGrant),
            Holder(CertificateIssuer),
            Holder(OfficeAdmin),
        ],
    ),
    (
        Action::RevokeCertificate,
        &[
            Holder(TeamAdminGrant),
            Holder(CertificateIssuer),
            Holder(OfficeAdmin),
        ],
    ),
    (
        Action::ReadCertificatePage,
        &[
            Volunteer,
            Holder(TeamAdminGrant),
            Holder(CertificateIssuer),
            Holder(OfficeAdmin),
            Holder(Auditor),
            Holder(Operator),
        ],
    ),
    (
        Action::ReadCertificatePdf,
        &[
            Volunteer,
            Holder(TeamAdminGrant),
            Holder(CertificateIssuer),
            Holder(OfficeAdmin),
            Holder(Auditor),
            Holder(Operator),
        ],
    ),
    (Action::VerifyCertificate, &[Public]),
    (Action::ReadLogCheckpoint, &[Public]),
    (Action::ReadLogTile, &[Public]),
    (Action::ProveLogInclusion, &[Public]),
    (Action::ProveLogConsistency, &[Public]),
    (Action::ReadOperatorDid, &[Public]),
    (Action::ListWitnessedLogs, &[Public]),
    (Action::ReadTenantDid, &[Public]),
    (Action::ListOwnCredentials, &[Volunteer]),
    (
        Action::ListCredentials,
        &[Holder(OfficeAdmin), Holder(Auditor), Holder(Operator)],
    ),
    (Action::AuditCredentials, &[Public]),
    (Action::RequestTransfer, &[Volunteer]),
    (Action::ListOwnTransfers, &[Volunteer]),
    // Another node's tenant, proven by the request's signature rather than a session.
    (Action::ReceiveMessage, &[Public]),
    (Action::ListOutbox, &[Holder(Operator)]),
    (Action::RetryMessage, &[Holder(Operator)]),
];

stored_names!(Action {
    ReadHealth = "read_health",
    ReadReadiness = "read_readiness",
    ReadApiDocument = "read_api_document",
    ReadMetrics = "read_metrics",
    ListTenants = "list_tenants",
    ReadTenant = "read_tenant",
    CreateTenant = "create_tenant",
    SignIn = "sign_in",
    ReadSession = "read_session",
    SignOut = "sign_out",
    SignOutEverywhere = "sign_out_everywhere",
    ListNodeAccounts = "list_node_accounts",
    ListRegions = "list_regions",
    ReadRegion = "read_region",
    UpdateRegion = "update_region",
    ListReviewingBodies = "list_reviewing_bodies",
    ListUnits = "list_units",
    ReadUnit = "read_unit",
    CreateUnit = "create_unit",
    UpdateUnit = "update_unit",
    ListAccounts = "list_accounts",
    ReadAccount = "read_account",
    CreateAccount = "create_account",
    ChangeGrants = "change_grants",
    ReadAuditTrail = "read_audit_trail",
    RegisterVolunteer = "register_volunteer",
    ListVolunteers = "list_volunteers",
    ReadOwnVolunteer = "read_own_volunteer",
    ReadOwnCard = "read_own_card",
    ReadVolunteer = "read_volunteer",
    DecideVolunteer = "decide_volunteer",
    VoidRegistration = "void_registration",
    UploadFile = "upload_file",
    ReadFile = "read_file",
    ApplyTeam = "apply_team",
    ListTeams = "list_teams",
    ReadTeam = "read_team",
    ReviewQueue = "review_queue",
    ResubmitTeam = "resubmit_team",
    DecideTeam = "decide_team",
    ListMembers = "list_members",
    JoinTeam = "join_team",
    LeaveTeam = "leave_team",
    DecideMember = "decide_member",
    AppointTeamAdmin = "appoint_team_admin",
    ListOwnTeams = "list_own_teams",
    ReadRegistrationReport = "read_registration_report",
    ListPlugins = "list_plugins",
    UploadPlugin = "upload_plugin",
    DryRunPlugin = "dry_run_plugin",
    ReadPolicy = "read_policy",
    BindPolicy = "bind_policy",
    SwitchPolicy = "switch_policy",
    PostNeed = "post_need",
    ListNeeds = "list_needs",
    ReadNeed = "read_need",
    CurateNeed = "curate_need",
    CloseNeed = "close_need",
    CreateProject = "create_project",
    UpdateProject = "update_project",
    PublishProject = "publish_project",
    DecideProject = "decide_project",
    TakeDownProject = "take_down_project",
    SearchProjects = "search_projects",
    ReadProject = "read_project",
    ListTeamProjects = "list_team_projects",
    SuggestProjects = "suggest_projects",
    Enroll = "enroll",
    Withdraw = "withdraw",
    ListEnrollments = "list_enrollments",
    DecideEnrollment = "decide_enrollment",
    ListOwnEnrollments = "list_own_enrollments",
    ChangeProjectGrants = "change_project_grants",
    ReadOwnCardQr = "read_own_card_qr",
    IssuePrintedCard = "issue_printed_card",
    RevokePrintedCard = "revoke_printed_card",
    ScanCard = "scan_card",
    UploadScans = "upload_scans",
    ListAttendances = "list_attendances",
    RecordService = "record_service",
    CorrectServiceRecord = "correct_service_record",
    ListTeamServiceRecords = "list_team_service_records",
    ListVolunteerServiceRecords = "list_volunteer_service_records",
    ListOwnServiceRecords = "list_own_service_records",
    DisputeServiceRecord = "dispute_service_record",
    AnswerDispute = "answer_dispute",
    SettleDispute = "settle_dispute",
    ListDisputes = "list_disputes",
    ReadServiceTotals = "read_service_totals",
    ListOwnNotices = "list_own_notices",
    ListTeamNotices = "list_team_notices",
    RequestCertificate = "request_certificate",
    ListOwnCertificates = "list_own_certificates",
    ListCertificates = "list_certificates",
    IssueCertificate = "issue_certificate",
    RevokeCertificate = "revoke_certificate",
    ReadCertificatePage = "read_certificate_page",
    ReadCertificatePdf = "read_certificate_pdf",
    VerifyCertificate = "verify_certificate",
    ReadLogCheckpoint = "read_log_checkpoint",
    ReadLogTile = "read_log_tile",
    ProveLogInclusion = "prove_log_inclusion",
    ProveLogConsistency = "prove_log_consistency",
    ReadOperatorDid = "read_operator_did",
    ReadTenantDid = "read_tenant_did",
    ListOwnCredentials = "list_own_credentials",
    ListCredentials = "list_credentials",
    ListWitnessedLogs = "list_witnessed_logs",
    AuditCredentials = "audit_credentials",
    RequestTransfer = "request_transfer",
    ListOwnTransfers = "list_own_transfers",
    ReceiveMessage = "receive_message",
    ListOutbox = "list_outbox",
    RetryMessage = "retry_message",
});

impl Action {
    /// Who the action is open to, from the permission table.
    pub fn open_to(self) -> &'static [Who] {
        PERMISSIONS
            .iter()
            .find(|(action, _)| *action == self)
            .map(|(_, who)| *who)
            .unwrap_or(&[])
    }

    pub fn is_public(self) -> bool {
        self.open_to().contains(&Public)
    }
}

/// A signed-in account as an action sees it: who it is, where it belongs and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub account_id: Uuid,
    /// The account's tenant; `None` for an account of the node (operators, node-wide auditors).
    pub tenant: Option<TenantCode>,
    pub username: String,
    pub grants: Vec<Grant>,
    /// The account's volunteer record in its tenant, where it has one.
    pub volunteer_id: Option<Uuid>,
}

impl Principal {
    /// The principal as the audit trail records it.
    pub fn actor(&self) -> Actor {
        Actor {
            account_id: Some(self.account_id),
            name: self.username.clone(),
        }
    }

    /// An account of this tenant (never a node-wide one).
    pub fn belongs_to(&self, tenant: &TenantCode) -> bool {
        self.tenant.as_ref() == Some(tenant)
    }

    /// Holds a grant of `kind` that reaches into `tenant` (into the node, for `None`): a
    /// node-wide grant reaches every tenant, any other grant only its account's own.
    pub fn holds_in(&self, kind: GrantKind, tenant: Option<&TenantCode>) -> bool {
        self.grants.iter().any(|grant| {
            grant.kind == kind
                && (grant.is_node_wide() || tenant.is_some_and(|tenant| self.belongs_to(tenant)))
        })
    }

    /// Holds a grant of `kind` over `scope` in `tenant`: a grant over that very scope, or over
    /// the whole tenant, or node-wide.
    pub fn holds(&self, kind: GrantKind, scope: Scope, tenant: &TenantCode) -> bool {
        self.grants.iter().any(|grant| {
            grant.kind == kind
                && match grant.scope {
                    Scope::Node => true,
                    Scope::Tenant => self.belongs_to(tenant),
                    own => own == scope && self.belongs_to(tenant),
                }
        })
    }

    /// The check made before a request is read: whether anything the action is open to could be
    /// this principal in `tenant`. What a scoped grant reaches is checked by the use case once
    /// it has loaded the resource.
    pub fn may(&self, action: Action, tenant: Option<&TenantCode>) -> bool {
        action.open_to().iter().any(|who| match who {
            Who::Public => true,
            Who::Account | Who::Itself => tenant.is_none_or(|tenant| self.belongs_to(tenant)),
            Who::Volunteer => {
                self.volunteer_id.is_some() && tenant.is_some_and(|tenant| self.belongs_to(tenant))
            }
            Who::Holder(kind) => self.holds_in(*kind, tenant),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(tenant: Option<&str>, grants: &[Grant], volunteer: bool) -> Principal {
        Principal {
            account_id: Uuid::nil(),
            tenant: tenant.map(|code| TenantCode::parse(code).unwrap()),
            username: "someone".into(),
            grants: grants.to_vec(),
            volunteer_id: volunteer.then(Uuid::nil),
        }
    }

    fn grant(kind: GrantKind, scope: Scope, node_wide: bool) -> Grant {
        Grant::new(kind, scope, node_wide, "/grants/0").unwrap()
    }

    #[test]
    fn every_action_is_in_the_table_once() {
        for action in Action::ALL {
            let rows = PERMISSIONS.iter().filter(|(a, _)| a == action).count();
            assert_eq!(rows, 1, "{action:?}");
            assert!(!action.open_to().is_empty(), "{action:?}");
        }
    }

    #[test]
    fn grants_fit_their_scopes() {
        let team = Scope::Team(Uuid::nil());
        assert!(Grant::new(GrantKind::TeamAdmin, team, false, "/g").is_ok());
        assert!(Grant::new(GrantKind::TeamAdmin, Scope::Tenant, false, "/g").is_err());
        assert!(Grant::new(GrantKind::Operator, Scope::Node, true, "/g").is_ok());
        assert!(Grant::new(GrantKind::Operator, Scope::Node, false, "/g").is_err());
        assert!(Grant::new(GrantKind::OfficeAdmin, Scope::Tenant, true, "/g").is_err());
        assert!(Grant::new(GrantKind::Auditor, Scope::Node, true, "/g").is_ok());
        assert!(Grant::new(GrantKind::Auditor, Scope::Tenant, false, "/g").is_ok());
        for scope in [
            "node",
            "tenant",
            "team:0190a000-0000-7000-8000-000000000000",
        ] {
            assert_eq!(Scope::parse(scope).unwrap().to_text(), scope);
        }
        assert_eq!(Scope::parse("team:nope"), None);
    }

    #[test]
    fn grants_reach_their_own_tenant_and_node_grants_every_tenant() {
        let suizhou = TenantCode::parse("421300").unwrap();
        let ezhou = TenantCode::parse("420700").unwrap();
        let office = principal(
            Some("421300"),
            &[grant(GrantKind::OfficeAdmin, Scope::Tenant, false)],
            false,
        );
        assert!(office.may(Action::CreateUnit, Some(&suizhou)));
        assert!(!office.may(Action::CreateUnit, Some(&ezhou)));
        assert!(!office.may(Action::CreateTenant, None));
        let operator = principal(
            None,
            &[grant(GrantKind::Operator, Scope::Node, true)],
            false,
        );
        assert!(operator.may(Action::ListPlugins, Some(&ezhou)));
        assert!(operator.may(Action::CreateTenant, None));
        assert!(!operator.may(Action::CreateUnit, Some(&ezhou)));
        assert!(!operator.may(Action::ReadOwnVolunteer, Some(&ezhou)));
    }

    #[test]
    fn one_account_acts_as_volunteer_team_admin_and_reviewer() {
        let suizhou = TenantCode::parse("421300").unwrap();
        let (team, body) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let person = principal(
            Some("421300"),
            &[
                grant(GrantKind::TeamAdmin, Scope::Team(team), false),
                grant(GrantKind::Reviewer, Scope::ReviewingBody(body), false),
            ],
            true,
        );
        assert!(person.may(Action::JoinTeam, Some(&suizhou)));
        assert!(person.may(Action::DecideMember, Some(&suizhou)));
        assert!(person.may(Action::DecideVolunteer, Some(&suizhou)));
        assert!(!person.may(Action::CreateUnit, Some(&suizhou)));
        assert!(person.holds(GrantKind::TeamAdmin, Scope::Team(team), &suizhou));
        assert!(!person.holds(GrantKind::TeamAdmin, Scope::Team(body), &suizhou));
        assert!(person.holds(GrantKind::Reviewer, Scope::ReviewingBody(body), &suizhou));
    }

    #[test]
    fn without_a_volunteer_record_volunteer_actions_are_closed() {
        let suizhou = TenantCode::parse("421300").unwrap();
        let plain = principal(Some("421300"), &[], false);
        assert!(!plain.may(Action::JoinTeam, Some(&suizhou)));
        assert!(plain.may(Action::ListTeams, Some(&suizhou)));
        assert!(plain.may(Action::ReadAccount, Some(&suizhou)));
    }
}
