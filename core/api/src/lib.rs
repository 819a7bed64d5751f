//! The HTTP API of a Zhiyuan node: a thin layer over the use cases of `zhiyuan-app`.
//!
//! Every route takes `access::Access` first, which resolves who is asking and checks the
//! permission table before the body is read; then its body passes its JSON Schema
//! (`extract::Checked`); then one use case answers a typed view, which the OpenAPI document
//! describes. Every failure becomes problem+json in `error`, the one place that maps errors to
//! status codes.

pub mod access;
mod error;
pub mod extract;
mod metrics;
mod openapi;
mod routes;
pub mod schemas;

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, header};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use zhiyuan_app::App;

pub use access::RouteActions;
pub use error::{ApiError, Messages, Problem};
pub use metrics::Metrics;
pub use openapi::openapi_document;
pub use schemas::{SchemaId, Schemas};

/// Settings of the HTTP layer, from the node's configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Mark session cookies `Secure`; true unless the node serves plain HTTP on purpose.
    pub secure_cookies: bool,
    /// The node serves TLS itself: answers carry HSTS.
    pub tls: bool,
    /// Proxies whose X-Forwarded-For the node believes, by address.
    pub trusted_proxies: Arc<Vec<IpAddr>>,
    /// How long a client may take to send a whole body.
    pub body_timeout: std::time::Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            secure_cookies: true,
            tls: false,
            trusted_proxies: Arc::default(),
            body_timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// What every handler can reach. Built once by the node binary; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Shared, not copied: every request's extractors take the state by value.
    pub app: Arc<App>,
    pub schemas: Arc<Schemas>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<ApiConfig>,
    /// The action of every route, from the OpenAPI document.
    pub actions: Arc<RouteActions>,
}

impl AppState {
    pub fn new(app: App, config: ApiConfig) -> Result<Self, String> {
        Ok(AppState {
            app: Arc::new(app),
            schemas: Arc::new(Schemas::compile()?),
            metrics: Arc::new(Metrics::default()),
            config: Arc::new(config),
            actions: Arc::new(RouteActions::from_document(&openapi_document())?),
        })
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: API routes, health and metrics, and the web `pages` (which set
/// their own Content-Security-Policy), with request ids, tracing spans, metrics, security
/// headers and panic containment around every request.
pub fn router(state: AppState, pages: Router<AppState>) -> Router {
    let hsts = state.config.tls.then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    routes::routes()
        .merge(pages)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::Internal(
                "a handler panicked".into(),
            ))
        }))
        // Answers carry tokens and personal data: never kept by a cache, never framed, never
        // sniffed into another type, and no script runs from them.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(tower::util::option_layer(hsts))
        .layer(axum::middleware::from_fn(close_after_refused_body))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = ?request.uri().path(),
                    request_id,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// A request refused before its body was read leaves that body on the connection, so the
/// connection cannot carry another request: the answer says so, and a client sends its next
/// request on a new connection instead of one the node is closing.
async fn close_after_refused_body(
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0");
    let mut response = next.run(request).await;
    if has_body && (response.status().is_client_error() || response.status().is_server_error()) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Only the metrics, for a listener of their own that the operator's scraper reaches.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            axum::routing::get(
                |axum::extract::State(state): axum::extract::State<AppState>| async move {
                    routes::health::metrics_text(&state).await
                },
            ),
        )
        .with_state(state)
}
