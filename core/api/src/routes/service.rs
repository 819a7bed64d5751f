//! Time on the ground: cards, scans, service records, disputes, totals, notices and
//! certificates; thin handlers over `zhiyuan_app::service` and `certificates`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use zhiyuan_app::certificates::{self, CertificateRequest, IssueRequest};
use zhiyuan_app::service::{
    self, CorrectionRequest, DisputeAnswerRequest, DisputeRequest, ManualEntryRequest, QrFormat,
    RevocationRequest, ScanBatch, ScanRequest, SettlementRequest,
};
use zhiyuan_app::views::{
    AttendanceView, DisputeView, Items, NoticeView, PrintedCardView, ScanBatchView, ScanView,
    ServiceCertificateView, ServiceHistoryView, ServiceRecordView, TotalsView, VolunteerCardView,
};
use zhiyuan_domain::{CertificateNumber, TotalsScope};

use crate::access::Access;
use crate::extract::{Checked, Document, PathParams, QueryOf};
use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

impl Document for ScanRequest {
    const SCHEMA: SchemaId = SchemaId::Scan;
}
impl Document for ScanBatch {
    const SCHEMA: SchemaId = SchemaId::ScanBatch;
}
impl Document for ManualEntryRequest {
    const SCHEMA: SchemaId = SchemaId::ServiceRecord;
}
impl Document for CorrectionRequest {
    const SCHEMA: SchemaId = SchemaId::Correction;
}
impl Document for DisputeRequest {
    const SCHEMA: SchemaId = SchemaId::Dispute;
}
impl Document for DisputeAnswerRequest {
    const SCHEMA: SchemaId = SchemaId::DisputeAnswer;
}
impl Document for SettlementRequest {
    const SCHEMA: SchemaId = SchemaId::Settlement;
}
impl Document for RevocationRequest {
    const SCHEMA: SchemaId = SchemaId::Void;
}
impl Document for CertificateRequest {
    const SCHEMA: SchemaId = SchemaId::CertificateRequest;
}
impl Document for IssueRequest {
    const SCHEMA: SchemaId = SchemaId::CertificateIssue;
}

/// Pages the node renders itself may carry their own styles, nothing else.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

fn html(page: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            ),
        ],
        page,
    )
        .into_response()
}

fn serial(path: &PathParams) -> Result<u64, ApiError> {
    path.text("serial")?
        .parse::<u64>()
        .ok()
        .filter(|serial| *serial > 0)
        .ok_or(ApiError::BadPathParameter {
            name: "serial",
            detail: "a card's serial is a whole number from 1",
        })
}

/// The volunteer card: a code signed by the tenant, new every minute.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me/card", tag = "service", operation_id = "read_own_card",
    responses((status = 200, description = "The card and its current code", body = VolunteerCardView)))]
pub(crate) async fn card(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<VolunteerCardView>, ApiError> {
    Ok(Json(
        service::card(&state.app, access.principal()?, access.tenant()?).await?,
    ))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct QrQuery {
    format: Option<QrFormat>,
}

/// The card's current code as a QR image, for an app that draws no QR itself.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me/card/qr", tag = "service", operation_id = "read_own_card_qr",
    params(("format" = Option<QrFormat>, Query, description = "svg (default) or png")),
    responses((status = 200, description = "The QR code", content((String = "image/svg+xml"), (Vec<u8> = "image/png")))))]
pub(crate) async fn card_qr(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<QrQuery>,
) -> Result<Response, ApiError> {
    let (media_type, image) = service::card_qr(
        &state.app,
        access.principal()?,
        access.tenant()?,
        query.format.unwrap_or_default(),
    )
    .await?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(media_type))],
        image,
    )
        .into_response())
}

/// The office issues a printed card to a volunteer without a phone; an earlier one is revoked.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/volunteers/{volunteer_id}/printed-card", tag = "service", operation_id = "issue_printed_card",
    responses((status = 201, description = "The printed card, its code and QR", body = PrintedCardView)))]
pub(crate) async fn issue_printed_card(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<(StatusCode, Json<PrintedCardView>), ApiError> {
    let card = service::issue_printed_card(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("volunteer_id")?,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(card)))
}

/// The office revokes a lost printed card: scans of it are refused from now on.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/printed-cards/{serial}/revocation", tag = "service", operation_id = "revoke_printed_card",
    request_body(content = Object, description = "schemas/void.schema.json"),
    responses((status = 204, description = "Revoked")))]
