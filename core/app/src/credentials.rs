//! Signed records (R6, `docs/federation.md`): who signs (each tenant's `did:web` identity and
//! its keys with their validity windows, vouched for by the node's operator), and what it
//! signs: a W3C Verifiable Credential for every verified registration, service record and
//! issued certificate, appended to the tenant's transparency log as it is stored. Credentials
//! are issued in batches by the node's issuer (`issue_pending`), so that scanning a card or
//! deciding an application never waits on a signature; the log therefore gains a batch, and a
//! new checkpoint, at most once a round.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;
use zhiyuan_domain::ports::Signer;
use zhiyuan_domain::{
    CredentialKind, InvalidInput, LogEntry, Principal, Rule, TenantCode, Timestamp,
};
use zhiyuan_store::{NewCredential, SigningKeyRecord, StoredCredential, Unissued};

use crate::log::host;
use crate::views::{
    CredentialAuditView, CredentialFindingView, CredentialView, InclusionProofView,
    OwnCredentialsView,
};
use crate::volunteers::own_record;
use crate::{App, AppError};

/// The context every credential and DID document opens with.
pub const CREDENTIALS_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
const DID_CONTEXT: &str = "https://www.w3.org/ns/did/v1";
const MULTIKEY_CONTEXT: &str = "https://w3id.org/security/multikey/v1";

/// How far back the issuer looks again for what was written while it last looked: far beyond
/// any transaction's life, so that a record committed late is never passed over.
pub const ISSUER_MARGIN_MILLIS: i64 = 10 * 60 * 1000;

/// The `did:web` of a signer on this node: the operator's is the node's host
/// (`/.well-known/did.json`), a tenant's is under it (`/tenants/<code>/did.json`). A port is
/// written `%3A`, as did:web requires.
pub fn did(public_url: &str, signer: &Signer) -> String {
    let host = host(public_url).replace(':', "%3A");
    match signer {
        Signer::Operator => format!("did:web:{host}"),
        Signer::Tenant(tenant) => format!("did:web:{host}:tenants:{tenant}"),
    }
}

/// Records the keys a signer signs with now: a version first used opens its validity window,
/// and closes its predecessor's. The node does it for every signer at start, and for a tenant
/// added later before it first signs a credential.
pub async fn publish_keys(app: &App, signer: &Signer) -> Result<(), AppError> {
    let keys = app.signer.keys(signer).map_err(AppError::Internal)?;
    app.store
        .record_signing_keys(
            signer.realm(),
            &keys.versions,
            keys.current,
            app.clock.now(),
        )
        .await?;
    Ok(())
}

/// Every signer of the node: the operator, then each tenant.
pub async fn signers(app: &App) -> Result<Vec<Signer>, AppError> {
    let mut signers = vec![Signer::Operator];
    signers.extend(
        app.store
            .tenants()
            .await?
            .into_iter()
            .map(|tenant| Signer::Tenant(tenant.code)),
    );
    Ok(signers)
}

fn verification_method(did: &str, key: &SigningKeyRecord) -> Value {
    let mut method = json!({
        "id": format!("{did}#key-{}", key.version),
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": key.public_key,
        "validFrom": key.valid_from.to_utc_rfc3339(),
    });
    if let Some(until) = key.valid_until {
        method["validUntil"] = until.to_utc_rfc3339().into();
    }
    method
}

/// A signer's DID document: every version of its key that ever signed, each with the window
/// in which it did, so that records signed before a rotation verify for ever. A tenant's is
/// controlled by the operator and carries the operator's proof; the operator's is its own.
/// Answered in canonical form (RFC 8785); the same keys give the same bytes.
pub async fn did_document(app: &App, signer: &Signer) -> Result<String, AppError> {
    if let Signer::Tenant(tenant) = signer {
        app.store.tenant(tenant).await?;
    }
    let public_url = &app.settings.public_url;
    let id = did(public_url, signer);
    let keys = app.store.signing_keys(signer.realm()).await?;
    if keys.is_empty() {
        return Err(AppError::NotFound);
    }
    let methods: Vec<Value> = keys
        .iter()
        .map(|key| verification_method(&id, key))
        .collect();
    let mut document = json!({
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": id,
        "verificationMethod": methods,
        "assertionMethod": keys.iter().map(|key| format!("{id}#key-{}", key.version)).collect::<Vec<_>>(),
    });
    let operator = Signer::Operator;
    if matches!(signer, Signer::Tenant(_)) {
        document["controller"] = did(public_url, &operator).into();
    }
    // The last change of the keys dates the proof, so that the document is the same until
    // the keys change.
    let changed = keys
        .iter()
        .flat_map(|key| [Some(key.valid_from), key.valid_until])
        .flatten()
        .max_by_key(|at| at.unix_millis())
        .unwrap_or(app.clock.now());
    app.signer
        .secure(
            &operator,
            &did(public_url, &operator),
            &document.to_string(),
            changed,
        )
        .map_err(AppError::Internal)
}

