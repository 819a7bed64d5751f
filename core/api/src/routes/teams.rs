//! Teams: registration, review at the right level, admins, members; certificate files.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zhiyuan_domain::{InvalidInput, Role, Rule, TeamStatus, VolunteerStatus};
use zhiyuan_store::{MembershipStatus, TeamRecord};

use crate::auth::CurrentUser;
use crate::extract::{Checked, Document, PathParams};
use crate::schemas::SchemaId;
use crate::service::Decision;
use crate::teams::{TeamApplication, check_team_application, may_decide};
use crate::{ApiError, AppState};

/// Certificate images: PNG, JPEG or PDF, at most this large.
pub const FILE_LIMIT: usize = 5 * 1024 * 1024;

impl Document for TeamApplication {
    const SCHEMA: SchemaId = SchemaId::TeamApply;
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecisionBody {
    decision: Decision,
    reason: Option<String>,
}

impl Document for DecisionBody {
    const SCHEMA: SchemaId = SchemaId::Decision;
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MemberDecision {
    Accept,
    Reject,
    Remove,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MemberDecisionBody {
    decision: MemberDecision,
}

impl Document for MemberDecisionBody {
    const SCHEMA: SchemaId = SchemaId::MembershipDecision;
}

#[derive(Debug, Deserialize)]
pub(crate) struct AppointBody {
    volunteer_id: Uuid,
}

impl Document for AppointBody {
    const SCHEMA: SchemaId = SchemaId::AdminAppoint;
}

/// A team as the API shows it: the contact's mobile masked but to the team's admins.
#[derive(Debug, Serialize)]
struct TeamView {
    #[serde(flatten)]
    team: TeamRecord,
}

fn view(mut team: TeamRecord, admin: bool) -> TeamView {
    if !admin {
        team.contact_mobile = zhiyuan_domain::mask(&team.contact_mobile, 3, 4);
    }
    TeamView { team }
}

async fn require_team_admin(
    state: &AppState,
    current: &CurrentUser,
    team: &TeamRecord,
) -> Result<(), ApiError> {
    let tenant = current.user.tenant.clone().ok_or(ApiError::Forbidden)?;
    if state
        .store
        .is_team_admin(&tenant, team.id, current.user.id)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Uploads a certificate image (PNG, JPEG or PDF, recognised by its content, at most 5 MiB).
/// Stored once under its SHA-256, which the answer gives for the application to name.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/files", tag = "teams",
    params(("tenant" = String, Path)),
    request_body(content = Vec<u8>, description = "The file's bytes", content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "sha256, media type and size"),
        (status = 413, description = "Larger than 5 MiB", content_type = "application/problem+json"),
        (status = 422, description = "Not PNG, JPEG or PDF", content_type = "application/problem+json"),
    ))]
pub(crate) async fn upload_file(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    if current.user.role == Role::Auditor {
        return Err(ApiError::Forbidden);
    }
    let bytes = crate::extract::read_body(request.into_body(), FILE_LIMIT).await?;
    let media_type = match infer::get(&bytes).map(|kind| kind.mime_type()) {
        Some(media_type @ ("image/png" | "image/jpeg" | "application/pdf")) => media_type,
        _ => return Err(ApiError::Invalid(InvalidInput::new("/", Rule::FileType))),
    };
    let sha256: String = hex::encode(Sha256::digest(&bytes));
    state
        .store
        .store_file(
            &tenant,
            &sha256,
            media_type,
            &bytes,
            &current.actor(),
            state.clock.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "sha256": sha256, "media_type": media_type, "size": bytes.len() })),
    ))
}

/// A stored file, to any account of the tenant (certificates are what a team shows of itself).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/files/{sha256}", tag = "teams",
    params(("tenant" = String, Path), ("sha256" = String, Path, description = "SHA-256 in hex")),
    responses((status = 200, description = "The file"), (status = 404, description = "No such file")))]
pub(crate) async fn get_file(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Response, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let sha256 = path.sha256("sha256")?;
    let (media_type, content) = state.store.file(&tenant, &sha256).await?;
    Ok(([(header::CONTENT_TYPE, media_type)], content).into_response())
}

