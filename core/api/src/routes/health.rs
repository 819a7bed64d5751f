use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "node", responses((status = 200, description = "The node is alive")))]
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers too.
#[utoipa::path(get, path = "/readyz", tag = "node", responses(
    (status = 200, description = "The node and its database answer"),
    (status = 503, description = "The database does not answer", content_type = "application/problem+json"),
))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(
        json!({ "status": "ready", "database": state.store.backend().as_str() }),
    ))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "node", responses((status = 200, description = "Metrics", content_type = "text/plain")))]
pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "node", responses((status = 200, description = "The OpenAPI document")))]
pub(crate) async fn openapi() -> Json<Value> {
    Json(crate::openapi_document())
}
