//! The HTTP API of a Zhiyuan node.
//!
//! Routes live in `routes`; request bodies pass their JSON Schema (`schemas`) and become domain
//! types in the handlers; every failure becomes problem+json in `error`, the one place that maps
//! errors to status codes. Use cases that the command line shares with HTTP (creating a tenant
//! or an account) live in `service`, so both go one way.

pub mod auth;
mod error;
pub mod extract;
mod metrics;
mod openapi;
mod routes;
pub mod schemas;
pub mod service;
pub mod team_import;
pub mod teams;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Request};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use zhiyuan_domain::Clock;
use zhiyuan_store::Store;

pub use error::{ApiError, Messages, Problem};
pub use metrics::Metrics;
pub use openapi::openapi_document;
pub use schemas::{SchemaId, Schemas};

/// Settings of the HTTP layer, from the node's configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// How long a sign-in lasts.
    pub session_ttl: Duration,
    /// Mark session cookies `Secure`; true unless the node serves plain HTTP on purpose.
    pub secure_cookies: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            session_ttl: Duration::from_secs(12 * 3600),
            secure_cookies: true,
        }
    }
}

/// What every handler can reach. Built once by the node binary; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub schemas: Arc<Schemas>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<ApiConfig>,
    /// Real-name checks; the verifier's attestation unless an identity service is wired in.
    pub identity_check: Arc<dyn zhiyuan_domain::ports::IdentityCheck>,
    /// Each tenant's local rules (naming, targets, ...): built-in, or its WebAssembly plugins.
    pub policies: Arc<dyn zhiyuan_domain::ports::PolicyHost>,
    /// Changes of policy go one at a time, so that what is in force is what was committed last.
    pub policy_changes: Arc<tokio::sync::Mutex<()>>,
}

impl AppState {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        config: ApiConfig,
        policies: Arc<dyn zhiyuan_domain::ports::PolicyHost>,
    ) -> Result<Self, String> {
        Ok(AppState {
            store,
            clock,
            schemas: Arc::new(Schemas::compile()?),
            metrics: Arc::new(Metrics::default()),
            config: Arc::new(config),
            identity_check: Arc::new(zhiyuan_domain::ports::VerifierAttestation),
            policies,
            policy_changes: Arc::default(),
        })
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: API routes, health and metrics, with request ids, tracing spans,
/// metrics and panic containment around every request.
pub fn router(state: AppState) -> Router {
    routes::routes()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::Internal(
                "a handler panicked".into(),
            ))
        }))
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
                    path = %request.uri().path(),
                    request_id,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
