pub(crate) mod accounts;
pub(crate) mod health;
pub(crate) mod policy;
pub(crate) mod stats;
pub(crate) mod teams;
pub(crate) mod tenants;
pub(crate) mod units;
pub(crate) mod volunteers;

use axum::Router;
use axum::routing::{get, post};

use crate::{ApiError, AppState};

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
            "/users",
            get(accounts::list_users).post(accounts::create_user),
        )
        .route("/users/{user_id}", get(accounts::get_user))
        .route("/audit-events", get(accounts::list_audit_events))
        .route(
            "/volunteers",
            get(volunteers::list).post(volunteers::register),
        )
        .route("/volunteers/me", get(volunteers::me))
        .route("/volunteers/me/card", get(volunteers::card))
        .route("/volunteers/{volunteer_id}", get(volunteers::get))
        .route(
            "/volunteers/{volunteer_id}/decision",
            post(volunteers::decide),
        )
        .route("/volunteers/me/teams", get(teams::my_teams))
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
        .route(
            "/api/v1/session",
            get(accounts::current_session)
                .post(accounts::login)
                .delete(accounts::logout),
        )
        .route(
            "/api/v1/tenants",
            get(tenants::list_tenants).post(tenants::create_tenant),
        )
        .nest("/api/v1/tenants/{tenant}", tenant)
        .route("/api/v1/operators", get(accounts::list_operators))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