/// Applies to register a team (any signed-in account of the tenant); the applicant becomes its
/// first admin.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/teams", tag = "teams",
    params(("tenant" = String, Path)),
    request_body(content = Object, description = "schemas/team-apply.schema.json"),
    responses(
        (status = 201, description = "The application, pending review"),
        (status = 409, description = "The tenant has a team of this name", content_type = "application/problem+json"),
        (status = 422, description = "A rule of R11 or R12 refuses it", content_type = "application/problem+json"),
    ))]
pub(crate) async fn apply(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    Checked(application): Checked<TeamApplication>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(
        &tenant,
        &[Role::Volunteer, Role::TeamAdmin, Role::OfficeAdmin],
    )?;
    let team = check_team_application(&state, &tenant, application, None).await?;
    let created = state
        .store
        .create_team(
            &tenant,
            &team,
            current.user.id,
            &current.actor(),
            state.clock.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(view(created, true)))))
}

/// The tenant's teams, federations included.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/teams", tag = "teams",
    params(("tenant" = String, Path)),
    responses((status = 200, description = "The teams")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let teams = state.store.teams(&tenant).await?;
    let items: Vec<_> = teams.into_iter().map(|team| view(team, false)).collect();
    Ok(Json(json!({ "items": items })))
}

/// The applications the signed-in account decides: those of its reviewing body, and those that
/// chose a team it administers as liaison.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/teams/review-queue", tag = "teams",
    params(("tenant" = String, Path)),
    responses((status = 200, description = "Pending applications, oldest first")))]
pub(crate) async fn review_queue(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let queue = state
        .store
        .team_review_queue(&tenant, current.user.id, current.user.reviewing_body)
        .await?;
    let items: Vec<_> = queue.into_iter().map(|team| view(team, false)).collect();
    Ok(Json(json!({ "items": items })))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/teams/{team_id}", tag = "teams",
    params(("tenant" = String, Path), ("team_id" = String, Path, description = "A UUID")),
    responses((status = 200, description = "The team"), (status = 404, description = "Not a team of the tenant")))]
pub(crate) async fn get(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let team = state.store.team(&tenant, path.id("team_id")?).await?;
    let admin = state
        .store
        .is_team_admin(&tenant, team.id, current.user.id)
        .await?;
    Ok(Json(json!(view(team, admin))))
}

/// A rejected team corrects its application and submits it again (its admins).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/teams/{team_id}", tag = "teams",
    params(("tenant" = String, Path), ("team_id" = String, Path, description = "A UUID")),
    request_body(content = Object, description = "schemas/team-apply.schema.json"),
    responses(
        (status = 200, description = "The application, pending again"),
        (status = 409, description = "Not rejected", content_type = "application/problem+json"),
    ))]
pub(crate) async fn resubmit(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    Checked(application): Checked<TeamApplication>,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let team = state.store.team(&tenant, path.id("team_id")?).await?;
    require_team_admin(&state, &current, &team).await?;
    if team.status != TeamStatus::Rejected {
        return Err(ApiError::WrongState(Rule::AlreadyDecided));
    }
    let corrected = check_team_application(&state, &tenant, application, Some(team.id)).await?;
    let after = state
        .store
        .resubmit_team(
            &tenant,
            team.id,
            &corrected,
            &current.actor(),
            state.clock.now(),
        )
        .await?;
    Ok(Json(json!(view(after, true))))
}

/// Approves or rejects an application: only the body or team it chose may, at its own level.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/teams/{team_id}/decision", tag = "teams",
    params(("tenant" = String, Path), ("team_id" = String, Path, description = "A UUID")),
    request_body(content = Object, description = "schemas/decision.schema.json"),
    responses(
        (status = 200, description = "The team after the decision"),
        (status = 403, description = "Not the reviewer of this application", content_type = "application/problem+json"),
    ))]
