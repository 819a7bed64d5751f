use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::routes;
use crate::schemas::SchemaId;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Zhiyuan node API",
        description = "Volunteer service information system: tenants, accounts, regions and units. \
                       Errors are RFC 9457 problem+json with `code`, `field` and `message` in zh-CN and en."
    ),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::health::metrics,
        routes::health::openapi,
        routes::accounts::login,
        routes::accounts::current_session,
        routes::accounts::logout,
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
        routes::accounts::list_users,
        routes::accounts::create_user,
        routes::accounts::get_user,
        routes::accounts::list_operators,
        routes::accounts::list_audit_events,
        routes::volunteers::register,
        routes::volunteers::list,
        routes::volunteers::me,
        routes::volunteers::card,
        routes::volunteers::get,
        routes::volunteers::decide,
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
    )
)]
struct ApiDoc;

/// The OpenAPI document: paths from the handlers' annotations, request bodies from the very
/// JSON Schemas that validate them (OpenAPI 3.1 takes JSON Schema 2020-12 as it is).
pub fn openapi_document() -> Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    for id in SchemaId::ALL {
        let Ok(mut schema) = serde_json::from_str::<Value>(id.source()) else {
            continue;
        };
        if let Some(object) = schema.as_object_mut() {
            object.remove("$schema");
        }
        document["components"]["schemas"][id.title()] = schema;
    }
    let reference =
        |id: SchemaId| json!({ "$ref": format!("#/components/schemas/{}", id.title()) });
    let bodies = [
        ("/api/v1/session", "post", SchemaId::Login),
        ("/api/v1/tenants", "post", SchemaId::TenantConfig),
        (
            "/api/v1/tenants/{tenant}/regions/{region}",
            "patch",
            SchemaId::RegionUpdate,
        ),
        (
            "/api/v1/tenants/{tenant}/units",
            "post",
            SchemaId::UnitCreate,
        ),
        (
            "/api/v1/tenants/{tenant}/units/{unit_id}",
            "patch",
            SchemaId::UnitUpdate,
        ),
        (
            "/api/v1/tenants/{tenant}/users",
            "post",
            SchemaId::UserCreate,
        ),
    ];
    for (path, method, id) in bodies {
        let body = &mut document["paths"][path][method]["requestBody"];
        body["content"] = json!({ "application/json": { "schema": reference(id) } });
        body["required"] = json!(true);
    }
    document
}
