//! The OpenAPI 3.1 document: paths from the handlers' annotations, answers from the typed views,
//! request bodies from the very JSON Schemas that validate them (OpenAPI 3.1 takes JSON Schema
//! 2020-12 as it is). What every operation shares is added here in one place, from what the
//! node does: the pattern of each path parameter, the problem answers each kind of operation can
//! give, and who may call it (from the permission table, by the operation's action).

use serde_json::{Value, json};
use utoipa::OpenApi;
use zhiyuan_domain::{Action, NO_CONTROL_CHARACTERS, Who};

use crate::error::Problem;
use crate::routes;
use crate::schemas::SchemaId;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Zhiyuan node API",
        version = "1",
        description = "Volunteer service information system: tenants, accounts and grants, regions, \
                       units, volunteers and teams, local policy. Errors are RFC 9457 \
                       problem+json with `code`, `field` and `message` in zh-CN and en. Each \
                       operation's `operationId` is the action the permission table names."
    ),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::health::metrics,
        routes::health::openapi,
        routes::accounts::sign_in,
        routes::accounts::current_session,
        routes::accounts::sign_out,
        routes::accounts::sign_out_everywhere,
        routes::tenants::list_tenants,
        routes::tenants::create_tenant,
        routes::tenants::get_tenant,
        routes::tenants::list_regions,
        routes::tenants::get_region,
        routes::tenants::update_region,
        routes::tenants::list_reviewing_bodies,
        routes::units::list_units,
        routes::units::create_unit,
        routes::units::get_unit,
        routes::units::update_unit,
        routes::accounts::list_accounts,
        routes::accounts::create_account,
        routes::accounts::get_account,
        routes::accounts::change_grants,
        routes::accounts::list_node_accounts,
        routes::accounts::list_audit_events,
        routes::volunteers::register,
        routes::volunteers::list,
        routes::volunteers::me,
        routes::volunteers::get,
        routes::volunteers::decide,
        routes::volunteers::void,
        routes::teams::upload_file,
        routes::teams::get_file,
        routes::teams::apply,
        routes::teams::list,
        routes::teams::review_queue,
        routes::teams::get,
        routes::teams::resubmit,
        routes::teams::decide,
        routes::teams::members,
        routes::teams::join,
        routes::teams::leave,
        routes::teams::decide_member,
        routes::teams::appoint_admin,
        routes::teams::my_teams,
        routes::stats::registration,
        routes::policy::list_plugins,
        routes::policy::upload_plugin,
        routes::policy::dry_run,
        routes::policy::get_policy,
        routes::policy::put_policy,
        routes::policy::switch_policy,
        routes::projects::post_need,
        routes::projects::list_needs,
        routes::projects::read_need,
        routes::projects::curate_need,
        routes::projects::close_need,
        routes::projects::create_project,
        routes::projects::list_team_projects,
        routes::projects::search_projects,
        routes::projects::read_project,
        routes::projects::update_project,
        routes::projects::publish_project,
        routes::projects::decide_project,
        routes::projects::take_down_project,
        routes::projects::change_project_grants,
        routes::projects::suggest_projects,
        routes::projects::my_enrollments,
        routes::projects::enroll,
        routes::projects::withdraw,
        routes::projects::list_enrollments,
        routes::projects::decide_enrollment,
        routes::service::card,
        routes::service::card_qr,
        routes::service::issue_printed_card,
        routes::service::revoke_printed_card,
        routes::service::scan,
        routes::service::upload_scans,
        routes::service::attendances,
        routes::service::record_service,
        routes::service::team_records,
        routes::service::correct,
        routes::service::dispute,
        routes::service::own_records,
        routes::service::volunteer_records,
        routes::service::answer_dispute,
        routes::service::settle_dispute,
        routes::service::disputes,
        routes::service::totals,
        routes::service::own_notices,
        routes::service::team_notices,
        routes::service::request_certificate,
        routes::service::own_certificates,
        routes::service::register,
        routes::service::issue_certificate,
        routes::service::revoke_certificate,
        routes::service::certificate_page,
        routes::service::certificate_pdf,
        routes::service::verify,
        routes::log::checkpoint,
        routes::log::tile,
        routes::log::inclusion_proof,
        routes::log::consistency_proof,
        routes::log::witnessed_logs,
        routes::credentials::operator_did,
        routes::credentials::tenant_did,
        routes::credentials::own,
        routes::credentials::list,
        routes::credentials::audit,
        routes::transfers::request,
        routes::transfers::own,
        routes::transfers::receive,
        routes::transfers::outbox,
        routes::transfers::retry,
    ),
    components(schemas(
        Problem,
        zhiyuan_app::projects::SearchOrder,
        zhiyuan_app::service::QrFormat
    ))
)]
struct ApiDoc;