pub(crate) async fn revoke_printed_card(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<RevocationRequest>,
) -> Result<StatusCode, ApiError> {
    service::revoke_printed_card(
        &state.app,
        access.principal()?,
        access.tenant()?,
        serial(&path)?,
        request,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The project's scanner scans a card: the first scan of a shift checks in, the second out.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/projects/{project_id}/scans", tag = "service", operation_id = "scan_card",
    request_body(content = Object, description = "schemas/scan.schema.json"),
    responses((status = 200, description = "What the scan did", body = ScanView)))]
pub(crate) async fn scan(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<ScanRequest>,
) -> Result<Json<ScanView>, ApiError> {
    Ok(Json(
        service::scan(
            &state.app,
            access.principal()?,
            access.tenant()?,
            path.id("project_id")?,
            request,
        )
        .await?,
    ))
}

/// Scans made offline, uploaded with the device's times; each is answered on its own.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/projects/{project_id}/scans/batch", tag = "service", operation_id = "upload_scans",
    request_body(content = Object, description = "schemas/scan-batch.schema.json"),
    responses((status = 200, description = "What each scan did, in the order sent", body = ScanBatchView)))]
pub(crate) async fn upload_scans(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(batch): Checked<ScanBatch>,
) -> Result<Json<ScanBatchView>, ApiError> {
    Ok(Json(
        service::upload_scans(
            &state.app,
            access.principal()?,
            access.tenant()?,
            path.id("project_id")?,
            batch,
        )
        .await?,
    ))
}

/// Who checked in and out of a project's shifts.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/projects/{project_id}/attendances", tag = "service", operation_id = "list_attendances",
    responses((status = 200, description = "Attendances, in the order of check-in", body = Items<AttendanceView>)))]
pub(crate) async fn attendances(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Json<Items<AttendanceView>>, ApiError> {
    let attendances = service::attendances(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("project_id")?,
    )
    .await?;
    Ok(Json(attendances.into()))
}

/// A team's admin enters service that no scan recorded, with a reason.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/teams/{team_id}/service-records", tag = "service", operation_id = "record_service",
    request_body(content = Object, description = "schemas/service-record.schema.json"),
    responses((status = 201, description = "The entry", body = ServiceRecordView)))]
pub(crate) async fn record_service(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<ManualEntryRequest>,
) -> Result<(StatusCode, Json<ServiceRecordView>), ApiError> {
    let entry = service::record_service(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("team_id")?,
        request,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// A team's entries, replaced ones too.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/teams/{team_id}/service-records", tag = "service", operation_id = "list_team_service_records",
    responses((status = 200, description = "The team's entries, newest service first", body = Items<ServiceRecordView>)))]
pub(crate) async fn team_records(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Json<Items<ServiceRecordView>>, ApiError> {
    let records = service::team_records(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("team_id")?,
    )
    .await?;
    Ok(Json(records.into()))
}

/// The team that recorded an entry corrects it: a new entry replaces it.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/service-records/{record_id}/correction", tag = "service", operation_id = "correct_service_record",
    request_body(content = Object, description = "schemas/correction.schema.json"),
    responses((status = 201, description = "The correcting entry", body = ServiceRecordView)))]
pub(crate) async fn correct(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<CorrectionRequest>,
) -> Result<(StatusCode, Json<ServiceRecordView>), ApiError> {
    let entry = service::correct(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("record_id")?,
        request,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// The volunteer disputes one of their entries.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/service-records/{record_id}/dispute", tag = "service", operation_id = "dispute_service_record",
    request_body(content = Object, description = "schemas/dispute.schema.json"),
    responses((status = 201, description = "The dispute, open", body = DisputeView)))]
pub(crate) async fn dispute(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<DisputeRequest>,
) -> Result<(StatusCode, Json<DisputeView>), ApiError> {
    let dispute = service::dispute(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("record_id")?,
        request,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(dispute)))
}

/// The signed-in volunteer's service: totals, star level, every entry.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me/service-records", tag = "service", operation_id = "list_own_service_records",
    responses((status = 200, description = "The volunteer's service", body = ServiceHistoryView)))]
pub(crate) async fn own_records(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<ServiceHistoryView>, ApiError> {
    Ok(Json(
        service::own_history(&state.app, access.principal()?, access.tenant()?).await?,
    ))
}

/// A volunteer's service, for the office and auditors.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/{volunteer_id}/service-records", tag = "service", operation_id = "list_volunteer_service_records",
    responses((status = 200, description = "The volunteer's service", body = ServiceHistoryView)))]
