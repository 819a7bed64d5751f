//! Teams: registration, review at the right level, admins, members; certificate files.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use zhiyuan_app::teams::{self, AppointRequest, FILE_LIMIT, MemberDecisionRequest};
use zhiyuan_app::views::{
    FileView, Items, MemberView, MembershipView, MyTeamsView, TeamAdminsView, TeamView,
};
use zhiyuan_app::volunteers::DecisionRequest;
use zhiyuan_domain::TeamApplication;

use crate::access::Access;
use crate::extract::{Checked, Document, PathParams, read_body};
use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

impl Document for TeamApplication {
    const SCHEMA: SchemaId = SchemaId::TeamApply;
}

impl Document for MemberDecisionRequest {
    const SCHEMA: SchemaId = SchemaId::MembershipDecision;
}

impl Document for AppointRequest {
    const SCHEMA: SchemaId = SchemaId::AdminAppoint;
}

/// Uploads a certificate image (PNG, JPEG or PDF, recognised by its content, at most 5 MiB) for
/// a team's application: verified volunteers, team admins and the office, within daily quotas.
/// Stored once under its SHA-256, which the answer gives for the application to name.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/files", tag = "teams", operation_id = "upload_file",
    request_body(content = Vec<u8>, description = "The file's bytes", content_type = "application/octet-stream"),
    responses((status = 201, description = "The stored file", body = FileView)))]
pub(crate) async fn upload_file(
    State(state): State<AppState>,
    access: Access,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<FileView>), ApiError> {
    let bytes = read_body(&state, request.into_body(), FILE_LIMIT).await?;
    let file = teams::upload_file(&state.app, access.principal()?, access.tenant()?, bytes).await?;
    Ok((StatusCode::CREATED, Json(file)))
}

/// A stored file, to any account of the tenant (certificates are what a team shows of itself),
/// always as an attachment: a browser never renders it in the node's origin.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/files/{sha256}", tag = "teams", operation_id = "read_file",
    responses((status = 200, description = "The file, as an attachment", content(
        (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "application/pdf")
    ))))]
pub(crate) async fn get_file(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Response, ApiError> {
    let sha256 = path.sha256("sha256")?;
    let (media_type, content) = teams::read_file(&state.app, access.tenant()?, &sha256).await?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{sha256}\""))
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    let media_type = HeaderValue::from_str(&media_type)
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        content,
    )
        .into_response())
}

/// Applies to register a team; the applicant becomes its first admin.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/teams", tag = "teams", operation_id = "apply_team",
    request_body(content = Object, description = "schemas/team-apply.schema.json"),
    responses((status = 201, description = "The application, pending review", body = TeamView)))]
pub(crate) async fn apply(
    State(state): State<AppState>,
    access: Access,
    Checked(application): Checked<TeamApplication>,
) -> Result<(StatusCode, Json<TeamView>), ApiError> {
    let team = teams::apply(
        &state.app,
        access.principal()?,
        access.tenant()?,
        application,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(team)))
}

/// The tenant's teams, associations included.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/teams", tag = "teams", operation_id = "list_teams",
    responses((status = 200, description = "The teams", body = Items<TeamView>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<Items<TeamView>>, ApiError> {
    Ok(Json(
        teams::list(&state.app, access.tenant()?).await?.into(),
    ))
}

/// The applications the signed-in account decides: those of the reviewing bodies it reviews
/// for, and those that chose a team it administers as liaison; never its own.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/teams/review-queue", tag = "teams", operation_id = "review_queue",
    responses((status = 200, description = "Pending applications, oldest first", body = Items<TeamView>)))]