/// The schema of each path parameter, by its name.
fn path_parameter(name: &str) -> Value {
    match name {
        "tenant" => json!({ "type": "string", "pattern": zhiyuan_domain::TENANT_CODE_PATTERN,
            "description": "The tenant's GB/T 2260 division code." }),
        "region" => json!({ "type": "string", "pattern": zhiyuan_domain::REGION_CODE_PATTERN,
            "description": "A region's GB/T 2260 division code." }),
        "sha256" => json!({ "type": "string", "pattern": "^[0-9a-f]{64}$",
            "description": "A SHA-256, in lower-case hex." }),
        "serial" => json!({ "type": "string", "pattern": "^[1-9][0-9]{0,17}$",
            "description": "A printed card's serial." }),
        "number" => {
            json!({ "type": "string", "pattern": zhiyuan_domain::CERTIFICATE_NUMBER_PATTERN,
            "description": "A certificate's number: the tenant, the year, its place in the register." })
        }
        "tile" => json!({ "type": "string", "pattern": TILE_PATH_PATTERN,
            "description": "A tile's path after `tile/`, as C2SP tlog-tiles writes it: the level (0 to 7) or `entries`, the index in groups of three digits, all but the last with an `x`, and `.p/<width>` for a partial tile." }),
        _ => json!({ "type": "string", "format": "uuid" }),
    }
}

/// Tile paths as C2SP tlog-tiles writes them, after `tile/`.
/// (An index of up to eighteen digits: every path it allows is a tile the node can name.)
const TILE_PATH_PATTERN: &str = r"^(entries|[0-7])/(x(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})/(x[0-9]{3}/){0,4})?[0-9]{3}(\.p/([1-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5]))?$";

/// The problem answers an operation can give, by what it does.
fn problem_statuses(public: bool, has_body: bool, action: Action) -> Vec<u16> {
    // A resource may not be in the state a request needs (a card before verification, a
    // decision made already), whatever the method.
    let mut statuses = vec![400, 404, 409, 500, 503];
    if !public {
        statuses.extend([401, 403]);
    }
    if has_body {
        statuses.extend([408, 413, 415, 422]);
    }
    if matches!(action, Action::SignIn | Action::RegisterVolunteer) {
        statuses.extend([401, 403, 429]);
    }
    // Open to anyone, proven by the request's signature: a signature refused is forbidden.
    if action == Action::ReceiveMessage {
        statuses.push(403);
    }
    // Bodies that are not JSON, and queries whose values each break a rule of their own.
    if matches!(
        action,
        Action::UploadFile
            | Action::UploadPlugin
            | Action::SearchProjects
            | Action::SuggestProjects
            | Action::ListNeeds
    ) {
        statuses.push(422);
    }
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

fn problem_description(status: u16) -> &'static str {
    match status {
        400 => "A path or query parameter, a header or the JSON itself is malformed",
        401 => "Not signed in, or a wrong username or password",
        403 => "The account's grants do not allow this, or a rule of who may act refuses it",
        404 => "No such resource in the tenant",
        408 => "The body was not sent in time",
        409 => "It exists already, or it is not in the state the request needs",
        413 => "The body is too large",
        415 => "The body is not of the content type the operation takes",
        422 => "A field breaks its schema or a rule (named by `field` and `code`)",
        429 => "Too many attempts; see Retry-After",
        503 => "The node cannot serve now (busy, a plugin failed, the database is away)",
        _ => "The node failed; the cause is logged",
    }
}

/// The OpenAPI document.
pub fn openapi_document() -> Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    document["openapi"] = json!("3.1.0");
    for id in SchemaId::ALL {
        document["components"]["schemas"][id.title()] = component(id);
    }
    document["components"]["securitySchemes"] = json!({
        "bearer": { "type": "http", "scheme": "bearer",
            "description": "The token a sign-in answers." },
        "session": { "type": "apiKey", "in": "cookie", "name": crate::access::SESSION_COOKIE,
            "description": "The session cookie a sign-in sets." }
    });
    let problem = json!({ "$ref": "#/components/schemas/Problem" });
    let Some(paths) = document["paths"].as_object_mut() else {
        return document;
    };
    for (path, operations) in paths.iter_mut() {
        let Some(operations) = operations.as_object_mut() else {
            continue;
        };
        for operation in operations.values_mut() {
            let Some(action) = operation["operationId"].as_str().and_then(Action::from_db) else {
                continue;
            };
            let public = action.is_public();
            add_path_parameters(path, operation);
            let has_body = operation.get("requestBody").is_some();
            if let Some(file) = operation["requestBody"]["description"]
                .as_str()
                .and_then(|description| description.strip_prefix("schemas/"))
                && let Some(id) = SchemaId::ALL.into_iter().find(|id| id.file() == file)
            {
                operation["requestBody"] = json!({
                    "description": format!("schemas/{file}"),
                    "required": true,
                    "content": { "application/json": {
                        "schema": { "$ref": format!("#/components/schemas/{}", id.title()) }
                    } }
                });
            }
            for status in problem_statuses(public, has_body, action) {
                let responses = &mut operation["responses"];
                if responses.get(status.to_string()).is_none() {
                    responses[status.to_string()] = json!({
                        "description": problem_description(status),
                        "content": { "application/problem+json": { "schema": problem } }
                    });
                }
            }
            describe_bytes_as_binary(operation);
            operation["security"] = security(action);
            operation["x-permitted"] = json!(action.open_to());
        }
    }
    document
}

