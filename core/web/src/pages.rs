//! The handlers: each reads what the page needs through one use case and renders it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiyuan_api::AppState;
use zhiyuan_api::access::{
    ClientAddress, SESSION_COOKIE, cookie, expired_session_cookie, session_cookie,
};
use zhiyuan_app::AppError;
use zhiyuan_app::accounts::{self, SignInRequest};
use zhiyuan_domain::{IdDocumentKind, Principal, VolunteerStatus};

use crate::csrf;
use crate::i18n::{Lang, Texts};

/// Pages run no script but the site's own files, load nothing from elsewhere, post forms only
/// back to the node, and are never framed.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
    object-src 'none'";

/// What every page shows around its content: the language, the switch to the other one, who
/// is signed in, and the form token.
pub struct Layout {
    pub lang: Lang,
    pub t: &'static Texts,
    pub other: Lang,
    pub path: &'static str,
    pub signed_in: Option<String>,
    pub csrf: String,
}

/// The request as the pages see it: language, session and form token.
struct Visit {
    lang: Lang,
    principal: Option<Principal>,
    token: Option<String>,
    csrf: csrf::Token,
}

impl Visit {
    async fn read(state: &AppState, headers: &HeaderMap) -> Result<Visit, AppError> {
        let token = cookie(headers, SESSION_COOKIE).filter(|token| !token.is_empty());
        let principal = match &token {
            Some(token) => accounts::principal(&state.app, token).await?,
            None => None,
        };
        Ok(Visit {
            lang: Lang::of(headers),
            principal,
            token,
            csrf: csrf::token(headers, state.config.secure_cookies),
        })
    }

    fn layout(&self, path: &'static str) -> Layout {
        Layout {
            lang: self.lang,
            t: self.lang.texts(),
            other: self.lang.other(),
            path,
            signed_in: self
                .principal
                .as_ref()
                .map(|principal| principal.username.clone()),
            csrf: self.csrf.value.clone(),
        }
    }

    /// A rendered page, with the form token's cookie where it is new.
    fn page(&self, status: StatusCode, template: &impl Template) -> Response {
        let mut response = render(status, template, self.lang);
        if let Some(set) = &self.csrf.set_cookie
            && let Ok(value) = HeaderValue::from_str(set)
        {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }
}

fn render(status: StatusCode, template: &impl Template, lang: Lang) -> Response {
    match template.render() {
        Ok(body) => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "a page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                lang.texts().something_failed,
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    l: Layout,
    message: &'static str,
}

/// A page that only says what went wrong, with the status that says it to machines.
fn failure(lang: Lang, error: &AppError) -> Response {
    let (status, message) = match error {
        AppError::NotFound => (StatusCode::NOT_FOUND, lang.texts().not_found),
        _ => {
            tracing::warn!(%error, "a page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                lang.texts().something_failed,
            )
        }
    };
    let page = MessagePage {
        l: Layout {
            lang,
            t: lang.texts(),
            other: lang.other(),
            path: "/",
            signed_in: None,
            csrf: String::new(),
        },
        message,
    };
    render(status, &page, lang)
}

/// A city's name in the page's language.
pub struct City {
    pub code: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    cities: Vec<City>,
}

async fn cities(state: &AppState, lang: Lang) -> Result<Vec<City>, AppError> {
    Ok(zhiyuan_app::tenants::list(&state.app)
        .await?
        .into_iter()
        .map(|tenant| City {
            code: tenant.code.as_str().to_owned(),
            name: match lang {
                Lang::En => tenant.name.en.clone().unwrap_or(tenant.name.zh),
                Lang::Zh => tenant.name.zh,
            },
        })
        .collect())
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let cities = cities(&state, lang).await?;
        Ok::<_, AppError>(visit.page(
            StatusCode::OK,
            &HomePage {
                l: visit.layout("/"),
                cities,
            },
        ))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    l: Layout,
    cities: Vec<City>,
    tenant: String,
    username: String,
    error: Option<&'static str>,
}

pub async fn sign_in_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let cities = cities(&state, lang).await?;
        let tenant = cities
            .first()
            .map(|city| city.code.clone())
            .unwrap_or_default();
        Ok::<_, AppError>(visit.page(
            StatusCode::OK,
            &SignInPage {
                l: visit.layout("/signin"),
                cities,
                tenant,
                username: String::new(),
                error: None,
            },
        ))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Deserialize)]
