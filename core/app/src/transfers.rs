//! A volunteer's transfer to another tenant (服务记录转移接续, R3), of this node or of a peer:
//! their registration and hours go with them, by the same signed records either way.
//!
//! The source: the volunteer asks, naming the destination and consenting to what is sent
//! (`request`); the store freezes them and writes the transfer's message to the outbox in one
//! transaction. When the node's sender delivers it, the message is composed (`compose`): every
//! credential of the volunteer with its log's checkpoint and inclusion proofs, what they
//! brought from earlier tenants as it came, and the personal data the destination registers
//! them with, read now and kept nowhere else. The destination's answer settles it (`settle`).
//!
//! The destination (`receive`): the request's signature by a key of the origin's DID document,
//! its nonce taken once; every credential against its issuer's DID document (each key in its
//! window) and its issuer's log; the identity sent against the registration credential's
//! commitment. Then the volunteer is registered with their number, their hours counted once,
//! and a signed receipt answered, in the transaction that records the message: a message sent
//! again is answered with the same receipt.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;
use zhiyuan_domain::ports::{RequestSignature, SignedRequest, Signer};
use zhiyuan_domain::{
    Actor, IdDocumentKind, IdNumber, InvalidInput, Minutes, MobileNumber, NewVolunteer, PersonName,
    Principal, RegionCode, Rule, ServiceCategory, TenantCode, Timestamp, VolunteerNumber,
};
use zhiyuan_store::{
    IncomingMessage, NewTransfer, PendingMessage, Received, StoreError, TransferArrival,
    TransferOut,
};

use crate::credentials::{credential_document, did, log_evidence};
use crate::views::TransferView;
use crate::volunteers::own_record;
use crate::{App, AppError};

/// What a volunteer consents to, word for word as it is kept with their transfer.
pub const CONSENT: &str = "我同意将我的姓名、证件类型和号码、手机号、技能与服务类别、注册记录及全部服务记录和证书发送给转入地,用于在转入地注册并接续我的志愿服务记录。\
I consent to my name, identity document, mobile number, skills and service categories, my registration and all my service records and certificates being sent to the destination, to register me there and continue my service record.";

/// How far a signed request's time may be from this node's.
pub const SKEW_SECONDS: i64 = 300;

/// What the volunteer asks (`schemas/transfer-request.schema.json`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TransferRequest {
    /// The destination tenant's DID (`did:web:<node>:tenants:<code>`).
    pub destination: String,
    /// The volunteer consents to what is sent (`CONSENT`).
    pub consent: bool,
}

/// A transfer's message as it travels (`schemas/transfer-message.schema.json`).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct TransferMessage {
    pub transfer: Uuid,
    /// The destination tenant's DID.
    pub destination: String,
    pub volunteer: TransferredPerson,
    /// The salt of the registration credential's commitment to the identity document.
    pub identity_salt: String,
    /// The credentials: the origin's first, with its log's checkpoint and proofs; then what
    /// the volunteer brought to the origin, each part as it came.
    pub parts: Vec<CredentialPart>,
}

/// The personal data the destination registers the volunteer with: in the request only,
/// sealed at rest where it arrives.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct TransferredPerson {
    pub name: String,
    pub id_kind: IdDocumentKind,
    pub id_number: String,
    pub mobile: String,
    pub skills: Vec<String>,
    pub service_categories: Vec<ServiceCategory>,
    /// Their account, which moves with them; none for a volunteer of a unit's list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<TransferredAccount>,
}

/// A volunteer's account as it moves: they sign in at the destination as they did here.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct TransferredAccount {
    pub username: String,
    /// The password's Argon2id hash (PHC form): the password itself is never known.
    pub password_hash: String,
}

/// One issuer's credentials with the evidence that they are in its log.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct CredentialPart {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
    pub checkpoint: String,
    #[schema(value_type = Vec<Object>)]
    pub inclusion: Vec<Value>,
}