/// The document of one credential before it is signed: the facts it states, nothing of the
/// identity number but a commitment to it.
pub(crate) fn credential_document(
    issuer: &str,
    id: &str,
    types: &str,
    valid_from: Timestamp,
    subject: Value,
) -> Value {
    json!({
        "@context": [CREDENTIALS_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", types],
        "issuer": issuer,
        "validFrom": valid_from.to_utc_rfc3339(),
        "credentialSubject": subject,
    })
}

/// What a round of the issuer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issued {
    pub issued: usize,
    /// Where the next round looks from.
    pub next_since: Timestamp,
    /// The log's size after the round.
    pub log_size: u64,
}

/// Issues credentials for what the tenant decided, recorded or issued from `since` on and has
/// none for yet, at most `limit` of each kind: signs each with the tenant's current key and
/// stores them with their log entries in one transaction. Safe to run beside another issuer:
/// what one stored, the other's transaction drops.
pub async fn issue_pending(
    app: &App,
    tenant: &TenantCode,
    since: Timestamp,
    limit: u32,
) -> Result<Issued, AppError> {
    let now = app.clock.now();
    let unissued = app
        .store
        .unissued(tenant, since, limit, rand::random::<[u8; 32]>)
        .await?;
    // Everything older than the last thing seen was seen; a record written meanwhile with an
    // earlier time is within the margin of now.
    let margin = Timestamp::from_unix_millis(now.unix_millis() - ISSUER_MARGIN_MILLIS);
    let mut next_since = margin;
    let full = |count: usize| count >= limit as usize;
    let Unissued {
        registrations,
        service_records,
        certificates,
    } = unissued;
    let mut latest = |count: usize, last: Option<Timestamp>| {
        if full(count)
            && let Some(last) = last
            && last.unix_millis() < next_since.unix_millis()
        {
            next_since = last;
        }
    };
    latest(
        registrations.len(),
        registrations
            .last()
            .map(|registration| registration.verified_at),
    );
    latest(
        service_records.len(),
        service_records.last().map(|(record, _)| record.recorded_at),
    );
    latest(
        certificates.len(),
        certificates
            .last()
            .and_then(|(certificate, _)| certificate.issued_at),
    );
    // Never go back further than where this round looked from.
    if next_since.unix_millis() < since.unix_millis() {
        next_since = since;
    }

    let signer = Signer::Tenant(tenant.clone());
    let issuer = did(&app.settings.public_url, &signer);
    let mut credentials = Vec::new();
    let mut sign = |kind: CredentialKind,
                    subject_id: Uuid,
                    volunteer_id: Uuid,
                    types: &str,
                    valid_from: Timestamp,
                    subject: Value,
                    new_salt: Option<[u8; 32]>|
     -> Result<(), AppError> {
        let id = format!("urn:uuid:{}", Uuid::now_v7());
        let document = credential_document(&issuer, &id, types, valid_from, subject);
        let document = app
            .signer
            .secure(&signer, &issuer, &document.to_string(), now)
            .map_err(AppError::Internal)?;
        credentials.push(NewCredential {
            id,
            kind,
            subject_id,
            volunteer_id,
            document,
            new_salt,
        });
        Ok(())
    };
    for registration in registrations {
        let subject = json!({
            "type": "VolunteerRegistration",
            "volunteerNumber": registration.volunteer_number.as_str(),
            "name": registration.name,
            "identityDocument": {
                "kind": registration.id_kind.as_str(),
                "commitment": URL_SAFE_NO_PAD.encode(registration.commitment),
            },
            "region": registration.region.as_str(),
            "verifiedAt": registration.verified_at.to_utc_rfc3339(),
        });
        sign(
            CredentialKind::Registration,
            registration.volunteer_id,
            registration.volunteer_id,
            "VolunteerRegistrationCredential",
            registration.verified_at,
            subject,
            registration.new_salt,
        )?;
    }
    for (record, number) in service_records {
        let mut subject = json!({
            "type": "ServiceRecord",
            "volunteerNumber": number.as_str(),
            "record": record.id.to_string(),
            "kind": record.kind.as_str(),
            "team": record.team_id.to_string(),
            "region": record.region.as_str(),
            "startedAt": record.started_at.to_utc_rfc3339(),
            "endedAt": record.ended_at.to_utc_rfc3339(),
            "minutes": record.minutes.get(),
            "content": record.content,
            "recordedAt": record.recorded_at.to_utc_rfc3339(),
        });
        if let Some(project) = record.project_id {
            subject["project"] = project.to_string().into();
        }
        if let Some(corrects) = record.corrects {
            subject["corrects"] = corrects.to_string().into();
        }
        sign(
            CredentialKind::ServiceRecord,
            record.id,
            record.volunteer_id,
            "ServiceRecordCredential",
            record.recorded_at,
            subject,
            None,
        )?;
    }
    for (certificate, number) in certificates {
        let (Some(certificate_number), Some(issued_at), Some(facts)) = (
            certificate.number.as_ref(),
            certificate.issued_at,
            certificate.facts.as_ref(),
        ) else {
            continue;
        };
        let subject = json!({
            "type": "ServiceCertificate",
            "volunteerNumber": number.as_str(),
            "certificateNumber": certificate_number,
            "name": facts["volunteer_name"],
            "issuerName": facts["issuer"],
            "periodFrom": facts["period_from"],
            "periodTo": facts["period_to"],
            "totalMinutes": facts["total_minutes"],
            "lines": facts["lines"],
            "issuedOn": facts["issued_on"],
        });
        sign(
            CredentialKind::Certificate,
            certificate.id,
            certificate.volunteer_id,
            "ServiceCertificateCredential",
            issued_at,
            subject,
            None,
        )?;
    }
    if credentials.is_empty() {
        let log_size = app.store.log_head(tenant).await?.size;
        return Ok(Issued {
            issued: 0,
            next_since,
            log_size,
        });
    }
    let (issued, head) = app
        .store
        .issue_credentials(tenant, &credentials, now)
        .await?;
    Ok(Issued {
        issued,
        next_since,
        log_size: head.size,
    })
}

