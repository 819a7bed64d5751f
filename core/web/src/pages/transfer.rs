//! The volunteer's move to another city: where they can go, their consent to what is sent,
//! and how each move they asked for stands.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiyuan_api::AppState;
use zhiyuan_app::AppError;
use zhiyuan_app::transfers::{CONSENT, TransferRequest};
use zhiyuan_domain::{Action, TransferStatus};

use super::{Choice, Layout, Visit, failure, fault_of, shanghai, to_sign_in};
use crate::csrf;
use crate::i18n::Lang;

/// A move the volunteer asked for.
pub struct MoveItem {
    pub destination: String,
    pub status: &'static str,
    pub asked: String,
    pub refusal: Option<String>,
}

#[derive(Template)]
#[template(path = "transfer.html")]
struct TransferPage {
    l: Layout,
    destinations: Vec<Choice>,
    consent: &'static str,
    moves: Vec<MoveItem>,
    /// A move on its way or done: nothing more to ask here.
    moving: bool,
    invalid: String,
    message: Option<&'static str>,
}

fn status_text(lang: Lang, status: TransferStatus) -> &'static str {
    let [sending, completed, refused] = lang.texts().transfer_statuses;
    match status {
        TransferStatus::Sending => sending,
        TransferStatus::Completed => completed,
        TransferStatus::Refused => refused,
    }
}

async fn transfer_page(
    state: &AppState,
    visit: &Visit,
    fault: Option<(String, &'static str)>,
) -> Result<TransferPage, AppError> {
    let (principal, tenant) = visit.signed_in().ok_or(AppError::NotFound)?;
    let lang = visit.lang;
    let destinations = zhiyuan_app::transfers::destinations(&state.app, tenant).await?;
    let name_of = |did: &str| {
        destinations
            .iter()
            .find(|choice| choice.did == did)
            .and_then(|choice| choice.name.clone())
            .map(|name| match lang {
                Lang::En => name.en.unwrap_or(name.zh),
                Lang::Zh => name.zh,
            })
            .unwrap_or_else(|| did.to_owned())
    };
    let transfers = zhiyuan_app::transfers::own_transfers(&state.app, principal, tenant).await?;
    let moving = transfers
        .iter()
        .any(|transfer| transfer.status != TransferStatus::Refused);
    let moves = transfers
        .into_iter()
        .map(|transfer| MoveItem {
            destination: name_of(&transfer.destination),
            status: status_text(lang, transfer.status),
            asked: shanghai(transfer.requested_at),
            refusal: transfer.refusal,
        })
        .collect();
    let (invalid, message) = match fault {
        Some((field, message)) => (field, Some(message)),
        None => (String::new(), None),
    };
    Ok(TransferPage {
        l: visit.layout("/me/transfer"),
        destinations: destinations
            .iter()
            .map(|choice| Choice {
                value: choice.did.clone(),
                label: name_of(&choice.did),
                selected: false,
            })
            .collect(),
        consent: CONSENT,
        moves,
        moving,
        invalid,
        message,
    })
}

/// Where the volunteer can move, and their moves.
pub async fn transfer(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        if visit.allowed(Action::ListOwnTransfers)?.is_none() {
            return Ok(to_sign_in());
        }
        let page = transfer_page(&state, &visit, None).await?;
        Ok(visit.page(StatusCode::OK, &page))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Deserialize)]
pub struct MoveForm {
    csrf: String,
    destination: String,
    /// The consent's box: sent only when it is ticked.
    consent: Option<String>,
}

/// The volunteer asks to move, consenting to what is sent; refused, the page names the field
/// and the rule, and nothing changes.
pub async fn request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<MoveForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((principal, tenant)) = visit.allowed(Action::RequestTransfer)? else {
            return Ok(to_sign_in());
        };
        let refuse = async |status: StatusCode, fault: (String, &'static str)| {
            let page = transfer_page(&state, &visit, Some(fault)).await?;
            Ok::<_, AppError>(visit.page(status, &page))
        };
        if !csrf::holds(&headers, &form.csrf) {
            return refuse(
                StatusCode::FORBIDDEN,
                (String::new(), lang.texts().form_expired),
            )
            .await;
        }
        let request = TransferRequest {
            destination: form.destination.clone(),
            consent: form.consent.is_some(),
        };
        match zhiyuan_app::transfers::request(&state.app, principal, tenant, request).await {
            Ok(_) => Ok(Redirect::to("/me/transfer").into_response()),
            Err(error) => {
                let fault = fault_of(lang, &error).ok_or(error)?;
                refuse(StatusCode::UNPROCESSABLE_ENTITY, fault).await
            }
        }
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}
