//! Accounts and sessions: password hashing, sign-in with rate limiting, and the `CurrentUser`
//! extractor that every protected handler takes.

use std::net::SocketAddr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use zhiyuan_domain::{Actor, Password, Role, TenantCode};
use zhiyuan_store::StoredUser;

use crate::{ApiError, AppState};

pub const SESSION_COOKIE: &str = "zhiyuan_session";

/// Failed logins counted over this window.
pub const FAILURE_WINDOW_SECONDS: i64 = 15 * 60;
/// At most this many failures per account in the window, then 429 until it passes.
pub const MAX_FAILURES_PER_ACCOUNT: u32 = 5;
/// At most this many failures per client address in the window, whatever the accounts.
pub const MAX_FAILURES_PER_ADDRESS: u32 = 30;

/// Hashes a password with Argon2id and a random salt (PHC string format), on the blocking pool:
/// Argon2 costs tens of milliseconds of CPU on purpose, and public endpoints reach it.
pub async fn hash_password(password: &Password) -> Result<String, ApiError> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| ApiError::Internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("password hashing panicked: {e}")))?
}

/// Checks a password against a stored hash. Argon2 costs tens of milliseconds of CPU on
/// purpose, so it runs on the blocking pool, never on the request threads.
pub async fn verify_password(password: String, hash: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let hash = PasswordHash::new(&hash)
            .map_err(|e| ApiError::Internal(format!("stored hash unreadable: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("password check panicked: {e}")))?
}

/// A hash of a password nobody has, checked when the account does not exist so that a login
/// takes as long for an unknown username as for a wrong password.
pub fn decoy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2N0p6yNn1pWsd0B7rUoQ8kVZ6uuvQZt8G2H8sn0S7yk"
}

/// A new session token: 256 random bits, URL-safe.
pub fn new_session_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Sessions are stored by the SHA-256 of their token, so a copy of the database signs no one in.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn session_cookie(token: &str, max_age_seconds: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age_seconds}; HttpOnly; SameSite=Strict{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn expired_session_cookie(secure: bool) -> HeaderValue {
    session_cookie("", 0, secure)
}

/// The signed-in account of a request, from a bearer token or the session cookie.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: StoredUser,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts)
            .or_else(|| cookie_token(parts))
            .ok_or(ApiError::Unauthenticated)?;
        let token_hash = token_hash(&token);
        let session = state
            .store
            .session(&token_hash, state.clock.now())
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(CurrentUser {
            user: session.user,
            token_hash,
        })
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
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, token)| token.to_owned())
}

impl CurrentUser {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user.id),
            name: self.user.username.clone(),
        }
    }

    /// Any account of the tenant, or an operator. Another tenant's account gets the same
    /// answer whether or not what it asked for exists.
    pub fn member_of(&self, tenant: &TenantCode) -> Result<(), ApiError> {
        match (&self.user.tenant, self.user.role) {
            (_, Role::Operator) => Ok(()),
            (Some(own), _) if own == tenant => Ok(()),
            _ => Err(ApiError::Forbidden),
        }
    }

    /// One of `roles` within the tenant (an operator only where `roles` names it).
    pub fn acts_as(&self, tenant: &TenantCode, roles: &[Role]) -> Result<(), ApiError> {
        self.member_of(tenant)?;
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    pub fn is_operator(&self) -> bool {
        self.user.role == Role::Operator
    }
}

/// The client's address as the connection reports it.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        Ok(ClientAddress(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoy_hash_is_a_valid_argon2_hash() {
        assert!(PasswordHash::new(decoy_hash()).is_ok());
    }

    #[test]
    fn hashes_verify_their_own_password_only() {
        let password = Password::parse("correct horse battery", "/password").unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let hash = runtime.block_on(hash_password(&password)).unwrap();
        assert!(
            runtime
                .block_on(verify_password(
                    "correct horse battery".into(),
                    hash.clone()
                ))
                .unwrap()
        );
        assert!(
            !runtime
                .block_on(verify_password("wrong horse battery".into(), hash))
                .unwrap()
        );
    }
}
