//! The site's own files, compiled into the node: styles, scripts, the icon, the service worker
//! and the manifest.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The site's own styles, scripts, icon and QR reader, compiled into the node.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (kind, body): (&str, &'static [u8]) = match name.as_str() {
        "site.css" => (
            "text/css; charset=utf-8",
            include_bytes!("../assets/site.css"),
        ),
        "app.js" => (JAVASCRIPT, include_bytes!("../assets/app.js")),
        "audit.js" => (JAVASCRIPT, include_bytes!("../assets/audit.js")),
        "card.js" => (JAVASCRIPT, include_bytes!("../assets/card.js")),
        "nearby.js" => (JAVASCRIPT, include_bytes!("../assets/nearby.js")),
        "place.js" => (JAVASCRIPT, include_bytes!("../assets/place.js")),
        "scanner.js" => (JAVASCRIPT, include_bytes!("../assets/scanner.js")),
        "icon.svg" => ("image/svg+xml", include_bytes!("../assets/icon.svg")),
        // Built from `plugins/guests/qr-reader` by `scripts/build-plugins`, which CI checks.
        "qr-reader.wasm" => (
            "application/wasm",
            include_bytes!("../../../plugins/dist/qr-reader.wasm"),
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    fresh(kind, body)
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// An asset the browser checks with the node before each use, so that a new node's files
/// replace the old at once.
fn fresh(kind: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The worker that keeps the card for offline use; served from the root, as a worker's scope
/// is the folder it is served from.
pub async fn service_worker() -> Response {
    let mut response = fresh(JAVASCRIPT, include_bytes!("../assets/sw.js"));
    // A worker lives under the policy its script was served with: this one fetches the
    // site's own pages, and nothing else.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'"),
    );
    response
}

/// The web app's manifest: installed, the site opens on the card.
pub async fn manifest() -> Response {
    fresh(
        "application/manifest+json",
        include_bytes!("../assets/manifest.webmanifest"),
    )
}
