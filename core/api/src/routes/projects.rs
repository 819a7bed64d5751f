//! Projects and their shifts, needs, sign-ups: thin handlers over `zhiyuan_app::projects`,
//! `needs` and `enrollments`. Places are answered in WGS-84 unless `system=gcj02` asks for
//! the system Chinese maps draw in; every place says which it is.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use zhiyuan_app::enrollments::{self, EnrollmentDecisionRequest, EnrollmentRequest};
use zhiyuan_app::needs::{self, ClosureRequest, NeedQuery};
use zhiyuan_app::projects::{self, ProjectGrantRequest, ProjectSearch, TakeDownRequest};
use zhiyuan_app::views::{
    EnrollmentView, Items, NeedPage, NeedView, ProjectGrantsView, ProjectPage, ProjectSummaryView,
    ProjectView, SuggestionView,
};
use zhiyuan_app::volunteers::DecisionRequest;
use zhiyuan_domain::{CoordinateSystem, NeedPost, ProjectDraft};

use crate::access::Access;
use crate::extract::{Checked, Document, PathParams, QueryOf};
use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

impl Document for ProjectDraft {
    const SCHEMA: SchemaId = SchemaId::ProjectDraft;
}

impl Document for NeedPost {
    const SCHEMA: SchemaId = SchemaId::NeedPost;
}

impl Document for ClosureRequest {
    const SCHEMA: SchemaId = SchemaId::NeedClosure;
}

impl Document for TakeDownRequest {
    const SCHEMA: SchemaId = SchemaId::TakeDown;
}

impl Document for EnrollmentRequest {
    const SCHEMA: SchemaId = SchemaId::Enrollment;
}

impl Document for EnrollmentDecisionRequest {
    const SCHEMA: SchemaId = SchemaId::EnrollmentDecision;
}

impl Document for ProjectGrantRequest {
    const SCHEMA: SchemaId = SchemaId::ProjectGrant;
}

/// The coordinate system places are answered in.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SystemQuery {
    system: Option<CoordinateSystem>,
}

impl SystemQuery {
    fn system(&self) -> CoordinateSystem {
        self.system.unwrap_or(CoordinateSystem::Wgs84)
    }
}

/// Posts a need for help; it is public once the office or a reviewing body of its region has
/// curated it.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/needs", tag = "projects", operation_id = "post_need",
    params(("system" = Option<CoordinateSystem>, Query, description = "The system of the places answered (default wgs84)")),
    request_body(content = Object, description = "schemas/need-post.schema.json"),
    responses((status = 201, description = "The need, waiting for curation", body = NeedView)))]
pub(crate) async fn post_need(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<SystemQuery>,
    Checked(post): Checked<NeedPost>,
) -> Result<(StatusCode, Json<NeedView>), ApiError> {
    let need = needs::post(
        &state.app,
        access.principal()?,
        access.tenant()?,
        post,
        query.system(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(need)))
}

/// Needs, newest first: curated ones to anyone; those waiting or set aside to curators too,
/// and to whoever posted them.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/needs", tag = "projects", operation_id = "list_needs",
    params(
        ("status" = Option<zhiyuan_domain::NeedStatus>, Query),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "At most this many (default 20)"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the page before"),
        ("system" = Option<CoordinateSystem>, Query, description = "The system of the places answered (default wgs84)"),
    ),
    responses((status = 200, description = "A page of needs", body = NeedPage)))]
pub(crate) async fn list_needs(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<NeedQuery>,
) -> Result<Json<NeedPage>, ApiError> {
    Ok(Json(
        needs::list(
            &state.app,
            access.principal.as_ref(),
            access.tenant()?,
            query,
        )
        .await?,
    ))
}

/// A need, with the projects answering it.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/needs/{need_id}", tag = "projects", operation_id = "read_need",
    params(("system" = Option<CoordinateSystem>, Query, description = "The system of the places answered (default wgs84)")),
    responses((status = 200, description = "The need", body = NeedView)))]
pub(crate) async fn read_need(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    QueryOf(query): QueryOf<SystemQuery>,
) -> Result<Json<NeedView>, ApiError> {
    let need = needs::read(
        &state.app,
        access.principal.as_ref(),
        access.tenant()?,
        path.id("need_id")?,
        query.system(),
    )
    .await?;
    Ok(Json(need))
}