/// Bodies that are bytes (files, plugin packages) are described as such, whatever type the
/// handler's annotation gave them: a string of binary data in their media type.
fn describe_bytes_as_binary(operation: &mut Value) {
    let Some(operation) = operation.as_object_mut() else {
        return;
    };
    let mut contents = Vec::new();
    for (key, part) in operation.iter_mut() {
        match key.as_str() {
            "requestBody" => contents.extend(part.get_mut("content")),
            "responses" => {
                if let Some(responses) = part.as_object_mut() {
                    contents.extend(
                        responses
                            .values_mut()
                            .filter_map(|response| response.get_mut("content")),
                    );
                }
            }
            _ => {}
        }
    }
    for content in contents {
        let Some(media) = content.as_object_mut() else {
            continue;
        };
        for (media_type, body) in media.iter_mut() {
            if !media_type.ends_with("json") {
                body["schema"] = json!({ "type": "string", "format": "binary" });
            }
        }
    }
}

/// Who may call an operation, as security requirements: nobody needs to sign in for a public
/// one (though an account may), every other takes the bearer token or the session cookie.
fn security(action: Action) -> Value {
    let signed_in = json!([{ "bearer": [] }, { "session": [] }]);
    if action.open_to().contains(&Who::Public) {
        let mut anyone = vec![json!({})];
        anyone.extend(signed_in.as_array().cloned().unwrap_or_default());
        Value::Array(anyone)
    } else {
        signed_in
    }
}

/// Declares each `{name}` of a path as a required path parameter with its pattern.
fn add_path_parameters(path: &str, operation: &mut Value) {
    let names: Vec<&str> = path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .collect();
    let mut parameters: Vec<Value> = operation["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|parameter| parameter["in"] != "path")
        .collect();
    for name in names {
        parameters.push(json!({
            "name": name,
            "in": "path",
            "required": true,
            "schema": path_parameter(name),
        }));
    }
    operation["parameters"] = Value::Array(parameters);
}

/// A schema of `schemas/` as a component: its references within itself (`#/$defs/...`) made to
/// point at where it now lives in the document.
fn component(id: SchemaId) -> Value {
    let Ok(mut schema) = serde_json::from_str::<Value>(id.source()) else {
        return json!({});
    };
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
        object.remove("$id");
    }
    let base = format!("#/components/schemas/{}/$defs/", id.title());
    rewrite_refs(&mut schema, &base);
    forbid_control_characters(&mut schema);
    schema
}

/// Says in the document what the node refuses in every text of a request: a control character.
/// Texts (strings without a format or list of values of their own) and the names of free-form
/// members get the pattern of the one domain rule, beside any pattern of their own.
fn forbid_control_characters(value: &mut Value) {
    match value {
        Value::Object(members) => {
            let listed = ["format", "enum", "const"]
                .iter()
                .any(|key| members.contains_key(*key));
            if members.get("type") == Some(&json!("string")) && !listed {
                if members.contains_key("pattern") {
                    let rule = json!({ "pattern": NO_CONTROL_CHARACTERS });
                    match members.get_mut("allOf").and_then(Value::as_array_mut) {
                        Some(all) => all.push(rule),
                        None => {
                            members.insert("allOf".into(), json!([rule]));
                        }
                    }
                } else {
                    members.insert("pattern".into(), json!(NO_CONTROL_CHARACTERS));
                }
            }
            let free_members = members
                .get("additionalProperties")
                .is_some_and(|extra| extra != &json!(false));
            if free_members && !members.contains_key("propertyNames") {
                members.insert(
                    "propertyNames".into(),
                    json!({ "pattern": NO_CONTROL_CHARACTERS }),
                );
            }
            members.values_mut().for_each(forbid_control_characters);
        }
        Value::Array(items) => items.iter_mut().for_each(forbid_control_characters),
        _ => {}
    }
}

fn rewrite_refs(value: &mut Value, base: &str) {
    match value {
        Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                if key == "$ref"
                    && let Some(target) = member.as_str().and_then(|r| r.strip_prefix("#/$defs/"))
                {
                    *member = json!(format!("{base}{target}"));
                } else {
                    rewrite_refs(member, base);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite_refs(item, base)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use zhiyuan_app::log::TileAddress;

    use super::TILE_PATH_PATTERN;

    proptest! {
        /// What the document lets a client send as a tile's path, the node reads: a request
        /// the document allows is never refused as malformed.
        #[test]
        fn every_tile_path_the_document_allows_is_one_the_node_reads(
            path in TILE_PATH_PATTERN.trim_start_matches('^').trim_end_matches('$')
        ) {
            prop_assert!(TileAddress::parse(&path).is_some(), "{}", path);
        }
    }
}