pub struct SignInForm {
    csrf: String,
    /// A tenant's code, or empty for an account of the node.
    tenant: String,
    username: String,
    password: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let refused = |error: &'static str, status: StatusCode, cities: Vec<City>| {
            visit.page(
                status,
                &SignInPage {
                    l: visit.layout("/signin"),
                    cities,
                    tenant: form.tenant.clone(),
                    username: form.username.clone(),
                    error: Some(error),
                },
            )
        };
        let t = lang.texts();
        if !csrf::holds(&headers, &form.csrf) {
            let cities = cities(&state, lang).await?;
            return Ok(refused(t.form_expired, StatusCode::FORBIDDEN, cities));
        }
        let request = SignInRequest {
            tenant: (!form.tenant.is_empty()).then(|| form.tenant.clone()),
            username: form.username.clone(),
            password: form.password.clone(),
        };
        match accounts::sign_in(&state.app, request, &address).await {
            Ok(signed_in) => {
                let ttl = i64::try_from(state.app.settings.session_ttl.as_secs())
                    .unwrap_or(i64::MAX / 1000);
                let cookie = session_cookie(&signed_in.token, ttl, state.config.secure_cookies);
                Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/me")).into_response())
            }
            Err(AppError::BadCredentials | AppError::Invalid(_)) => {
                let cities = cities(&state, lang).await?;
                Ok(refused(t.bad_credentials, StatusCode::UNAUTHORIZED, cities))
            }
            Err(AppError::TooManyAttempts { .. }) => {
                let cities = cities(&state, lang).await?;
                Ok(refused(
                    t.too_many_attempts,
                    StatusCode::TOO_MANY_REQUESTS,
                    cities,
                ))
            }
            Err(error) => Err(error),
        }
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Deserialize)]
pub struct TokenForm {
    csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let lang = Lang::of(&headers);
    if !csrf::holds(&headers, &form.csrf) {
        return (StatusCode::FORBIDDEN, lang.texts().form_expired).into_response();
    }
    let ended = async {
        let visit = Visit::read(&state, &headers).await?;
        if let (Some(principal), Some(token)) = (&visit.principal, &visit.token) {
            accounts::sign_out(&state.app, principal, token).await?;
        }
        Ok::<_, AppError>(())
    };
    match ended.await {
        Ok(()) => (
            [(
                header::SET_COOKIE,
                expired_session_cookie(state.config.secure_cookies),
            )],
            Redirect::to("/"),
        )
            .into_response(),
        Err(error) => failure(lang, &error),
    }
}

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