/// A part as the auditor's checks read it: a bundle of credentials with its checkpoint and
/// proofs.
fn part_bundle(part: CredentialPart) -> Value {
    // Moved rather than through `json!`, which would copy every credential.
    let mut bundle = serde_json::Map::new();
    bundle.insert("items".into(), Value::Array(part.items));
    bundle.insert("checkpoint".into(), Value::String(part.checkpoint));
    bundle.insert("inclusion".into(), Value::Array(part.inclusion));
    Value::Object(bundle)
}

fn transfer_view(transfer: TransferOut) -> TransferView {
    TransferView {
        id: transfer.id,
        destination: transfer.destination,
        status: transfer.status,
        requested_at: transfer.requested_at,
        completed_at: transfer.completed_at,
        receipt: transfer
            .receipt
            .and_then(|receipt| serde_json::from_str(&receipt).ok()),
        refusal: transfer.refusal,
    }
}

/// The DID documents this node holds: its own tenants' and its peers' tenants', as it last
/// checked them.
async fn documents(app: &App) -> Result<BTreeMap<String, (Option<String>, String)>, AppError> {
    let mut documents = BTreeMap::new();
    for peer in app.store.peer_documents().await? {
        documents.insert(peer.did, (Some(peer.peer_url), peer.document));
    }
    for tenant in app.store.tenants().await? {
        let signer = Signer::Tenant(tenant.code.clone());
        match crate::credentials::did_document(app, &signer).await {
            Ok(document) => {
                documents.insert(did(&app.settings.public_url, &signer), (None, document));
            }
            Err(AppError::NotFound) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(documents)
}

/// The DID document of one tenant, of this node or of a peer, as `documents` holds it.
async fn document_of(app: &App, did_of: &str) -> Result<Option<String>, AppError> {
    if let Some(Destination::Local(tenant)) = destination(app, did_of).await? {
        return match crate::credentials::did_document(app, &Signer::Tenant(tenant)).await {
            Ok(document) => Ok(Some(document)),
            Err(AppError::NotFound) => Ok(None),
            Err(error) => Err(error),
        };
    }
    Ok(app
        .store
        .peer_documents()
        .await?
        .into_iter()
        .find(|peer| peer.did == did_of)
        .map(|peer| peer.document))
}

/// Where a destination is: one of this node's tenants, or a peer's at its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Local(TenantCode),
    Peer { url: String, tenant: String },
}

/// Finds a destination among this node's tenants and its peers' tenants.
pub async fn destination(app: &App, did_of: &str) -> Result<Option<Destination>, AppError> {
    let prefix = format!(
        "{}:tenants:",
        did(&app.settings.public_url, &Signer::Operator)
    );
    if let Some(code) = did_of.strip_prefix(&prefix)
        && let Ok(tenant) = TenantCode::parse(code)
    {
        return match app.store.tenant(&tenant).await {
            Ok(_) => Ok(Some(Destination::Local(tenant))),
            Err(StoreError::NotFound) => Ok(None),
            Err(error) => Err(error.into()),
        };
    }
    let peer = app
        .store
        .peer_documents()
        .await?
        .into_iter()
        .find(|peer| peer.did == did_of);
    Ok(peer.and_then(|peer| {
        let (_, tenant) = did_of.rsplit_once(":tenants:")?;
        Some(Destination::Peer {
            url: peer.peer_url,
            tenant: tenant.to_owned(),
        })
    }))
}

/// A tenant a volunteer of `tenant` may move to: this node's other tenants by name, and the
/// peers' tenants whose DID documents this node has read and checked, by DID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationChoice {
    pub did: String,
    /// The tenant's name where this node holds it; a peer's tenant is named by its DID.
    pub name: Option<zhiyuan_domain::LocalizedName>,
}

pub async fn destinations(
    app: &App,
    tenant: &TenantCode,
) -> Result<Vec<DestinationChoice>, AppError> {
    let mut choices: Vec<DestinationChoice> = app
        .store
        .tenants()
        .await?
        .into_iter()
        .filter(|other| &other.code != tenant)
        .map(|other| DestinationChoice {
            did: did(
                &app.settings.public_url,
                &Signer::Tenant(other.code.clone()),
            ),
            name: Some(other.name),
        })
        .collect();
    choices.extend(
        app.store
            .peer_documents()
            .await?
            .into_iter()
            .map(|peer| DestinationChoice {
                did: peer.did,
                name: None,
            }),
    );
    Ok(choices)
}

