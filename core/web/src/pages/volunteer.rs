//! The volunteer's pages: their record, hours and entries, the card, a project's page with its
//! shifts to sign up for, and their sign-ups.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;
use zhiyuan_api::AppState;
use zhiyuan_app::AppError;
use zhiyuan_app::enrollments::EnrollmentRequest;
use zhiyuan_domain::{Action, CoordinateSystem, TenantCode, VolunteerStatus};

use super::team::enrollment_status;
use super::{Layout, Visit, failure, fault_of, local_time, shanghai, to_sign_in};
use crate::csrf;
use crate::i18n::Lang;

/// What the volunteer's own page shows.
pub struct OwnRecord {
    pub name: String,
    pub number: Option<String>,
    pub id_number: String,
    pub status: &'static str,
    pub verified: bool,
}

/// One entry of the volunteer's service, as their page lists it.
pub struct Entry {
    pub date: String,
    pub content: String,
    pub minutes: u64,
    pub in_force: bool,
}

/// The volunteer's hours, star level and entries.
pub struct Service {
    pub hours: u64,
    pub minutes: u64,
    pub entries: u64,
    pub stars: u8,
    pub records: Vec<Entry>,
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    l: Layout,
    record: Option<OwnRecord>,
    service: Option<Service>,
}

fn status_text(lang: Lang, status: VolunteerStatus) -> &'static str {
    match (lang, status) {
        (Lang::Zh, VolunteerStatus::Pending) => "待审核",
        (Lang::Zh, VolunteerStatus::Verified) => "已注册",
        (Lang::Zh, VolunteerStatus::Rejected) => "未通过",
        (Lang::Zh, VolunteerStatus::Voided) => "已撤销",
        (Lang::Zh, VolunteerStatus::Transferring) => "转出中",
        (Lang::Zh, VolunteerStatus::Transferred) => "已转出",
        (Lang::En, VolunteerStatus::Pending) => "awaiting review",
        (Lang::En, VolunteerStatus::Verified) => "verified",
        (Lang::En, VolunteerStatus::Rejected) => "rejected",
        (Lang::En, VolunteerStatus::Voided) => "voided",
        (Lang::En, VolunteerStatus::Transferring) => "moving to another city",
        (Lang::En, VolunteerStatus::Transferred) => "moved to another city",
    }
}

pub async fn me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.signed_in() else {
            return Ok(to_sign_in());
        };
        let record = match zhiyuan_app::volunteers::own(&state.app, principal, tenant).await {
            Ok(volunteer) => Some(OwnRecord {
                name: volunteer.name,
                number: volunteer
                    .volunteer_number
                    .map(|number| number.as_str().to_owned()),
                id_number: volunteer.id_number_masked,
                status: status_text(lang, volunteer.status),
                verified: volunteer.status == VolunteerStatus::Verified,
            }),
            Err(AppError::NotFound) => None,
            Err(error) => return Err(error),
        };
        let service = match &record {
            Some(_) => {
                let history =
                    zhiyuan_app::service::own_history(&state.app, principal, tenant).await?;
                Some(Service {
                    hours: history.minutes.get() / 60,
                    minutes: history.minutes.get() % 60,
                    entries: history.entries,
                    stars: history.star_level.stars(),
                    records: history
                        .records
                        .into_iter()
                        .map(|entry| Entry {
                            date: shanghai(entry.started_at),
                            content: entry.content,
                            minutes: entry.minutes.get(),
                            in_force: entry.in_force,
                        })
                        .collect(),
                })
            }
            None => None,
        };
        Ok(visit.page(
            StatusCode::OK,
            &MePage {
                l: visit.layout("/me"),
                record,
                service,
            },
        ))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

/// The card as its page shows it.
pub struct Card {
    pub name: String,
    pub number: String,
    pub stars: u8,
    pub qr: String,
    pub expires_at: String,
    /// The same instant for the page's script (Unix milliseconds).
    pub expires_at_millis: i64,
    pub refresh_after_seconds: u64,
}

#[derive(Template)]
#[template(path = "card.html")]
struct CardPage {
    l: Layout,
    card: Option<Card>,
}