/// A time as people in China read it: `2026-12-05 09:00`.
fn shanghai(at: zhiyuan_domain::Timestamp) -> String {
    let text = at.to_shanghai_rfc3339();
    format!("{} {}", &text[..10], &text[11..16])
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

/// The signed-in principal with a tenant, or the way to the sign-in page.
fn signed_in(visit: &Visit) -> Option<(&Principal, &zhiyuan_domain::TenantCode)> {
    let principal = visit.principal.as_ref()?;
    Some((principal, principal.tenant.as_ref()?))
}

pub async fn me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = signed_in(&visit) else {
            return Ok(Redirect::to("/signin").into_response());
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
        let Some((principal, tenant)) = signed_in(&visit) else {
            return Ok(Redirect::to("/signin").into_response());
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

/// A project as the list shows it.
pub struct ProjectItem {
    pub title: String,
    pub summary: String,
    pub address: String,
    pub starts: String,
    pub ends: String,
    /// Kilometres from the visitor, to a tenth, where they gave their place.
    pub distance_km: Option<String>,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    l: Layout,
    city: String,
    nearest: bool,
    location_failed: bool,
    projects: Vec<ProjectItem>,
}

#[derive(Deserialize)]
pub struct NearbyQuery {
    latitude: Option<String>,
    longitude: Option<String>,
    /// Set by the page's script when the browser would not give its place.
    located: Option<String>,
}

/// A city's projects taking sign-ups: soonest first, or nearest first from the place the
/// browser gave (WGS-84, as browsers give it), within the search's default radius.
pub async fn projects(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(near): Query<NearbyQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let tenant = zhiyuan_domain::TenantCode::parse(&code).map_err(|_| AppError::NotFound)?;
        let city = cities(&state, lang)
            .await?
            .into_iter()
            .find(|city| city.code == code)
            .ok_or(AppError::NotFound)?;
        let nearest = near.latitude.is_some() && near.longitude.is_some();
        let search = zhiyuan_app::projects::ProjectSearch {
            latitude: near.latitude,
            longitude: near.longitude,
            sort: Some(if nearest {
                zhiyuan_app::projects::SearchOrder::Distance
            } else {
                zhiyuan_app::projects::SearchOrder::Start
            }),
            limit: Some(50),
            ..Default::default()
        };
        let found = match zhiyuan_app::projects::search(&state.app, &tenant, search).await {
            Ok(found) => found,
            // A place outside the country, or numbers that are none: the list by start.
            Err(AppError::Invalid(_)) => {
                return Ok(Redirect::to(&format!("/t/{code}/projects?located=no")).into_response());
            }
            Err(error) => return Err(error),
        };
        let projects = found
            .items
            .into_iter()
            .map(|project| ProjectItem {
                title: project.title,
                summary: project.summary,
                address: project.address,
                starts: shanghai(project.starts_at),
                ends: shanghai(project.ends_at),
                distance_km: project
                    .distance_m
                    .map(|metres| format!("{:.1}", f64::from(metres) / 1000.0)),
            })
            .collect();
        Ok(visit.page(
            StatusCode::OK,
            &ProjectsPage {
                l: visit.layout("/"),
                city: city.name,
                nearest,
                location_failed: near.located.as_deref() == Some("no"),
                projects,
            },
        ))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

/// The identity documents in the order the form offers them, as the API names them.
const ID_KINDS: [IdDocumentKind; 5] = [
    IdDocumentKind::ResidentIdCard,
    IdDocumentKind::HongKongMacaoPermit,
    IdDocumentKind::TaiwanPermit,
    IdDocumentKind::Passport,
    IdDocumentKind::ForeignPermanentResidentId,
];

/// A choice of a select: its value, its label, and whether it is chosen.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// What the registration form shows: what was typed (never the document number or the
/// password), and the field at fault with what its rule says.
#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    l: Layout,
    city: String,
    action: String,
    kinds: Vec<Choice>,
    regions: Vec<Choice>,
    name: String,
    mobile: String,
    username: String,
    username_rule: &'static str,
    password_rule: &'static str,
    /// The form's field at fault, or empty.
    invalid: String,
    message: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct RegistrationForm {
    csrf: String,
    name: String,
    id_kind: String,
    id_number: String,
    mobile: String,
    region: String,
    username: String,
    password: String,
}

async fn register_page(
    state: &AppState,
    visit: &Visit,
    code: &str,
    form: &RegistrationForm,
    fault: Option<(String, &'static str)>,
) -> Result<RegisterPage, AppError> {
    let lang = visit.lang;
    let tenant = zhiyuan_domain::TenantCode::parse(code).map_err(|_| AppError::NotFound)?;
    let city = cities(state, lang)
        .await?
        .into_iter()
        .find(|city| city.code == code)
        .ok_or(AppError::NotFound)?;
    let regions = zhiyuan_app::tenants::regions(&state.app, &tenant)
        .await?
        .into_iter()
        .filter(|region| region.level != zhiyuan_domain::RegionLevel::City)
        .map(|region| Choice {
            selected: region.code.as_str() == form.region,
            value: region.code.as_str().to_owned(),
            label: match lang {
                Lang::En => region.name.en.unwrap_or(region.name.zh),
                Lang::Zh => region.name.zh,
            },
        })
        .collect();
    let kinds = ID_KINDS
        .iter()
        .zip(lang.texts().id_kinds)
        .map(|(kind, label)| Choice {
            value: kind.as_str().to_owned(),
            label: label.to_owned(),
            selected: kind.as_str() == form.id_kind,
        })
        .collect();
    let (invalid, message) = match fault {
        Some((field, message)) => (field, Some(message)),
        None => (String::new(), None),
    };
    Ok(RegisterPage {
        l: visit.layout("/"),
        action: format!("/t/{code}/register"),
        city: city.name,
        kinds,
        regions,
        name: form.name.clone(),
        mobile: form.mobile.clone(),
        username: form.username.clone(),
        username_rule: lang.rule(zhiyuan_domain::Rule::UsernameFormat),
        password_rule: lang.rule(zhiyuan_domain::Rule::PasswordLength),
        invalid,
        message,
    })
}

pub async fn register_form(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let form = RegistrationForm {
            id_kind: IdDocumentKind::ResidentIdCard.as_str().to_owned(),
            ..RegistrationForm::default()
        };
        let page = register_page(&state, &visit, &code, &form, None).await?;
        Ok::<_, AppError>(visit.page(StatusCode::OK, &page))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

/// The field of the form an error of the API's names (`/id_number` is `id_number`), with
/// what its rule says; errors that name no field of the form are the form's as a whole.
fn fault_of(lang: Lang, error: &AppError) -> Option<(String, &'static str)> {
    let t = lang.texts();
    match error {
        AppError::Invalid(invalid) => Some((
            invalid
                .field
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default()
                .to_owned(),
            lang.rule(invalid.rule),
        )),
        AppError::Conflict(zhiyuan_app::UniqueField::Username) => {
            Some(("username".to_owned(), t.username_taken))
        }
        AppError::Conflict(zhiyuan_app::UniqueField::IdNumber) => {
            Some(("id_number".to_owned(), t.already_registered))
        }
        AppError::TooManyAttempts { .. } => Some((String::new(), t.too_many_attempts)),
        AppError::WrongState(rule) | AppError::Refused(rule) => {
            Some((String::new(), lang.rule(*rule)))
        }
        _ => None,
    }
}

/// A registration from the form: checked by the same rules as the API's, refused with the
/// field and the rule, nothing written; registered, the new account is signed in.
pub async fn register(
    State(state): State<AppState>,
    Path(code): Path<String>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<RegistrationForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let refuse = async |status: StatusCode, fault: (String, &'static str)| {
            let page = register_page(&state, &visit, &code, &form, Some(fault)).await?;
            Ok::<_, AppError>(visit.page(status, &page))
        };
        if !csrf::holds(&headers, &form.csrf) {
            return refuse(
                StatusCode::FORBIDDEN,
                (String::new(), lang.texts().form_expired),
            )
            .await;
        }
        let tenant = zhiyuan_domain::TenantCode::parse(&code).map_err(|_| AppError::NotFound)?;
        // The select offers every kind; anything else was not sent by this page.
        let Some(id_kind) = IdDocumentKind::from_db(&form.id_kind) else {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                ("id_kind".to_owned(), lang.texts().form_has_errors),
            )
            .await;
        };
        let request = zhiyuan_app::volunteers::RegistrationRequest {
            name: form.name.clone(),
            id_kind,
            id_number: form.id_number.clone(),
            mobile: form.mobile.clone(),
            region: form.region.clone(),
            unit_id: None,
            skills: Vec::new(),
            service_categories: Vec::new(),
            availability: None,
            username: Some(form.username.clone()),
            password: Some(form.password.clone()),
        };
        match zhiyuan_app::volunteers::register(&state.app, None, &tenant, request, &address).await
        {
            Ok(_) => {
                let request = SignInRequest {
                    tenant: Some(code.clone()),
                    username: form.username.clone(),
                    password: form.password.clone(),
                };
                let signed_in = accounts::sign_in(&state.app, request, &address).await?;
                let ttl = i64::try_from(state.app.settings.session_ttl.as_secs())
                    .unwrap_or(i64::MAX / 1000);
                let cookie = session_cookie(&signed_in.token, ttl, state.config.secure_cookies);
                Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/me")).into_response())
            }
            Err(error) => match fault_of(lang, &error) {
                Some(fault) => {
                    let status = match error {
                        AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
                        AppError::Conflict(_) => StatusCode::CONFLICT,
                        _ => StatusCode::UNPROCESSABLE_ENTITY,
                    };
                    refuse(status, fault).await
                }
                None => Err(error),
            },
        }
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Deserialize)]
pub struct LanguageChoice {
    to: String,
    back: Option<String>,
}

/// The language switch: remembered in a cookie, then back to the page it was used on (a path
/// of this site only).
pub async fn choose_language(
    State(state): State<AppState>,
    Query(choice): Query<LanguageChoice>,
) -> Response {
    let lang = Lang::parse(&choice.to).unwrap_or(Lang::Zh);
    let back = local_path(choice.back);
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        crate::i18n::COOKIE,
        lang.code()
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}

/// A path of this site to go back to; anything else (another site, `//host`, a backslash a
/// browser reads as a slash) is the home page, so that the switch redirects nowhere else.
fn local_path(back: Option<String>) -> String {
    back.filter(|back| {
        back.starts_with('/')
            && !back.starts_with("//")
            && !back.contains('\\')
            && !back.chars().any(char::is_control)
    })
    .unwrap_or_else(|| "/".to_owned())
}

/// The site's own styles, scripts and icon, compiled into the node.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (kind, body): (&str, &'static str) = match name.as_str() {
        "site.css" => (
            "text/css; charset=utf-8",
            include_str!("../assets/site.css"),
        ),
        "app.js" => (JAVASCRIPT, include_str!("../assets/app.js")),
        "card.js" => (JAVASCRIPT, include_str!("../assets/card.js")),
        "nearby.js" => (JAVASCRIPT, include_str!("../assets/nearby.js")),
        "icon.svg" => ("image/svg+xml", include_str!("../assets/icon.svg")),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    fresh(kind, body)
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// An asset the browser checks with the node before each use, so that a new node's files
/// replace the old at once.
fn fresh(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The worker that keeps the card for offline use; served from the root, as a worker's scope
/// is the folder it is served from.
pub async fn service_worker() -> Response {
    let mut response = fresh(JAVASCRIPT, include_str!("../assets/sw.js"));
    // A worker lives under the policy its script was served with: this one fetches the
    // site's own pages, and nothing else.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'"),
    );
    response
}

/// The web app's manifest: installed, the site opens on the card.
pub async fn manifest() -> Response {
    fresh(
        "application/manifest+json",
        include_str!("../assets/manifest.webmanifest"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_switch_goes_back_only_to_a_page_of_this_site() {
        for (back, to) in [
            (Some("/me/card"), "/me/card"),
            (None, "/"),
            (Some("https://evil.example/"), "/"),
            (Some("//evil.example/"), "/"),
            (Some("/\\evil.example/"), "/"),
            (Some("/me\r\nSet-Cookie: x=1"), "/"),
        ] {
            assert_eq!(local_path(back.map(str::to_owned)), to, "{back:?}");
        }
    }

    #[test]
    fn the_chosen_language_wins_over_the_browsers_preference() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.append(*name, HeaderValue::from_static(value));
            }
            headers
        };
        assert_eq!(Lang::of(&headers(&[])), Lang::Zh);
        assert_eq!(
            Lang::of(&headers(&[("accept-language", "en-GB,en;q=0.9,zh;q=0.5")])),
            Lang::En
        );
        assert_eq!(
            Lang::of(&headers(&[("accept-language", "zh-CN,en;q=0.9")])),
            Lang::Zh
        );
        assert_eq!(
            Lang::of(&headers(&[
                ("accept-language", "en"),
                ("cookie", "zhiyuan_lang=zh-CN")
            ])),
            Lang::Zh
        );
    }

    #[test]
    fn a_form_holds_the_token_only_when_it_is_the_cookies() {
        let token = csrf::token(&HeaderMap::new(), true);
        let set = token.set_cookie.expect("a new token is set");
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Secure")
        );
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_str(&format!("{}={}", csrf::COOKIE, token.value)).unwrap(),
        );
        assert!(csrf::holds(&headers, &token.value));
        assert!(!csrf::holds(&headers, &"x".repeat(43)));
        assert!(!csrf::holds(&headers, ""));
        assert!(!csrf::holds(&HeaderMap::new(), &token.value));
        assert!(csrf::token(&headers, true).set_cookie.is_none());
    }
}
