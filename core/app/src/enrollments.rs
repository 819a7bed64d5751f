//! Signing up for shifts (R15). A verified volunteer takes a place, or joins the waiting list
//! of a full shift, which moves up by itself when a place frees; a minor signs up only where
//! the project takes minors, with a guardian's consent recorded; nobody holds two shifts at
//! the same time. Those who run the project accept, reject or remove sign-ups with a reason.

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use zhiyuan_domain::{
    AgeGroup, EnrollmentStatus, GrantKind, GuardianConsentInput, InvalidInput, MinorsPolicy,
    Principal, ProjectState, Rule, Scope, TenantCode, VolunteerStatus,
};
use zhiyuan_store::{EnrollmentRecord, ProjectRecord};

use crate::projects::{parse_reason, runs};
use crate::views::EnrollmentView;
use crate::volunteers::own_record;
use crate::{App, AppError};

/// A sign-up as a volunteer sends it: a minor's carries their guardian's consent.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentRequest {
    pub guardian_consent: Option<GuardianConsentInput>,
}

/// What those who run a project decide on a sign-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentDecision {
    /// An application taken: it keeps its place.
    Accept,
    /// An application refused, with a reason: its place goes to the waiting list.
    Reject,
    /// A sign-up taken away, with a reason.
    Remove,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentDecisionRequest {
    pub decision: EnrollmentDecision,
    pub reason: Option<String>,
}

pub(crate) fn view(enrollment: EnrollmentRecord) -> EnrollmentView {
    EnrollmentView {
        id: enrollment.id,
        shift_id: enrollment.shift_id,
        project_id: enrollment.project_id,
        project_title: enrollment.project_title,
        volunteer_id: enrollment.volunteer_id,
        volunteer_name: enrollment.volunteer_name,
        volunteer_number: enrollment.volunteer_number,
        status: enrollment.status,
        shift_starts_at: enrollment.shift_starts_at,
        shift_ends_at: enrollment.shift_ends_at,
        waiting_ahead: enrollment.waiting_ahead,
        reason: enrollment.reason,
        guardian_consent: enrollment.guardian.is_some(),
        enrolled_at: enrollment.enrolled_at,
        changed_at: enrollment.changed_at,
    }
}

/// The signed-in volunteer signs up for a shift.
pub async fn enroll(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    shift_id: Uuid,
    request: EnrollmentRequest,
) -> Result<EnrollmentView, AppError> {
    let volunteer = own_record(app, principal, tenant).await?;
    if volunteer.status != VolunteerStatus::Verified {
        return Err(AppError::Refused(Rule::VolunteerNotVerified));
    }
    let (project, shift) = app.store.shift_with_project(tenant, shift_id).await?;
    let now = app.clock.now();
    if !matches!(
        project
            .status
            .state(project.starts_at, project.ends_at, now),
        ProjectState::Recruiting | ProjectState::Running
    ) {
        return Err(AppError::WrongState(Rule::ProjectNotRecruiting));
    }
    if shift.starts_at <= now {
        return Err(AppError::WrongState(Rule::ShiftStarted));
    }
    // The age on the day of the shift, from the identity document.
    let minor = volunteer
        .birth_date
        .is_some_and(|born| AgeGroup::of(born, shift.starts_at.shanghai_date()) == AgeGroup::Minor);
    let consent = match (minor, project.minors, request.guardian_consent) {
        (false, _, _) => None,
        (true, MinorsPolicy::NotAllowed, _) => {
            return Err(AppError::Refused(Rule::MinorsNotAllowed));
        }
        (true, MinorsPolicy::WithGuardianConsent, None) => {
            return Err(
                InvalidInput::new("/guardian_consent", Rule::GuardianConsentRequired).into(),
            );
        }
        (true, MinorsPolicy::WithGuardianConsent, Some(consent)) => {
            Some(consent.parse("/guardian_consent")?)
        }
    };
    let enrollment = app
        .store
        .enroll(
            tenant,
            &project,
            &shift,
            volunteer.id,
            consent.as_ref(),
            &principal.actor(),
            now,
        )
        .await?;
    Ok(view(enrollment))
}