pub async fn card(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.signed_in() else {
            return Ok(to_sign_in());
        };
        let card = match zhiyuan_app::service::card(&state.app, principal, tenant).await {
            Ok(card) => Some(Card {
                qr: qr_data_uri(&card.code)?,
                name: card.name,
                number: card.volunteer_number.as_str().to_owned(),
                stars: card.star_level.stars(),
                expires_at: card.expires_at.to_shanghai_rfc3339()[11..16].to_owned(),
                expires_at_millis: card.expires_at.unix_millis(),
                refresh_after_seconds: card.refresh_after_seconds,
            }),
            Err(AppError::NotFound | AppError::WrongState(_)) => None,
            Err(error) => return Err(error),
        };
        Ok(visit.page(
            StatusCode::OK,
            &CardPage {
                l: visit.layout("/me/card"),
                card,
            },
        ))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

/// The card's QR as an SVG image inside the page, so that the page alone holds the code.
fn qr_data_uri(code: &str) -> Result<String, AppError> {
    use base64::Engine;
    let svg = zhiyuan_forms::qr::svg(code).map_err(AppError::Internal)?;
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

/// A shift as a project's page shows it, with the visitor's own sign-up where they have one.
pub struct ShiftItem {
    pub when: String,
    pub address: Option<String>,
    pub capacity: u32,
    pub open_places: u32,
    pub waiting: u32,
    pub id: String,
    pub mine: Option<&'static str>,
    pub live: bool,
    pub past: bool,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    l: Layout,
    title: String,
    summary: String,
    description: String,
    address: String,
    when: String,
    contact: String,
    enroll_base: String,
    project: String,
    shifts: Vec<ShiftItem>,
    /// A volunteer of the project's city is signed in, who may sign up.
    volunteer: bool,
    notice: Option<&'static str>,
}

async fn project_page(
    state: &AppState,
    visit: &Visit,
    code: &str,
    project_id: Uuid,
    notice: Option<&'static str>,
) -> Result<ProjectPage, AppError> {
    let lang = visit.lang;
    let tenant = TenantCode::parse(code).map_err(|_| AppError::NotFound)?;
    let principal = visit.principal.as_ref();
    let project = zhiyuan_app::projects::read(
        &state.app,
        principal,
        &tenant,
        project_id,
        CoordinateSystem::Wgs84,
    )
    .await?;
    let volunteer = principal.filter(|principal| {
        principal.tenant.as_ref() == Some(&tenant) && principal.volunteer_id.is_some()
    });
    let mine = match volunteer {
        Some(principal) => zhiyuan_app::enrollments::mine(&state.app, principal, &tenant).await?,
        None => Vec::new(),
    };
    let now = state.app.clock.now();
    let shifts = project
        .shifts
        .iter()
        .map(|shift| {
            let own = mine
                .iter()
                .filter(|sign_up| sign_up.shift_id == shift.id)
                .max_by_key(|sign_up| sign_up.changed_at);
            ShiftItem {
                when: format!(
                    "{} – {}",
                    shanghai(shift.starts_at),
                    local_time(shift.ends_at)
                ),
                address: shift.address.clone(),
                capacity: shift.capacity,
                open_places: shift.open_places,
                waiting: shift.waiting,
                id: shift.id.to_string(),
                mine: own.map(|sign_up| enrollment_status(lang, sign_up.status)),
                live: own.is_some_and(|sign_up| sign_up.status.is_live()),
                past: shift.starts_at <= now,
            }
        })
        .collect();
    Ok(ProjectPage {
        l: visit.layout("/"),
        title: project.title,
        summary: project.summary,
        description: project.description,
        address: project.address,
        when: format!(
            "{} – {}",
            shanghai(project.starts_at),
            shanghai(project.ends_at)
        ),
        contact: project.contact_name,
        enroll_base: format!("/t/{tenant}/shifts"),
        project: project_id.to_string(),
        shifts,
        volunteer: volunteer.is_some(),
        notice,
    })
}

/// A project's page: what it is, where and when, and its shifts to sign up for.
pub async fn project(
    State(state): State<AppState>,
    Path((code, project_id)): Path<(String, Uuid)>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let page = project_page(&state, &visit, &code, project_id, None).await?;
        Ok::<_, AppError>(visit.page(StatusCode::OK, &page))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Deserialize)]
pub struct ShiftForm {
    csrf: String,
    /// The project whose page the form was sent from, shown again with what went wrong.
    project: Uuid,
}

/// The signed-in volunteer signs up for a shift, or withdraws from it; done, their sign-ups;
/// refused, the project's page with the rule's words.
async fn sign_up_or_withdraw(
    state: AppState,
    code: String,
    shift_id: Uuid,
    headers: HeaderMap,
    form: ShiftForm,
    sign_up: bool,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let action = if sign_up {
            Action::Enroll
        } else {
            Action::Withdraw
        };
        let Some((principal, tenant)) = visit.allowed(action)? else {
            return Ok(to_sign_in());
        };
        let refused = async |status: StatusCode, notice: &'static str| {
            let page = project_page(&state, &visit, &code, form.project, Some(notice)).await?;
            Ok::<_, AppError>(visit.page(status, &page))
        };
        if !csrf::holds(&headers, &form.csrf) {
            return refused(StatusCode::FORBIDDEN, lang.texts().form_expired).await;
        }
        if tenant.as_str() != code {
            return Err(AppError::NotFound);
        }
        let done = if sign_up {
            let request = EnrollmentRequest {
                guardian_consent: None,
            };
            zhiyuan_app::enrollments::enroll(&state.app, principal, tenant, shift_id, request).await
        } else {
            zhiyuan_app::enrollments::withdraw(&state.app, principal, tenant, shift_id).await
        };
        match done {
            Ok(_) => Ok(Redirect::to("/me/shifts").into_response()),
            Err(error) => {
                // What a person can mend is said on the page; anything else is a failure.
                let (_, message) = fault_of(lang, &error).ok_or(error)?;
                refused(StatusCode::UNPROCESSABLE_ENTITY, message).await
            }
        }
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

pub async fn enroll(
    State(state): State<AppState>,
    Path((code, shift_id)): Path<(String, Uuid)>,
    headers: HeaderMap,
    Form(form): Form<ShiftForm>,
) -> Response {
    sign_up_or_withdraw(state, code, shift_id, headers, form, true).await
}

pub async fn withdraw(
    State(state): State<AppState>,
    Path((code, shift_id)): Path<(String, Uuid)>,
    headers: HeaderMap,
    Form(form): Form<ShiftForm>,
) -> Response {
    sign_up_or_withdraw(state, code, shift_id, headers, form, false).await
}

/// One of the volunteer's sign-ups.
pub struct OwnSignUp {
    pub title: String,
    pub link: String,
    pub when: String,
    pub status: &'static str,
    pub waiting_ahead: Option<u32>,
    pub reason: Option<String>,
    pub withdraw: Option<String>,
    pub project: String,
}

#[derive(Template)]
#[template(path = "shifts.html")]
struct ShiftsPage {
    l: Layout,
    sign_ups: Vec<OwnSignUp>,
}

/// The volunteer's sign-ups, soonest shift first, with the way to withdraw.
pub async fn shifts(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.allowed(Action::ListOwnEnrollments)? else {
            return Ok(to_sign_in());
        };
        let sign_ups = match zhiyuan_app::enrollments::mine(&state.app, principal, tenant).await {
            Ok(sign_ups) => sign_ups,
            Err(AppError::NotFound) => Vec::new(),
            Err(error) => return Err(error),
        };
        let now = state.app.clock.now();
        let sign_ups = sign_ups
            .into_iter()
            .map(|sign_up| OwnSignUp {
                link: format!("/t/{tenant}/projects/{}", sign_up.project_id),
                project: sign_up.project_id.to_string(),
                title: sign_up.project_title,
                when: format!(
                    "{} – {}",
                    shanghai(sign_up.shift_starts_at),
                    local_time(sign_up.shift_ends_at)
                ),
                status: enrollment_status(lang, sign_up.status),
                waiting_ahead: sign_up.waiting_ahead,
                reason: sign_up.reason,
                withdraw: (sign_up.status.is_live() && sign_up.shift_starts_at > now)
                    .then(|| format!("/t/{tenant}/shifts/{}/withdrawal", sign_up.shift_id)),
            })
            .collect();
        Ok(visit.page(
            StatusCode::OK,
            &ShiftsPage {
                l: visit.layout("/me/shifts"),
                sign_ups,
            },
        ))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}
