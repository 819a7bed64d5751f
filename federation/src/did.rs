//! Checking signed records as an auditor does, trusting no node: the keys of a `did:web` DID
//! document with the window in which each signed, the operator's proof over a tenant's
//! document, and credentials verified against those keys at the time they say they were
//! signed (`docs/federation.md`).

use serde_json::Value;
use zhiyuan_domain::Timestamp;

use crate::data_integrity::{ProofError, ReadProof, read_proof};
use crate::multikey::VerifyingKey;

/// What a check of a credential or a DID document refused, in the words an auditor reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("the DID document is not one Zhiyuan publishes: {0}")]
    MalformedDocument(String),
    #[error("the credential is not a JSON object with an id, an issuer and a proof: {0}")]
    MalformedCredential(String),
    #[error("no DID document of {0} was given")]
    UnknownIssuer(String),
    #[error("the key {0} is not in its issuer's DID document")]
    UnknownKey(String),
    #[error(
        "the key {key} signed at {signed}, outside the window in which it signed ({valid_from} to {valid_until})"
    )]
    OutsideWindow {
        key: String,
        signed: String,
        valid_from: String,
        valid_until: String,
    },
    #[error("the proof of {id}: {error}")]
    Proof { id: String, error: ProofError },
    #[error("the DID document of {0} has no proof by an operator key this auditor trusts")]
    NotEndorsed(String),
    #[error("{id} is not in its issuer's log: {reason}")]
    NotInLog { id: String, reason: String },
}

/// One key of a DID document, with the window in which it signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    /// `<did>#key-<version>`.
    pub id: String,
    pub key: VerifyingKey,
    pub valid_from: Timestamp,
    /// When the next key took over; none while it signs.
    pub valid_until: Option<Timestamp>,
}

/// A signer's keys, read from its DID document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidKeys {
    pub did: String,
    /// The DID of whoever controls the document (a tenant's operator), where it says.
    pub controller: Option<String>,
    pub keys: Vec<PublishedKey>,
}

fn malformed(reason: impl Into<String>) -> CredentialError {
    CredentialError::MalformedDocument(reason.into())
}

fn time(value: &Value, what: &str) -> Result<Timestamp, CredentialError> {
    value
        .as_str()
        .and_then(Timestamp::parse_rfc3339)
        .ok_or_else(|| malformed(format!("{what} is not an RFC 3339 time")))
}

impl DidKeys {
    /// Reads the verification methods of a DID document: Multikeys, each with `validFrom`
    /// and, once retired, `validUntil`.
    pub fn read(document: &Value) -> Result<DidKeys, CredentialError> {
        let did = document["id"]
            .as_str()
            .filter(|did| did.starts_with("did:"))
            .ok_or_else(|| malformed("it has no DID as its id"))?
            .to_owned();
        let methods = document["verificationMethod"]
            .as_array()
            .ok_or_else(|| malformed("it has no verificationMethod list"))?;
        let mut keys = Vec::with_capacity(methods.len());
        for method in methods {
            let id = method["id"]
                .as_str()
                .filter(|id| id.starts_with(&format!("{did}#")))
                .ok_or_else(|| malformed("a verification method's id is not under the DID"))?;
            if method["type"] != "Multikey" {
                return Err(malformed(format!("{id} is not a Multikey")));
            }
            let key = method["publicKeyMultibase"]
                .as_str()
                .ok_or_else(|| malformed(format!("{id} has no publicKeyMultibase")))
                .and_then(|key| {
                    VerifyingKey::from_multibase(key)
                        .map_err(|error| malformed(format!("{id}: {error}")))
                })?;
            let valid_until = match &method["validUntil"] {
                Value::Null => None,
                until => Some(time(until, &format!("{id}'s validUntil"))?),
            };
            keys.push(PublishedKey {
                id: id.to_owned(),
                key,
                valid_from: time(&method["validFrom"], &format!("{id}'s validFrom"))?,
                valid_until,
            });
        }
        Ok(DidKeys {
            did,
            controller: document["controller"].as_str().map(str::to_owned),
            keys,
        })
    }

