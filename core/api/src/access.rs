//! Who is asking, and whether the permission table lets them: the one extractor every route
//! takes first, before anything reads the request's body.
//!
//! Each route performs one action, named by its operation's `operationId` in the OpenAPI
//! document (the action's stored name); `Access` finds it by the route's method and template,
//! resolves the tenant from the path and the principal from the session token (a bearer token
//! or the session cookie), and asks the permission table. What a scoped grant reaches (this
//! team, this reviewing body) the use case checks once it has loaded the resource.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use zhiyuan_domain::{Action, Principal, TenantCode};

use crate::extract::parse_tenant;
use crate::{ApiError, AppState};

pub const SESSION_COOKIE: &str = "zhiyuan_session";

/// The action of every route, by method and route template.
#[derive(Debug, Default)]
pub struct RouteActions(HashMap<(Method, String), Action>);

impl RouteActions {
    /// Reads them from the OpenAPI document's operation ids.
    pub fn from_document(document: &serde_json::Value) -> Result<RouteActions, String> {
        let mut actions = HashMap::new();
        let paths = document["paths"]
            .as_object()
            .ok_or("the OpenAPI document has no paths")?;
        for (path, operations) in paths {
            for (method, operation) in operations.as_object().into_iter().flatten() {
                let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                    continue;
                };
                let id = operation["operationId"]
                    .as_str()
                    .ok_or_else(|| format!("{method} {path} has no operationId"))?;
                let action = Action::from_db(id)
                    .ok_or_else(|| format!("{method} {path}: {id} is no action"))?;
                actions.insert((method, path.clone()), action);
            }
        }
        Ok(RouteActions(actions))
    }

    /// The action of a route by its method and axum template, whose catch-all parameters
    /// (`{*tile}`) the OpenAPI document writes as plain ones (`{tile}`).
    pub fn get(&self, method: &Method, path: &str) -> Option<Action> {
        self.0
            .get(&(method.clone(), path.replace("{*", "{")))
            .copied()
    }
}

/// A request's principal and tenant, allowed by the permission table to perform its route's
/// action.
#[derive(Debug, Clone)]
pub struct Access {
    pub action: Action,
    /// Signed in, or `None` on a public route.
    pub principal: Option<Principal>,
    /// The tenant of the path, for routes under `/api/v1/tenants/{tenant}`.
    pub tenant: Option<TenantCode>,
    /// The session token the request came with, for signing out.
    pub token: Option<String>,
}

impl Access {
    /// The signed-in principal; a public route that needs one answers 401 without.
    pub fn principal(&self) -> Result<&Principal, ApiError> {
        self.principal.as_ref().ok_or(ApiError::Unauthenticated)
    }

    /// The tenant of the path.
    pub fn tenant(&self) -> Result<&TenantCode, ApiError> {
        self.tenant
            .as_ref()
            .ok_or_else(|| ApiError::Internal("route has no tenant".into()))
    }
}

impl FromRequestParts<AppState> for Access {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(access) = parts.extensions.get::<Access>() {
            return Ok(access.clone());
        }
        let template = parts
            .extensions
            .get::<MatchedPath>()
            .map(|path| path.as_str().to_owned())
            .ok_or(ApiError::NoRoute)?;
        let action = state.actions.get(&parts.method, &template).ok_or_else(|| {
            ApiError::Internal(format!("{} {template} has no action", parts.method))
        })?;
        let tenant = match template.contains("{tenant}") {
            true => {
                let axum::extract::Path(params) =
                    axum::extract::Path::<HashMap<String, String>>::from_request_parts(
                        parts, state,
                    )
                    .await
                    .map_err(|_| ApiError::BadPathParameter {
                        name: "path",
                        detail: "not valid UTF-8 or not percent-encoded correctly",
                    })?;
                Some(parse_tenant(
                    params.get("tenant").map_or("", String::as_str),
                )?)
            }
            false => None,
        };
        let token = bearer_token(parts).or_else(|| cookie_token(parts));
        let principal = match &token {
            Some(token) => zhiyuan_app::accounts::principal(&state.app, token).await?,
            None => None,
        };
        if !zhiyuan_app::accounts::may(principal.as_ref(), action, tenant.as_ref()) {
            return Err(match principal {
                None => ApiError::Unauthenticated,
                Some(_) => ApiError::App(zhiyuan_app::AppError::Forbidden),
            });
        }
        let access = Access {
            action,
            principal,
            tenant,
            token,
        };
        parts.extensions.insert(access.clone());
        Ok(access)
    }
}

fn bearer_token(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn cookie_token(parts: &Parts) -> Option<String> {
    cookie(&parts.headers, SESSION_COOKIE)
}

/// A cookie's value from a request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.to_owned())
}

/// The cookie that carries a new session, living as long as the node keeps sessions.
pub fn session_cookie(state: &AppState, token: &str) -> HeaderValue {
    let max_age =
        i64::try_from(state.app.settings.session_ttl.as_secs()).unwrap_or(i64::MAX / 1000);
    cookie_of_session(token, max_age, state.config.secure_cookies)
}

/// The cookie that ends a session in the browser.
pub fn expired_session_cookie(state: &AppState) -> HeaderValue {
    cookie_of_session("", 0, state.config.secure_cookies)
}

fn cookie_of_session(token: &str, max_age_seconds: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age_seconds}; HttpOnly; SameSite=Strict{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The client's address: the connection's peer, or, when the peer is a proxy the operator
/// configured, the address that proxy says it forwarded for (the last one in X-Forwarded-For
/// that is not itself a trusted proxy). Nobody else can claim an address by sending the header.
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        Ok(ClientAddress(
            client_address(peer, parts, &state.config.trusted_proxies)
                .map(|address| address.to_string())
                .unwrap_or_else(|| "unknown".to_owned()),
        ))
    }
}

fn client_address(
    peer: Option<IpAddr>,
    parts: &Parts,
    trusted_proxies: &Arc<Vec<IpAddr>>,
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|address| address.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|address| !trusted_proxies.contains(address))
        .copied()
        .or(Some(peer))
}