pub(crate) async fn decide(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    Checked(body): Checked<DecisionBody>,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let team = state.store.team(&tenant, path.id("team_id")?).await?;
    if !may_decide(&state, &tenant, &team, &current.user).await? {
        return Err(ApiError::Forbidden);
    }
    if team.status != TeamStatus::Pending {
        return Err(ApiError::WrongState(Rule::AlreadyDecided));
    }
    let reason = body
        .reason
        .map(|reason| reason.trim().to_owned())
        .filter(|reason| !reason.is_empty());
    let status = match body.decision {
        Decision::Approve => TeamStatus::Approved,
        Decision::Reject => {
            if reason.is_none() {
                return Err(ApiError::Invalid(InvalidInput::new(
                    "/reason",
                    Rule::ReasonRequired,
                )));
            }
            TeamStatus::Rejected
        }
    };
    let after = state
        .store
        .decide_team(
            &tenant,
            team.id,
            status,
            reason,
            &current.actor(),
            state.clock.now(),
        )
        .await?;
    Ok(Json(json!(view(after, false))))
}

/// The team's members and applicants (its admins, the office).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/teams/{team_id}/members", tag = "teams",
    params(("tenant" = String, Path), ("team_id" = String, Path, description = "A UUID")),
    responses((status = 200, description = "Memberships with the volunteers' names")))]
pub(crate) async fn members(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let team = state.store.team(&tenant, path.id("team_id")?).await?;
    let admin = state
        .store
        .is_team_admin(&tenant, team.id, current.user.id)
        .await?;
    if !admin
        && !matches!(
            current.user.role,
            Role::OfficeAdmin | Role::Auditor | Role::Operator
        )
    {
        return Err(ApiError::Forbidden);
    }
    let mut items = Vec::new();
    for membership in state.store.team_memberships(&tenant, team.id).await? {
        let volunteer = state
            .store
            .volunteer(&tenant, membership.volunteer_id)
            .await?;
        // A team's admins see their members' mobile numbers, to reach them; the office does not.
        let mobile = if admin {
            volunteer.mobile
        } else {
            zhiyuan_domain::mask(&volunteer.mobile, 3, 4)
        };
        items.push(json!({
            "membership": membership,
            "name": volunteer.name,
            "volunteer_number": volunteer.volunteer_number,
            "mobile": mobile,
        }));
    }
    Ok(Json(json!({ "items": items })))
}

/// The signed-in volunteer applies to join the team.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/teams/{team_id}/membership", tag = "teams",
    params(("tenant" = String, Path), ("team_id" = String, Path, description = "A UUID")),
    responses(
        (status = 201, description = "The application"),
        (status = 409, description = "Not verified, team not approved, or applied already", content_type = "application/problem+json"),
    ))]
pub(crate) async fn join(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let team = state.store.team(&tenant, path.id("team_id")?).await?;
    let volunteer = state
        .store
        .volunteer_of_user(&tenant, current.user.id)
        .await?;
    if volunteer.status != VolunteerStatus::Verified {
        return Err(ApiError::WrongState(Rule::VolunteerNotVerifiedForTeam));
    }
    if team.status != TeamStatus::Approved {
        return Err(ApiError::WrongState(Rule::TeamNotApproved));
    }
    let membership = state
        .store
        .apply_membership(
            &tenant,
            team.id,
            volunteer.id,
            &current.actor(),
            state.clock.now(),
        )
        .await
        .map_err(wrong_state)?;
    Ok((StatusCode::CREATED, Json(json!(membership))))
}

/// The signed-in volunteer leaves the team; their past records stay.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/teams/{team_id}/membership", tag = "teams",
    params(("tenant" = String, Path), ("team_id" = String, Path, description = "A UUID")),
    responses((status = 200, description = "The membership, left")))]
pub(crate) async fn leave(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let team = state.store.team(&tenant, path.id("team_id")?).await?;
    let volunteer = state
        .store
        .volunteer_of_user(&tenant, current.user.id)
        .await?;
    let membership = state
        .store
        .change_membership(
            &tenant,
            team.id,
            volunteer.id,
            &[MembershipStatus::Applied, MembershipStatus::Member],
            MembershipStatus::Left,
            &current.actor(),
            state.clock.now(),
        )
        .await
        .map_err(wrong_state)?;
    Ok(Json(json!(membership)))
}

/// A team admin accepts or rejects an applicant, or removes a member.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/teams/{team_id}/members/{volunteer_id}/decision", tag = "teams",
    params(("tenant" = String, Path), ("team_id" = String, Path, description = "A UUID"), ("volunteer_id" = String, Path, description = "A UUID")),
    request_body(content = Object, description = "schemas/membership-decision.schema.json"),
    responses((status = 200, description = "The membership after the decision")))]
