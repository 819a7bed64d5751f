pub(crate) mod accounts;
pub(crate) mod credentials;
pub(crate) mod health;
pub(crate) mod log;
pub(crate) mod policy;
pub(crate) mod projects;
pub(crate) mod service;
pub(crate) mod stats;
pub(crate) mod teams;
pub(crate) mod tenants;
pub(crate) mod transfers;
pub(crate) mod units;
pub(crate) mod volunteers;

use axum::Router;
use axum::routing::{get, post};

use crate::{ApiError, AppState};

/// Every route, by its template; each handler's OpenAPI annotation names the action it
/// performs (its `operation_id`), which `access::Access` checks against the permission table.
pub(crate) fn routes() -> Router<AppState> {
    let tenant = Router::new()
        .route("/", get(tenants::get_tenant))
        .route("/regions", get(tenants::list_regions))
        .route(
            "/regions/{region}",
            get(tenants::get_region).patch(tenants::update_region),
        )
        .route("/reviewing-bodies", get(tenants::list_reviewing_bodies))
        .route("/units", get(units::list_units).post(units::create_unit))
        .route(
            "/units/{unit_id}",
            get(units::get_unit).patch(units::update_unit),
        )
        .route(
            "/accounts",
            get(accounts::list_accounts).post(accounts::create_account),
        )
        .route("/accounts/{account_id}", get(accounts::get_account))
        .route(
            "/accounts/{account_id}/grants",
            post(accounts::change_grants),
        )
        .route("/audit-events", get(accounts::list_audit_events))
        .route(
            "/volunteers",
            get(volunteers::list).post(volunteers::register),
        )
        .route("/volunteers/me", get(volunteers::me))
        .route("/volunteers/me/card", get(service::card))
        .route("/volunteers/me/card/qr", get(service::card_qr))
        .route("/volunteers/me/service-records", get(service::own_records))
        .route("/volunteers/me/notices", get(service::own_notices))
        .route("/volunteers/me/credentials", get(credentials::own))
        .route("/credentials", get(credentials::list))
        .route(
            "/volunteers/me/transfers",
            get(transfers::own).post(transfers::request),
        )
        .route(
            "/volunteers/me/certificates",
            get(service::own_certificates).post(service::request_certificate),
        )
        .route(
            "/volunteers/{volunteer_id}/printed-card",
            post(service::issue_printed_card),
        )
        .route(
            "/volunteers/{volunteer_id}/service-records",
            get(service::volunteer_records),
        )
        .route(
            "/printed-cards/{serial}/revocation",
            post(service::revoke_printed_card),
        )
        .route("/projects/{project_id}/scans", post(service::scan))
        .route(
            "/projects/{project_id}/scans/batch",
            post(service::upload_scans),
        )
        .route(
            "/projects/{project_id}/attendances",
            get(service::attendances),
        )
        .route(
            "/teams/{team_id}/service-records",
            get(service::team_records).post(service::record_service),
        )
        .route("/teams/{team_id}/notices", get(service::team_notices))
        .route(
            "/service-records/{record_id}/correction",
            post(service::correct),
        )
        .route(
            "/service-records/{record_id}/dispute",
            post(service::dispute),
        )
        .route("/disputes", get(service::disputes))
        .route(
            "/disputes/{dispute_id}/answer",
            post(service::answer_dispute),
        )
        .route(
            "/disputes/{dispute_id}/settlement",
            post(service::settle_dispute),
        )
        .route("/service-totals", get(service::totals))
        .route("/certificates", get(service::register))
        .route(
            "/certificates/{certificate_id}/issue",
            post(service::issue_certificate),
        )
        .route(
            "/certificates/{certificate_id}/revocation",
            post(service::revoke_certificate),
        )
        .route(
            "/certificates/{certificate_id}/page",
            get(service::certificate_page),
        )
        .route(
            "/certificates/{certificate_id}/pdf",
            get(service::certificate_pdf),
        )
        .route("/volunteers/me/teams", get(teams::my_teams))
        .route(
            "/volunteers/me/suggestions",
            get(projects::suggest_projects),
        )
        .route("/volunteers/me/enrollments", get(projects::my_enrollments))
        .route("/volunteers/{volunteer_id}", get(volunteers::get))
        .route(
            "/volunteers/{volunteer_id}/decision",
            post(volunteers::decide),
        )
        .route("/volunteers/{volunteer_id}/void", post(volunteers::void))
        .route("/files", post(teams::upload_file))
        .route("/files/{sha256}", get(teams::get_file))
        .route("/teams", get(teams::list).post(teams::apply))
        .route("/teams/review-queue", get(teams::review_queue))
        .route("/teams/{team_id}", get(teams::get).put(teams::resubmit))
        .route("/teams/{team_id}/decision", post(teams::decide))
        .route("/teams/{team_id}/members", get(teams::members))
        .route(
            "/teams/{team_id}/membership",
            post(teams::join).delete(teams::leave),
        )
        .route(
            "/teams/{team_id}/members/{volunteer_id}/decision",
            post(teams::decide_member),
        )
        .route("/teams/{team_id}/admins", post(teams::appoint_admin))
        .route(
            "/teams/{team_id}/projects",
            get(projects::list_team_projects).post(projects::create_project),
        )
        .route(
            "/needs",
            get(projects::list_needs).post(projects::post_need),
        )
        .route("/needs/{need_id}", get(projects::read_need))
        .route("/needs/{need_id}/curation", post(projects::curate_need))
        .route("/needs/{need_id}/closure", post(projects::close_need))
        .route("/projects", get(projects::search_projects))
        .route(
            "/projects/{project_id}",
            get(projects::read_project).put(projects::update_project),
        )
        .route(
            "/projects/{project_id}/publication",
            post(projects::publish_project),
        )
        .route(
            "/projects/{project_id}/decision",
            post(projects::decide_project),
        )
        .route(
            "/projects/{project_id}/take-down",
            post(projects::take_down_project),
        )
        .route(
            "/projects/{project_id}/grants",
            post(projects::change_project_grants),
        )
        .route(
            "/shifts/{shift_id}/enrollment",
            post(projects::enroll).delete(projects::withdraw),
        )
        .route(
            "/shifts/{shift_id}/enrollments",
            get(projects::list_enrollments),
        )
        .route(
            "/shifts/{shift_id}/enrollments/{enrollment_id}/decision",
            post(projects::decide_enrollment),
        )
        .route("/stats/registration", get(stats::registration))
        .route(
            "/plugins",
            get(policy::list_plugins).post(policy::upload_plugin),
        )
        .route("/plugins/{sha256}/dry-run", post(policy::dry_run))
        .route("/policy", get(policy::get_policy).put(policy::put_policy))
        .route("/policy/switch", post(policy::switch_policy));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/api/openapi.json", get(health::openapi))
        .route("/verify/{number}", get(service::verify))
        .route("/.well-known/did.json", get(credentials::operator_did))
        .route("/tenants/{tenant}/did.json", get(credentials::tenant_did))
        .route("/log/{tenant}/checkpoint", get(log::checkpoint))
        .route("/witness/logs", get(log::witnessed_logs))
        .route("/log/{tenant}/tile/{*tile}", get(log::tile))
        .route("/log/{tenant}/proof/inclusion", get(log::inclusion_proof))
        .route(
            "/log/{tenant}/proof/consistency",
            get(log::consistency_proof),
        )
        .route(
            "/api/v1/session",
            get(accounts::current_session)
                .post(accounts::sign_in)
                .delete(accounts::sign_out),
        )
        .route("/api/v1/audit/credentials", post(credentials::audit))
        .route(
            "/api/v1/session/everywhere",
            axum::routing::delete(accounts::sign_out_everywhere),
        )
        .route(
            "/api/v1/tenants",
            get(tenants::list_tenants).post(tenants::create_tenant),
        )
        .nest("/api/v1/tenants/{tenant}", tenant)
        .route("/api/v1/node/accounts", get(accounts::list_node_accounts))
        .route("/api/v1/node/outbox", get(transfers::outbox))
        .route(
            "/api/v1/node/outbox/{tenant}/{message_id}/retry",
            post(transfers::retry),
        )
        .route(
            "/federation/v1/tenants/{tenant}/inbox",
            post(transfers::receive),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found() -> ApiError {
    ApiError::NoRoute
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
