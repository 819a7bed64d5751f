//! Certificates of service: the volunteer asks for one and downloads it; the issuer (the city
//! office, a team's admins) issues what was asked for.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;
use zhiyuan_api::AppState;
use zhiyuan_app::AppError;
use zhiyuan_app::certificates::{CertificateRequest, IssueRequest};
use zhiyuan_app::views::ServiceCertificateView;
use zhiyuan_domain::{Action, CertificateStatus, TenantCode};

use super::{Layout, Visit, failure, fault_of, to_sign_in};
use crate::csrf;
use crate::i18n::Lang;

/// A certificate as a list shows it.
pub struct CertificateItem {
    pub period: String,
    pub status: &'static str,
    pub hours: Option<String>,
    pub number: Option<String>,
    pub purpose: Option<String>,
    /// The issued certificate's PDF, through the API.
    pub pdf: Option<String>,
    pub verify: Option<String>,
    /// For the issuer: who asked, and the form that issues it.
    pub volunteer: Option<String>,
    pub issue: Option<String>,
}

fn status_text(lang: Lang, status: CertificateStatus) -> &'static str {
    let [requested, issued, revoked] = lang.texts().certificate_statuses;
    match status {
        CertificateStatus::Requested => requested,
        CertificateStatus::Issued => issued,
        CertificateStatus::Revoked => revoked,
    }
}

fn item(lang: Lang, tenant: &TenantCode, certificate: ServiceCertificateView) -> CertificateItem {
    let day = |at: zhiyuan_domain::Timestamp| at.to_shanghai_rfc3339()[..10].to_owned();
    // The period's end is the day after its last day, at midnight.
    let last_day = certificate.period_to.plus_seconds(-1);
    let issued = certificate.status == CertificateStatus::Issued;
    CertificateItem {
        period: format!("{} – {}", day(certificate.period_from), day(last_day)),
        status: status_text(lang, certificate.status),
        hours: certificate.facts.as_ref().map(|facts| {
            let minutes = facts.total_minutes.get();
            format!("{}.{:02}", minutes / 60, minutes % 60 * 100 / 60)
        }),
        number: certificate.number.as_ref().map(ToString::to_string),
        purpose: certificate.purpose.clone(),
        pdf: issued.then(|| {
            format!(
                "/api/v1/tenants/{tenant}/certificates/{}/pdf",
                certificate.id
            )
        }),
        verify: issued
            .then_some(certificate.verification_path.clone())
            .flatten(),
        volunteer: certificate
            .facts
            .as_ref()
            .map(|facts| facts.volunteer_name.clone()),
        issue: (certificate.status == CertificateStatus::Requested)
            .then(|| format!("/t/{tenant}/certificates/{}/issue", certificate.id)),
    }
}