/// A curator opens a need to the public (`approve`), or sets it aside with a reason.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/needs/{need_id}/curation", tag = "projects", operation_id = "curate_need",
    request_body(content = Object, description = "schemas/decision.schema.json"),
    responses((status = 200, description = "The need after curation", body = NeedView)))]
pub(crate) async fn curate_need(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<DecisionRequest>,
) -> Result<Json<NeedView>, ApiError> {
    let need = needs::curate(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("need_id")?,
        request,
    )
    .await?;
    Ok(Json(need))
}

/// Its poster or a curator closes an open need as met or not.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/needs/{need_id}/closure", tag = "projects", operation_id = "close_need",
    request_body(content = Object, description = "schemas/need-closure.schema.json"),
    responses((status = 200, description = "The need, closed", body = NeedView)))]
pub(crate) async fn close_need(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<ClosureRequest>,
) -> Result<Json<NeedView>, ApiError> {
    let need = needs::close(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("need_id")?,
        request,
    )
    .await?;
    Ok(Json(need))
}

/// A team's admin writes a project as a draft, with its shifts.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/teams/{team_id}/projects", tag = "projects", operation_id = "create_project",
    params(("system" = Option<CoordinateSystem>, Query, description = "The system of the places answered (default wgs84)")),
    request_body(content = Object, description = "schemas/project-draft.schema.json"),
    responses((status = 201, description = "The project, a draft", body = ProjectView)))]
pub(crate) async fn create_project(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    QueryOf(query): QueryOf<SystemQuery>,
    Checked(draft): Checked<ProjectDraft>,
) -> Result<(StatusCode, Json<ProjectView>), ApiError> {
    let project = projects::create(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("team_id")?,
        draft,
        query.system(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(project)))
}

/// A team's projects, newest first; drafts too for its admins and the office.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/teams/{team_id}/projects", tag = "projects", operation_id = "list_team_projects",
    params(("system" = Option<CoordinateSystem>, Query, description = "The system of the places answered (default wgs84)")),
    responses((status = 200, description = "The team's projects", body = Items<ProjectSummaryView>)))]
pub(crate) async fn list_team_projects(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    QueryOf(query): QueryOf<SystemQuery>,
) -> Result<Json<Items<ProjectSummaryView>>, ApiError> {
    let projects = projects::of_team(
        &state.app,
        access.principal.as_ref(),
        access.tenant()?,
        path.id("team_id")?,
        query.system(),
    )
    .await?;
    Ok(Json(projects.into()))
}

/// Finds projects: nearest first from a point within a radius, or soonest first; by region,
/// category, skill and time; taking sign-ups only unless `recruiting=false`. Pages follow
/// `cursor`, which neither repeats nor skips a project whatever is published in between.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/projects", tag = "projects", operation_id = "search_projects",
    params(
        ("longitude" = Option<f64>, Query, minimum = 72.004, maximum = 137.8347, description = "The point searched from, with `latitude`; in China"),
        ("latitude" = Option<f64>, Query, minimum = 0.8293, maximum = 55.8271),
        ("system" = Option<CoordinateSystem>, Query, description = "The system of the point and of the places answered (default wgs84)"),
        ("radius_m" = Option<u32>, Query, minimum = 100, maximum = 50000, description = "How far from the point (default 10000)"),
        ("region" = Option<String>, Query, pattern = "^(0[1-9]|[1-9][0-9])[0-9]{4}$", description = "Only this region and those under it"),
        ("category" = Option<zhiyuan_domain::ServiceCategory>, Query),
        ("skill" = Option<String>, Query, description = "Only projects asking for this skill"),
        ("from" = Option<String>, Query, description = "Only projects running after this instant (RFC 3339)"),
        ("until" = Option<String>, Query, description = "Only projects running before this instant (RFC 3339)"),
        ("recruiting" = Option<bool>, Query, description = "Only projects taking sign-ups (default true)"),
        ("sort" = Option<projects::SearchOrder>, Query, description = "distance (default with a point) or start"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "At most this many (default 20)"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the page before"),
    ),
    responses((status = 200, description = "A page of projects", body = ProjectPage)))]
