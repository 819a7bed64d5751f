//! Transfers between tenants (R3): the volunteer's request and its steps, the inbox where
//! another node's signed messages arrive, and the operator's view of the outbox.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;
use zhiyuan_app::transfers::{self, TransferMessage, TransferRequest};
use zhiyuan_app::views::{DestinationView, Items, TransferView};

use crate::access::Access;
use crate::extract::{Checked, Document, PathParams, Signed};
use crate::schemas::SchemaId;
use crate::{ApiError, AppState};

impl Document for TransferRequest {
    const SCHEMA: SchemaId = SchemaId::TransferRequest;
}

impl Document for TransferMessage {
    const SCHEMA: SchemaId = SchemaId::TransferMessage;
    /// A volunteer's whole record: thousands of credentials with their proofs.
    const BODY_LIMIT: usize = 16 * 1024 * 1024;
}

/// The signed-in volunteer asks to move to another tenant, of this node or of a peer, with
/// their registration and hours, consenting to what is sent. From then on they are read-only
/// here; the transfer's steps are theirs to follow.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/volunteers/me/transfers", tag = "transfers", operation_id = "request_transfer",
    request_body(content = Object, description = "schemas/transfer-request.schema.json"),
    responses((status = 201, description = "The transfer, sending", body = TransferView)))]
pub(crate) async fn request(
    State(state): State<AppState>,
    access: Access,
    Checked(request): Checked<TransferRequest>,
) -> Result<(StatusCode, Json<TransferView>), ApiError> {
    let transfer =
        transfers::request(&state.app, access.principal()?, access.tenant()?, request).await?;
    Ok((StatusCode::CREATED, Json(transfer)))
}

/// The signed-in volunteer's transfers from this tenant, the latest first: sending,
/// completed with the destination's signed receipt, or refused with the reason.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/volunteers/me/transfers", tag = "transfers", operation_id = "list_own_transfers",
    responses((status = 200, description = "Transfers, the latest first", body = Items<TransferView>)))]
pub(crate) async fn own(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<Items<TransferView>>, ApiError> {
    Ok(Json(
        transfers::own_transfers(&state.app, access.principal()?, access.tenant()?)
            .await?
            .into(),
    ))
}

/// A transfer another node's tenant sends to this node's tenant, signed with RFC 9421 HTTP
/// Message Signatures by a key of the sender's DID document (endorsed by an operator this
/// node trusts), with a nonce taken once. Answered with the destination's signed receipt; a
/// message sent again is answered with the same receipt.
#[utoipa::path(post, path = "/federation/v1/tenants/{tenant}/inbox", tag = "transfers", operation_id = "receive_message",
    request_body(content = Object, description = "schemas/transfer-message.schema.json"),
    responses((status = 200, description = "The receipt", body = Object)))]
pub(crate) async fn receive(
    State(state): State<AppState>,
    access: Access,
    signed: Signed<TransferMessage>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        transfers::receive(
            &state.app,
            access.tenant()?,
            &signed.request,
            signed.document,
        )
        .await?,
    ))
}

/// The messages this node's tenants send, per destination: pending, delivered and dead.
#[utoipa::path(get, path = "/api/v1/node/outbox", tag = "transfers", operation_id = "list_outbox",
    responses((status = 200, description = "Per destination", body = Items<DestinationView>)))]
pub(crate) async fn outbox(
    State(state): State<AppState>,
    _access: Access,
) -> Result<Json<Items<DestinationView>>, ApiError> {
    Ok(Json(transfers::outbox(&state.app).await?.into()))
}

/// The operator sends a dead message again.
#[utoipa::path(post, path = "/api/v1/node/outbox/{tenant}/{message_id}/retry", tag = "transfers", operation_id = "retry_message",
    responses((status = 204, description = "Pending again")))]
pub(crate) async fn retry(
    State(state): State<AppState>,
    _access: Access,
    path: PathParams,
) -> Result<StatusCode, ApiError> {
    transfers::retry(&state.app, &path.tenant()?, path.id("message_id")?).await?;
    Ok(StatusCode::NO_CONTENT)
}
