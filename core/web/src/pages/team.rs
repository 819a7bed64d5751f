//! The team admin's pages: the teams they run, a team's members and projects, a new project,
//! a project's shifts with their sign-ups, and the scanner.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;
use zhiyuan_api::AppState;
use zhiyuan_app::AppError;
use zhiyuan_app::enrollments::{EnrollmentDecision, EnrollmentDecisionRequest};
use zhiyuan_app::teams::{MemberDecision, MemberDecisionRequest};
use zhiyuan_app::views::{MembershipStatusView, ProjectView};
use zhiyuan_domain::{
    Acceptance, Action, CoordinateSystem, EnrollmentStatus, GrantKind, PlaceInput, ProjectDraft,
    ProjectState, Scope, ShiftDraft, TeamStatus, TenantCode,
};

use super::{Choice, Layout, Visit, failure, fault_of, local_time, shanghai, to_sign_in};
use crate::csrf;
use crate::i18n::Lang;

/// A team as the admin's list shows it.
pub struct TeamItem {
    pub link: String,
    pub name: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "teams.html")]
struct TeamsPage {
    l: Layout,
    teams: Vec<TeamItem>,
}

fn team_status(lang: Lang, status: TeamStatus) -> &'static str {
    let [pending, approved, rejected] = lang.texts().team_statuses;
    match status {
        TeamStatus::Pending => pending,
        TeamStatus::Approved => approved,
        TeamStatus::Rejected => rejected,
    }
}

fn project_state(lang: Lang, state: ProjectState) -> &'static str {
    let [draft, submitted, recruiting, running, finished, taken_down] = lang.texts().project_states;
    match state {
        ProjectState::Draft => draft,
        ProjectState::Submitted => submitted,
        ProjectState::Recruiting => recruiting,
        ProjectState::Running => running,
        ProjectState::Finished => finished,
        ProjectState::TakenDown => taken_down,
    }
}

pub(crate) fn enrollment_status(lang: Lang, status: EnrollmentStatus) -> &'static str {
    let [applied, accepted, waitlisted, rejected, withdrawn, removed] =
        lang.texts().enrollment_statuses;
    match status {
        EnrollmentStatus::Applied => applied,
        EnrollmentStatus::Accepted => accepted,
        EnrollmentStatus::Waitlisted => waitlisted,
        EnrollmentStatus::Rejected => rejected,
        EnrollmentStatus::Withdrawn => withdrawn,
        EnrollmentStatus::Removed => removed,
    }
}

