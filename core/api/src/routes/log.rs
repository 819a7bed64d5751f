//! Each tenant's transparency log, served as C2SP tlog-tiles serves one (`docs/federation.md`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use zhiyuan_app::log::{self, TileAddress};
use zhiyuan_app::views::{ConsistencyProofView, InclusionProofView, Items, WitnessedLogView};

use crate::access::Access;
use crate::extract::{PathParams, QueryOf};
use crate::{ApiError, AppState};

/// Anyone reads a tenant's log at its latest size: the checkpoint (origin, size and root) as a
/// C2SP signed note, signed with the tenant's key.
#[utoipa::path(get, path = "/log/{tenant}/checkpoint", tag = "federation", operation_id = "read_log_checkpoint",
    responses((status = 200, description = "The signed checkpoint", content_type = "text/plain", body = String)))]
pub(crate) async fn checkpoint(
    State(state): State<AppState>,
    access: Access,
) -> Result<Response, ApiError> {
    let note = log::checkpoint(&state.app, access.tenant()?).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            // A checkpoint is the log's latest state: readers must ask again, not keep it.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        note,
    )
        .into_response())
}

/// A tile of the log: its hashes (`tile/<L>/<N>[.p/<W>]`) or its entries
/// (`tile/entries/<N>[.p/<W>]`), as C2SP tlog-tiles serves them. A tile's bytes never change,
/// so anyone may keep them.
#[utoipa::path(get, path = "/log/{tenant}/tile/{tile}", tag = "federation", operation_id = "read_log_tile",
    responses((status = 200, description = "The tile's bytes", content_type = "application/octet-stream", body = Vec<u8>)))]
pub(crate) async fn tile(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Response, ApiError> {
    let address = TileAddress::parse(path.text("tile")?).ok_or(ApiError::BadPathParameter {
        name: "tile",
        detail: "a tile is <level 0-7 or entries>/<index in groups of three digits>[.p/<width 1-255>]",
    })?;
    let bytes = log::tile(&state.app, access.tenant()?, address).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct InclusionQuery {
    credential: String,
    size: Option<u64>,
}

/// The proof that a credential is in the tenant's log, at the size of a checkpoint the reader
/// holds (the latest size when none is given).
#[utoipa::path(get, path = "/log/{tenant}/proof/inclusion", tag = "federation", operation_id = "prove_log_inclusion",
    params(("credential" = String, Query, pattern = r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            description = "The credential's id"),
        ("size" = Option<u64>, Query, description = "The size of the tree, as a checkpoint gives it")),
    responses((status = 200, description = "The proof", body = InclusionProofView)))]
pub(crate) async fn inclusion_proof(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<InclusionQuery>,
) -> Result<Json<InclusionProofView>, ApiError> {
    Ok(Json(
        log::inclusion_proof(&state.app, access.tenant()?, &query.credential, query.size).await?,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ConsistencyQuery {
    from: u64,
    to: Option<u64>,
}

/// The proof that the tenant's log at `from` entries (a checkpoint kept from earlier) is a
/// prefix of the log at `to` entries (the latest size when none is given).
#[utoipa::path(get, path = "/log/{tenant}/proof/consistency", tag = "federation", operation_id = "prove_log_consistency",
    params(("from" = u64, Query, description = "The earlier size"),
        ("to" = Option<u64>, Query, description = "The later size")),
    responses((status = 200, description = "The proof", body = ConsistencyProofView)))]
pub(crate) async fn consistency_proof(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<ConsistencyQuery>,
) -> Result<Json<ConsistencyProofView>, ApiError> {
    Ok(Json(
        log::consistency_proof(&state.app, access.tenant()?, query.from, query.to).await?,
    ))
}

/// The peers' logs this node witnesses: for each, the largest checkpoint it cosigned and the
/// alarm it raised if the log forked, shrank or stopped extending it, with the evidence.
#[utoipa::path(get, path = "/witness/logs", tag = "federation", operation_id = "list_witnessed_logs",
    responses((status = 200, description = "Witnessed logs", body = Items<WitnessedLogView>)))]
pub(crate) async fn witnessed_logs(
    State(state): State<AppState>,
    _access: Access,
) -> Result<Json<Items<WitnessedLogView>>, ApiError> {
    Ok(Json(log::witnessed_logs(&state.app).await?.into()))
}
