//! The handlers, by whom they serve: each reads what its page needs through one use case of
//! `core/app` and renders it. What every page shares is here: the visit (language, session,
//! form token), the layout around each page, rendering with the pages' security headers, and
//! the page that says what went wrong.

mod account;
mod certificates;
mod node;
mod office;
mod public;
mod records;
mod review;
mod team;
mod transfer;
mod volunteer;

pub use account::{register, register_form, sign_in, sign_in_form, sign_out};
pub use certificates::{
    issue as issue_certificate, own as own_certificates, register as certificate_register,
    request as request_certificate,
};
pub use node::node;
pub use office::report;
pub use public::{choose_language, home, projects};
pub use records::{audit, own_credentials};
pub use review::{decide_team, decide_volunteer, review};
pub use team::{
    create_project, decide_enrollment, decide_member, new_project_form, project_admin, publish,
    record_service, scanner, team, teams,
};
pub use transfer::{request as request_transfer, transfer};
pub use volunteer::{card, enroll, me, project, shifts, withdraw};

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use zhiyuan_api::AppState;
use zhiyuan_api::access::{SESSION_COOKIE, cookie};
use zhiyuan_app::AppError;
use zhiyuan_app::accounts;
use zhiyuan_domain::{Action, GrantKind, Principal, TenantCode};

use crate::csrf;
use crate::i18n::{Lang, Texts};

/// The scanner's page also compiles the site's own WebAssembly QR reader, and uses the camera.
pub(crate) const SCANNER_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; \
    connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
    object-src 'none'";

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
    /// The pages of the signed-in account's work, by what its grants let it do.
    pub nav: Vec<NavLink>,
    pub csrf: String,
}

/// A link of the header to one person's pages.
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
}

/// Where an account lands when it signs in: the first of its pages.
pub(crate) fn landing(principal: &Principal) -> &'static str {
    nav_of(principal, Lang::Zh.texts())
        .first()
        .map_or("/", |link| link.href)
}

/// The pages the principal's work is done on: a volunteer's own, the teams they run, the
/// queues they review.
fn nav_of(principal: &Principal, t: &'static Texts) -> Vec<NavLink> {
    let holds = |kind: GrantKind| principal.grants.iter().any(|grant| grant.kind == kind);
    let mut nav = Vec::new();
    if principal.volunteer_id.is_some() {
        nav.push(NavLink {
            href: "/me",
            label: t.my_page,
        });
    }
    if holds(GrantKind::TeamAdmin) {
        nav.push(NavLink {
            href: "/teams",
            label: t.my_teams,
        });
    }
    if holds(GrantKind::Reviewer) || holds(GrantKind::OfficeAdmin) {
        nav.push(NavLink {
            href: "/review",
            label: t.review,
        });
    }
    if holds(GrantKind::Operator) || holds(GrantKind::Auditor) {
        nav.push(NavLink {
            href: "/node",
            label: t.node,
        });
    }
    if principal.tenant.is_some()
        && (holds(GrantKind::OfficeAdmin) || holds(GrantKind::CertificateIssuer))
    {
        nav.push(NavLink {
            href: "/certificates",
            label: t.certificates,
        });
    }
    if principal.tenant.is_some()
        && principal.may(Action::ReadRegistrationReport, principal.tenant.as_ref())
    {
        nav.push(NavLink {
            href: "/report",
            label: t.report,
        });
    }
    nav
}

/// The request as the pages see it: language, session and form token.
pub(crate) struct Visit {
    pub lang: Lang,
    pub principal: Option<Principal>,
    pub token: Option<String>,
    pub csrf: csrf::Token,
}

impl Visit {
    pub async fn read(state: &AppState, headers: &HeaderMap) -> Result<Visit, AppError> {
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

    pub fn layout(&self, path: &'static str) -> Layout {
        Layout {
            lang: self.lang,
            t: self.lang.texts(),
            other: self.lang.other(),
            path,
            signed_in: self
                .principal
                .as_ref()
                .map(|principal| principal.username.clone()),
            nav: self
                .principal
                .as_ref()
                .map(|principal| nav_of(principal, self.lang.texts()))
                .unwrap_or_default(),
            csrf: self.csrf.value.clone(),
        }
    }

    /// The signed-in principal with their tenant; `None` for a visitor, whom a page that needs
    /// someone sends to the sign-in page (`to_sign_in`).
    pub fn signed_in(&self) -> Option<(&Principal, &TenantCode)> {
        let principal = self.principal.as_ref()?;
        Some((principal, principal.tenant.as_ref()?))
    }

    /// The signed-in principal and their tenant where the permission table, the API's, lets
    /// them do `action` there: `None` for a visitor, whom the page sends to sign in; someone
    /// whom no grant of theirs opens the action to is refused. What a scoped grant reaches is
    /// the use case's to check, as through the API.
    pub fn allowed(&self, action: Action) -> Result<Option<(&Principal, &TenantCode)>, AppError> {
        match self.signed_in() {
            Some((principal, tenant)) if principal.may(action, Some(tenant)) => {
                Ok(Some((principal, tenant)))
            }
            Some(_) => Err(AppError::Refused(zhiyuan_domain::Rule::OutsideGrantScope)),
            None => Ok(None),
        }
    }

    /// A rendered page, with the form token's cookie where it is new.
    pub fn page(&self, status: StatusCode, template: &impl Template) -> Response {
        let mut response = render(status, template, self.lang);
        if let Some(set) = &self.csrf.set_cookie
            && let Ok(value) = HeaderValue::from_str(set)
        {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }
}

pub(crate) fn render(status: StatusCode, template: &impl Template, lang: Lang) -> Response {
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
pub(crate) fn failure(lang: Lang, error: &AppError) -> Response {
    let (status, message) = match error {
        AppError::NotFound => (StatusCode::NOT_FOUND, lang.texts().not_found),
        AppError::Refused(zhiyuan_domain::Rule::OutsideGrantScope) => {
            (StatusCode::FORBIDDEN, lang.texts().not_allowed)
        }
        AppError::Refused(rule) => (StatusCode::FORBIDDEN, lang.rule(*rule)),
        AppError::WrongState(rule) => (StatusCode::CONFLICT, lang.rule(*rule)),
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
            nav: Vec::new(),
            csrf: String::new(),
        },
        message,
    };
    render(status, &page, lang)
}

/// The way to the sign-in page, for a visitor on a page that needs someone signed in.
pub(crate) fn to_sign_in() -> Response {
    Redirect::to("/signin").into_response()
}

/// A city's name in the page's language.
pub struct City {
    pub code: String,
    pub name: String,
}

pub(crate) async fn cities(state: &AppState, lang: Lang) -> Result<Vec<City>, AppError> {
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

/// The time of day in Asia/Shanghai: `09:00`.
pub(crate) fn local_time(at: zhiyuan_domain::Timestamp) -> String {
    at.to_shanghai_rfc3339()[11..16].to_owned()
}

/// A time as people in China read it: `2026-12-05 09:00`.
pub(crate) fn shanghai(at: zhiyuan_domain::Timestamp) -> String {
    let text = at.to_shanghai_rfc3339();
    format!("{} {}", &text[..10], &text[11..16])
}

/// A choice of a select: its value, its label, and whether it is chosen.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The field of the form an error of the API's names (`/id_number` is `id_number`), with
/// what its rule says; errors that name no field of the form are the form's as a whole.
pub(crate) fn fault_of(lang: Lang, error: &AppError) -> Option<(String, &'static str)> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