/// The teams the signed-in account administers.
pub async fn teams(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.allowed(Action::ListOwnTeams)? else {
            return Ok(to_sign_in());
        };
        let mut teams = Vec::new();
        for grant in &principal.grants {
            if let (GrantKind::TeamAdmin, Scope::Team(id)) = (grant.kind, grant.scope) {
                let team = zhiyuan_app::teams::read(&state.app, principal, tenant, id).await?;
                teams.push(TeamItem {
                    link: format!("/t/{tenant}/teams/{}", team.id),
                    name: team.name,
                    status: team_status(lang, team.status),
                });
            }
        }
        Ok(visit.page(
            StatusCode::OK,
            &TeamsPage {
                l: visit.layout("/teams"),
                teams,
            },
        ))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

/// A member, or an applicant waiting for the team's answer.
pub struct MemberItem {
    pub name: String,
    pub number: String,
    pub decide: String,
}

/// A project of the team, with the way to its admin page.
pub struct TeamProject {
    pub title: String,
    pub when: String,
    pub state: &'static str,
    pub link: String,
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    l: Layout,
    name: String,
    status: &'static str,
    reason: Option<String>,
    members: Vec<MemberItem>,
    applications: Vec<MemberItem>,
    projects: Vec<TeamProject>,
    new_project: String,
    /// The members an entry of service can be for, and the team's latest entries.
    choices: Vec<Choice>,
    records: Vec<TeamRecord>,
    record_action: String,
    invalid: String,
    notice: Option<&'static str>,
}

/// An entry of the team's service, as its page lists it.
pub struct TeamRecord {
    pub name: String,
    pub when: String,
    pub content: String,
    pub minutes: u64,
    pub in_force: bool,
}

/// How many of the team's entries its page lists, newest first.
const RECENT_RECORDS: usize = 20;

async fn team_page(
    state: &AppState,
    visit: &Visit,
    tenant: &TenantCode,
    team_id: Uuid,
    fault: Option<(String, &'static str)>,
) -> Result<TeamPage, AppError> {
    let lang = visit.lang;
    let principal = visit.principal.as_ref().ok_or(AppError::NotFound)?;
    let team = zhiyuan_app::teams::read(&state.app, principal, tenant, team_id).await?;
    let everyone = zhiyuan_app::teams::members(&state.app, principal, tenant, team_id).await?;
    let (mut members, mut applications) = (Vec::new(), Vec::new());
    let names: std::collections::HashMap<Uuid, String> = everyone
        .iter()
        .map(|member| (member.membership.volunteer_id, member.name.clone()))
        .collect();
    let choices = everyone
        .iter()
        .filter(|member| matches!(member.membership.status, MembershipStatusView::Member))
        .map(|member| Choice {
            value: member.membership.volunteer_id.to_string(),
            label: member.name.clone(),
            selected: false,
        })
        .collect();
    let mut records =
        zhiyuan_app::service::team_records(&state.app, principal, tenant, team_id).await?;
    records.sort_by_key(|record| std::cmp::Reverse(record.started_at));
    let records = records
        .into_iter()
        .take(RECENT_RECORDS)
        .map(|record| TeamRecord {
            name: names.get(&record.volunteer_id).cloned().unwrap_or_default(),
            when: format!(
                "{} – {}",
                shanghai(record.started_at),
                local_time(record.ended_at)
            ),
            content: record.content,
            minutes: record.minutes.get(),
            in_force: record.in_force,
        })
        .collect();
    for member in everyone {
        let item = MemberItem {
            decide: format!(
                "/t/{tenant}/teams/{team_id}/members/{}",
                member.membership.volunteer_id
            ),
            name: member.name,
            number: member
                .volunteer_number
                .map(|number| number.as_str().to_owned())
                .unwrap_or_default(),
        };
        match member.membership.status {
            MembershipStatusView::Member => members.push(item),
            MembershipStatusView::Applied => applications.push(item),
            _ => {}
        }
    }
    let projects = zhiyuan_app::projects::of_team(
        &state.app,
        Some(principal),
        tenant,
        team_id,
        CoordinateSystem::Wgs84,
    )
    .await?
    .into_iter()
    .map(|project| TeamProject {
        link: format!("/t/{tenant}/projects/{}/manage", project.id),
        title: project.title,
        when: format!(
            "{} – {}",
            shanghai(project.starts_at),
            shanghai(project.ends_at)
        ),
        state: project_state(lang, project.state),
    })
    .collect();
    Ok(TeamPage {
        l: visit.layout("/teams"),
        name: team.name,
        status: team_status(lang, team.status),
        reason: team.decision_reason,
        members,
        applications,
        projects,
        new_project: format!("/t/{tenant}/teams/{team_id}/projects/new"),
        choices,
        records,
        record_action: format!("/t/{tenant}/teams/{team_id}/service-records"),
        invalid: fault
            .as_ref()
            .map(|(field, _)| field.clone())
            .unwrap_or_default(),
        notice: fault.map(|(_, message)| message),
    })
}

/// A team's page for its admins: its review, members, applications and projects.
pub async fn team(
    State(state): State<AppState>,
    Path((code, team_id)): Path<(String, Uuid)>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((_, tenant)) = visit.allowed(Action::ListMembers)? else {
            return Ok(to_sign_in());
        };
        let tenant = own_tenant(tenant, &code)?;
        let page = team_page(&state, &visit, &tenant, team_id, None).await?;
        Ok(visit.page(StatusCode::OK, &page))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

/// The tenant of the path, which must be the signed-in account's own.
fn own_tenant(tenant: &TenantCode, code: &str) -> Result<TenantCode, AppError> {
    if tenant.as_str() == code {
        Ok(tenant.clone())
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

/// An admin accepts or rejects an application to join the team.
pub async fn decide_member(
    State(state): State<AppState>,
    Path((code, team_id, volunteer_id)): Path<(String, Uuid, Uuid)>,
    headers: HeaderMap,
    Form(form): Form<DecisionForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.allowed(Action::DecideMember)? else {
            return Ok(to_sign_in());
        };
        let tenant = own_tenant(tenant, &code)?;
        let back = format!("/t/{tenant}/teams/{team_id}");
        let refused = async |status: StatusCode, notice: &'static str| {
            let page = team_page(
                &state,
                &visit,
                &tenant,
                team_id,
                Some((String::new(), notice)),
            )
            .await?;
            Ok::<_, AppError>(visit.page(status, &page))
        };
        if !csrf::holds(&headers, &form.csrf) {
            return refused(StatusCode::FORBIDDEN, lang.texts().form_expired).await;
        }
        let decision = match form.decision.as_str() {
            "accept" => MemberDecision::Accept,
            "reject" => MemberDecision::Reject,
            _ => {
                return refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    lang.texts().form_has_errors,
                )
                .await;
            }
        };
        let request = MemberDecisionRequest { decision };
        match zhiyuan_app::teams::decide_member(
            &state.app,
            principal,
            &tenant,
            team_id,
            volunteer_id,
            request,
        )
        .await
        {
            Ok(_) => Ok(Redirect::to(&back).into_response()),
            Err(error) => {
                // What a person can mend is said on the page; anything else is a failure.
                let (_, message) = fault_of(lang, &error).ok_or(error)?;
                refused(StatusCode::UNPROCESSABLE_ENTITY, message).await
            }
        }
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Deserialize)]
pub struct RecordForm {
    csrf: String,
    volunteer: String,
    started: String,
    ended: String,
    content: String,
    reason: String,
}

/// A team's admin enters service that no scan recorded, with the reason; refused, the team's
/// page names the field and the rule, and nothing is written.
pub async fn record_service(
    State(state): State<AppState>,
    Path((code, team_id)): Path<(String, Uuid)>,
    headers: HeaderMap,
    Form(form): Form<RecordForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.allowed(Action::RecordService)? else {
            return Ok(to_sign_in());
        };
        let tenant = own_tenant(tenant, &code)?;
        let refused = async |status: StatusCode, fault: (String, &'static str)| {
            let page = team_page(&state, &visit, &tenant, team_id, Some(fault)).await?;
            Ok::<_, AppError>(visit.page(status, &page))
        };
        if !csrf::holds(&headers, &form.csrf) {
            return refused(
                StatusCode::FORBIDDEN,
                (String::new(), lang.texts().form_expired),
            )
            .await;
        }
        let Ok(volunteer_id) = form.volunteer.parse::<Uuid>() else {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                (
                    "volunteer".to_owned(),
                    lang.rule(zhiyuan_domain::Rule::NotTeamMember),
                ),
            )
            .await;
        };
        let request = zhiyuan_app::service::ManualEntryRequest {
            volunteer_id,
            project_id: None,
            started_at: shanghai_input(&form.started),
            ended_at: shanghai_input(&form.ended),
            minutes: None,
            content: form.content.clone(),
            reason: form.reason.clone(),
        };
        match zhiyuan_app::service::record_service(&state.app, principal, &tenant, team_id, request)
            .await
        {
            Ok(_) => Ok(Redirect::to(&format!("/t/{tenant}/teams/{team_id}")).into_response()),
            Err(error) => match fault_of(lang, &error) {
                Some((field, message)) => {
                    let field = match field.as_str() {
                        "started_at" => "started",
                        "ended_at" | "minutes" => "ended",
                        "volunteer_id" => "volunteer",
                        // The page's main element is `#content`.
                        "content" => "service_content",
                        "reason" => "reason",
                        _ => "",
                    };
                    refused(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        (field.to_owned(), message),
                    )
                    .await
                }
                None => Err(error),
            },
        }
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

/// A sign-up as the shift's admin sees it.
pub struct SignUp {
    pub name: String,
    pub number: String,
    pub status: &'static str,
    pub applied: bool,
    pub decide: String,
}

/// A shift with its sign-ups.
pub struct ShiftAdmin {
    pub when: String,
    pub capacity: u32,
    pub taken: u32,
    pub waiting: u32,
    pub sign_ups: Vec<SignUp>,
}

#[derive(Template)]
#[template(path = "project_admin.html")]
struct ProjectAdminPage {
    l: Layout,
    title: String,
    team: String,
    state: &'static str,
    reason: Option<String>,
    draft: bool,
    publish: String,
    scanner: Option<String>,
    shifts: Vec<ShiftAdmin>,
    notice: Option<&'static str>,
}

async fn project_admin_page(
    state: &AppState,
    visit: &Visit,
    tenant: &TenantCode,
    project_id: Uuid,
    notice: Option<&'static str>,
) -> Result<ProjectAdminPage, AppError> {
    let lang = visit.lang;
    let principal = visit.principal.as_ref().ok_or(AppError::NotFound)?;
    let project: ProjectView = zhiyuan_app::projects::read(
        &state.app,
        Some(principal),
        tenant,
        project_id,
        CoordinateSystem::Wgs84,
    )
    .await?;
    let mut shifts = Vec::with_capacity(project.shifts.len());
    for shift in &project.shifts {
        let sign_ups =
            zhiyuan_app::enrollments::of_shift(&state.app, principal, tenant, shift.id).await?;
        shifts.push(ShiftAdmin {
            when: format!(
                "{} – {}",
                shanghai(shift.starts_at),
                local_time(shift.ends_at)
            ),
            capacity: shift.capacity,
            taken: shift.taken,
            waiting: shift.waiting,
            sign_ups: sign_ups
                .into_iter()
                .map(|sign_up| SignUp {
                    decide: format!(
                        "/t/{tenant}/shifts/{}/enrollments/{}",
                        sign_up.shift_id, sign_up.id
                    ),
                    name: sign_up.volunteer_name,
                    number: sign_up.volunteer_number.unwrap_or_default(),
                    status: enrollment_status(lang, sign_up.status),
                    applied: sign_up.status == EnrollmentStatus::Applied,
                })
                .collect(),
        });
    }
    let running = matches!(
        project.state,
        ProjectState::Recruiting | ProjectState::Running
    );
    Ok(ProjectAdminPage {
        l: visit.layout("/teams"),
        title: project.title,
        team: format!("/t/{tenant}/teams/{}", project.team_id),
        state: project_state(lang, project.state),
        reason: project.decision_reason,
        draft: project.state == ProjectState::Draft,
        publish: format!("/t/{tenant}/projects/{project_id}/publication"),
        scanner: running.then(|| format!("/t/{tenant}/projects/{project_id}/scanner")),
        shifts,
        notice,
    })
}

/// A project's page for those who run it: its state, its shifts and their sign-ups.
pub async fn project_admin(
    State(state): State<AppState>,
    Path((code, project_id)): Path<(String, Uuid)>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((_, tenant)) = visit.allowed(Action::ListEnrollments)? else {
            return Ok(to_sign_in());
        };
        let tenant = own_tenant(tenant, &code)?;
        let page = project_admin_page(&state, &visit, &tenant, project_id, None).await?;
        Ok(visit.page(StatusCode::OK, &page))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Deserialize)]
pub struct TokenOnly {
    csrf: String,
}

/// The team publishes a draft: it recruits, or waits for the office's approval.
pub async fn publish(
    State(state): State<AppState>,
    Path((code, project_id)): Path<(String, Uuid)>,
    headers: HeaderMap,
    Form(form): Form<TokenOnly>,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.allowed(Action::PublishProject)? else {
            return Ok(to_sign_in());
        };
        let tenant = own_tenant(tenant, &code)?;
        let refused = async |status: StatusCode, notice: &'static str| {
            let page =
                project_admin_page(&state, &visit, &tenant, project_id, Some(notice)).await?;
            Ok::<_, AppError>(visit.page(status, &page))
        };
        if !csrf::holds(&headers, &form.csrf) {
            return refused(StatusCode::FORBIDDEN, lang.texts().form_expired).await;
        }
        match zhiyuan_app::projects::publish(
            &state.app,
            principal,
            &tenant,
            project_id,
            CoordinateSystem::Wgs84,
        )
        .await
        {
            Ok(_) => Ok(
                Redirect::to(&format!("/t/{tenant}/projects/{project_id}/manage")).into_response(),
            ),
            Err(error) => {
                // What a person can mend is said on the page; anything else is a failure.
                let (_, message) = fault_of(lang, &error).ok_or(error)?;
                refused(StatusCode::UNPROCESSABLE_ENTITY, message).await
            }
        }
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

/// Those who run the project accept or reject a sign-up; a rejection gives its reason.
pub async fn decide_enrollment(
    State(state): State<AppState>,
    Path((code, shift_id, enrollment_id)): Path<(String, Uuid, Uuid)>,
    headers: HeaderMap,
    Form(form): Form<DecisionForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.allowed(Action::DecideEnrollment)? else {
            return Ok(to_sign_in());
        };
        let tenant = own_tenant(tenant, &code)?;
        let enrollment =
            zhiyuan_app::enrollments::of_shift(&state.app, principal, &tenant, shift_id)
                .await?
                .into_iter()
                .find(|sign_up| sign_up.id == enrollment_id)
                .ok_or(AppError::NotFound)?;
        let project_id = enrollment.project_id;
        let refused = async |status: StatusCode, notice: &'static str| {
            let page =
                project_admin_page(&state, &visit, &tenant, project_id, Some(notice)).await?;
            Ok::<_, AppError>(visit.page(status, &page))
        };
        if !csrf::holds(&headers, &form.csrf) {
            return refused(StatusCode::FORBIDDEN, lang.texts().form_expired).await;
        }
        let decision = match form.decision.as_str() {
            "accept" => EnrollmentDecision::Accept,
            "reject" => EnrollmentDecision::Reject,
            _ => {
                return refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    lang.texts().form_has_errors,
                )
                .await;
            }
        };
        let request = EnrollmentDecisionRequest {
            decision,
            reason: (!form.reason.trim().is_empty()).then(|| form.reason.clone()),
        };
        match zhiyuan_app::enrollments::decide(
            &state.app,
            principal,
            &tenant,
            shift_id,
            enrollment_id,
            request,
        )
        .await
        {
            Ok(_) => Ok(
                Redirect::to(&format!("/t/{tenant}/projects/{project_id}/manage")).into_response(),
            ),
            Err(error) => {
                // What a person can mend is said on the page; anything else is a failure.
                let (_, message) = fault_of(lang, &error).ok_or(error)?;
                refused(StatusCode::UNPROCESSABLE_ENTITY, message).await
            }
        }
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

