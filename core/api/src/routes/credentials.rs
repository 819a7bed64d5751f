//! Signed records: the DID documents that name each signer's keys, and the credentials each
//! tenant issued (`docs/federation.md`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use zhiyuan_app::credentials::{self, CredentialAuditRequest};
use zhiyuan_app::views::{CredentialAuditView, CredentialView, Items, OwnCredentialsView};
use zhiyuan_domain::ports::Signer;

use crate::access::Access;
use crate::extract::{Checked, Document, QueryOf};
use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

fn did_json(document: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/did+json"),
            ),
            // Keys change when they rotate; a reader may keep a copy for a minute.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("max-age=60"),
            ),
        ],
        document,
    )
        .into_response()
}

/// The node operator's DID document (`did:web:<host>`): the keys with which the operator
/// vouches for its tenants' DID documents, each with the window in which it signed.
#[utoipa::path(get, path = "/.well-known/did.json", tag = "federation", operation_id = "read_operator_did",
    responses((status = 200, description = "The DID document", content_type = "application/did+json", body = Object)))]
pub(crate) async fn operator_did(
    State(state): State<AppState>,
    _access: Access,
) -> Result<Response, ApiError> {
    Ok(did_json(
        credentials::did_document(&state.app, &Signer::Operator).await?,
    ))
}

/// A tenant's DID document (`did:web:<host>:tenants:<code>`): every key the tenant signed
/// with, current and retired, each with the window in which it signed, and the operator's
/// proof over them.
#[utoipa::path(get, path = "/tenants/{tenant}/did.json", tag = "federation", operation_id = "read_tenant_did",
    responses((status = 200, description = "The DID document", content_type = "application/did+json", body = Object)))]
pub(crate) async fn tenant_did(
    State(state): State<AppState>,
    access: Access,
) -> Result<Response, ApiError> {
    let signer = Signer::Tenant(access.tenant()?.clone());
    Ok(did_json(
        credentials::did_document(&state.app, &signer).await?,
    ))
}

/// The signed-in volunteer's credentials (registration, service records, certificates), with
/// the salt of their identity commitment.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me/credentials", tag = "federation", operation_id = "list_own_credentials",
    responses((status = 200, description = "Credentials, oldest first", body = OwnCredentialsView)))]
pub(crate) async fn own(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<OwnCredentialsView>, ApiError> {
    Ok(Json(
        credentials::own_credentials(&state.app, access.principal()?, access.tenant()?).await?,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct CredentialsQuery {
    after: Option<String>,
    limit: Option<u32>,
}

/// The tenant's credentials in the order they were issued, for the office and auditors.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/credentials", tag = "federation", operation_id = "list_credentials",
    params(("after" = Option<String>, Query, pattern = r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            description = "The last credential of the page before"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "At most this many (100 unless given)")),
    responses((status = 200, description = "Credentials", body = Items<CredentialView>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    access: Access,
    QueryOf(query): QueryOf<CredentialsQuery>,
) -> Result<Json<Items<CredentialView>>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadQuery {
            detail: "limit: from 1 to 1000".into(),
        });
    }
    let items =
        credentials::credentials(&state.app, access.tenant()?, query.after.as_deref(), limit)
            .await?;
    Ok(Json(items.into()))
}

impl Document for CredentialAuditRequest {
    const SCHEMA: SchemaId = SchemaId::CredentialAudit;
    /// A thousand credentials with their proofs.
    const BODY_LIMIT: usize = 4 * 1024 * 1024;
}

/// Checks credentials as an auditor does, for anyone: each against its issuer's DID document
/// (of this node's tenants, or the copy kept of a witnessed peer's), by the key's window at
/// signing, and its inclusion in the issuer's log (by the checkpoint and proofs posted, or for
/// this node's own tenant, by its log). A volunteer's download posts as it is. Each credential
/// is answered on its own; a refusal names what failed.
#[utoipa::path(post, path = "/api/v1/audit/credentials", tag = "federation", operation_id = "audit_credentials",
    request_body(content = Object, description = "schemas/credential-audit.schema.json"),
    responses((status = 200, description = "What the checks found, credential by credential", body = CredentialAuditView)))]
pub(crate) async fn audit(
    State(state): State<AppState>,
    _access: Access,
    Checked(request): Checked<CredentialAuditRequest>,
) -> Result<Json<CredentialAuditView>, ApiError> {
    Ok(Json(credentials::audit(&state.app, request).await?))
}