    /// Reads a tenant's DID document and checks its operator's proof with the operator keys
    /// the auditor trusts: a document a node changed on its own does not verify.
    pub fn read_endorsed(
        document: &Value,
        operators: &[DidKeys],
    ) -> Result<DidKeys, CredentialError> {
        let keys = DidKeys::read(document)?;
        let controller = keys
            .controller
            .clone()
            .ok_or_else(|| CredentialError::NotEndorsed(keys.did.clone()))?;
        let operator = operators
            .iter()
            .find(|operator| operator.did == controller)
            .ok_or_else(|| CredentialError::NotEndorsed(keys.did.clone()))?;
        check_signed(document, std::slice::from_ref(operator))
            .map_err(|_| CredentialError::NotEndorsed(keys.did.clone()))?;
        Ok(keys)
    }
}

/// The name of a tenant's transparency log (its checkpoints' origin), from the tenant's DID:
/// the host of `did:web:<host>:tenants:<code>` (a port's `%3A` read back as `:`), `/log/`
/// and the code. Anything else is no tenant of a node.
pub fn log_origin(tenant_did: &str, code: &str) -> Result<String, CredentialError> {
    let host = tenant_did
        .strip_prefix("did:web:")
        .and_then(|rest| rest.strip_suffix(&format!(":tenants:{code}")))
        .filter(|host| !host.is_empty() && !host.contains(':'))
        .ok_or_else(|| malformed(format!("{tenant_did} is not the did:web of tenant {code}")))?;
    Ok(format!("{}/log/{code}", host.replace("%3A", ":")))
}

/// Reads a document's proof and finds the published key it names, which must have signed at
/// the time the proof says it was made; the signature is checked after (`check_signed`).
fn read_signed(document: &Value, signers: &[DidKeys]) -> Result<ReadProof, CredentialError> {
    let id = document["id"].as_str().unwrap_or("the document").to_owned();
    let proof = &document["proof"];
    let method = proof["verificationMethod"].as_str().unwrap_or_default();
    let did = method.split_once('#').map_or(method, |(did, _)| did);
    let signer = signers
        .iter()
        .find(|signer| signer.did == did)
        .ok_or_else(|| CredentialError::UnknownIssuer(did.to_owned()))?;
    let published = signer
        .keys
        .iter()
        .find(|key| key.id == method)
        .ok_or_else(|| CredentialError::UnknownKey(method.to_owned()))?;
    let created = proof["created"]
        .as_str()
        .and_then(Timestamp::parse_rfc3339)
        .ok_or_else(|| CredentialError::Proof {
            id: id.clone(),
            error: ProofError::MalformedProofValue,
        })?;
    let before_start = created.unix_millis() < published.valid_from.unix_millis();
    let after_end = published
        .valid_until
        .is_some_and(|until| created.unix_millis() >= until.unix_millis());
    if before_start || after_end {
        return Err(CredentialError::OutsideWindow {
            key: method.to_owned(),
            signed: created.to_utc_rfc3339(),
            valid_from: published.valid_from.to_utc_rfc3339(),
            valid_until: published
                .valid_until
                .map_or_else(|| "now".to_owned(), Timestamp::to_utc_rfc3339),
        });
    }
    read_proof(document, |_| Some(published.key.clone()))
        .map_err(|error| CredentialError::Proof { id, error })
}

/// Checks a document's proof with the published key it names, at the time the proof says it
/// was made; answers the document without its proof.
fn check_signed(document: &Value, signers: &[DidKeys]) -> Result<Value, CredentialError> {
    let proof = read_signed(document, signers)?;
    if proof.key.verify(&proof.data, &proof.signature) {
        Ok(proof.document)
    } else {
        Err(bad_signature(document))
    }
}

fn bad_signature(document: &Value) -> CredentialError {
    CredentialError::Proof {
        id: document["id"].as_str().unwrap_or("the document").to_owned(),
        error: ProofError::BadSignature,
    }
}

/// A credential verified: its id, issuer and what it states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCredential {
    pub id: String,
    pub issuer: String,
    /// The credential as signed, without its proof.
    pub document: Value,
    /// The SHA-256 of the credential's canonical form, proof and all, as a log entry holds it.
    pub digest: [u8; 32],
}