fn shift_of(project: &ProjectRecord, shift: Uuid) -> Result<&zhiyuan_store::ShiftRecord, AppError> {
    project
        .shifts
        .iter()
        .find(|candidate| candidate.id == shift)
        .ok_or(AppError::NotFound)
}

/// The signed-in volunteer withdraws from a shift: from the waiting list at any time, from a
/// place until the project's cutoff before the shift starts.
pub async fn withdraw(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    shift_id: Uuid,
) -> Result<EnrollmentView, AppError> {
    let volunteer = own_record(app, principal, tenant).await?;
    let project = app.store.project_of_shift(tenant, shift_id).await?;
    let shift = shift_of(&project, shift_id)?;
    let enrollment = app
        .store
        .live_enrollment(tenant, shift_id, volunteer.id)
        .await
        .map_err(|error| match AppError::from(error) {
            AppError::NotFound => AppError::WrongState(Rule::NotEnrolled),
            other => other,
        })?;
    let now = app.clock.now();
    let cutoff = shift
        .starts_at
        .plus_seconds(-i64::from(project.withdrawal_cutoff_hours) * 3600);
    if enrollment.status.holds_place() && now >= cutoff {
        return Err(AppError::Refused(Rule::WithdrawalClosed));
    }
    let withdrawn = app
        .store
        .change_enrollment(
            tenant,
            enrollment.id,
            EnrollmentStatus::Withdrawn,
            project.acceptance,
            None,
            &principal.actor(),
            now,
        )
        .await?;
    Ok(view(withdrawn))
}

/// Those who run the project, its scanners, the office and auditors see a shift's sign-ups.
fn reads_sign_ups(principal: &Principal, tenant: &TenantCode, project: &ProjectRecord) -> bool {
    runs(principal, tenant, project)
        || principal.holds(GrantKind::Scanner, Scope::Project(project.id), tenant)
        || [
            GrantKind::OfficeAdmin,
            GrantKind::Auditor,
            GrantKind::Operator,
        ]
        .into_iter()
        .any(|kind| principal.holds_in(kind, Some(tenant)))
}

/// A shift's sign-ups: places in the order they were taken, the waiting list after.
pub async fn of_shift(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    shift_id: Uuid,
) -> Result<Vec<EnrollmentView>, AppError> {
    let project = app.store.project_of_shift(tenant, shift_id).await?;
    if !reads_sign_ups(principal, tenant, &project) {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    Ok(app
        .store
        .enrollments_of_shift(tenant, shift_id)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// Those who run the project accept or reject an application, or remove a sign-up; rejecting
/// and removing need a reason.
pub async fn decide(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    shift_id: Uuid,
    enrollment_id: Uuid,
    request: EnrollmentDecisionRequest,
) -> Result<EnrollmentView, AppError> {
    let project = app.store.project_of_shift(tenant, shift_id).await?;
    if !runs(principal, tenant, &project) {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    let enrollment = app.store.enrollment(tenant, enrollment_id).await?;
    if enrollment.shift_id != shift_id {
        return Err(AppError::NotFound);
    }
    let reason = parse_reason(
        request.reason,
        request.decision != EnrollmentDecision::Accept,
        "/reason",
    )?;
    let to = match request.decision {
        EnrollmentDecision::Accept => EnrollmentStatus::Accepted,
        EnrollmentDecision::Reject => EnrollmentStatus::Rejected,
        EnrollmentDecision::Remove => EnrollmentStatus::Removed,
    };
    let decided = app
        .store
        .change_enrollment(
            tenant,
            enrollment.id,
            to,
            project.acceptance,
            reason,
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    Ok(view(decided))
}

/// The signed-in volunteer's sign-ups, soonest shift first.
pub async fn mine(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
) -> Result<Vec<EnrollmentView>, AppError> {
    let volunteer = own_record(app, principal, tenant).await?;
    Ok(app
        .store
        .enrollments_of_volunteer(tenant, volunteer.id)
        .await?
        .into_iter()
        .map(view)
        .collect())
}
