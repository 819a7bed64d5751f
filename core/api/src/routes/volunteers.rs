//! Volunteers: real-name application, the verifier's decision, the volunteer card.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;
use zhiyuan_domain::{
    IdDocumentKind, RegionCode, ReviewingBodyKind, Role, ServiceCategory, TenantCode,
    VolunteerStatus,
};
use zhiyuan_store::{VolunteerFilter, VolunteerRecord};

use crate::auth::CurrentUser;
use crate::extract::{Checked, Document, PathParams};
use crate::schemas::SchemaId;
use crate::service::{self, Decision};
use crate::{ApiError, AppState};
use zhiyuan_store::VolunteerApplication;

#[derive(Debug, Deserialize)]
pub(crate) struct RegisterBody {
    name: String,
    id_kind: IdDocumentKind,
    id_number: String,
    mobile: String,
    region: String,
    unit_id: Option<Uuid>,
    #[serde(default)]
    skills: Vec<String>,
    #[serde(default)]
    service_categories: Vec<ServiceCategory>,
    availability: Option<String>,
    username: String,
    password: String,
}

impl Document for RegisterBody {
    const SCHEMA: SchemaId = SchemaId::VolunteerRegister;
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecisionBody {
    decision: Decision,
    reason: Option<String>,
}

impl Document for DecisionBody {
    const SCHEMA: SchemaId = SchemaId::Decision;
}

/// A volunteer as the API shows one: the identity number always masked; the mobile number and
/// the birth date in full only to the volunteer.
#[derive(Debug, Serialize)]
pub(crate) struct VolunteerView {
    #[serde(flatten)]
    record: VolunteerRecord,
}

fn view(record: VolunteerRecord, viewer: Option<&CurrentUser>) -> VolunteerView {
    let own = viewer.is_some_and(|viewer| Some(viewer.user.id) == record.user_id);
    shown(record, own)
}

/// Others than the volunteer see the mobile masked and the birth date cut to the month, which
/// beside the masked identity number keeps that number from being rebuilt.
fn shown(mut record: VolunteerRecord, own: bool) -> VolunteerView {
    if !own {
        record.mobile = zhiyuan_domain::mask(&record.mobile, 3, 4);
        record.birth_date = record
            .birth_date
            .as_deref()
            .map(zhiyuan_domain::birth_month);
    }
    VolunteerView { record }
}

/// Applies to become a real-name registered volunteer (public: anyone may apply). The
/// application starts pending; the answer carries the new account's id for signing in.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/volunteers", tag = "volunteers",
    params(("tenant" = String, Path)),
    request_body(content = Object, description = "schemas/volunteer-register.schema.json"),
    responses(
        (status = 201, description = "The application, pending verification"),
        (status = 409, description = "The identity document or username is registered already", content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", content_type = "application/problem+json"),
    ))]
pub(crate) async fn register(
    State(state): State<AppState>,
    path: PathParams,
    Checked(body): Checked<RegisterBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let tenant = path.tenant()?;
    state.store.tenant(&tenant).await?;
    let application = VolunteerApplication {
        name: body.name,
        id_kind: body.id_kind,
        id_number: body.id_number,
        mobile: body.mobile,
        region: body.region,
        unit: body.unit_id,
        skills: body.skills,
        service_categories: body.service_categories,
        availability: body.availability,
    };
    let account = Some((body.username, body.password));
    let record = service::register_volunteer(&state, &tenant, application, account).await?;
    Ok((StatusCode::CREATED, Json(json!(shown(record, true)))))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    status: Option<VolunteerStatus>,
    unit_id: Option<Uuid>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// Volunteers of the tenant (office admin, auditor, operator), or the queue of a
/// civilisation-office reviewer: those whose region it is responsible for.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers", tag = "volunteers",
    params(
        ("tenant" = String, Path),
        ("status" = Option<String>, Query, description = "pending, verified or rejected"),
        ("unit_id" = Option<String>, Query, description = "Only this unit's volunteers"),
        ("limit" = Option<u32>, Query, description = "1 to 500 (default 100)"),
        ("offset" = Option<u32>, Query),
    ),
    responses((status = 200, description = "The volunteers, oldest application first")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(
        &tenant,
        &[
            Role::OfficeAdmin,
            Role::Auditor,
            Role::Operator,
            Role::Reviewer,
        ],
    )?;
    let Query(query) = query.map_err(|rejection| ApiError::BadQuery {
        detail: rejection.body_text(),
    })?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadQuery {
            detail: "limit is between 1 and 500".into(),
        });
    }
    let region_within = match current.user.role {
        Role::Reviewer => Some(verifier_regions(&state, &tenant, &current).await?),
        _ => None,
    };
    let filter = VolunteerFilter {
        status: query.status,
        region_within,
        unit: query.unit_id,
        limit,
        offset: query.offset.unwrap_or(0),
    };
    let volunteers = state.store.volunteers(&tenant, &filter).await?;
    let items: Vec<_> = volunteers
        .into_iter()
        .map(|record| view(record, Some(&current)))
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// The signed-in volunteer's own record.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me", tag = "volunteers",
    params(("tenant" = String, Path)),
    responses((status = 200, description = "The volunteer"), (status = 404, description = "The account is no volunteer")))]
