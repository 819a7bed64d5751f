//! Teams: applications checked against R11 (who reviews them) and R12 (what they may be
//! called), review at the right level, admins, members, and the certificate files an
//! application shows. Nobody decides an application they made or a team they will administer.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;
use zhiyuan_domain::ports::Hook;
use zhiyuan_domain::{
    GrantKind, InvalidInput, KnownTeam, NewTeam, Principal, Rule, Scope, TeamApplication,
    TeamApplicationContext, TeamStatus, TenantCode, VolunteerStatus, check_text, mask,
};
use zhiyuan_store::{Membership, MembershipStatus, TeamRecord};

use crate::views::{FileView, MemberView, MembershipView, MyTeamsView, TeamAdminsView, TeamView};
use crate::volunteers::{Decision, DecisionRequest, own_record};
use crate::{App, AppError, ask};

/// Certificate images: PNG, JPEG or PDF, at most this large.
pub const FILE_LIMIT: usize = 5 * 1024 * 1024;

/// A team admin's decision on a member or applicant.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberDecision {
    Accept,
    Reject,
    Remove,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberDecisionRequest {
    pub decision: MemberDecision,
}

/// A member to appoint as another admin of the team.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointRequest {
    pub volunteer_id: Uuid,
}

pub(crate) fn view(team: TeamRecord, admin: bool) -> TeamView {
    TeamView {
        id: team.id,
        name: team.name,
        kind: team.kind,
        association: team.association,
        unit: team.unit,
        region: team.region,
        contact_name: team.contact_name,
        contact_mobile: if admin {
            team.contact_mobile
        } else {
            mask(&team.contact_mobile, 3, 4)
        },
        legal_status: team.legal_status,
        parent_team: team.parent_team,
        liaison_team: team.liaison_team,
        registration_authority: team.registration_authority,
        credit_code: team.credit_code,
        org_code: team.org_code,
        reviewing_body: team.reviewing_body,
        status: team.status,
        decision_reason: team.decision_reason,
        submitted_at: team.submitted_at,
        decided_at: team.decided_at,
        certificates: team.certificates,
    }
}

fn membership_view(membership: Membership) -> MembershipView {
    MembershipView {
        team_id: membership.team_id,
        volunteer_id: membership.volunteer_id,
        status: membership.status.into(),
        applied_at: membership.applied_at,
        decided_at: membership.decided_at,
    }
}

fn is_admin(principal: &Principal, tenant: &TenantCode, team: Uuid) -> bool {
    principal.holds(GrantKind::TeamAdmin, Scope::Team(team), tenant)
}

fn require_admin(principal: &Principal, tenant: &TenantCode, team: Uuid) -> Result<(), AppError> {
    if is_admin(principal, tenant, team) {
        Ok(())
    } else {
        Err(AppError::Refused(Rule::OutsideGrantScope))
    }
}

/// Parses an application and checks it against R11 (in the domain) and R12 (the tenant's
/// policy, which may run a plugin), against the tenant as it is now.
pub async fn check_application(
    app: &App,
    tenant: &TenantCode,
    application: TeamApplication,
    resubmitting: Option<Uuid>,
) -> Result<NewTeam, AppError> {
    let regions = app.store.regions(tenant).await?;
    let bodies = app.store.reviewing_bodies(tenant).await?;
    let teams: Vec<KnownTeam> = app
        .store
        .teams(tenant)
        .await?
        .into_iter()
        .map(|team| KnownTeam {
            id: team.id,
            status: team.status,
            association: team.association,
            region: team.region,
        })
        .collect();
    let unit = application.unit_id;
    let team = application.parse(&TeamApplicationContext {
        regions: &regions,
        bodies: &bodies,
        teams: &teams,
        resubmitting,
    })?;
    // R12: teams of organs, people's organisations, enterprises and public institutions are
    // named after their unit.
    let unit_name = match unit {
        Some(unit) => Some(
            app.store
                .unit(tenant, unit)
                .await
                .map_err(|error| AppError::unknown("/unit_id", Rule::UnitUnknown)(error.into()))?
                .name
                .zh,
        ),
        None => None,
    };
    let policy = app.policies.for_tenant(tenant);
    let (kind, name) = (team.kind, team.name.clone());
    ask(policy, Hook::TeamName, move |policy| {
        policy.check_team_name(kind, &name, unit_name.as_deref())
    })
    .await??;
    Ok(team)
}