pub(crate) async fn volunteer_records(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Json<ServiceHistoryView>, ApiError> {
    Ok(Json(
        service::volunteer_history(&state.app, access.tenant()?, path.id("volunteer_id")?).await?,
    ))
}

/// The recording team answers a dispute.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/disputes/{dispute_id}/answer", tag = "service", operation_id = "answer_dispute",
    request_body(content = Object, description = "schemas/dispute-answer.schema.json"),
    responses((status = 200, description = "The dispute, answered", body = DisputeView)))]
pub(crate) async fn answer_dispute(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<DisputeAnswerRequest>,
) -> Result<Json<DisputeView>, ApiError> {
    Ok(Json(
        service::answer_dispute(
            &state.app,
            access.principal()?,
            access.tenant()?,
            path.id("dispute_id")?,
            request,
        )
        .await?,
    ))
}

/// The office settles a dispute.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/disputes/{dispute_id}/settlement", tag = "service", operation_id = "settle_dispute",
    request_body(content = Object, description = "schemas/settlement.schema.json"),
    responses((status = 200, description = "The dispute, settled", body = DisputeView)))]
pub(crate) async fn settle_dispute(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<SettlementRequest>,
) -> Result<Json<DisputeView>, ApiError> {
    Ok(Json(
        service::settle_dispute(
            &state.app,
            access.principal()?,
            access.tenant()?,
            path.id("dispute_id")?,
            request,
        )
        .await?,
    ))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TeamQuery {
    team_id: Option<Uuid>,
}

/// Disputes of a team, or of the whole tenant; unsettled first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/disputes", tag = "service", operation_id = "list_disputes",
    params(("team_id" = Option<Uuid>, Query, description = "Only this team's")),
    responses((status = 200, description = "Disputes", body = Items<DisputeView>)))]
pub(crate) async fn disputes(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<TeamQuery>,
) -> Result<Json<Items<DisputeView>>, ApiError> {
    let disputes = service::disputes(
        &state.app,
        access.principal()?,
        access.tenant()?,
        query.team_id,
    )
    .await?;
    Ok(Json(disputes.into()))
}

#[derive(Debug, Deserialize)]
pub(crate) struct TotalsQuery {
    scope: TotalsScope,
    id: String,
}

/// The minutes and entries in force of a volunteer, team, project, or region with those
/// under it.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/service-totals", tag = "service", operation_id = "read_service_totals",
    params(("scope" = TotalsScope, Query, description = "volunteer, team, project or region"),
        ("id" = String, Query, pattern = "^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(0[1-9]|[1-9][0-9])[0-9]{4})$",
            description = "The volunteer's, team's or project's id, or the region's code")),
    responses((status = 200, description = "The totals", body = TotalsView)))]
pub(crate) async fn totals(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<TotalsQuery>,
) -> Result<Json<TotalsView>, ApiError> {
    // The id is a UUID or a region's code; one of the other kind names nothing of its scope.
    if Uuid::parse_str(&query.id).is_err() && zhiyuan_domain::RegionCode::parse(&query.id).is_err()
    {
        return Err(ApiError::BadQuery {
            detail: "id is a UUID, or a region's code".into(),
        });
    }
    Ok(Json(
        service::totals(&state.app, access.tenant()?, query.scope, &query.id).await?,
    ))
}

/// What the signed-in volunteer has been told.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me/notices", tag = "service", operation_id = "list_own_notices",
    responses((status = 200, description = "Notices, newest first", body = Items<NoticeView>)))]
pub(crate) async fn own_notices(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<Items<NoticeView>>, ApiError> {
    let notices = service::own_notices(&state.app, access.principal()?, access.tenant()?).await?;
    Ok(Json(notices.into()))
}

/// What a team's admins have been told.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/teams/{team_id}/notices", tag = "service", operation_id = "list_team_notices",
    responses((status = 200, description = "Notices, newest first", body = Items<NoticeView>)))]
pub(crate) async fn team_notices(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Json<Items<NoticeView>>, ApiError> {
    let notices = service::team_notices(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("team_id")?,
    )
    .await?;
    Ok(Json(notices.into()))
}

/// The signed-in volunteer asks for a certificate of service.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/volunteers/me/certificates", tag = "service", operation_id = "request_certificate",
    request_body(content = Object, description = "schemas/certificate-request.schema.json"),
    responses((status = 201, description = "The request", body = ServiceCertificateView)))]
