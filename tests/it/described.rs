//! Every answer the tests receive, checked against the OpenAPI document the node publishes:
//! its status must be one the operation lists, and its body must match the schema the document
//! gives for that status and content type. Clients written against the document can then trust
//! it.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use reqwest::Method;
use serde_json::{Value, json};

/// The document, as the node serves it.
pub static DOCUMENT: LazyLock<Value> = LazyLock::new(zhiyuan_api::openapi_document);

/// Validators already built, by the JSON Pointer of the schema they check.
static VALIDATORS: LazyLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> =
    LazyLock::new(Mutex::default);

/// The operation a request reached: the document's path template that matches `path` with the
/// most literal segments (so `/volunteers/me` is not taken for `/volunteers/{volunteer_id}`).
pub fn operation_of(method: &Method, path: &str) -> Option<(String, &'static Value)> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let method = method.as_str().to_ascii_lowercase();
    DOCUMENT["paths"]
        .as_object()?
        .iter()
        .filter_map(|(template, operations)| {
            let parts: Vec<&str> = template.split('/').collect();
            // A tile's path (C2SP tlog-tiles) is one parameter of several segments, last.
            let greedy = template.ends_with("/{tile}") && segments.len() > parts.len();
            if parts.len() != segments.len() && !greedy {
                return None;
            }
            let mut literal = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') {
                    if segment.is_empty() {
                        return None;
                    }
                } else if part == segment {
                    literal += 1;
                } else {
                    return None;
                }
            }
            let operation = operations.get(&method)?;
            Some((literal, template.clone(), operation))
        })
        .max_by_key(|(literal, _, _)| *literal)
        .map(|(_, template, operation)| (template, operation))
}

/// A JSON Pointer token, as it goes into a URI fragment.
fn escape(token: &str) -> String {
    token
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

/// Checks one answer; panics naming what the document does not describe.
#[track_caller]
pub fn check_answer(method: &Method, path: &str, status: u16, content_type: &str, body: &Value) {
    // The document lists 500 for what no request should cause; in a test, every one is a defect.
    assert_ne!(status, 500, "{method} {path} answered 500: {body:#}");
    let Some((template, operation)) = operation_of(method, path) else {
        // Routes the document has no operation for answer 404 or 405 problems.
        assert!(
            matches!(status, 404 | 405),
            "{method} {path} is no operation of the document, yet answered {status}"
        );
        return;
    };
    let responses = &operation["responses"];
    let Some(response) = responses.get(status.to_string()) else {
        panic!(
            "{method} {template} answered {status}, which the document does not list \
             (it lists {:?}): {body:#}",
            responses.as_object().map(|r| r.keys().collect::<Vec<_>>())
        );
    };
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        assert!(
            body.is_null(),
            "{method} {template} {status}: the document describes no body, yet there is one: {body:#}"
        );
        return;
    };
    let Some((described_media, described)) = content.iter().find(|(described, _)| {
        **described == media
            || (described.ends_with("/*") && media.starts_with(described.trim_end_matches('*')))
    }) else {
        panic!(
            "{method} {template} {status}: answered {media}, the document describes {:?}",
            content.keys().collect::<Vec<_>>()
        );
    };
    if !described_media.contains("json") {
        return;
    }
    let pointer = format!(
        "#/paths/{}/{}/responses/{status}/content/{}/schema",
        escape(&template),
        method.as_str().to_ascii_lowercase(),
        escape(described_media)
    );
    if described.get("schema").is_none() {
        return;
    }
    let validator = validator(&pointer);
    if let Some(error) = validator.iter_errors(body).next() {
        panic!(
            "{method} {template} {status}: the answer does not match the document at {}: {error}\n{body:#}",
            error.instance_path()
        );
    }
}

/// A validator of the schema at `pointer`, with the whole document around it so that its
/// references into the components resolve.
fn validator(pointer: &str) -> Arc<jsonschema::Validator> {
    let mut validators = VALIDATORS.lock().unwrap_or_else(|p| p.into_inner());
    validators
        .entry(pointer.to_owned())
        .or_insert_with(|| {
            let mut root = DOCUMENT.clone();
            root["$ref"] = json!(pointer);
            root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
            Arc::new(
                jsonschema::options()
                    .build(&root)
                    .unwrap_or_else(|error| panic!("schema at {pointer}: {error}")),
            )
        })
        .clone()
}
