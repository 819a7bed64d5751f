//! Each tenant's transparency log, served as C2SP tlog-tiles serves one (`docs/federation.md`).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use zhiyuan_app::log;

use crate::access::Access;
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