fn credential_view(stored: StoredCredential) -> Result<CredentialView, AppError> {
    let credential: Value = serde_json::from_str(&stored.document)
        .map_err(|error| AppError::Internal(format!("stored credential {}: {error}", stored.id)))?;
    Ok(CredentialView {
        id: stored.id,
        kind: stored.kind,
        subject_id: stored.subject_id,
        issued_at: stored.issued_at,
        credential,
    })
}

/// The signed-in volunteer's credentials, with the salt of their identity commitment (with it
/// they can show that a registration credential is of their document, to whom they choose),
/// the tenant's log checkpoint, and each credential's proof of inclusion in it: a bundle an
/// auditor checks offline, years later, with the tenant's DID document alone.
pub async fn own_credentials(
    app: &App,
    principal: &Principal,
    tenant: &TenantCode,
) -> Result<OwnCredentialsView, AppError> {
    let volunteer = own_record(app, principal, tenant).await?;
    let stored = app
        .store
        .credentials_of_volunteer(tenant, volunteer.id)
        .await?;
    let ids: Vec<&str> = stored
        .iter()
        .map(|credential| credential.id.as_str())
        .collect();
    let (checkpoint, inclusion) = log_evidence(app, tenant, &ids).await?;
    let salt = app.store.commitment_salt(tenant, volunteer.id).await?;
    Ok(OwnCredentialsView {
        items: stored
            .into_iter()
            .map(credential_view)
            .collect::<Result<Vec<_>, _>>()?,
        identity_salt: salt.map(|salt| URL_SAFE_NO_PAD.encode(salt)),
        checkpoint,
        inclusion,
    })
}

/// The evidence that credentials are in the tenant's log: its checkpoint now, signed, and a
/// proof at its size for each credential it holds (a credential it does not hold has none).
pub(crate) async fn log_evidence(
    app: &App,
    tenant: &TenantCode,
    ids: &[&str],
) -> Result<(String, Vec<InclusionProofView>), AppError> {
    let entries = app.store.log_entries_by_id(tenant, ids).await?;
    // Read after the entries: the head holds every one of them.
    let head = app.store.log_head(tenant).await?;
    let logged: Vec<&(u64, LogEntry)> = ids.iter().filter_map(|id| entries.get(*id)).collect();
    let positions: Vec<u64> = logged.iter().map(|(position, _)| *position).collect();
    let proofs = app
        .store
        .log_inclusion_proofs(tenant, head.size, &positions)
        .await?;
    let inclusion = logged
        .into_iter()
        .zip(proofs)
        .map(|((index, entry), hashes)| {
            crate::log::inclusion_view(*index, head.size, entry, &hashes)
        })
        .collect();
    Ok((crate::log::sign_head(app, tenant, &head)?, inclusion))
}

