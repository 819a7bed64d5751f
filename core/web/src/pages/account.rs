//! Accounts in the browser: sign in, sign out, and real-name registration.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiyuan_api::AppState;
use zhiyuan_api::access::{ClientAddress, expired_session_cookie, session_cookie};
use zhiyuan_app::AppError;
use zhiyuan_app::accounts::{self, SignInRequest};
use zhiyuan_domain::IdDocumentKind;

use super::{Choice, City, Layout, Visit, cities, failure, fault_of, landing};
use crate::csrf;
use crate::i18n::Lang;

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
                let cookie = session_cookie(&state, &signed_in.token);
                let principal = accounts::principal(&state.app, &signed_in.token).await?;
                let to = principal
                    .as_ref()
                    .map_or("/", |principal| landing(principal));
                Ok(([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response())
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
            [(header::SET_COOKIE, expired_session_cookie(&state))],
            Redirect::to("/"),
        )
            .into_response(),
        Err(error) => failure(lang, &error),
    }
}

/// The identity documents in the order the form offers them, as the API names them.
const ID_KINDS: [IdDocumentKind; 5] = [
    IdDocumentKind::ResidentIdCard,
    IdDocumentKind::HongKongMacaoPermit,
    IdDocumentKind::TaiwanPermit,
    IdDocumentKind::Passport,
    IdDocumentKind::ForeignPermanentResidentId,
];

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
                let cookie = session_cookie(&state, &signed_in.token);
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