/// Verifies a credential against the keys of its issuer's DID document: the proof is of
/// `eddsa-jcs-2022`, by a key of the issuer's document that signed at the time the proof
/// says, over the credential as it is, byte for byte in its canonical form.
pub fn verify_credential(
    credential: &Value,
    issuers: &[DidKeys],
) -> Result<VerifiedCredential, CredentialError> {
    verify_together(std::slice::from_ref(credential), issuers)
        .pop()
        .expect("one result for one credential")
}

/// Reads a credential's id, issuer and proof, checking all but the signature.
fn read_credential(
    credential: &Value,
    issuers: &[DidKeys],
) -> Result<(String, String, ReadProof), CredentialError> {
    let id = credential["id"]
        .as_str()
        .ok_or_else(|| CredentialError::MalformedCredential("no id".into()))?
        .to_owned();
    let issuer = credential["issuer"]
        .as_str()
        .ok_or_else(|| CredentialError::MalformedCredential(format!("{id} has no issuer")))?
        .to_owned();
    let method = credential["proof"]["verificationMethod"]
        .as_str()
        .unwrap_or_default();
    // A credential is its issuer's: a key of another DID does not sign for it.
    if !method
        .strip_prefix(issuer.as_str())
        .is_some_and(|fragment| fragment.starts_with('#'))
    {
        return Err(CredentialError::UnknownKey(method.to_owned()));
    }
    Ok((id, issuer, read_signed(credential, issuers)?))
}

/// `verify_credential` of each of `credentials`, their signatures checked together
/// (`VerifyingKey::verify_all`); where the batch fails, each alone, so that the refusal names
/// its credential. The results are in the order of the credentials.
pub(crate) fn verify_together(
    credentials: &[Value],
    issuers: &[DidKeys],
) -> Vec<Result<VerifiedCredential, CredentialError>> {
    let read: Vec<_> = credentials
        .iter()
        .map(|credential| read_credential(credential, issuers))
        .collect();
    let signed: Vec<_> = read
        .iter()
        .flatten()
        .map(|(_, _, proof)| (&proof.key, proof.data.as_slice(), &proof.signature))
        .collect();
    let all_hold = VerifyingKey::verify_all(&signed);
    read.into_iter()
        .zip(credentials)
        .map(|(read, credential)| {
            let (id, issuer, proof) = read?;
            if all_hold || proof.key.verify(&proof.data, &proof.signature) {
                Ok(VerifiedCredential {
                    id,
                    issuer,
                    document: proof.document,
                    digest: proof.digest,
                })
            } else {
                Err(bad_signature(credential))
            }
        })
        .collect()
}

/// Verifies many credentials at once, spread over the machine's cores, each core's share
/// checked together; the results are in the order of the credentials.
pub fn verify_credentials(
    credentials: &[Value],
    issuers: &[DidKeys],
) -> Vec<Result<VerifiedCredential, CredentialError>> {
    in_parallel(credentials, |share| verify_together(share, issuers))
}

/// `check` of each share of `credentials`, spread over the machine's cores (a share each); the
/// results are in the order of the credentials.
pub(crate) fn in_parallel<T: Send>(
    credentials: &[Value],
    check: impl Fn(&[Value]) -> Vec<T> + Sync,
) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 16);
    let chunk = credentials.len().div_ceil(threads).max(1);
    let check = &check;
    std::thread::scope(|scope| {
        let handles: Vec<_> = credentials
            .chunks(chunk)
            .map(|share| scope.spawn(move || check(share)))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("a checking thread does not panic"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logs_name_comes_from_its_tenants_did() {
        assert_eq!(
            log_origin("did:web:zhiyuan.example:tenants:421300", "421300").unwrap(),
            "zhiyuan.example/log/421300"
        );
        assert_eq!(
            log_origin("did:web:127.0.0.1%3A8080:tenants:420700", "420700").unwrap(),
            "127.0.0.1:8080/log/420700"
        );
        for (did, code) in [
            ("did:web:zhiyuan.example:tenants:421300", "420700"),
            ("did:web:zhiyuan.example:other:tenants:421300", "421300"),
            ("did:key:z6Mk:tenants:421300", "421300"),
        ] {
            assert!(log_origin(did, code).is_err(), "{did}");
        }
    }
}
