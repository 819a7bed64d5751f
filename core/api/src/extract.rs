//! Extractors that turn what a client sent into checked values, or into a problem+json naming
//! what is wrong. Handlers never see a raw body or path string.
//!
//! A JSON body is read within a size limit and a time limit, parsed refusing a member named
//! twice (which parsers elsewhere would resolve differently), checked for control characters in
//! every string (one rule of the domain for all text), checked against its JSON Schema, and only
//! then deserialized. All of it happens after the request was authorised (`Access` runs first).

use std::collections::HashMap;
use std::fmt;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header;
use axum::http::request::Parts;
use http_body_util::BodyExt;
use serde::de::{DeserializeOwned, DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use uuid::Uuid;
use zhiyuan_domain::{InvalidInput, RegionCode, Rule, TenantCode, is_forbidden_character};

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
            return Err(ApiError::UnsupportedMediaType {
                expected: "application/json",
            });
        }
        let bytes = read_body(state, request.into_body(), T::BODY_LIMIT).await?;
        let document = parse_json(&bytes)?;
        check_strings(&document, &mut String::new())?;
        state.schemas.check(T::SCHEMA, &document)?;
        let value = serde_json::from_value(document).map_err(|error| ApiError::Schema {
            field: "/".into(),
            detail: error.to_string(),
        })?;
        Ok(Checked(value))
    }
}

/// A JSON body another node signed (RFC 9421): checked as `Checked` checks a body, and kept
/// with what its signature covers, for the use case to verify against the sender's keys. The
/// target URI is this node's public URL and the request's path, as a sender that reached the
/// node there signed it.
pub struct Signed<T> {
    pub document: T,
    pub request: zhiyuan_domain::ports::SignedRequest,
}

impl<T: Document> FromRequest<AppState> for Signed<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let is_json = header("content-type")
            .and_then(|value| value.split(';').next().map(str::to_owned))
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType {
                expected: "application/json",
            });
        }
        let bytes = read_body(state, body, T::BODY_LIMIT).await?;
        let document = parse_json(&bytes)?;
        check_strings(&document, &mut String::new())?;
        state.schemas.check(T::SCHEMA, &document)?;
        let document = serde_json::from_value(document).map_err(|error| ApiError::Schema {
            field: "/".into(),
            detail: error.to_string(),
        })?;
        let path = parts
            .uri
            .path_and_query()
            .map(|path| path.as_str())
            .unwrap_or("/");
        let target_uri = format!(
            "{}{path}",
            state.app.settings.public_url.trim_end_matches('/')
        );
        Ok(Signed {
            document,
            request: zhiyuan_domain::ports::SignedRequest {
                method: parts.method.as_str().to_owned(),
                target_uri,
                content_digest: header("content-digest"),
                signature_input: header("signature-input"),
                signature: header("signature"),
                body: bytes,
            },
        })
    }
}

/// How much of an oversized body is read and thrown away before answering 413, so that a client
/// still sending gets the answer rather than a reset connection.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// Reads a body of at most `limit` bytes within the node's body timeout: a client that sends it
/// a byte at a time is answered 408 rather than holding the connection.
pub(crate) async fn read_body(
    state: &AppState,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    tokio::time::timeout(state.config.body_timeout, read_limited(body, limit))
        .await
        .map_err(|_| ApiError::RequestTimeout)?
}

async fn read_limited(mut body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
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

/// Parses JSON, refusing an object that names a member twice; reports where it breaks but
/// never what it contains.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = Strict {
        pointer: String::new(),
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|error| {
        let message = error.to_string();
        match message.strip_prefix(DUPLICATE) {
            Some(rest) => ApiError::DuplicateKey {
                field: rest
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            },
            None => ApiError::MalformedJson {
                detail: format!(
                    "line {}, column {}: {:?}",
                    error.line(),
                    error.column(),
                    error.classify()
                ),
            },
        }
    })
}

const DUPLICATE: &str = "duplicate member ";

