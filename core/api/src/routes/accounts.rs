//! Sessions, accounts and their grants, and the audit trail.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use zhiyuan_app::accounts::{self, AccountRequest, GrantChanges, SignInRequest};
use zhiyuan_app::views::{
    AccountView, AuditEventView, Items, SessionView, SignedIn, SignedOutEverywhere,
};

use crate::access::{Access, ClientAddress, expired_session_cookie, session_cookie};
use crate::extract::{Checked, Document, PathParams, QueryOf};
use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

impl Document for SignInRequest {
    const SCHEMA: SchemaId = SchemaId::Login;
}

impl Document for AccountRequest {
    const SCHEMA: SchemaId = SchemaId::AccountCreate;
}

impl Document for GrantChanges {
    const SCHEMA: SchemaId = SchemaId::GrantChanges;
}

/// Signs in: answers a bearer token and sets the same token as an HttpOnly, SameSite=Strict
/// session cookie. Attempts are limited per account and client address, per client address, and
/// slowed per account.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", operation_id = "sign_in",
    request_body(content = Object, description = "schemas/login.schema.json"),
    responses((status = 200, description = "Signed in", body = SignedIn)))]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    _access: Access,
    ClientAddress(address): ClientAddress,
    Checked(request): Checked<SignInRequest>,
) -> Result<Response, ApiError> {
    let signed_in = accounts::sign_in(&state.app, request, &address).await?;
    let cookie = session_cookie(&state, &signed_in.token);
    Ok(([(header::SET_COOKIE, cookie)], Json(signed_in)).into_response())
}

/// The signed-in account, with its grants.
#[utoipa::path(get, path = "/api/v1/session", tag = "session", operation_id = "read_session",
    responses((status = 200, description = "The account", body = SessionView)))]
pub(crate) async fn current_session(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<SessionView>, ApiError> {
    let account = accounts::current(&state.app, access.principal()?).await?;
    Ok(Json(SessionView { account }))
}

/// Signs out: the token stops working at once.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", operation_id = "sign_out",
    responses((status = 204, description = "Signed out")))]
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    access: Access,
) -> Result<Response, ApiError> {
    let token = access.token.as_deref().ok_or(ApiError::Unauthenticated)?;
    accounts::sign_out(&state.app, access.principal()?, token).await?;
    let cookie = expired_session_cookie(&state);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// Signs out every session of the account, on every device.
#[utoipa::path(delete, path = "/api/v1/session/everywhere", tag = "session", operation_id = "sign_out_everywhere",
    responses((status = 200, description = "Every session ended", body = SignedOutEverywhere)))]
pub(crate) async fn sign_out_everywhere(
    State(state): State<AppState>,
    access: Access,
) -> Result<Response, ApiError> {
    let ended = accounts::sign_out_everywhere(&state.app, access.principal()?).await?;
    let cookie = expired_session_cookie(&state);
    Ok(([(header::SET_COOKIE, cookie)], Json(ended)).into_response())
}

/// The tenant's accounts, with their grants.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/accounts", tag = "accounts", operation_id = "list_accounts",
    responses((status = 200, description = "The accounts", body = Items<AccountView>)))]
pub(crate) async fn list_accounts(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<Items<AccountView>>, ApiError> {
    Ok(Json(
        accounts::list(&state.app, access.tenant()?).await?.into(),
    ))
}

/// Creates an account of the tenant with its grants; audited.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/accounts", tag = "accounts", operation_id = "create_account",
    request_body(content = Object, description = "schemas/account-create.schema.json"),
    responses((status = 201, description = "The account", body = AccountView)))]
pub(crate) async fn create_account(
    State(state): State<AppState>,
    access: Access,
    Checked(request): Checked<AccountRequest>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let actor = access.principal()?.actor();
    let account =
        accounts::create_account(&state.app, Some(access.tenant()?), request, &actor).await?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// One account: to itself, and to those who manage or audit the tenant's accounts.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/accounts/{account_id}", tag = "accounts", operation_id = "read_account",
    responses((status = 200, description = "The account", body = AccountView)))]
pub(crate) async fn get_account(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Json<AccountView>, ApiError> {
    let account = accounts::read(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("account_id")?,
    )
    .await?;
    Ok(Json(account))
}

/// Adds grants to an account and takes grants from it; audited. A changed grant takes effect
/// at once on this node and within seconds on the others sharing its database.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/accounts/{account_id}/grants", tag = "accounts", operation_id = "change_grants",
    request_body(content = Object, description = "schemas/grant-changes.schema.json"),
    responses((status = 200, description = "The account with its grants", body = AccountView)))]
pub(crate) async fn change_grants(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(changes): Checked<GrantChanges>,
) -> Result<Json<AccountView>, ApiError> {
    let account = accounts::change_grants(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("account_id")?,
        changes,
    )
    .await?;
    Ok(Json(account))
}

/// The node's own accounts (operators, node-wide auditors).
#[utoipa::path(get, path = "/api/v1/node/accounts", tag = "accounts", operation_id = "list_node_accounts",
    responses((status = 200, description = "The node's accounts", body = Items<AccountView>)))]
pub(crate) async fn list_node_accounts(
    State(state): State<AppState>,
    _access: Access,
) -> Result<Json<Items<AccountView>>, ApiError> {
    Ok(Json(accounts::list_node_accounts(&state.app).await?.into()))
}

#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    limit: Option<u32>,
}

/// The tenant's audit trail, newest first; each event carries its place and hash in the chain.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/audit-events", tag = "accounts", operation_id = "read_audit_trail",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "At most this many events (default 100)")),
    responses((status = 200, description = "The events", body = Items<AuditEventView>)))]
pub(crate) async fn list_audit_events(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<AuditQuery>,
) -> Result<Json<Items<AuditEventView>>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadQuery {
            detail: "limit is between 1 and 1000".into(),
        });
    }
    let events = accounts::audit_trail(&state.app, access.tenant()?, limit).await?;
    Ok(Json(events.into()))
}
