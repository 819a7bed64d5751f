//! What the audit trail records: one action per kind of change, by a stable name.

use serde::{Deserialize, Serialize};

use crate::stored::stored_names;

/// A kind of change (or sign-in) the audit trail records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum AuditAction {
    #[serde(rename = "tenant.create")]
    TenantCreate,
    #[serde(rename = "region.update")]
    RegionUpdate,
    #[serde(rename = "unit.create")]
    UnitCreate,
    #[serde(rename = "unit.update")]
    UnitUpdate,
    #[serde(rename = "account.create")]
    AccountCreate,
    #[serde(rename = "account.set_password")]
    AccountSetPassword,
    #[serde(rename = "account.sign_in")]
    SignIn,
    #[serde(rename = "account.sign_in_refused")]
    SignInRefused,
    #[serde(rename = "account.sign_out")]
    SignOut,
    #[serde(rename = "account.sign_out_everywhere")]
    SignOutEverywhere,
    #[serde(rename = "grant.add")]
    GrantAdd,
    #[serde(rename = "grant.revoke")]
    GrantRevoke,
    #[serde(rename = "volunteer.register")]
    VolunteerRegister,
    #[serde(rename = "volunteer.import")]
    VolunteerImport,
    #[serde(rename = "volunteer.verify")]
    VolunteerVerify,
    #[serde(rename = "volunteer.reject")]
    VolunteerReject,
    #[serde(rename = "volunteer.void")]
    VolunteerVoid,
    #[serde(rename = "volunteer.reveal_id_number")]
    VolunteerRevealIdNumber,
    #[serde(rename = "volunteer.transfer")]
    VolunteerTransfer,
    #[serde(rename = "volunteer.transfer_complete")]
    VolunteerTransferComplete,
    #[serde(rename = "volunteer.transfer_refused")]
    VolunteerTransferRefused,
    #[serde(rename = "volunteer.transfer_in")]
    VolunteerTransferIn,
    #[serde(rename = "file.upload")]
    FileUpload,
    #[serde(rename = "team.apply")]
    TeamApply,
    #[serde(rename = "team.resubmit")]
    TeamResubmit,
    #[serde(rename = "team.approve")]
    TeamApprove,
    #[serde(rename = "team.reject")]
    TeamReject,
    #[serde(rename = "team.appoint_admin")]
    TeamAppointAdmin,
    #[serde(rename = "membership.apply")]
    MembershipApply,
    #[serde(rename = "membership.accept")]
    MembershipAccept,
    #[serde(rename = "membership.reject")]
    MembershipReject,
    #[serde(rename = "membership.remove")]
    MembershipRemove,
    #[serde(rename = "membership.leave")]
    MembershipLeave,
    #[serde(rename = "plugin.upload")]
    PluginUpload,
    #[serde(rename = "policy.bind")]
    PolicyBind,
    #[serde(rename = "policy.switch")]
    PolicySwitch,
    #[serde(rename = "policy.switch_off")]
    PolicySwitchOff,
    #[serde(rename = "data_key.rotate")]
    DataKeyRotate,
    #[serde(rename = "project.create")]
    ProjectCreate,
    #[serde(rename = "project.update")]
    ProjectUpdate,
    #[serde(rename = "project.submit")]
    ProjectSubmit,
    #[serde(rename = "project.publish")]
    ProjectPublish,
    #[serde(rename = "project.approve")]
    ProjectApprove,
    #[serde(rename = "project.reject")]
    ProjectReject,
    #[serde(rename = "project.take_down")]
    ProjectTakeDown,
    #[serde(rename = "need.post")]
    NeedPost,
    #[serde(rename = "need.open")]
    NeedOpen,
    #[serde(rename = "need.reject")]
    NeedReject,
    #[serde(rename = "need.close")]
    NeedClose,
    #[serde(rename = "enrollment.create")]
    EnrollmentCreate,
    #[serde(rename = "enrollment.withdraw")]
    EnrollmentWithdraw,
    #[serde(rename = "enrollment.accept")]
    EnrollmentAccept,
    #[serde(rename = "enrollment.reject")]
    EnrollmentReject,
    #[serde(rename = "enrollment.remove")]
    EnrollmentRemove,
    #[serde(rename = "enrollment.promote")]
    EnrollmentPromote,
    #[serde(rename = "card.issue_printed")]
    CardIssuePrinted,
    #[serde(rename = "card.revoke_printed")]
    CardRevokePrinted,
    #[serde(rename = "service_record.manual")]
    ServiceRecordManual,
    #[serde(rename = "service_record.correct")]
    ServiceRecordCorrect,
    #[serde(rename = "service_record.missing_check_out")]
    ServiceRecordMissingCheckOut,
    #[serde(rename = "dispute.open")]
    DisputeOpen,
    #[serde(rename = "dispute.answer")]
    DisputeAnswer,
    #[serde(rename = "dispute.uphold")]
    DisputeUphold,
    #[serde(rename = "dispute.dismiss")]
    DisputeDismiss,
    #[serde(rename = "volunteer.star_level")]
    VolunteerStarLevel,
    #[serde(rename = "certificate.request")]
    CertificateRequest,
    #[serde(rename = "certificate.issue")]
    CertificateIssue,
    #[serde(rename = "certificate.revoke")]
    CertificateRevoke,
}

