use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Access;
use crate::{ApiError, AppState};

/// The node's state.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// `ok` (alive) or `ready` (alive, and its database answers).
    status: &'static str,
    /// `sqlite` or `postgres`, when ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'static str>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "node", operation_id = "read_health",
    responses((status = 200, description = "The node is alive", body = Health)))]
pub(crate) async fn healthz(_access: Access) -> Json<Health> {
    Json(Health {
        status: "ok",
        database: None,
    })
}

/// Readiness: the database answers too.
#[utoipa::path(get, path = "/readyz", tag = "node", operation_id = "read_readiness",
    responses((status = 200, description = "The node and its database answer", body = Health)))]
pub(crate) async fn readyz(
    State(state): State<AppState>,
    _access: Access,
) -> Result<Json<Health>, ApiError> {
    let database = state
        .app
        .ready()
        .await
        .map_err(|error| ApiError::Unavailable(error.to_string()))?;
    Ok(Json(Health {
        status: "ready",
        database: Some(database),
    }))
}

/// Prometheus metrics in the text exposition format, to operators (or, without a session, on
/// the separate metrics listener the operator may configure).
#[utoipa::path(get, path = "/metrics", tag = "node", operation_id = "read_metrics",
    responses((status = 200, description = "Metrics", content_type = "application/openmetrics-text", body = String)))]
pub(crate) async fn metrics(State(state): State<AppState>, _access: Access) -> impl IntoResponse {
    metrics_text(&state).await
}

pub(crate) async fn metrics_text(state: &AppState) -> impl IntoResponse + use<> {
    // What the store knows is read at the scrape; a store that does not answer leaves the
    // figure as it was.
    if let Ok(logs) = state.app.store.witnessed_logs().await {
        let alarms = logs.iter().filter(|log| log.alarm.is_some()).count();
        state.metrics.witness_alarms.set(alarms as i64);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "node", operation_id = "read_api_document",
    responses((status = 200, description = "The OpenAPI document", body = Object)))]
pub(crate) async fn openapi(_access: Access) -> Json<serde_json::Value> {
    Json(crate::openapi_document())
}