/// The signed-in volunteer asks to move to `destination`, consenting to what is sent.
pub async fn request(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
    request: TransferRequest,
) -> Result<TransferView, AppError> {
    let volunteer = own_record(app, principal, tenant).await?;
    if !request.consent {
        return Err(InvalidInput::new("/consent", Rule::TransferConsentMissing).into());
    }
    let own = did(&app.settings.public_url, &Signer::Tenant(tenant.clone()));
    if request.destination == own {
        return Err(InvalidInput::new("/destination", Rule::TransferToItself).into());
    }
    if destination(app, &request.destination).await?.is_none() {
        return Err(InvalidInput::new("/destination", Rule::TransferDestinationUnknown).into());
    }
    if volunteer.status == zhiyuan_domain::VolunteerStatus::Verified {
        let registered = app
            .store
            .credentials_of_volunteer(tenant, volunteer.id)
            .await?
            .iter()
            .any(|credential| credential.kind == zhiyuan_domain::CredentialKind::Registration);
        if !registered {
            return Err(AppError::WrongState(Rule::RegistrationNotSigned));
        }
    }
    let transfer = NewTransfer {
        id: Uuid::now_v7(),
        volunteer_id: volunteer.id,
        destination: request.destination,
        consent: CONSENT.to_owned(),
    };
    let stored = app
        .store
        .request_transfer(tenant, &transfer, &principal.actor(), app.clock.now())
        .await
        .map_err(|error| match error {
            StoreError::Refused(rule) => AppError::WrongState(rule),
            other => other.into(),
        })?;
    Ok(transfer_view(stored))
}

/// The signed-in volunteer's transfers from this tenant, the latest first.
pub async fn own_transfers(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
) -> Result<Vec<TransferView>, AppError> {
    let volunteer = own_record(app, principal, tenant).await?;
    Ok(app
        .store
        .transfers_of_volunteer(tenant, volunteer.id)
        .await?
        .into_iter()
        .map(transfer_view)
        .collect())
}

