//! Tokens against cross-site request forgery: each browser holds a random token in a cookie
//! that only this site's pages read back (`SameSite=Strict`, `HttpOnly`), and every form
//! carries the same token in a hidden field. A request another site makes can send the cookie
//! at most, never the field, so a form whose field does not match is refused.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "zhiyuan_csrf";

/// The browser's token: the one its cookie holds, or a new one to set.
pub struct Token {
    pub value: String,
    /// The `Set-Cookie` value where the token is new.
    pub set_cookie: Option<String>,
}

/// The token the cookie holds, where it holds one of ours.
pub fn from_cookie(headers: &HeaderMap) -> Option<String> {
    zhiyuan_api::access::cookie(headers, COOKIE)
        .filter(|value| value.len() == 43 && URL_SAFE_NO_PAD.decode(value).is_ok())
}

/// The browser's token for a page with a form.
pub fn token(headers: &HeaderMap, secure: bool) -> Token {
    match from_cookie(headers) {
        Some(value) => Token {
            value,
            set_cookie: None,
        },
        None => {
            let value = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
            let secure = if secure { "; Secure" } else { "" };
            Token {
                set_cookie: Some(format!(
                    "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{secure}"
                )),
                value,
            }
        }
    }
}

/// Whether a form's token is the browser's.
pub fn holds(headers: &HeaderMap, field: &str) -> bool {
    from_cookie(headers).is_some_and(|cookie| bool::from(cookie.as_bytes().ct_eq(field.as_bytes())))
}
