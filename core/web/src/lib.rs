//! The web pages of a node: what a volunteer, a team admin, an office, an operator or an
//! auditor does in a browser, rendered on the server from the same use cases the API calls.
//!
//! Pages are HTML rendered by askama templates (`templates/`), compiled with the crate; the
//! few scripts a page needs are files of their own under `assets/`, served by the node, so
//! that the Content-Security-Policy allows no inline script. Forms post back to the node with
//! a token against cross-site requests (`csrf`); the session is the API's session cookie.
//! Texts are in Chinese first and English second (`i18n`), times in Asia/Shanghai.

mod csrf;
mod i18n;
mod pages;

use axum::Router;
use axum::routing::get;
use zhiyuan_api::AppState;

/// The pages, to be served beside the API by the same router.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/signin", get(pages::sign_in_form).post(pages::sign_in))
        .route("/signout", axum::routing::post(pages::sign_out))
        .route("/me", get(pages::me))
        .route("/me/card", get(pages::card))
        .route("/t/{tenant}/projects", get(pages::projects))
        .route(
            "/t/{tenant}/register",
            get(pages::register_form).post(pages::register),
        )
        .route("/lang", get(pages::choose_language))
        .route("/assets/{name}", get(pages::asset))
        .route("/sw.js", get(pages::service_worker))
        .route("/manifest.webmanifest", get(pages::manifest))
}