pub(crate) async fn me(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let record = state
        .store
        .volunteer_of_user(&tenant, current.user.id)
        .await?;
    Ok(Json(json!(view(record, Some(&current)))))
}

/// One volunteer: to themselves, to office staff, and to the reviewer responsible for them.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/{volunteer_id}", tag = "volunteers",
    params(("tenant" = String, Path), ("volunteer_id" = String, Path, description = "A UUID")),
    responses((status = 200, description = "The volunteer"), (status = 404, description = "Not a volunteer of the tenant")))]
pub(crate) async fn get(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let record = state
        .store
        .volunteer(&tenant, path.id("volunteer_id")?)
        .await?;
    let own = Some(current.user.id) == record.user_id;
    if !own {
        match current.user.role {
            Role::OfficeAdmin | Role::Auditor | Role::Operator => {}
            Role::Reviewer => {
                if !verifier_regions(&state, &tenant, &current)
                    .await?
                    .contains(&record.region)
                {
                    return Err(ApiError::Forbidden);
                }
            }
            _ => return Err(ApiError::Forbidden),
        }
    }
    Ok(Json(json!(view(record, Some(&current)))))
}

/// Verifies or rejects a pending application (实名认证): the city office admin, or a reviewer
/// of the civilisation office responsible for the volunteer's region, never another level's.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/volunteers/{volunteer_id}/decision", tag = "volunteers",
    params(("tenant" = String, Path), ("volunteer_id" = String, Path, description = "A UUID")),
    request_body(content = Object, description = "schemas/decision.schema.json"),
    responses(
        (status = 200, description = "The volunteer after the decision"),
        (status = 403, description = "Not a verifier of this tenant", content_type = "application/problem+json"),
        (status = 409, description = "Already decided", content_type = "application/problem+json"),
        (status = 422, description = "Another level's application (outside_reviewer_level), or a rejection without a reason", content_type = "application/problem+json"),
    ))]
pub(crate) async fn decide(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
    Checked(body): Checked<DecisionBody>,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.acts_as(&tenant, &[Role::OfficeAdmin, Role::Reviewer])?;
    let id = path.id("volunteer_id")?;
    let record = state.store.volunteer(&tenant, id).await?;
    if current.user.role == Role::Reviewer
        && !verifier_regions(&state, &tenant, &current)
            .await?
            .contains(&record.region)
    {
        return Err(ApiError::Invalid(zhiyuan_domain::InvalidInput::new(
            "/decision",
            zhiyuan_domain::Rule::OutsideReviewerLevel,
        )));
    }
    let decided = service::decide_volunteer(
        &state,
        &tenant,
        id,
        body.decision,
        body.reason,
        &current.actor(),
    )
    .await?;
    Ok(Json(json!(view(decided, Some(&current)))))
}

/// The volunteer card (志愿者证) of a verified volunteer: their number, and the payload of the
/// QR code that teams scan to record service. To the volunteer alone.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me/card", tag = "volunteers",
    params(("tenant" = String, Path)),
    responses((status = 200, description = "The card"), (status = 409, description = "Not verified yet", content_type = "application/problem+json")))]
pub(crate) async fn card(
    State(state): State<AppState>,
    current: CurrentUser,
    path: PathParams,
) -> Result<Json<Value>, ApiError> {
    let tenant = path.tenant()?;
    current.member_of(&tenant)?;
    let record = state
        .store
        .volunteer_of_user(&tenant, current.user.id)
        .await?;
    let card = service::volunteer_card(&state, &tenant, &record)?;
    Ok(Json(json!(card)))
}

/// The regions whose volunteers the reviewer's civilisation office verifies: its own region and
/// those below it that have no civilisation office of their own.
async fn verifier_regions(
    state: &AppState,
    tenant: &TenantCode,
    current: &CurrentUser,
) -> Result<Vec<RegionCode>, ApiError> {
    let Some(body_id) = current.user.reviewing_body else {
        return Err(ApiError::Forbidden);
    };
    let body = state.store.reviewing_body(tenant, body_id).await?;
    if body.kind != ReviewingBodyKind::CivilisationOffice {
        return Err(ApiError::Forbidden);
    }
    let regions = state.store.regions(tenant).await?;
    let bodies = state.store.reviewing_bodies(tenant).await?;
    Ok(service::regions_served_by(&regions, &bodies, &body))
}
