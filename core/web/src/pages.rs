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
use zhiyuan_domain::{Principal, VolunteerStatus};

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

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    l: Layout,
    record: Option<OwnRecord>,
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
        Ok(visit.page(
            StatusCode::OK,
            &MePage {
                l: visit.layout("/me"),
                record,
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

/// The site's own styles and scripts, compiled into the node.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (kind, body): (&str, &'static str) = match name.as_str() {
        "site.css" => (
            "text/css; charset=utf-8",
            include_str!("../assets/site.css"),
        ),
        "card.js" => (
            "text/javascript; charset=utf-8",
            include_str!("../assets/card.js"),
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
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