/// What the new project's form shows: what was typed, and the field at fault with its rule.
#[derive(Template)]
#[template(path = "project_new.html")]
struct NewProjectPage {
    l: Layout,
    action: String,
    form: ProjectForm,
    categories: Vec<Choice>,
    regions: Vec<Choice>,
    acceptances: Vec<Choice>,
    invalid: String,
    message: Option<&'static str>,
}

/// The new project's form: one shift, which a real first project has; more shifts are added
/// through the API.
#[derive(Deserialize, Default, Clone)]
pub struct ProjectForm {
    #[serde(default)]
    csrf: String,
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub description: String,
    pub category: String,
    pub region: String,
    pub address: String,
    pub latitude: String,
    pub longitude: String,
    pub contact_name: String,
    pub contact_mobile: String,
    /// As a `datetime-local` input gives it, in Asia/Shanghai: `2026-12-05T09:00`.
    pub shift_starts: String,
    pub shift_ends: String,
    pub capacity: String,
    pub acceptance: String,
}

async fn new_project_page(
    state: &AppState,
    visit: &Visit,
    tenant: &TenantCode,
    team_id: Uuid,
    form: ProjectForm,
    fault: Option<(String, &'static str)>,
) -> Result<NewProjectPage, AppError> {
    let lang = visit.lang;
    let regions = zhiyuan_app::tenants::regions(&state.app, tenant)
        .await?
        .into_iter()
        .map(|region| Choice {
            selected: region.code.as_str() == form.region,
            value: region.code.as_str().to_owned(),
            label: match lang {
                Lang::En => region.name.en.unwrap_or(region.name.zh),
                Lang::Zh => region.name.zh,
            },
        })
        .collect();
    let categories = zhiyuan_forms::CATEGORY_LABELS
        .iter()
        .map(|(_, zh, en)| Choice {
            value: (*en).to_owned(),
            label: match lang {
                Lang::Zh => (*zh).to_owned(),
                Lang::En => en.replace('_', " "),
            },
            selected: *en == form.category,
        })
        .collect();
    let acceptances = [Acceptance::Automatic, Acceptance::ByTeam]
        .into_iter()
        .zip(lang.texts().acceptances)
        .map(|(acceptance, label)| Choice {
            value: acceptance.as_str().to_owned(),
            label: label.to_owned(),
            selected: acceptance.as_str() == form.acceptance,
        })
        .collect();
    let (invalid, message) = match fault {
        Some((field, message)) => (field, Some(message)),
        None => (String::new(), None),
    };
    Ok(NewProjectPage {
        l: visit.layout("/teams"),
        action: format!("/t/{tenant}/teams/{team_id}/projects/new"),
        form,
        categories,
        regions,
        acceptances,
        invalid,
        message,
    })
}

/// The new project's form, empty.
pub async fn new_project_form(
    State(state): State<AppState>,
    Path((code, team_id)): Path<(String, Uuid)>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.allowed(Action::CreateProject)? else {
            return Ok(to_sign_in());
        };
        let tenant = own_tenant(tenant, &code)?;
        // Only the team's admins see its form.
        if !principal.holds(GrantKind::TeamAdmin, Scope::Team(team_id), &tenant) {
            return Err(AppError::Refused(zhiyuan_domain::Rule::OutsideGrantScope));
        }
        let team = zhiyuan_app::teams::read(&state.app, principal, &tenant, team_id).await?;
        let form = ProjectForm {
            region: team.region.as_str().to_owned(),
            contact_name: team.contact_name,
            contact_mobile: team.contact_mobile,
            capacity: "10".to_owned(),
            acceptance: Acceptance::Automatic.as_str().to_owned(),
            ..ProjectForm::default()
        };
        let page = new_project_page(&state, &visit, &tenant, team_id, form, None).await?;
        Ok(visit.page(StatusCode::OK, &page))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

/// A `datetime-local` value, in Asia/Shanghai as the form says, as RFC 3339; anything else is
/// handed on as it came, for the project's rules to name.
fn shanghai_input(value: &str) -> String {
    let is_local = value.len() == 16 && value.as_bytes().get(10) == Some(&b'T');
    if is_local {
        format!("{value}:00+08:00")
    } else {
        value.to_owned()
    }
}

/// The form's field for a field of the project's document, as its rules name them.
fn form_field(pointer: &str) -> &'static str {
    let mut parts = pointer.trim_start_matches('/').split('/');
    match (parts.next(), parts.nth(1)) {
        (Some("shifts"), Some("ends_at")) | (Some("ends_at"), _) => "shift_ends",
        (Some("shifts"), Some("capacity")) => "capacity",
        (Some("shifts"), _) | (Some("starts_at"), _) => "shift_starts",
        (Some("place"), _) => "latitude",
        (Some("service_categories"), _) => "category",
        (Some("title"), _) => "title",
        (Some("summary"), _) => "summary",
        (Some("description"), _) => "description",
        (Some("region"), _) => "region",
        (Some("address"), _) => "address",
        (Some("contact_name"), _) => "contact_name",
        (Some("contact_mobile"), _) => "contact_mobile",
        (Some("acceptance"), _) => "acceptance",
        _ => "",
    }
}

/// A new project as a draft, from the form, by the project's rules: refused with the field and
/// the rule, nothing written; saved, its admin page.
pub async fn create_project(
    State(state): State<AppState>,
    Path((code, team_id)): Path<(String, Uuid)>,
    headers: HeaderMap,
    Form(form): Form<ProjectForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.allowed(Action::CreateProject)? else {
            return Ok(to_sign_in());
        };
        let tenant = own_tenant(tenant, &code)?;
        let refuse = async |status: StatusCode, fault: (String, &'static str)| {
            let page =
                new_project_page(&state, &visit, &tenant, team_id, form.clone(), Some(fault))
                    .await?;
            Ok::<_, AppError>(visit.page(status, &page))
        };
        let t = lang.texts();
        if !csrf::holds(&headers, &form.csrf) {
            return refuse(StatusCode::FORBIDDEN, (String::new(), t.form_expired)).await;
        }
        let number = |field: &str, text: &str| {
            text.trim().parse::<f64>().map_err(|_| {
                (
                    field.to_owned(),
                    lang.rule(zhiyuan_domain::Rule::CoordinatesNotNumbers),
                )
            })
        };
        let place = match (
            number("latitude", &form.latitude),
            number("longitude", &form.longitude),
        ) {
            (Ok(latitude), Ok(longitude)) => PlaceInput {
                latitude,
                longitude,
                system: CoordinateSystem::Wgs84,
            },
            (Err(fault), _) | (_, Err(fault)) => {
                return refuse(StatusCode::UNPROCESSABLE_ENTITY, fault).await;
            }
        };
        let Ok(capacity) = form.capacity.trim().parse::<u32>() else {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                (
                    "capacity".to_owned(),
                    lang.rule(zhiyuan_domain::Rule::ShiftCapacity),
                ),
            )
            .await;
        };
        let (Some(category), Some(acceptance)) = (
            zhiyuan_forms::CATEGORY_LABELS
                .iter()
                .find(|(_, _, code)| *code == form.category)
                .map(|(category, _, _)| *category),
            Acceptance::from_db(&form.acceptance),
        ) else {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                ("category".to_owned(), t.form_has_errors),
            )
            .await;
        };
        let starts_at = shanghai_input(&form.shift_starts);
        let ends_at = shanghai_input(&form.shift_ends);
        let draft = ProjectDraft {
            title: form.title.clone(),
            summary: form.summary.clone(),
            description: form.description.clone(),
            service_categories: vec![category],
            skills: Vec::new(),
            region: form.region.clone(),
            address: form.address.clone(),
            place,
            starts_at: starts_at.clone(),
            ends_at: ends_at.clone(),
            contact_name: form.contact_name.clone(),
            contact_mobile: form.contact_mobile.clone(),
            minors: Default::default(),
            acceptance,
            withdrawal_cutoff_hours: 2,
            need_id: None,
            shifts: vec![ShiftDraft {
                starts_at,
                ends_at,
                address: None,
                place: None,
                capacity,
                skills: Vec::new(),
                check_in_before_minutes: 30,
                check_in_after_minutes: 30,
            }],
        };
        match zhiyuan_app::projects::create(
            &state.app,
            principal,
            &tenant,
            team_id,
            draft,
            CoordinateSystem::Wgs84,
        )
        .await
        {
            Ok(project) => Ok(
                Redirect::to(&format!("/t/{tenant}/projects/{}/manage", project.id))
                    .into_response(),
            ),
            Err(error) => match fault_of(lang, &error) {
                Some((_, message)) => {
                    let field = match &error {
                        AppError::Invalid(invalid) => form_field(&invalid.field),
                        _ => "",
                    };
                    refuse(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        (field.to_owned(), message),
                    )
                    .await
                }
                None => Err(error),
            },
        }
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Template)]
#[template(path = "scanner.html")]
struct ScannerPage {
    l: Layout,
    title: String,
    tenant: String,
    project: String,
    back: String,
}