pub(crate) async fn search_projects(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<ProjectSearch>,
) -> Result<Json<ProjectPage>, ApiError> {
    Ok(Json(
        projects::search(&state.app, access.tenant()?, query).await?,
    ))
}

/// A project with its shifts: public once published; before that, to its team and the office.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/projects/{project_id}", tag = "projects", operation_id = "read_project",
    params(("system" = Option<CoordinateSystem>, Query, description = "The system of the places answered (default wgs84)")),
    responses((status = 200, description = "The project", body = ProjectView)))]
pub(crate) async fn read_project(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    QueryOf(query): QueryOf<SystemQuery>,
) -> Result<Json<ProjectView>, ApiError> {
    let project = projects::read(
        &state.app,
        access.principal.as_ref(),
        access.tenant()?,
        path.id("project_id")?,
        query.system(),
    )
    .await?;
    Ok(Json(project))
}

/// Its team's admins or its lead rewrite a draft, shifts and all.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/projects/{project_id}", tag = "projects", operation_id = "update_project",
    params(("system" = Option<CoordinateSystem>, Query, description = "The system of the places answered (default wgs84)")),
    request_body(content = Object, description = "schemas/project-draft.schema.json"),
    responses((status = 200, description = "The draft, rewritten", body = ProjectView)))]
pub(crate) async fn update_project(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    QueryOf(query): QueryOf<SystemQuery>,
    Checked(draft): Checked<ProjectDraft>,
) -> Result<Json<ProjectView>, ApiError> {
    let project = projects::update(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("project_id")?,
        draft,
        query.system(),
    )
    .await?;
    Ok(Json(project))
}

/// A team's admin publishes a draft: it recruits at once, or waits for the office's approval
/// where the tenant asks for it.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/projects/{project_id}/publication", tag = "projects", operation_id = "publish_project",
    responses((status = 200, description = "The project, recruiting or submitted", body = ProjectView)))]
pub(crate) async fn publish_project(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    QueryOf(query): QueryOf<SystemQuery>,
) -> Result<Json<ProjectView>, ApiError> {
    let project = projects::publish(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("project_id")?,
        query.system(),
    )
    .await?;
    Ok(Json(project))
}

/// The office approves a submitted project, or sends it back as a draft with a reason.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/projects/{project_id}/decision", tag = "projects", operation_id = "decide_project",
    request_body(content = Object, description = "schemas/decision.schema.json"),
    responses((status = 200, description = "The project after the decision", body = ProjectView)))]
pub(crate) async fn decide_project(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    QueryOf(query): QueryOf<SystemQuery>,
    Checked(request): Checked<DecisionRequest>,
) -> Result<Json<ProjectView>, ApiError> {
    let project = projects::decide(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("project_id")?,
        request,
        query.system(),
    )
    .await?;
    Ok(Json(project))
}

/// The office takes a project down with a reason; it takes no more sign-ups.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/projects/{project_id}/take-down", tag = "projects", operation_id = "take_down_project",
    request_body(content = Object, description = "schemas/take-down.schema.json"),
    responses((status = 200, description = "The project, taken down", body = ProjectView)))]
pub(crate) async fn take_down_project(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    QueryOf(query): QueryOf<SystemQuery>,
    Checked(request): Checked<TakeDownRequest>,
) -> Result<Json<ProjectView>, ApiError> {
    let project = projects::take_down(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("project_id")?,
        request,
        query.system(),
    )
    .await?;
    Ok(Json(project))
}

/// A team's admin makes a member of the team the project's lead or a scanner, or takes the
/// grant away.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/projects/{project_id}/grants", tag = "projects", operation_id = "change_project_grants",
    request_body(content = Object, description = "schemas/project-grant.schema.json"),
    responses((status = 200, description = "The project's leads and scanners, as accounts", body = ProjectGrantsView)))]
pub(crate) async fn change_project_grants(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<ProjectGrantRequest>,
) -> Result<Json<ProjectGrantsView>, ApiError> {
    let grants = projects::change_grants(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("project_id")?,
        request,
    )
    .await?;
    Ok(Json(grants))
}

