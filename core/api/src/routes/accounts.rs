use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use zhiyuan_domain::{InvalidInput, Role, TenantCode, Username};

use crate::auth::{
    self, ClientAddress, CurrentUser, FAILURE_WINDOW_SECONDS, MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ADDRESS,
};
use crate::extract::{Checked, Document, PathParams};
use crate::schemas::SchemaId;
use crate::service::{AccountRequest, create_account};
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize)]
pub(crate) struct LoginBody {
    tenant: Option<String>,
    username: String,
    password: String,
}

impl Document for LoginBody {
    const SCHEMA: SchemaId = SchemaId::Login;
}

#[derive(Debug, Deserialize)]
pub(crate) struct UserCreateBody {
    username: String,
    display_name: String,
    role: Role,
    reviewing_body_id: Option<Uuid>,
    password: String,
}

impl Document for UserCreateBody {
    const SCHEMA: SchemaId = SchemaId::UserCreate;
}

/// Signs in: answers a bearer token and sets the same token as an HttpOnly, SameSite=Strict
/// session cookie. Failed attempts are limited per account and per client address.
#[utoipa::path(post, path = "/api/v1/session", tag = "session",
    request_body(content = Object, description = "schemas/login.schema.json"),
    responses(
        (status = 200, description = "Signed in: the token, its expiry and the account"),
        (status = 401, description = "Wrong username or password", content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts; see Retry-After", content_type = "application/problem+json"),
    ))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Checked(body): Checked<LoginBody>,
) -> Result<Response, ApiError> {
    let tenant = body
        .tenant
        .as_deref()
        .map(|code| TenantCode::parse(code).map_err(|rule| InvalidInput::new("/tenant", rule)))
        .transpose()?;
    let now = state.clock.now();
    let account_key = format!(
        "{}/{}",
        tenant.as_ref().map(TenantCode::as_str).unwrap_or("*"),
        body.username
    );
    let failures = state
        .store
        .login_failures_since(
            &account_key,
            &address,
            now.plus_seconds(-FAILURE_WINDOW_SECONDS),
        )
        .await?;
    if failures.account >= MAX_FAILURES_PER_ACCOUNT || failures.address >= MAX_FAILURES_PER_ADDRESS
    {
        return Err(ApiError::TooManyAttempts {
            retry_after_seconds: FAILURE_WINDOW_SECONDS as u64,
        });
    }
    // A username that cannot exist is checked like one that does not, at the same cost.
    let found = match Username::parse(&body.username, "/username") {
        Ok(username) => {
            state
                .store
                .user_for_login(tenant.as_ref(), &username)
                .await?
        }
        Err(_) => None,
    };
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, auth::decoy_hash().to_owned()),
    };
    // The attempt counts as failed until it succeeds, so that parallel guesses cannot all pass
    // the limit before any of them is recorded.
    let attempt = state
        .store
        .record_login_failure(&account_key, &address, now)
        .await?;
    let verified = auth::verify_password(body.password, hash).await?;
    let Some(user) = user.filter(|_| verified) else {
        tracing::info!(account = %account_key, %address, "failed login");
        return Err(ApiError::BadCredentials);
    };
    state.store.forget_login_attempt(attempt).await?;
    let token = auth::new_session_token();
    let ttl = i64::try_from(state.config.session_ttl.as_secs()).unwrap_or(i64::MAX / 1000);
    let expires_at = now.plus_seconds(ttl);
    state
        .store
        .create_session(&auth::token_hash(&token), user.id, now, expires_at)
        .await?;
    let cookie = auth::session_cookie(&token, ttl, state.config.secure_cookies);
    let body = json!({ "token": token, "expires_at": expires_at, "user": user });
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses((status = 200, description = "The account"), (status = 401, description = "Not signed in")))]
pub(crate) async fn current_session(current: CurrentUser) -> Json<Value> {
    Json(json!({ "user": current.user }))
}

/// Signs out: the token stops working at once.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204, description = "Signed out")))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Response, ApiError> {
    state.store.delete_session(&current.token_hash).await?;
    let cookie = auth::expired_session_cookie(state.config.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// The tenant's accounts (office admin, auditor, operator).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users", tag = "accounts",
    params(("tenant" = String, Path)),
    responses((status = 200, description = "The accounts")))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(&tenant, &[Role::OfficeAdmin, Role::Auditor, Role::Operator])?;
    let users = state.store.users(Some(&tenant)).await?;
    Ok(Json(json!({ "items": users })))
}

/// Creates an account of the tenant (office admin, operator); audited.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users", tag = "accounts",
    params(("tenant" = String, Path)),
    request_body(content = Object, description = "schemas/user-create.schema.json"),
    responses(
        (status = 201, description = "The account"),
        (status = 409, description = "The username is taken", content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    Checked(body): Checked<UserCreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(&tenant, &[Role::OfficeAdmin, Role::Operator])?;
    let request = AccountRequest {
        tenant: Some(tenant),
        username: body.username,
        display_name: body.display_name,
        role: body.role,
        reviewing_body: body.reviewing_body_id,
        password: body.password,
    };
    let user = create_account(&state.store, request, &current.actor(), state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(json!(user))))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users/{user_id}", tag = "accounts",
    params(("tenant" = String, Path), ("user_id" = String, Path, description = "A UUID")),
    responses((status = 200, description = "The account"), (status = 404, description = "Not an account of the tenant")))]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    let id = path.id("user_id")?;
    // Everyone may read their own account; reading others' is for those who manage accounts.
    if current.user.id != id {
        current.acts_as(&tenant, &[Role::OfficeAdmin, Role::Auditor, Role::Operator])?;
    }
    let user = state.store.user(&tenant, id).await?;
    Ok(Json(json!(user)))
}

/// The node-wide accounts (operator).
#[utoipa::path(get, path = "/api/v1/operators", tag = "accounts",
    responses((status = 200, description = "The operator accounts")))]
pub(crate) async fn list_operators(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<Value>, ApiError> {
    if !current.is_operator() {
        return Err(ApiError::Forbidden);
    }
    let users = state.store.users(None).await?;
    Ok(Json(json!({ "items": users })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    limit: Option<u32>,
}

/// The tenant's audit trail, newest first (office admin, auditor, operator).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/audit-events", tag = "accounts",
    params(("tenant" = String, Path), ("limit" = Option<u32>, Query, description = "At most this many events, 1 to 1000 (default 100)")),
    responses((status = 200, description = "The events")))]
pub(crate) async fn list_audit_events(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(&tenant, &[Role::OfficeAdmin, Role::Auditor, Role::Operator])?;
    let Query(query) = query.map_err(|rejection| ApiError::BadQuery {
        detail: rejection.body_text(),
    })?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadQuery {
            detail: "limit is between 1 and 1000".into(),
        });
    }
    let events = state.store.audit_events(&tenant, limit).await?;
    Ok(Json(json!({ "items": events })))
}