/// Composes a transfer's message as the sender delivers it; `None` while some of the
/// volunteer's records are not signed yet (the issuer signs them within a round).
pub async fn compose(
    app: &App,
    sender: &TenantCode,
    transfer_id: Uuid,
) -> Result<Option<String>, AppError> {
    let transfer = app.store.transfer_out(sender, transfer_id).await?;
    let volunteer_id = transfer.volunteer_id;
    if app.store.unsigned_records(sender, volunteer_id).await? > 0 {
        return Ok(None);
    }
    let credentials = app
        .store
        .credentials_of_volunteer(sender, volunteer_id)
        .await?;
    let ids: Vec<&str> = credentials
        .iter()
        .map(|credential| credential.id.as_str())
        .collect();
    let (checkpoint, inclusion) = log_evidence(app, sender, &ids).await?;
    let items = credentials
        .iter()
        .map(|credential| {
            serde_json::from_str::<Value>(&credential.document).map_err(|error| {
                AppError::Internal(format!("stored credential {}: {error}", credential.id))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut parts = vec![CredentialPart {
        items,
        checkpoint,
        inclusion: inclusion
            .iter()
            .map(|proof| serde_json::to_value(proof).unwrap_or(Value::Null))
            .collect(),
    }];
    for earlier in app.store.transfers_into(sender, volunteer_id).await? {
        let message: TransferParts = serde_json::from_str(&earlier.bundle)
            .map_err(|error| AppError::Internal(format!("a transfer kept: {error}")))?;
        parts.extend(message.parts);
    }
    let volunteer = app.store.volunteer(sender, volunteer_id).await?;
    let salt = app
        .store
        .commitment_salt(sender, volunteer_id)
        .await?
        .ok_or(AppError::WrongState(Rule::RegistrationNotSigned))?;
    let id_number = app
        .store
        .reveal_id_number(
            sender,
            volunteer_id,
            &Actor::system("transfer"),
            app.clock.now(),
        )
        .await?;
    let account = match volunteer.account_id {
        Some(account_id) => {
            let account = app.store.account(Some(sender), account_id).await?;
            let username = zhiyuan_domain::Username::parse(&account.username, "/username")?;
            app.store
                .account_for_sign_in(Some(sender), &username)
                .await?
                .map(|(_, password_hash)| TransferredAccount {
                    username: account.username.clone(),
                    password_hash,
                })
        }
        None => None,
    };
    let message = TransferMessage {
        transfer: transfer.id,
        destination: transfer.destination,
        volunteer: TransferredPerson {
            name: volunteer.name,
            id_kind: volunteer.id_kind,
            id_number,
            mobile: volunteer.mobile,
            skills: volunteer.skills,
            service_categories: volunteer.service_categories,
            account,
        },
        identity_salt: URL_SAFE_NO_PAD.encode(salt),
        parts,
    };
    serde_json::to_string(&message)
        .map(Some)
        .map_err(|error| AppError::Internal(format!("a transfer's message: {error}")))
}

/// What a transfer kept at its destination holds: its credentials, as they came.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct TransferParts {
    parts: Vec<CredentialPart>,
}

/// What a destination answered a transfer's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Registered: the destination's answer, with its signed receipt.
    Receipt(String),
    /// Refused, for good: why, in the destination's words.
    Refused(String),
}

/// Settles a transfer that was sending with its destination's answer. A receipt is checked
/// against the destination's DID document before it completes the transfer; one that does not
/// verify is an error, and the message is tried again.
pub async fn settle(
    app: &App,
    message: &PendingMessage,
    answer: Answer,
) -> Result<TransferView, AppError> {
    let sender = TenantCode::parse(&message.sender)
        .map_err(|_| AppError::Internal(format!("a message of {}", message.sender)))?;
    let settled = match answer {
        Answer::Receipt(answer) => {
            let receipt = serde_json::from_str::<Value>(&answer)
                .ok()
                .map(|answer| answer["receipt"].clone())
                .filter(Value::is_object)
                .ok_or_else(|| AppError::Internal("an answer without a receipt".into()))?;
            let issuer_document = document_of(app, &message.message.destination)
                .await?
                .ok_or_else(|| AppError::Internal("the destination's keys are unknown".into()))?;
            let receipt_text = receipt.to_string();
            let bundle = receipt.clone();
            let verifier = app.verifier.clone();
            let findings = crate::blocking(move || verifier.audit(bundle, &[issuer_document]))
                .await?
                .map_err(AppError::Internal)?;
            let verified = findings.len() == 1
                && findings[0].refusal.is_none()
                && findings[0].issuer.as_deref() == Some(message.message.destination.as_str())
                && receipt["credentialSubject"]["transfer"] == json!(message.message.id);
            if !verified {
                return Err(AppError::Internal(
                    "the destination's receipt does not verify".into(),
                ));
            }
            app.store
                .settle_transfer(
                    &sender,
                    message.message.id,
                    &answer,
                    Ok(&receipt_text),
                    app.clock.now(),
                )
                .await?
        }
        Answer::Refused(reason) => {
            app.store
                .settle_transfer(
                    &sender,
                    message.message.id,
                    &reason,
                    Err(&reason),
                    app.clock.now(),
                )
                .await?
        }
    };
    Ok(transfer_view(settled))
}

/// A signed request's message to one of this node's tenants, from a peer node: its signature
/// checked, its nonce taken once, then applied (`apply`). Answers what the receiver answers.
pub async fn receive(
    app: &App,
    receiver: &TenantCode,
    request: &SignedRequest,
    message: TransferMessage,
) -> Result<Value, AppError> {
    app.store.tenant(receiver).await?;
    let documents = documents(app).await?;
    let texts: Vec<String> = documents
        .values()
        .map(|(_, document)| document.clone())
        .collect();
    let now = app.clock.now();
    let verifier = app.verifier.clone();
    let owned = request.clone();
    let signature: RequestSignature = crate::blocking(move || {
        verifier.verify_request(&owned, now.unix_millis() / 1000, SKEW_SECONDS, &texts)
    })
    .await?
    .map_err(|_| AppError::Refused(Rule::RequestSignatureRefused))?;
    let fresh = app
        .store
        .accept_nonce(
            receiver.as_str(),
            &signature.key_id,
            &signature.nonce,
            Timestamp::from_unix_millis(signature.created * 1000),
            now.plus_seconds(-SKEW_SECONDS),
        )
        .await?;
    if !fresh {
        return Err(AppError::Refused(Rule::RequestSignatureRefused));
    }
    apply_with(app, receiver, &signature.did, message, &documents).await
}

/// Applies a transfer's message from the tenant `origin` (a DID) to `receiver`: the message of
/// a peer once its signature verified, or of another tenant of this node as it is.
pub async fn apply(
    app: &App,
    receiver: &TenantCode,
    origin: &str,
    message: TransferMessage,
) -> Result<Value, AppError> {
    let documents = documents(app).await?;
    apply_with(app, receiver, origin, message, &documents).await
}

/// `apply`, with the DID documents this node holds as the caller read them.
async fn apply_with(
    app: &App,
    receiver: &TenantCode,
    origin: &str,
    message: TransferMessage,
    documents: &BTreeMap<String, (Option<String>, String)>,
) -> Result<Value, AppError> {
    let own = did(&app.settings.public_url, &Signer::Tenant(receiver.clone()));
    if message.destination != own {
        return Err(InvalidInput::new("/destination", Rule::TransferDestinationUnknown).into());
    }
    let message_id = message.transfer.to_string();
    if let Some(answer) = app
        .store
        .inbox_answer(receiver.as_str(), origin, &message_id)
        .await?
    {
        return parse_answer(&answer);
    }
    let transfer = message.transfer;
    let arrival = check(app, origin, message, documents).await?;
    let now = app.clock.now();
    let receipt_id = format!("urn:uuid:{}", Uuid::now_v7());
    let status = if arrival.verified {
        "verified"
    } else {
        "pending"
    };
    let subject = json!({
        "type": "TransferReceipt",
        "transfer": transfer,
        "volunteerNumber": arrival.volunteer_number.as_str(),
        "from": origin,
        "records": arrival.records,
        "minutes": arrival.minutes.get(),
        "registration": status,
        "receivedAt": now.to_utc_rfc3339(),
    });
    let document =
        credential_document(&own, &receipt_id, "TransferReceiptCredential", now, subject);
    let signer = Signer::Tenant(receiver.clone());
    let receipt = app
        .signer
        .secure(&signer, &own, &document.to_string(), now)
        .map_err(AppError::Internal)?;
    let receipt: Value = serde_json::from_str(&receipt)
        .map_err(|error| AppError::Internal(format!("a receipt: {error}")))?;
    let answer = json!({ "receipt": receipt }).to_string();
    let incoming = IncomingMessage {
        origin,
        id: &message_id,
        kind: zhiyuan_store::TRANSFER_MESSAGE,
    };
    let received = app
        .store
        .receive_transfer(receiver, incoming, &arrival, &answer, now)
        .await
        .map_err(|error| match error {
            StoreError::Refused(rule) => AppError::WrongState(rule),
            other => other.into(),
        })?;
    match received {
        (Received::Again(first), _) => parse_answer(&first),
        (Received::First, Some(volunteer)) => {
            crate::service::update_star_level_of(app, receiver, volunteer).await?;
            parse_answer(&answer)
        }
        (Received::First, None) => parse_answer(&answer),
    }
}

fn parse_answer(answer: &str) -> Result<Value, AppError> {
    serde_json::from_str(answer)
        .map_err(|error| AppError::Internal(format!("a recorded answer: {error}")))
}

fn refused(field: impl Into<String>) -> AppError {
    InvalidInput::new(field, Rule::TransferBundleRefused).into()
}

/// The checks of a transfer's message, before anything is written: every credential against
/// its issuer's keys and log, all of one volunteer, the origin's own first with the
/// registration, and the identity sent against the registration's commitment. Answers what
/// the destination registers.
async fn check(
    app: &App,
    origin: &str,
    message: TransferMessage,
    documents: &BTreeMap<String, (Option<String>, String)>,
) -> Result<TransferArrival, AppError> {
    let Some(first) = message.parts.first() else {
        return Err(refused("/parts"));
    };
    // What the destination keeps of the transfer, as it came.
    let bundle = serde_json::to_string(&TransferPartsRef {
        parts: &message.parts,
    })
    .map_err(|error| AppError::Internal(format!("a transfer's parts: {error}")))?;
    // Records in force, by issuer and record: a correction replaces the record it names.
    let mut records: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut corrected: BTreeSet<(String, String)> = BTreeSet::new();
    let mut number: Option<&str> = None;
    let mut keys_of_parts = Vec::with_capacity(message.parts.len());
    for (at, part) in message.parts.iter().enumerate() {
        let issuers: BTreeSet<&str> = part
            .items
            .iter()
            .filter_map(|credential| credential["issuer"].as_str())
            .collect();
        let mut known = Vec::new();
        for issuer in &issuers {
            match documents.get(*issuer) {
                Some((_, document)) => known.push(document.clone()),
                None => return Err(refused(format!("/parts/{at}"))),
            }
        }
        if at == 0 && issuers.iter().any(|issuer| *issuer != origin) {
            return Err(refused("/parts/0"));
        }
        keys_of_parts.push(known);
        for (index, credential) in part.items.iter().enumerate() {
            let subject = &credential["credentialSubject"];
            let holder = subject["volunteerNumber"].as_str().unwrap_or_default();
            match number {
                None => number = Some(holder),
                Some(number) if number != holder => {
                    return Err(refused(format!("/parts/{at}/items/{index}")));
                }
                Some(_) => {}
            }
            if subject["type"] == "ServiceRecord" {
                let issuer = credential["issuer"].as_str().unwrap_or_default().to_owned();
                let record = subject["record"].as_str().unwrap_or_default().to_owned();
                let minutes = subject["minutes"].as_u64().unwrap_or(0);
                records.insert((issuer.clone(), record), minutes);
                if let Some(corrects) = subject["corrects"].as_str() {
                    corrected.insert((issuer, corrects.to_owned()));
                }
            }
        }
    }
    let registrations: Vec<&Value> = first
        .items
        .iter()
        .filter(|credential| credential["credentialSubject"]["type"] == "VolunteerRegistration")
        .collect();
    let [registration] = registrations.as_slice() else {
        return Err(refused("/parts/0"));
    };
    let registration_id = registration["id"].as_str().unwrap_or_default().to_owned();
    let subject = registration["credentialSubject"].clone();
    let volunteer_number =
        VolunteerNumber::parse(subject["volunteerNumber"].as_str().unwrap_or(""))
            .map_err(|_| refused("/parts/0"))?;

    let person = &message.volunteer;
    let today = app.clock.now().shanghai_date();
    let id_number = IdNumber::parse(
        person.id_kind,
        &person.id_number,
        today,
        "/volunteer/id_number",
    )?;
    let salt: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&message.identity_salt)
        .ok()
        .and_then(|salt| salt.try_into().ok())
        .ok_or_else(|| InvalidInput::new("/identity_salt", Rule::TransferIdentityMismatch))?;
    let commitment = URL_SAFE_NO_PAD.encode(zhiyuan_store::identity_commitment(
        &salt,
        id_number.kind(),
        id_number.expose(),
    ));
    let committed = subject["identityDocument"]["commitment"].as_str() == Some(&commitment)
        && subject["identityDocument"]["kind"].as_str() == Some(id_number.kind().as_str())
        && subject["name"].as_str() == Some(person.name.as_str());
    if !committed {
        return Err(InvalidInput::new("/volunteer", Rule::TransferIdentityMismatch).into());
    }
    let tenant_region = message
        .destination
        .rsplit_once(":tenants:")
        .and_then(|(_, code)| RegionCode::parse(code).ok())
        .ok_or_else(|| InvalidInput::new("/destination", Rule::TransferDestinationUnknown))?;
    let volunteer = NewVolunteer {
        name: PersonName::parse(&person.name, "/volunteer/name")?,
        id_number,
        mobile: MobileNumber::parse(&person.mobile, "/volunteer/mobile")?,
        region: tenant_region.clone(),
        unit: None,
        skills: zhiyuan_domain::parse_tags(&person.skills, "/volunteer/skills")?,
        service_categories: person.service_categories.clone(),
        availability: None,
    };
    let receiver = TenantCode::parse(tenant_region.as_str())
        .map_err(|_| InvalidInput::new("/destination", Rule::TransferDestinationUnknown))?;
    let account = match &person.account {
        Some(account) => Some(zhiyuan_store::NewAccount {
            tenant: Some(receiver.clone()),
            username: zhiyuan_domain::Username::parse(
                &account.username,
                "/volunteer/account/username",
            )?,
            display_name: volunteer.name.as_str().to_owned(),
            password_hash: account.password_hash.clone(),
            grants: Vec::new(),
        }),
        None => None,
    };

    // Then every credential against its issuer's keys and log, each part in one pass over
    // the cores: the parts are handed over, as nothing after needs them.
    let mut seen = BTreeSet::new();
    for (at, (part, known)) in message.parts.into_iter().zip(keys_of_parts).enumerate() {
        let count = part.items.len();
        let verifier = app.verifier.clone();
        let findings = crate::blocking(move || verifier.audit(part_bundle(part), &known))
            .await?
            .map_err(|_| refused(format!("/parts/{at}/checkpoint")))?;
        if findings.len() != count {
            return Err(refused(format!("/parts/{at}")));
        }
        for (index, finding) in findings.into_iter().enumerate() {
            if finding.refusal.is_some() || finding.logged_in.is_none() {
                return Err(refused(format!("/parts/{at}/items/{index}")));
            }
            if !seen.insert(finding.id) {
                return Err(refused(format!("/parts/{at}/items/{index}")));
            }
        }
    }

    let verified = !app.store.transfer_review(&receiver).await?;
    let in_force: Vec<u64> = records
        .iter()
        .filter(|(key, _)| !corrected.contains(*key))
        .map(|(_, minutes)| *minutes)
        .collect();
    Ok(TransferArrival {
        account,
        volunteer,
        volunteer_number,
        verified,
        registration: registration_id,
        bundle,
        records: in_force.len() as u64,
        minutes: Minutes::new(in_force.iter().sum()),
    })
}

/// What a transfer kept at its destination holds, as it is written.
#[derive(Serialize)]
struct TransferPartsRef<'a> {
    parts: &'a [CredentialPart],
}

