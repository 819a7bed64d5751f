//! Volunteers: real-name registration, the reviewer's decision, voiding, the volunteer card.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;
use zhiyuan_app::views::{Items, VolunteerView};
use zhiyuan_app::volunteers::{self, DecisionRequest, ListQuery, RegistrationRequest, VoidRequest};
use zhiyuan_domain::VolunteerStatus;

use crate::access::{Access, ClientAddress};
use crate::extract::{Checked, Document, PathParams, QueryOf};
use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

impl Document for RegistrationRequest {
    const SCHEMA: SchemaId = SchemaId::VolunteerRegister;
}

impl Document for DecisionRequest {
    const SCHEMA: SchemaId = SchemaId::Decision;
}

impl Document for VoidRequest {
    const SCHEMA: SchemaId = SchemaId::Void;
}

/// Applies to become a real-name registered volunteer. Anyone may, with the username and
/// password of a new account; a signed-in account applies for itself. The answer is the same
/// pending application whether or not the document is registered already.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/volunteers", tag = "volunteers", operation_id = "register_volunteer",
    request_body(content = Object, description = "schemas/volunteer-register.schema.json"),
    responses((status = 201, description = "The application, pending verification", body = VolunteerView)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    access: Access,
    ClientAddress(address): ClientAddress,
    Checked(request): Checked<RegistrationRequest>,
) -> Result<(StatusCode, Json<VolunteerView>), ApiError> {
    let volunteer = volunteers::register(
        &state.app,
        access.principal.as_ref(),
        access.tenant()?,
        request,
        &address,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(volunteer)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct VolunteerQuery {
    status: Option<VolunteerStatus>,
    unit_id: Option<Uuid>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// Volunteers of the tenant (office, auditors, operators), or the queue of a civilisation
/// office's reviewer: those whose region it is responsible for.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers", tag = "volunteers", operation_id = "list_volunteers",
    params(
        ("status" = Option<VolunteerStatus>, Query),
        ("unit_id" = Option<Uuid>, Query, description = "Only this unit's volunteers"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "At most this many (default 100)"),
        ("offset" = Option<u32>, Query, minimum = 0, maximum = 2147483647, description = "Skip this many (default 0)"),
    ),
    responses((status = 200, description = "The volunteers, oldest application first", body = Items<VolunteerView>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<VolunteerQuery>,
) -> Result<Json<Items<VolunteerView>>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadQuery {
            detail: "limit is between 1 and 500".into(),
        });
    }
    let offset = query.offset.unwrap_or(0);
    if offset > i32::MAX as u32 {
        return Err(ApiError::BadQuery {
            detail: "offset is at most 2147483647".into(),
        });
    }
    let query = ListQuery {
        status: query.status,
        unit_id: query.unit_id,
        limit,
        offset,
    };
    let items = volunteers::list(&state.app, access.principal()?, access.tenant()?, query).await?;
    Ok(Json(items.into()))
}

/// The signed-in volunteer's own record.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me", tag = "volunteers", operation_id = "read_own_volunteer",
    responses((status = 200, description = "The volunteer", body = VolunteerView)))]
pub(crate) async fn me(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<VolunteerView>, ApiError> {
    let volunteer = volunteers::own(&state.app, access.principal()?, access.tenant()?).await?;
    Ok(Json(volunteer))
}

/// One volunteer: to themselves, to office staff, and to the reviewer responsible for them.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/{volunteer_id}", tag = "volunteers", operation_id = "read_volunteer",
    responses((status = 200, description = "The volunteer", body = VolunteerView)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Json<VolunteerView>, ApiError> {
    let volunteer = volunteers::read(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("volunteer_id")?,
    )
    .await?;
    Ok(Json(volunteer))
}

/// Verifies or rejects a pending application (实名认证): the city office, or a reviewer of the
/// civilisation office responsible for the volunteer's region, never another level's, never
/// one's own.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/volunteers/{volunteer_id}/decision", tag = "volunteers", operation_id = "decide_volunteer",
    request_body(content = Object, description = "schemas/decision.schema.json"),
    responses((status = 200, description = "The volunteer after the decision", body = VolunteerView)))]
pub(crate) async fn decide(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<DecisionRequest>,
) -> Result<Json<VolunteerView>, ApiError> {
    let volunteer = volunteers::decide(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("volunteer_id")?,
        request,
    )
    .await?;
    Ok(Json(volunteer))
}

/// Voids a registration made with someone else's document, or challenged by the person
/// presenting it at the office (the city office); audited with its reason.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/volunteers/{volunteer_id}/void", tag = "volunteers", operation_id = "void_registration",
    request_body(content = Object, description = "schemas/void.schema.json"),
    responses((status = 200, description = "The registration, voided", body = VolunteerView)))]
pub(crate) async fn void(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<VoidRequest>,
) -> Result<Json<VolunteerView>, ApiError> {
    let volunteer = volunteers::void(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("volunteer_id")?,
        request,
    )
    .await?;
    Ok(Json(volunteer))
}