/// Builds a `Value` as serde_json would, but refuses a member named twice, naming it by its
/// JSON Pointer.
struct Strict {
    pointer: String,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Value, E> {
        // JSON Schema counts 1.0 as an integer, so a client may write one so: it is read as
        // the integer it is (within the range where a double holds every integer exactly).
        const EXACT: f64 = 9_007_199_254_740_992.0;
        if value.fract() == 0.0 && value.abs() <= EXACT {
            return Ok(Value::Number((value as i64).into()));
        }
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("not a finite number"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict {
            pointer: format!("{}/{}", self.pointer, items.len()),
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let pointer = format!(
                "{}/{}",
                self.pointer,
                key.replace('~', "~0").replace('/', "~1")
            );
            if object.contains_key(&key) {
                return Err(A::Error::custom(format!("{DUPLICATE}{pointer}")));
            }
            let value = map.next_value_seed(Strict { pointer })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Refuses control characters in every string of a document, keys included, naming the first
/// by its JSON Pointer.
fn check_strings(value: &Value, pointer: &mut String) -> Result<(), ApiError> {
    let refuse = |pointer: &str| {
        ApiError::from(InvalidInput::new(
            if pointer.is_empty() { "/" } else { pointer },
            Rule::ControlCharacter,
        ))
    };
    match value {
        Value::String(text) if text.chars().any(is_forbidden_character) => Err(refuse(pointer)),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let length = pointer.len();
                pointer.push_str(&format!("/{index}"));
                check_strings(item, pointer)?;
                pointer.truncate(length);
            }
            Ok(())
        }
        Value::Object(members) => {
            for (key, item) in members {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                if key.chars().any(is_forbidden_character) {
                    return Err(refuse(pointer));
                }
                check_strings(item, pointer)?;
                pointer.truncate(length);
            }
            Ok(())
        }
        _ => Ok(()),
    }
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

    /// A parameter as given, for the use case to parse.
    pub fn text(&self, name: &'static str) -> Result<&str, ApiError> {
        self.get(name)
    }

    pub fn tenant(&self) -> Result<TenantCode, ApiError> {
        parse_tenant(self.get("tenant")?)
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

pub(crate) fn parse_tenant(code: &str) -> Result<TenantCode, ApiError> {
    TenantCode::parse(code).map_err(|_| ApiError::BadPathParameter {
        name: "tenant",
        detail: "a tenant code is a six-digit division code",
    })
}

/// The query of a route, deserialized, or a problem naming what is wrong with it.
pub struct QueryOf<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryOf<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Query(query) =
            axum::extract::Query::<T>::from_request_parts(parts, state)
                .await
                .map_err(|rejection| ApiError::BadQuery {
                    detail: rejection.body_text(),
                })?;
        Ok(QueryOf(query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_named_twice_is_refused_by_its_pointer() {
        match parse_json(br#"{"a": {"b": 1, "b": 2}}"#) {
            Err(ApiError::DuplicateKey { field }) => assert_eq!(field, "/a/b"),
            other => panic!("{other:?}"),
        }
        match parse_json(br#"[{"x~y": 1, "x~y": 1}]"#) {
            Err(ApiError::DuplicateKey { field }) => assert_eq!(field, "/0/x~0y"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_json(br#"{"a": [1, 2.5, "x", null, true]}"#).unwrap(),
            serde_json::json!({"a": [1, 2.5, "x", null, true]})
        );
        assert!(matches!(
            parse_json(b"{} {}"),
            Err(ApiError::MalformedJson { .. })
        ));
    }

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        let parsed =
            parse_json(br#"{"staff": 1386.0, "share": 0.5, "big": 1e300, "negative": -2.0}"#)
                .unwrap();
        assert_eq!(parsed["staff"].as_u64(), Some(1386));
        assert_eq!(parsed["negative"].as_i64(), Some(-2));
        assert_eq!(parsed["share"].as_f64(), Some(0.5));
        assert!(
            parsed["big"].as_i64().is_none(),
            "beyond exact integers a double stays a double"
        );
    }

    #[test]
    fn control_characters_are_refused_anywhere_in_a_document() {
        let document = serde_json::json!({ "a": ["ok", "no\u{0}"] });
        match check_strings(&document, &mut String::new()) {
            Err(ApiError::App(zhiyuan_app::AppError::Invalid(invalid))) => {
                assert_eq!(invalid.field, "/a/1");
                assert_eq!(invalid.rule, Rule::ControlCharacter);
            }
            other => panic!("{other:?}"),
        }
        assert!(check_strings(&serde_json::json!({"a": "line\nnext"}), &mut String::new()).is_ok());
    }
}