/// The scanner: the camera reads cards' codes, each scan posted to the API at once, or kept on
/// the device while it is offline and uploaded as a batch when it is back.
pub async fn scanner(
    State(state): State<AppState>,
    Path((code, project_id)): Path<(String, Uuid)>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.allowed(Action::ScanCard)? else {
            return Ok(to_sign_in());
        };
        let tenant = own_tenant(tenant, &code)?;
        let project = zhiyuan_app::projects::read(
            &state.app,
            Some(principal),
            &tenant,
            project_id,
            CoordinateSystem::Wgs84,
        )
        .await?;
        zhiyuan_app::service::may_scan(&state.app, principal, &tenant, project_id).await?;
        let mut response = visit.page(
            StatusCode::OK,
            &ScannerPage {
                l: visit.layout("/teams"),
                title: project.title,
                tenant: tenant.as_str().to_owned(),
                project: project_id.to_string(),
                back: format!("/t/{tenant}/projects/{project_id}/manage"),
            },
        );
        // The QR reader is WebAssembly, which a page may compile only where its policy says so.
        response.headers_mut().insert(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(super::SCANNER_POLICY),
        );
        Ok(response)
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_forms_times_are_read_in_shanghai() {
        assert_eq!(
            shanghai_input("2026-12-05T09:00"),
            "2026-12-05T09:00:00+08:00"
        );
        assert_eq!(shanghai_input("tomorrow"), "tomorrow");
        assert_eq!(shanghai_input(""), "");
    }

    #[test]
    fn the_rules_fields_are_the_forms() {
        assert_eq!(form_field("/shifts/0/starts_at"), "shift_starts");
        assert_eq!(form_field("/shifts/0/ends_at"), "shift_ends");
        assert_eq!(form_field("/shifts/0/capacity"), "capacity");
        assert_eq!(form_field("/place/latitude"), "latitude");
        assert_eq!(form_field("/title"), "title");
        assert_eq!(form_field("/shifts"), "shift_starts");
        assert_eq!(form_field("/something_else"), "");
    }
}
