//! The reviewer's page: the volunteers' registrations and the teams' applications waiting at
//! their level, each decided with a reason where it is refused.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;
use zhiyuan_api::AppState;
use zhiyuan_app::AppError;
use zhiyuan_app::volunteers::{Decision, DecisionRequest, ListQuery};
use zhiyuan_domain::{Action, TenantCode, VolunteerStatus};

use super::{Visit, failure, fault_of, shanghai, to_sign_in};
use crate::csrf;
use crate::i18n::Lang;

/// How many registrations the page lists at once: the oldest first, as they are decided.
const QUEUE_PAGE: u32 = 100;

/// A registration or an application waiting for a decision.
pub struct Waiting {
    pub name: String,
    pub facts: String,
    pub applied: String,
    /// A warning for the reviewer: the same document is registered more than once.
    pub warning: bool,
    pub decide: String,
}

/// One queue of the page, under its heading.
pub struct Queue {
    pub heading: &'static str,
    pub items: Vec<Waiting>,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    l: super::Layout,
    queues: [Queue; 2],
    notice: Option<&'static str>,
}

async fn review_page(
    state: &AppState,
    visit: &Visit,
    tenant: &TenantCode,
    notice: Option<&'static str>,
) -> Result<ReviewPage, AppError> {
    let principal = visit.principal.as_ref().ok_or(AppError::NotFound)?;
    let regions = zhiyuan_app::tenants::regions(&state.app, tenant).await?;
    let region = |code: &zhiyuan_domain::RegionCode| {
        regions
            .iter()
            .find(|region| &region.code == code)
            .map(|region| match visit.lang {
                Lang::En => region.name.en.clone().unwrap_or(region.name.zh.clone()),
                Lang::Zh => region.name.zh.clone(),
            })
            .unwrap_or_else(|| code.as_str().to_owned())
    };
    let query = ListQuery {
        status: Some(VolunteerStatus::Pending),
        unit_id: None,
        limit: QUEUE_PAGE,
        offset: 0,
    };
    let volunteers = if principal.may(Action::ListVolunteers, Some(tenant)) {
        zhiyuan_app::volunteers::list(&state.app, principal, tenant, query).await?
    } else {
        Vec::new()
    };
    let volunteers = volunteers
        .into_iter()
        .map(|volunteer| Waiting {
            decide: format!("/t/{tenant}/volunteers/{}/decision", volunteer.id),
            facts: format!(
                "{} · {} · {}",
                volunteer.id_number_masked,
                volunteer.mobile,
                region(&volunteer.region)
            ),
            name: volunteer.name,
            applied: shanghai(volunteer.applied_at),
            warning: volunteer.same_document.is_some_and(|others| others > 0),
        })
        .collect();
    let teams = if principal.may(Action::ReviewQueue, Some(tenant)) {
        zhiyuan_app::teams::review_queue(&state.app, principal, tenant).await?
    } else {
        Vec::new()
    };
    let teams = teams
        .into_iter()
        .map(|team| Waiting {
            decide: format!("/t/{tenant}/teams/{}/decision", team.id),
            facts: format!(
                "{} · {} {}",
                region(&team.region),
                team.contact_name,
                team.contact_mobile
            ),
            name: team.name,
            applied: shanghai(team.submitted_at),
            warning: false,
        })
        .collect();
    let t = visit.lang.texts();
    Ok(ReviewPage {
        l: visit.layout("/review"),
        queues: [
            Queue {
                heading: t.volunteers_waiting,
                items: volunteers,
            },
            Queue {
                heading: t.teams_waiting,
                items: teams,
            },
        ],
        notice,
    })
}

/// What waits for the signed-in reviewer.
pub async fn review(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.signed_in() else {
            return Ok(to_sign_in());
        };
        // Volunteers' registrations for those who list them, teams' applications for those
        // who review them: the page for anyone who does either.
        if !principal.may(Action::ListVolunteers, Some(tenant))
            && !principal.may(Action::ReviewQueue, Some(tenant))
        {
            return Err(AppError::Refused(zhiyuan_domain::Rule::OutsideGrantScope));
        }
        let page = review_page(&state, &visit, tenant, None).await?;
        Ok(visit.page(StatusCode::OK, &page))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Deserialize)]
pub struct ReviewForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

/// What a decision's form is about.
#[derive(Clone, Copy)]
enum Reviewed {
    Volunteer,
    Team,
}

async fn decide(
    state: AppState,
    code: String,
    id: Uuid,
    headers: HeaderMap,
    form: ReviewForm,
    reviewed: Reviewed,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let action = match reviewed {
            Reviewed::Volunteer => Action::DecideVolunteer,
            Reviewed::Team => Action::DecideTeam,
        };
        let Some((principal, tenant)) = visit.allowed(action)? else {
            return Ok(to_sign_in());
        };
        if tenant.as_str() != code {
            return Err(AppError::NotFound);
        }
        let refused = async |status: StatusCode, notice: &'static str| {
            let page = review_page(&state, &visit, tenant, Some(notice)).await?;
            Ok::<_, AppError>(visit.page(status, &page))
        };
        if !csrf::holds(&headers, &form.csrf) {
            return refused(StatusCode::FORBIDDEN, lang.texts().form_expired).await;
        }
        let decision = match form.decision.as_str() {
            "approve" => Decision::Approve,
            "reject" => Decision::Reject,
            _ => {
                return refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    lang.texts().form_has_errors,
                )
                .await;
            }
        };
        let request = DecisionRequest {
            decision,
            reason: Some(form.reason.clone()),
        };
        let done = match reviewed {
            Reviewed::Volunteer => {
                zhiyuan_app::volunteers::decide(&state.app, principal, tenant, id, request)
                    .await
                    .map(|_| ())
            }
            Reviewed::Team => {
                zhiyuan_app::teams::decide(&state.app, principal, tenant, id, request)
                    .await
                    .map(|_| ())
            }
        };
        match done {
            Ok(()) => Ok(Redirect::to("/review").into_response()),
            Err(error) => {
                // What a person can mend is said on the page; anything else is a failure.
                let (_, message) = fault_of(lang, &error).ok_or(error)?;
                refused(StatusCode::UNPROCESSABLE_ENTITY, message).await
            }
        }
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

/// A reviewer verifies or rejects a volunteer's registration.
pub async fn decide_volunteer(
    State(state): State<AppState>,
    Path((code, id)): Path<(String, Uuid)>,
    headers: HeaderMap,
    Form(form): Form<ReviewForm>,
) -> Response {
    decide(state, code, id, headers, form, Reviewed::Volunteer).await
}

/// A reviewer approves or rejects a team's application.
pub async fn decide_team(
    State(state): State<AppState>,
    Path((code, id)): Path<(String, Uuid)>,
    headers: HeaderMap,
    Form(form): Form<ReviewForm>,
) -> Response {
    decide(state, code, id, headers, form, Reviewed::Team).await
}
