//! Signed records in the browser: the volunteer's credentials, downloaded as the bundle an
//! auditor checks offline, and the auditor's page that checks such a bundle with this node.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use zhiyuan_api::AppState;
use zhiyuan_domain::{Action, CredentialKind};

use super::{Layout, Visit, failure, shanghai, to_sign_in};
use crate::i18n::Lang;

/// One of the volunteer's credentials, as their page lists it.
pub struct CredentialItem {
    pub kind: &'static str,
    pub issued: String,
}

fn kind_text(lang: Lang, kind: CredentialKind) -> &'static str {
    let [registration, service_record, certificate] = lang.texts().credential_kinds;
    match kind {
        CredentialKind::Registration => registration,
        CredentialKind::ServiceRecord => service_record,
        CredentialKind::Certificate => certificate,
    }
}

#[derive(Template)]
#[template(path = "credentials.html")]
struct CredentialsPage {
    l: Layout,
    credentials: Vec<CredentialItem>,
    download: String,
    filename: String,
}

/// The volunteer's signed records, and the download of the bundle that proves them.
pub async fn own_credentials(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.allowed(Action::ListOwnCredentials)? else {
            return Ok(to_sign_in());
        };
        let own = zhiyuan_app::credentials::own_credentials(&state.app, principal, tenant).await?;
        Ok(visit.page(
            StatusCode::OK,
            &CredentialsPage {
                l: visit.layout("/me/credentials"),
                credentials: own
                    .items
                    .iter()
                    .map(|item| CredentialItem {
                        kind: kind_text(lang, item.kind),
                        issued: shanghai(item.issued_at),
                    })
                    .collect(),
                download: format!("/api/v1/tenants/{tenant}/volunteers/me/credentials"),
                filename: format!("zhiyuan-credentials-{tenant}.json"),
            },
        ))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
}

/// Anyone checks a bundle of credentials with this node: the page's script reads the file the
/// auditor chose and posts it to the API's audit, which answers each credential's finding.
pub async fn audit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        Ok(visit.page(
            StatusCode::OK,
            &AuditPage {
                l: visit.layout("/audit"),
            },
        ))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}
