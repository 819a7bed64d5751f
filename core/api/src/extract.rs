//! Extractors that turn what a client sent into checked values, or into a problem+json naming
//! what is wrong. Handlers never see a raw body or path string.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header;
use axum::http::request::Parts;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;
use zhiyuan_domain::{RegionCode, TenantCode};

use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

/// A request body type, the schema it must satisfy, and how large it may be.
pub trait Document: DeserializeOwned {
    const SCHEMA: SchemaId;
    const BODY_LIMIT: usize = 64 * 1024;
}

/// A JSON body that passed its schema and deserialized into `T`.
pub struct Checked<T>(pub T);

impl<T: Document> FromRequest<AppState> for Checked<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = read_body(request.into_body(), T::BODY_LIMIT).await?;
        let document = parse_json(&bytes)?;
        state.schemas.check(T::SCHEMA, &document)?;
        let value = serde_json::from_value(document).map_err(|error| ApiError::Schema {
            field: "/".into(),
            detail: error.to_string(),
        })?;
        Ok(Checked(value))
    }
}

/// How much of an oversized body is read and thrown away before answering 413, so that a client
/// still sending gets the answer rather than a reset connection.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// Reads a body of at most `limit` bytes.
pub(crate) async fn read_body(mut body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ApiError::MalformedJson {
            detail: "the body could not be read".into(),
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > DRAIN_LIMIT {
            break;
        }
        if seen <= limit {
            bytes.extend_from_slice(&data);
        }
    }
    if seen > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    Ok(bytes)
}

/// Parses JSON, reporting where it breaks but never what it contains.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|error| ApiError::MalformedJson {
        detail: format!(
            "line {}, column {}: {:?}",
            error.line(),
            error.column(),
            error.classify()
        ),
    })
}

/// The path parameters of a route, parsed on demand into their types.
pub struct PathParams(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::BadPathParameter {
                name: "path",
                detail: "not valid UTF-8 or not percent-encoded correctly",
            })?;
        Ok(PathParams(params))
    }
}

impl PathParams {
    fn get(&self, name: &'static str) -> Result<&str, ApiError> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or(ApiError::Internal(format!("route has no {name} parameter")))
    }

    pub fn tenant(&self) -> Result<TenantCode, ApiError> {
        TenantCode::parse(self.get("tenant")?).map_err(|_| ApiError::BadPathParameter {
            name: "tenant",
            detail: "a tenant code is a six-digit division code",
        })
    }

    pub fn region(&self, name: &'static str) -> Result<RegionCode, ApiError> {
        RegionCode::parse(self.get(name)?).map_err(|_| ApiError::BadPathParameter {
            name,
            detail: "a region code is six digits",
        })
    }

    /// A SHA-256 in lower-case hex.
    pub fn sha256(&self, name: &'static str) -> Result<String, ApiError> {
        let value = self.get(name)?;
        if value.len() == 64
            && value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(value.to_owned())
        } else {
            Err(ApiError::BadPathParameter {
                name,
                detail: "a SHA-256 is 64 lower-case hex digits",
            })
        }
    }

    pub fn id(&self, name: &'static str) -> Result<Uuid, ApiError> {
        Uuid::parse_str(self.get(name)?).map_err(|_| ApiError::BadPathParameter {
            name,
            detail: "an id is a UUID",
        })
    }
}