pub(crate) async fn request_certificate(
    State(state): State<AppState>,
    access: Access,
    Checked(request): Checked<CertificateRequest>,
) -> Result<(StatusCode, Json<ServiceCertificateView>), ApiError> {
    let certificate =
        certificates::request(&state.app, access.principal()?, access.tenant()?, request).await?;
    Ok((StatusCode::CREATED, Json(certificate)))
}

/// The signed-in volunteer's certificates.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me/certificates", tag = "service", operation_id = "list_own_certificates",
    responses((status = 200, description = "Certificates, newest request first", body = Items<ServiceCertificateView>)))]
pub(crate) async fn own_certificates(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<Items<ServiceCertificateView>>, ApiError> {
    let certificates = certificates::own(&state.app, access.principal()?, access.tenant()?).await?;
    Ok(Json(certificates.into()))
}

/// The register of certificates: a team's, or the tenant's.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/certificates", tag = "service", operation_id = "list_certificates",
    params(("team_id" = Option<Uuid>, Query, description = "Only this team's")),
    responses((status = 200, description = "Certificates, newest request first", body = Items<ServiceCertificateView>)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<TeamQuery>,
) -> Result<Json<Items<ServiceCertificateView>>, ApiError> {
    let certificates = certificates::register(
        &state.app,
        access.principal()?,
        access.tenant()?,
        query.team_id,
    )
    .await?;
    Ok(Json(certificates.into()))
}

/// The issuer issues a requested certificate: numbered, its facts fixed.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/certificates/{certificate_id}/issue", tag = "service", operation_id = "issue_certificate",
    request_body(content = Object, description = "schemas/certificate-issue.schema.json"),
    responses((status = 200, description = "The certificate, issued", body = ServiceCertificateView)))]
pub(crate) async fn issue_certificate(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<IssueRequest>,
) -> Result<Json<ServiceCertificateView>, ApiError> {
    Ok(Json(
        certificates::issue(
            &state.app,
            access.principal()?,
            access.tenant()?,
            path.id("certificate_id")?,
            request,
        )
        .await?,
    ))
}

/// The issuer revokes a certificate, with a reason.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/certificates/{certificate_id}/revocation", tag = "service", operation_id = "revoke_certificate",
    request_body(content = Object, description = "schemas/void.schema.json"),
    responses((status = 200, description = "The certificate, revoked", body = ServiceCertificateView)))]
pub(crate) async fn revoke_certificate(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
    Checked(request): Checked<RevocationRequest>,
) -> Result<Json<ServiceCertificateView>, ApiError> {
    Ok(Json(
        certificates::revoke(
            &state.app,
            access.principal()?,
            access.tenant()?,
            path.id("certificate_id")?,
            request,
        )
        .await?,
    ))
}

/// An issued certificate as a printable A4 page.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/certificates/{certificate_id}/page", tag = "service", operation_id = "read_certificate_page",
    responses((status = 200, description = "The page", content_type = "text/html", body = String)))]
pub(crate) async fn certificate_page(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Response, ApiError> {
    let page = certificates::page(
        &state.app,
        access.principal()?,
        access.tenant()?,
        path.id("certificate_id")?,
    )
    .await?;
    Ok(html(page))
}

/// An issued certificate as a PDF.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/certificates/{certificate_id}/pdf", tag = "service", operation_id = "read_certificate_pdf",
    responses((status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>)))]
pub(crate) async fn certificate_pdf(
    State(state): State<AppState>,
    access: Access,
    path: PathParams,
) -> Result<Response, ApiError> {
    let id = path.id("certificate_id")?;
    let pdf = certificates::pdf(&state.app, access.principal()?, access.tenant()?, id).await?;
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"certificate-{id}.pdf\""))
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        pdf,
    )
        .into_response())
}

/// Anyone checks a certificate by its number: whether it stands, and its facts, masked.
#[utoipa::path(get, path = "/verify/{number}", tag = "service", operation_id = "verify_certificate",
    responses((status = 200, description = "The verification page", content_type = "text/html", body = String)))]
pub(crate) async fn verify(
    State(state): State<AppState>,
    _access: Access,
    path: PathParams,
) -> Result<Response, ApiError> {
    let number =
        CertificateNumber::parse(path.text("number")?).map_err(|_| ApiError::BadPathParameter {
            name: "number",
            detail: "a certificate number is the tenant, the year and six digits",
        })?;
    let verification = certificates::verify(&state.app, &number).await?;
    Ok(html(certificates::verification_page(&verification)))
}
