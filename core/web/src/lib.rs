//! The web pages of a node: what a volunteer, a team admin, an office, an operator or an
//! auditor does in a browser, rendered on the server from the same use cases the API calls.
//!
//! Pages are HTML rendered by askama templates (`templates/`), compiled with the crate; the
//! few scripts a page needs are files of their own under `assets/`, served by the node, so
//! that the Content-Security-Policy allows no inline script. Forms post back to the node with
//! a token against cross-site requests (`csrf`); the session is the API's session cookie.
//! Texts are in Chinese first and English second (`i18n`), times in Asia/Shanghai.

mod assets;
mod csrf;
mod i18n;
mod pages;

use axum::Router;
use axum::routing::{get, post};
use zhiyuan_api::AppState;

/// The pages, to be served beside the API by the same router.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/signin", get(pages::sign_in_form).post(pages::sign_in))
        .route("/signout", post(pages::sign_out))
        .route("/me", get(pages::me))
        .route("/me/card", get(pages::card))
        .route("/me/shifts", get(pages::shifts))
        .route(
            "/me/certificates",
            get(pages::own_certificates).post(pages::request_certificate),
        )
        .route("/me/credentials", get(pages::own_credentials))
        .route(
            "/me/transfer",
            get(pages::transfer).post(pages::request_transfer),
        )
        .route("/audit", get(pages::audit))
        .route("/node", get(pages::node))
        .route("/certificates", get(pages::certificate_register))
        .route(
            "/t/{tenant}/certificates/{certificate}/issue",
            post(pages::issue_certificate),
        )
        .route("/teams", get(pages::teams))
        .route("/review", get(pages::review))
        .route("/report", get(pages::report))
        .route(
            "/t/{tenant}/volunteers/{volunteer}/decision",
            post(pages::decide_volunteer),
        )
        .route(
            "/t/{tenant}/teams/{team}/decision",
            post(pages::decide_team),
        )
        .route("/t/{tenant}/projects", get(pages::projects))
        .route("/t/{tenant}/projects/{project}", get(pages::project))
        .route(
            "/t/{tenant}/projects/{project}/manage",
            get(pages::project_admin),
        )
        .route(
            "/t/{tenant}/projects/{project}/publication",
            post(pages::publish),
        )
        .route(
            "/t/{tenant}/projects/{project}/scanner",
            get(pages::scanner),
        )
        .route("/t/{tenant}/shifts/{shift}/enrollment", post(pages::enroll))
        .route(
            "/t/{tenant}/shifts/{shift}/withdrawal",
            post(pages::withdraw),
        )
        .route(
            "/t/{tenant}/shifts/{shift}/enrollments/{enrollment}",
            post(pages::decide_enrollment),
        )
        .route("/t/{tenant}/teams/{team}", get(pages::team))
        .route(
            "/t/{tenant}/teams/{team}/service-records",
            post(pages::record_service),
        )
        .route(
            "/t/{tenant}/teams/{team}/members/{volunteer}",
            post(pages::decide_member),
        )
        .route(
            "/t/{tenant}/teams/{team}/projects/new",
            get(pages::new_project_form).post(pages::create_project),
        )
        .route(
            "/t/{tenant}/register",
            get(pages::register_form).post(pages::register),
        )
        .route("/lang", get(pages::choose_language))
        .route("/assets/{name}", get(assets::asset))
        .route("/sw.js", get(assets::service_worker))
        .route("/manifest.webmanifest", get(assets::manifest))
}