/// The tenant's credentials in the order they were issued, a page at a time: for the office
/// and auditors. `after` is the last credential of the page before.
pub async fn credentials(
    app: &App,
    tenant: &TenantCode,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<CredentialView>, AppError> {
    app.store.tenant(tenant).await?;
    let after = match after {
        Some(id) => {
            let stored = app.store.credential(tenant, id).await?;
            Some((stored.issued_at, stored.id))
        }
        None => None,
    };
    app.store
        .credentials(tenant, after, limit.clamp(1, 1000))
        .await?
        .into_iter()
        .map(credential_view)
        .collect()
}

/// Credentials posted to be checked, in the shape of a volunteer's download: what the checks
/// read of it (`schemas/credential-audit.schema.json`).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct CredentialAuditRequest {
    pub items: Vec<AuditedCredential>,
    pub checkpoint: Option<String>,
    #[serde(default)]
    pub inclusion: Vec<InclusionProofView>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct AuditedCredential {
    #[schema(value_type = Object)]
    pub credential: Value,
}

/// Checks credentials as an auditor does, for anyone who asks (a page that checks a
/// certificate, an employer, another city): each credential against its issuer's DID
/// document, which this node holds when the issuer is one of its tenants or a tenant of a peer
/// it witnesses or exchanges transfers with (the copy it kept); and its inclusion in the issuer's log, by the checkpoint
/// and proofs the bundle carries, or, when it carries none and its credentials are of one of
/// this node's tenants, by that tenant's log as it stands. A credential of an issuer the node
/// does not hold is refused as such.
pub async fn audit(
    app: &App,
    mut request: CredentialAuditRequest,
) -> Result<CredentialAuditView, AppError> {
    let issuers: BTreeSet<&str> = request
        .items
        .iter()
        .filter_map(|item| item.credential["issuer"].as_str())
        .collect();
    let witnessed = app.store.witnessed_logs().await?;
    let peers = app.store.peer_documents().await?;
    let mut documents = Vec::new();
    let mut own = Vec::new();
    for issuer in issuers {
        if let Some(tenant) = own_tenant(app, issuer).await? {
            documents.push(did_document(app, &Signer::Tenant(tenant.clone())).await?);
            own.push(tenant);
            continue;
        }
        // A peer's tenant: the copy of its DID document kept when its log was last checked.
        let copy = witnessed.iter().find(|log| {
            serde_json::from_str::<Value>(&log.did_document)
                .is_ok_and(|document| document["id"] == issuer)
        });
        if let Some(log) = copy {
            documents.push(log.did_document.clone());
            continue;
        }
        // A tenant of a peer this node exchanges transfers with, as last read and checked.
        if let Some(peer) = peers.iter().find(|peer| peer.did == issuer) {
            documents.push(peer.document.clone());
        }
    }
    if request.checkpoint.is_none()
        && let [tenant] = own.as_slice()
    {
        let ids: Vec<&str> = request
            .items
            .iter()
            .filter_map(|item| item.credential["id"].as_str())
            .collect();
        let (checkpoint, inclusion) = log_evidence(app, tenant, &ids).await?;
        request.checkpoint = Some(checkpoint);
        request.inclusion = inclusion;
    }
    let bundle = serde_json::to_value(&request)
        .map_err(|error| AppError::Internal(format!("a bundle to audit: {error}")))?;
    let verifier = app.verifier.clone();
    let findings = crate::blocking(move || verifier.audit(bundle, &documents))
        .await?
        .map_err(|_| InvalidInput::new("/checkpoint", Rule::CheckpointRefused))?;
    let items: Vec<CredentialFindingView> = findings
        .into_iter()
        .map(|finding| CredentialFindingView {
            verified: finding.refusal.is_none(),
            id: finding.id,
            issuer: finding.issuer,
            logged_in: finding.logged_in,
            refusal: finding.refusal,
        })
        .collect();
    let verified = items.iter().filter(|item| item.verified).count() as u32;
    Ok(CredentialAuditView {
        refused: items.len() as u32 - verified,
        verified,
        items,
    })
}

/// The tenant of this node whose DID `did` is, if it is one.
async fn own_tenant(app: &App, did: &str) -> Result<Option<TenantCode>, AppError> {
    let prefix = format!(
        "{}:tenants:",
        self::did(&app.settings.public_url, &Signer::Operator)
    );
    let Some(tenant) = did
        .strip_prefix(&prefix)
        .and_then(|code| TenantCode::parse(code).ok())
    else {
        return Ok(None);
    };
    match app.store.tenant(&tenant).await {
        Ok(_) => Ok(Some(tenant)),
        Err(zhiyuan_store::StoreError::NotFound) => Ok(None),
        Err(error) => Err(error.into()),
    }
}