/// Projects for the signed-in volunteer: near the point given, or in their region, with a
/// shift they can still take, best fit first by the tenant's matching policy.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me/suggestions", tag = "projects", operation_id = "suggest_projects",
    params(
        ("longitude" = Option<f64>, Query, minimum = 72.004, maximum = 137.8347, description = "Where the volunteer is, with `latitude`; in China"),
        ("latitude" = Option<f64>, Query, minimum = 0.8293, maximum = 55.8271),
        ("system" = Option<CoordinateSystem>, Query, description = "The system of the point and of the places answered (default wgs84)"),
        ("radius_m" = Option<u32>, Query, minimum = 100, maximum = 50000, description = "How far from the point (default 20000)"),
        ("category" = Option<zhiyuan_domain::ServiceCategory>, Query),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "At most this many (default 20)"),
    ),
    responses((status = 200, description = "Suggestions, best first", body = Items<SuggestionView>)))]
pub(crate) async fn suggest_projects(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<ProjectSearch>,
) -> Result<Json<Items<SuggestionView>>, ApiError> {
    let suggestions =
        projects::suggest(&state.app, access.principal()?, access.tenant()?, query).await?;
    Ok(Json(suggestions.into()))
}

/// The signed-in volunteer's sign-ups, soonest shift first, times in Asia/Shanghai.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me/enrollments", tag = "projects", operation_id = "list_own_enrollments",
    responses((status = 200, description = "The volunteer's sign-ups", body = Items<EnrollmentView>)))]
pub(crate) async fn my_enrollments(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<Items<EnrollmentView>>, ApiError> {
    let enrollments = enrollments::mine(&state.app, access.principal()?, access.tenant()?).await?;
    Ok(Json(enrollments.into()))
}

/// The signed-in volunteer signs up for a shift: a place if one is free, else the waiting
/// list. A minor's sign-up carries their guardian's consent.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/shifts/{shift_id}/enrollment", tag = "projects", operation_id = "enroll",
    request_body(content = Object, description = "schemas/enrollment.schema.json"),
    responses((status = 201, description = "The sign-up: accepted, applied (waiting for the team) or waitlisted", body = EnrollmentView)))]
pub(crate) async fn enroll(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<EnrollmentRequest>,
) -> Result<(StatusCode, Json<EnrollmentView>), ApiError> {
    let enrollment = enrollments::enroll(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("shift_id")?,
        request,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(enrollment)))
}

/// The signed-in volunteer withdraws: from the waiting list at any time, from a place until
/// the project's cutoff. A place given back goes to the first on the waiting list.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/shifts/{shift_id}/enrollment", tag = "projects", operation_id = "withdraw",
    responses((status = 200, description = "The sign-up, withdrawn", body = EnrollmentView)))]
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Json<EnrollmentView>, ApiError> {
    let enrollment = enrollments::withdraw(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("shift_id")?,
    )
    .await?;
    Ok(Json(enrollment))
}

/// A shift's sign-ups (those who run the project, its scanners, the office, auditors).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/shifts/{shift_id}/enrollments", tag = "projects", operation_id = "list_enrollments",
    responses((status = 200, description = "Sign-ups in the order places were taken, the waiting list after", body = Items<EnrollmentView>)))]
pub(crate) async fn list_enrollments(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Json<Items<EnrollmentView>>, ApiError> {
    let enrollments = enrollments::of_shift(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("shift_id")?,
    )
    .await?;
    Ok(Json(enrollments.into()))
}

/// Those who run the project accept or reject an application, or remove a sign-up with a
/// reason.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/shifts/{shift_id}/enrollments/{enrollment_id}/decision", tag = "projects", operation_id = "decide_enrollment",
    request_body(content = Object, description = "schemas/enrollment-decision.schema.json"),
    responses((status = 200, description = "The sign-up after the decision", body = EnrollmentView)))]
pub(crate) async fn decide_enrollment(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<EnrollmentDecisionRequest>,
) -> Result<Json<EnrollmentView>, ApiError> {
    let enrollment = enrollments::decide(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("shift_id")?,
        path.id("enrollment_id")?,
        request,
    )
    .await?;
    Ok(Json(enrollment))
}