pub(crate) async fn review_queue(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<Items<TeamView>>, ApiError> {
    let queue = teams::review_queue(&state.app, access.principal()?, access.tenant()?).await?;
    Ok(Json(queue.into()))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/teams/{team_id}", tag = "teams", operation_id = "read_team",
    responses((status = 200, description = "The team", body = TeamView)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Json<TeamView>, ApiError> {
    let team = teams::read(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("team_id")?,
    )
    .await?;
    Ok(Json(team))
}

/// A rejected team corrects its application and submits it again (its admins).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/teams/{team_id}", tag = "teams", operation_id = "resubmit_team",
    request_body(content = Object, description = "schemas/team-apply.schema.json"),
    responses((status = 200, description = "The application, pending again", body = TeamView)))]
pub(crate) async fn resubmit(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(application): Checked<TeamApplication>,
) -> Result<Json<TeamView>, ApiError> {
    let team = teams::resubmit(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("team_id")?,
        application,
    )
    .await?;
    Ok(Json(team))
}

/// Approves or rejects an application: only the body or team it chose may, at its own level,
/// and never the applicant or someone who will administer the team.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/teams/{team_id}/decision", tag = "teams", operation_id = "decide_team",
    request_body(content = Object, description = "schemas/decision.schema.json"),
    responses((status = 200, description = "The team after the decision", body = TeamView)))]
pub(crate) async fn decide(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<DecisionRequest>,
) -> Result<Json<TeamView>, ApiError> {
    let team = teams::decide(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("team_id")?,
        request,
    )
    .await?;
    Ok(Json(team))
}

/// The team's members and applicants (its admins, the office).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/teams/{team_id}/members", tag = "teams", operation_id = "list_members",
    responses((status = 200, description = "Memberships with the volunteers' names", body = Items<MemberView>)))]
pub(crate) async fn members(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Json<Items<MemberView>>, ApiError> {
    let members = teams::members(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("team_id")?,
    )
    .await?;
    Ok(Json(members.into()))
}

/// The signed-in volunteer applies to join the team.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/teams/{team_id}/membership", tag = "teams", operation_id = "join_team",
    responses((status = 201, description = "The application", body = MembershipView)))]
pub(crate) async fn join(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<(StatusCode, Json<MembershipView>), ApiError> {
    let membership = teams::join(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("team_id")?,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(membership)))
}

/// The signed-in volunteer leaves the team; their past records stay.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/teams/{team_id}/membership", tag = "teams", operation_id = "leave_team",
    responses((status = 200, description = "The membership, left", body = MembershipView)))]
pub(crate) async fn leave(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Json<MembershipView>, ApiError> {
    let membership = teams::leave(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("team_id")?,
    )
    .await?;
    Ok(Json(membership))
}

/// A team admin accepts or rejects an applicant, or removes a member; never themselves.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/teams/{team_id}/members/{volunteer_id}/decision", tag = "teams", operation_id = "decide_member",
    request_body(content = Object, description = "schemas/membership-decision.schema.json"),
    responses((status = 200, description = "The membership after the decision", body = MembershipView)))]
pub(crate) async fn decide_member(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<MemberDecisionRequest>,
) -> Result<Json<MembershipView>, ApiError> {
    let membership = teams::decide_member(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("team_id")?,
        path.id("volunteer_id")?,
        request,
    )
    .await?;
    Ok(Json(membership))
}

/// A team admin appoints another admin: a member of the team with an account.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/teams/{team_id}/admins", tag = "teams", operation_id = "appoint_team_admin",
    request_body(content = Object, description = "schemas/admin-appoint.schema.json"),
    responses((status = 200, description = "The team's admins", body = TeamAdminsView)))]
pub(crate) async fn appoint_admin(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<AppointRequest>,
) -> Result<Json<TeamAdminsView>, ApiError> {
    let admins = teams::appoint_admin(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("team_id")?,
        request,
    )
    .await?;
    Ok(Json(admins))
}

/// The signed-in volunteer's teams, and approved teams to join, those of their own unit first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me/teams", tag = "teams", operation_id = "list_own_teams",
    responses((status = 200, description = "Memberships and suggestions", body = MyTeamsView)))]
pub(crate) async fn my_teams(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<MyTeamsView>, ApiError> {
    let teams = teams::my_teams(&state.app, access.principal()?, access.tenant()?).await?;
    Ok(Json(teams))
}