pub(crate) async fn decide_member(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    Checked(body): Checked<MemberDecisionBody>,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let team = state.store.team(&tenant, path.id("team_id")?).await?;
    require_team_admin(&state, &current, &team).await?;
    let (from, to): (&[MembershipStatus], MembershipStatus) = match body.decision {
        MemberDecision::Accept => (&[MembershipStatus::Applied], MembershipStatus::Member),
        MemberDecision::Reject => (&[MembershipStatus::Applied], MembershipStatus::Rejected),
        MemberDecision::Remove => (&[MembershipStatus::Member], MembershipStatus::Removed),
    };
    let membership = state
        .store
        .change_membership(
            &tenant,
            team.id,
            path.id("volunteer_id")?,
            from,
            to,
            &current.actor(),
            state.clock.now(),
        )
        .await
        .map_err(wrong_state)?;
    Ok(Json(json!(membership)))
}

/// A team admin appoints another admin: a member of the team with an account.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/teams/{team_id}/admins", tag = "teams",
    params(("tenant" = String, Path), ("team_id" = String, Path, description = "A UUID")),
    request_body(content = Object, description = "schemas/admin-appoint.schema.json"),
    responses((status = 200, description = "The team's admins")))]
pub(crate) async fn appoint_admin(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    Checked(body): Checked<AppointBody>,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let team = state.store.team(&tenant, path.id("team_id")?).await?;
    require_team_admin(&state, &current, &team).await?;
    let memberships = state.store.team_memberships(&tenant, team.id).await?;
    let is_member = memberships.iter().any(|membership| {
        membership.volunteer_id == body.volunteer_id
            && membership.status == MembershipStatus::Member
    });
    let volunteer = state
        .store
        .volunteer(&tenant, body.volunteer_id)
        .await
        .map_err(|error| match error {
            zhiyuan_store::StoreError::NotFound => {
                ApiError::Invalid(InvalidInput::new("/volunteer_id", Rule::NotTeamMember))
            }
            other => other.into(),
        })?;
    let (true, Some(user)) = (is_member, volunteer.user_id) else {
        return Err(ApiError::Invalid(InvalidInput::new(
            "/volunteer_id",
            Rule::NotTeamMember,
        )));
    };
    state
        .store
        .appoint_team_admin(&tenant, team.id, user, &current.actor(), state.clock.now())
        .await?;
    let admins = state.store.team_admins(&tenant, team.id).await?;
    Ok(Json(json!({ "admins": admins })))
}

/// The signed-in volunteer's teams, and approved teams to join, those of their own unit first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me/teams", tag = "teams",
    params(("tenant" = String, Path)),
    responses((status = 200, description = "memberships and suggestions")))]
pub(crate) async fn my_teams(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let volunteer = state
        .store
        .volunteer_of_user(&tenant, current.user.id)
        .await?;
    let memberships = state
        .store
        .volunteer_memberships(&tenant, volunteer.id)
        .await?;
    let mut suggestions: Vec<TeamRecord> = state
        .store
        .teams(&tenant)
        .await?
        .into_iter()
        .filter(|team| team.status == TeamStatus::Approved)
        .filter(|team| {
            !memberships
                .iter()
                .any(|m| m.team_id == team.id && m.status == MembershipStatus::Member)
        })
        .collect();
    // The unit's own team first, then teams of the volunteer's region, then the rest.
    suggestions.sort_by_key(|team| {
        (
            !(volunteer.unit.is_some() && team.unit == volunteer.unit),
            team.region != volunteer.region,
            team.name.clone(),
        )
    });
    let suggestions: Vec<_> = suggestions
        .into_iter()
        .map(|team| view(team, false))
        .collect();
    Ok(Json(
        json!({ "memberships": memberships, "suggestions": suggestions }),
    ))
}

/// A membership that is not in the state the request needs is a conflict, not bad input.
fn wrong_state(error: zhiyuan_store::StoreError) -> ApiError {
    match error {
        zhiyuan_store::StoreError::Invalid(invalid)
            if matches!(invalid.rule, Rule::AlreadyDecided | Rule::MembershipExists) =>
        {
            ApiError::WrongState(invalid.rule)
        }
        other => other.into(),
    }
}
