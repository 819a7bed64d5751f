//! Registration ratios against their targets (R16-R18): what the city office's bulletin ranks.

use axum::Json;
use axum::extract::State;
use zhiyuan_app::stats;
use zhiyuan_app::views::RegistrationReport;

use crate::access::Access;
use crate::{ApiError, AppState};

/// Verified volunteers per area (counting those of the areas below it) and per unit, against
/// the targets of the tenant's policy; those furthest behind first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/stats/registration", tag = "stats", operation_id = "read_registration_report",
    responses((status = 200, description = "Regions and units against their targets, furthest behind first", body = RegistrationReport)))]
pub(crate) async fn registration(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<RegistrationReport>, ApiError> {
    Ok(Json(
        stats::registration(&state.app, access.tenant()?).await?,
    ))
}