/// Team admins and the office apply for teams and upload what an application needs; a person
/// who does it as a volunteer must be verified first.
async fn require_applicant(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
) -> Result<(), AppError> {
    let acts_for_a_team_or_the_office = principal
        .grants
        .iter()
        .any(|grant| matches!(grant.kind, GrantKind::TeamAdmin | GrantKind::OfficeAdmin))
        && principal.belongs_to(tenant);
    if acts_for_a_team_or_the_office {
        return Ok(());
    }
    let volunteer = own_record(app, principal, tenant).await?;
    if volunteer.status != VolunteerStatus::Verified {
        return Err(AppError::Refused(Rule::VolunteerNotVerified));
    }
    Ok(())
}

/// Uploads a certificate image (PNG, JPEG or PDF, recognised by its content, at most 5 MiB)
/// for an application: verified volunteers (who may apply), team admins and the office, within
/// their daily quota and the tenant's. Stored once under its SHA-256.
pub async fn upload_file(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    bytes: Vec<u8>,
) -> Result<FileView, AppError> {
    require_applicant(app, principal, tenant).await?;
    let media_type = match infer::get(&bytes).map(|kind| kind.mime_type()) {
        Some(media_type @ ("image/png" | "image/jpeg" | "application/pdf")) => media_type,
        _ => return Err(InvalidInput::new("/", Rule::FileType).into()),
    };
    let settings = &app.settings;
    let now = app.clock.now();
    let day = 24 * 3600 * 1000;
    let account = format!("{tenant}/{}", principal.account_id);
    let files = app
        .store
        .add_to_counter(&format!("upload-files:{account}"), 1, day, now)
        .await?;
    let size = bytes.len() as u64;
    let daily_bytes = app
        .store
        .add_to_counter(
            &format!("upload-bytes:{account}"),
            i64::try_from(size).unwrap_or(i64::MAX),
            day,
            now,
        )
        .await?;
    if files > settings.uploads_per_account_per_day
        || daily_bytes > settings.upload_bytes_per_account_per_day
        || app.store.file_bytes(tenant).await? + size > settings.upload_bytes_per_tenant
    {
        return Err(AppError::Refused(Rule::UploadQuota));
    }
    let sha256 = hex::encode(Sha256::digest(&bytes));
    app.store
        .store_file(tenant, &sha256, media_type, &bytes, &principal.actor(), now)
        .await?;
    Ok(FileView {
        sha256,
        media_type: media_type.to_owned(),
        size,
    })
}

/// A stored file's media type and bytes.
pub async fn read_file(
    app: &App,
    tenant: &TenantCode,
    sha256: &str,
) -> Result<(String, Vec<u8>), AppError> {
    Ok(app.store.file(tenant, sha256).await?)
}