/// Whether a destination's HTTP answer refuses a transfer for good (its content broke a rule,
/// the destination's state forbids it, or it is larger than the destination takes: 422, 409,
/// 413) rather than failing (tried again).
pub fn is_final_refusal(status: u16) -> bool {
    matches!(status, 409 | 413 | 422)
}

/// The operator's view of the messages this node's tenants send: per destination, how many
/// are pending, delivered and dead, and when the next is due.
pub async fn outbox(app: &App) -> Result<Vec<crate::views::DestinationView>, AppError> {
    Ok(app
        .store
        .outbox_summary()
        .await?
        .into_iter()
        .map(|summary| crate::views::DestinationView {
            destination: summary.destination,
            pending: summary.pending,
            delivered: summary.delivered,
            dead: summary.dead,
            next_attempt_at: summary.next_attempt_at,
        })
        .collect())
}

/// The operator sends a dead message again: pending from now, its attempts counted anew.
pub async fn retry(app: &App, sender: &TenantCode, id: Uuid) -> Result<(), AppError> {
    app.store
        .retry_message(sender.as_str(), id, app.clock.now())
        .await?;
    Ok(())
}

/// Why a destination refused a transfer for good, in its words, where the error is such a
/// refusal (its content broke a rule, or the destination's state forbids it); `None` where it
/// is a failure to try again after.
pub fn refusal(error: &AppError) -> Option<String> {
    match error {
        AppError::Invalid(invalid) => Some(format!(
            "{} ({}): {}",
            invalid.rule.code(),
            invalid.field,
            invalid.rule.message_en()
        )),
        AppError::WrongState(rule) => Some(format!("{}: {}", rule.code(), rule.message_en())),
        _ => None,
    }
}