#[derive(Template)]
#[template(path = "my_certificates.html")]
struct OwnPage {
    l: Layout,
    certificates: Vec<CertificateItem>,
    from: String,
    to: String,
    purpose: String,
    invalid: String,
    message: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct RequestForm {
    #[serde(default)]
    csrf: String,
    from: String,
    to: String,
    #[serde(default)]
    purpose: String,
}

async fn own_page(
    state: &AppState,
    visit: &Visit,
    form: &RequestForm,
    fault: Option<(String, &'static str)>,
) -> Result<OwnPage, AppError> {
    let (principal, tenant) = visit.signed_in().ok_or(AppError::NotFound)?;
    let certificates = zhiyuan_app::certificates::own(&state.app, principal, tenant)
        .await?
        .into_iter()
        .map(|certificate| item(visit.lang, tenant, certificate))
        .collect();
    let (invalid, message) = match fault {
        Some((field, message)) => (field, Some(message)),
        None => (String::new(), None),
    };
    Ok(OwnPage {
        l: visit.layout("/me/certificates"),
        certificates,
        from: form.from.clone(),
        to: form.to.clone(),
        purpose: form.purpose.clone(),
        invalid,
        message,
    })
}

/// The volunteer's certificates, and the form that asks for one.
pub async fn own(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        if visit.allowed(Action::ListOwnCertificates)?.is_none() {
            return Ok(to_sign_in());
        }
        let page = own_page(&state, &visit, &RequestForm::default(), None).await?;
        Ok(visit.page(StatusCode::OK, &page))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

/// The volunteer asks for a certificate of their service between two days.
pub async fn request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<RequestForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.allowed(Action::RequestCertificate)? else {
            return Ok(to_sign_in());
        };
        let refuse = async |status: StatusCode, fault: (String, &'static str)| {
            let page = own_page(&state, &visit, &form, Some(fault)).await?;
            Ok::<_, AppError>(visit.page(status, &page))
        };
        if !csrf::holds(&headers, &form.csrf) {
            return refuse(
                StatusCode::FORBIDDEN,
                (String::new(), lang.texts().form_expired),
            )
            .await;
        }
        let request = CertificateRequest {
            team_id: None,
            from: form.from.clone(),
            to: form.to.clone(),
            purpose: (!form.purpose.trim().is_empty()).then(|| form.purpose.clone()),
        };
        match zhiyuan_app::certificates::request(&state.app, principal, tenant, request).await {
            Ok(_) => Ok(Redirect::to("/me/certificates").into_response()),
            Err(error) => match fault_of(lang, &error) {
                Some(fault) => refuse(StatusCode::UNPROCESSABLE_ENTITY, fault).await,
                None => Err(error),
            },
        }
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Template)]
#[template(path = "certificates.html")]
struct RegisterPage {
    l: Layout,
    waiting: Vec<CertificateItem>,
    issued: Vec<CertificateItem>,
    notice: Option<&'static str>,
}

async fn register_page(
    state: &AppState,
    visit: &Visit,
    notice: Option<&'static str>,
) -> Result<RegisterPage, AppError> {
    let (principal, tenant) = visit.signed_in().ok_or(AppError::NotFound)?;
    let (waiting, issued): (Vec<_>, Vec<_>) =
        zhiyuan_app::certificates::register(&state.app, principal, tenant, None)
            .await?
            .into_iter()
            .partition(|certificate| certificate.status == CertificateStatus::Requested);
    // Who asked is shown to the issuer before the facts are fixed at issue.
    let mut asked = Vec::with_capacity(waiting.len());
    for certificate in waiting {
        let name =
            zhiyuan_app::volunteers::read(&state.app, principal, tenant, certificate.volunteer_id)
                .await
                .ok()
                .map(|volunteer| volunteer.name);
        let mut entry = item(visit.lang, tenant, certificate);
        entry.volunteer = name;
        asked.push(entry);
    }
    Ok(RegisterPage {
        l: visit.layout("/certificates"),
        waiting: asked,
        issued: issued
            .into_iter()
            .map(|certificate| item(visit.lang, tenant, certificate))
            .collect(),
        notice,
    })
}

/// The issuer's register: certificates asked for, to issue, and those issued.
pub async fn register(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        if visit.allowed(Action::ListCertificates)?.is_none() {
            return Ok(to_sign_in());
        }
        let page = register_page(&state, &visit, None).await?;
        Ok(visit.page(StatusCode::OK, &page))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Deserialize)]
pub struct IssueForm {
    csrf: String,
    person_in_charge: String,
    handler: String,
    contact: String,
}

/// The issuer issues a certificate asked for, signed for by the person in charge.
pub async fn issue(
    State(state): State<AppState>,
    Path((code, id)): Path<(String, Uuid)>,
    headers: HeaderMap,
    Form(form): Form<IssueForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.allowed(Action::IssueCertificate)? else {
            return Ok(to_sign_in());
        };
        if tenant.as_str() != code {
            return Err(AppError::NotFound);
        }
        let refused = async |status: StatusCode, notice: &'static str| {
            let page = register_page(&state, &visit, Some(notice)).await?;
            Ok::<_, AppError>(visit.page(status, &page))
        };
        if !csrf::holds(&headers, &form.csrf) {
            return refused(StatusCode::FORBIDDEN, lang.texts().form_expired).await;
        }
        let request = IssueRequest {
            person_in_charge: form.person_in_charge.clone(),
            handler: form.handler.clone(),
            contact: form.contact.clone(),
        };
        match zhiyuan_app::certificates::issue(&state.app, principal, tenant, id, request).await {
            Ok(_) => Ok(Redirect::to("/certificates").into_response()),
            Err(error) => {
                // What a person can mend is said on the page; anything else is a failure.
                let (_, message) = fault_of(lang, &error).ok_or(error)?;
                refused(StatusCode::UNPROCESSABLE_ENTITY, message).await
            }
        }
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}