/// Applies to register a team; the applicant becomes its first admin.
pub async fn apply(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    application: TeamApplication,
) -> Result<TeamView, AppError> {
    require_applicant(app, principal, tenant).await?;
    let team = check_application(app, tenant, application, None).await?;
    let created = app
        .store
        .create_team(
            tenant,
            &team,
            principal.account_id,
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    app.sessions.forget_account(principal.account_id);
    Ok(view(created, true))
}

/// The tenant's teams, associations included.
pub async fn list(app: &App, tenant: &TenantCode) -> Result<Vec<TeamView>, AppError> {
    Ok(app
        .store
        .teams(tenant)
        .await?
        .into_iter()
        .map(|team| view(team, false))
        .collect())
}

pub async fn read(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<TeamView, AppError> {
    let team = app.store.team(tenant, id).await?;
    let admin = is_admin(principal, tenant, team.id);
    Ok(view(team, admin))
}

/// The applications the principal decides: those of the reviewing bodies it reviews for, and
/// those that chose a team it administers as liaison; never its own.
pub async fn review_queue(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
) -> Result<Vec<TeamView>, AppError> {
    if !principal.belongs_to(tenant) {
        return Ok(Vec::new());
    }
    Ok(app
        .store
        .team_review_queue(tenant, principal.account_id)
        .await?
        .into_iter()
        .map(|team| view(team, false))
        .collect())
}

/// A rejected team corrects its application and submits it again (its admins).
pub async fn resubmit(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    application: TeamApplication,
) -> Result<TeamView, AppError> {
    let team = app.store.team(tenant, id).await?;
    require_admin(principal, tenant, team.id)?;
    if team.status != TeamStatus::Rejected {
        return Err(AppError::WrongState(Rule::AlreadyDecided));
    }
    let corrected = check_application(app, tenant, application, Some(team.id)).await?;
    let after = app
        .store
        .resubmit_team(
            tenant,
            team.id,
            &corrected,
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    Ok(view(after, true))
}

/// Whether the principal decides this application: a reviewer of its registration authority,
/// a reviewer of the association it chose as liaison, or an admin of the parent team it chose.
async fn reviews(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    team: &TeamRecord,
) -> Result<bool, AppError> {
    let reviews_for = |body: Option<Uuid>| {
        body.is_some_and(|body| {
            principal.holds(GrantKind::Reviewer, Scope::ReviewingBody(body), tenant)
        })
    };
    if reviews_for(team.registration_authority) {
        return Ok(true);
    }
    let Some(liaison) = team.liaison_team else {
        return Ok(false);
    };
    let liaison = app.store.team(tenant, liaison).await?;
    Ok(reviews_for(liaison.reviewing_body) || is_admin(principal, tenant, liaison.id))
}

/// Approves or rejects an application: only the body or team it chose may, at its own level,
/// and never the applicant or someone who will administer the team.
pub async fn decide(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
    request: DecisionRequest,
) -> Result<TeamView, AppError> {
    let team = app.store.team(tenant, id).await?;
    if !reviews(app, principal, tenant, &team).await? {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    if team.applicant == Some(principal.account_id) || is_admin(principal, tenant, team.id) {
        return Err(AppError::Refused(Rule::OwnApplication));
    }
    if team.status != TeamStatus::Pending {
        return Err(AppError::WrongState(Rule::AlreadyDecided));
    }
    let reason = request
        .reason
        .map(|reason| reason.trim().to_owned())
        .filter(|reason| !reason.is_empty());
    if let Some(reason) = &reason {
        check_text(reason, 500, "/reason")?;
    }
    let status = match request.decision {
        Decision::Approve => TeamStatus::Approved,
        Decision::Reject if reason.is_none() => {
            return Err(InvalidInput::new("/reason", Rule::ReasonRequired).into());
        }
        Decision::Reject => TeamStatus::Rejected,
    };
    let after = app
        .store
        .decide_team(
            tenant,
            team.id,
            status,
            reason,
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    Ok(view(after, false))
}

/// The team's members and applicants: to its admins, who see their mobile numbers, and to the
/// office and auditors, who see them masked.
pub async fn members(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<Vec<MemberView>, AppError> {
    let team = app.store.team(tenant, id).await?;
    let admin = is_admin(principal, tenant, team.id);
    let reads = [
        GrantKind::OfficeAdmin,
        GrantKind::Auditor,
        GrantKind::Operator,
    ]
    .into_iter()
    .any(|kind| principal.holds_in(kind, Some(tenant)));
    if !admin && !reads {
        return Err(AppError::Refused(Rule::OutsideGrantScope));
    }
    let mut items = Vec::new();
    for membership in app.store.team_memberships(tenant, team.id).await? {
        let volunteer = app.store.volunteer(tenant, membership.volunteer_id).await?;
        items.push(MemberView {
            membership: membership_view(membership),
            name: volunteer.name,
            volunteer_number: volunteer.volunteer_number,
            mobile: if admin {
                volunteer.mobile
            } else {
                mask(&volunteer.mobile, 3, 4)
            },
        });
    }
    Ok(items)
}

/// The signed-in volunteer applies to join the team.
pub async fn join(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<MembershipView, AppError> {
    let team = app.store.team(tenant, id).await?;
    let volunteer = own_record(app, principal, tenant).await?;
    if volunteer.status != VolunteerStatus::Verified {
        return Err(AppError::WrongState(Rule::VolunteerNotVerifiedForTeam));
    }
    if team.status != TeamStatus::Approved {
        return Err(AppError::WrongState(Rule::TeamNotApproved));
    }
    let membership = app
        .store
        .apply_membership(
            tenant,
            team.id,
            volunteer.id,
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    Ok(membership_view(membership))
}

/// The signed-in volunteer leaves the team; their past records stay.
pub async fn leave(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    id: Uuid,
) -> Result<MembershipView, AppError> {
    let team = app.store.team(tenant, id).await?;
    let volunteer = own_record(app, principal, tenant).await?;
    let membership = app
        .store
        .change_membership(
            tenant,
            team.id,
            volunteer.id,
            &[MembershipStatus::Applied, MembershipStatus::Member],
            MembershipStatus::Left,
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    Ok(membership_view(membership))
}

/// A team admin accepts or rejects an applicant, or removes a member; never themselves.
pub async fn decide_member(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    team_id: Uuid,
    volunteer_id: Uuid,
    request: MemberDecisionRequest,
) -> Result<MembershipView, AppError> {
    let team = app.store.team(tenant, team_id).await?;
    require_admin(principal, tenant, team.id)?;
    if principal.volunteer_id == Some(volunteer_id) {
        return Err(AppError::Refused(Rule::OwnApplication));
    }
    let (from, to): (&[MembershipStatus], MembershipStatus) = match request.decision {
        MemberDecision::Accept => (&[MembershipStatus::Applied], MembershipStatus::Member),
        MemberDecision::Reject => (&[MembershipStatus::Applied], MembershipStatus::Rejected),
        MemberDecision::Remove => (&[MembershipStatus::Member], MembershipStatus::Removed),
    };
    let membership = app
        .store
        .change_membership(
            tenant,
            team.id,
            volunteer_id,
            from,
            to,
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    Ok(membership_view(membership))
}

/// A team admin appoints another admin: a member of the team with an account.
pub async fn appoint_admin(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    team_id: Uuid,
    request: AppointRequest,
) -> Result<TeamAdminsView, AppError> {
    let team = app.store.team(tenant, team_id).await?;
    require_admin(principal, tenant, team.id)?;
    let account = member_account(app, tenant, team.id, request.volunteer_id).await?;
    app.store
        .appoint_team_admin(
            tenant,
            team.id,
            account,
            &principal.actor(),
            app.clock.now(),
        )
        .await?;
    app.sessions.forget_account(account);
    let admins = app
        .store
        .holders(tenant, GrantKind::TeamAdmin, Scope::Team(team.id))
        .await?;
    Ok(TeamAdminsView { admins })
}

/// The account of a member of the team, to give a grant of the team or of its projects;
/// refused, naming `/volunteer_id`, for anyone else.
pub(crate) async fn member_account(
    app: &App,
    tenant: &TenantCode,
    team: Uuid,
    volunteer_id: Uuid,
) -> Result<Uuid, AppError> {
    let not_member = || AppError::from(InvalidInput::new("/volunteer_id", Rule::NotTeamMember));
    let is_member = app
        .store
        .team_memberships(tenant, team)
        .await?
        .iter()
        .any(|membership| {
            membership.volunteer_id == volunteer_id && membership.status == MembershipStatus::Member
        });
    let volunteer = app
        .store
        .volunteer(tenant, volunteer_id)
        .await
        .map_err(|error| AppError::unknown("/volunteer_id", Rule::NotTeamMember)(error.into()))?;
    match (is_member, volunteer.account_id) {
        (true, Some(account)) => Ok(account),
        _ => Err(not_member()),
    }
}

/// The signed-in volunteer's teams, and approved teams to join: their unit's first, then
/// their region's, then the rest.
pub async fn my_teams(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
) -> Result<MyTeamsView, AppError> {
    let volunteer = own_record(app, principal, tenant).await?;
    let memberships = app
        .store
        .volunteer_memberships(tenant, volunteer.id)
        .await?;
    let mut suggestions: Vec<TeamRecord> = app
        .store
        .teams(tenant)
        .await?
        .into_iter()
        .filter(|team| team.status == TeamStatus::Approved)
        .filter(|team| {
            !memberships
                .iter()
                .any(|m| m.team_id == team.id && m.status == MembershipStatus::Member)
        })
        .collect();
    suggestions.sort_by_key(|team| {
        (
            !(volunteer.unit.is_some() && team.unit == volunteer.unit),
            team.region != volunteer.region,
            team.name.clone(),
        )
    });
    Ok(MyTeamsView {
        memberships: memberships.into_iter().map(membership_view).collect(),
        suggestions: suggestions
            .into_iter()
            .map(|team| view(team, false))
            .collect(),
    })
}