stored_names!(AuditAction {
    TenantCreate = "tenant.create",
    RegionUpdate = "region.update",
    UnitCreate = "unit.create",
    UnitUpdate = "unit.update",
    AccountCreate = "account.create",
    AccountSetPassword = "account.set_password",
    SignIn = "account.sign_in",
    SignInRefused = "account.sign_in_refused",
    SignOut = "account.sign_out",
    SignOutEverywhere = "account.sign_out_everywhere",
    GrantAdd = "grant.add",
    GrantRevoke = "grant.revoke",
    VolunteerRegister = "volunteer.register",
    VolunteerImport = "volunteer.import",
    VolunteerVerify = "volunteer.verify",
    VolunteerReject = "volunteer.reject",
    VolunteerVoid = "volunteer.void",
    VolunteerRevealIdNumber = "volunteer.reveal_id_number",
    VolunteerTransfer = "volunteer.transfer",
    VolunteerTransferComplete = "volunteer.transfer_complete",
    VolunteerTransferRefused = "volunteer.transfer_refused",
    VolunteerTransferIn = "volunteer.transfer_in",
    FileUpload = "file.upload",
    TeamApply = "team.apply",
    TeamResubmit = "team.resubmit",
    TeamApprove = "team.approve",
    TeamReject = "team.reject",
    TeamAppointAdmin = "team.appoint_admin",
    MembershipApply = "membership.apply",
    MembershipAccept = "membership.accept",
    MembershipReject = "membership.reject",
    MembershipRemove = "membership.remove",
    MembershipLeave = "membership.leave",
    PluginUpload = "plugin.upload",
    PolicyBind = "policy.bind",
    PolicySwitch = "policy.switch",
    PolicySwitchOff = "policy.switch_off",
    DataKeyRotate = "data_key.rotate",
    ProjectCreate = "project.create",
    ProjectUpdate = "project.update",
    ProjectSubmit = "project.submit",
    ProjectPublish = "project.publish",
    ProjectApprove = "project.approve",
    ProjectReject = "project.reject",
    ProjectTakeDown = "project.take_down",
    NeedPost = "need.post",
    NeedOpen = "need.open",
    NeedReject = "need.reject",
    NeedClose = "need.close",
    EnrollmentCreate = "enrollment.create",
    EnrollmentWithdraw = "enrollment.withdraw",
    EnrollmentAccept = "enrollment.accept",
    EnrollmentReject = "enrollment.reject",
    EnrollmentRemove = "enrollment.remove",
    EnrollmentPromote = "enrollment.promote",
    CardIssuePrinted = "card.issue_printed",
    CardRevokePrinted = "card.revoke_printed",
    ServiceRecordManual = "service_record.manual",
    ServiceRecordCorrect = "service_record.correct",
    ServiceRecordMissingCheckOut = "service_record.missing_check_out",
    DisputeOpen = "dispute.open",
    DisputeAnswer = "dispute.answer",
    DisputeUphold = "dispute.uphold",
    DisputeDismiss = "dispute.dismiss",
    VolunteerStarLevel = "volunteer.star_level",
    CertificateRequest = "certificate.request",
    CertificateIssue = "certificate.issue",
    CertificateRevoke = "certificate.revoke",
});

impl AuditAction {
    /// The kind of entity the action changes, as the trail names it.
    pub fn entity_kind(self) -> &'static str {
        self.as_str().split('.').next().unwrap_or("")
    }
}
