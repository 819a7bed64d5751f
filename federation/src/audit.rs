//! An auditor's checks of a bundle of credentials, the one way every interface runs them (the
//! command line, online or offline, and a node's audit endpoint): each credential verified
//! against its issuer's DID document, and, where the bundle carries a checkpoint of the
//! issuer's log and a proof for the credential, its inclusion in that log.
//!
//! A bundle is what a node answers a volunteer who downloads their credentials
//! (`docs/federation.md`): `items`, each with its `credential`; the log's `checkpoint`, a signed
//! note; and `inclusion`, a proof for each credential at the checkpoint's size. A single
//! credential or a plain list of them is a bundle with no log evidence.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::did::{
    CredentialError, DidKeys, VerifiedCredential, in_parallel, log_origin, verify_together,
};
use crate::log::{Checkpoint, Hash, LogEntry, check_inclusion, entry_hash, open_checkpoint};
use crate::witness::note_text;

/// The proof that a credential's entry is in a log of `size` entries, as a node serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    pub hashes: Vec<Hash>,
}

impl InclusionProof {
    /// Reads a proof as a node serves it: `index`, `size` and `hashes`, each base64.
    pub fn read(answer: &Value) -> Result<InclusionProof, String> {
        let number = |name: &str| {
            answer[name]
                .as_u64()
                .ok_or_else(|| format!("the proof has no {name}"))
        };
        Ok(InclusionProof {
            index: number("index")?,
            size: number("size")?,
            hashes: read_hashes(answer)?,
        })
    }
}

/// The hashes of a proof as a node serves it (`hashes`, base64), of inclusion or consistency.
pub fn read_hashes(answer: &Value) -> Result<Vec<Hash>, String> {
    answer["hashes"]
        .as_array()
        .ok_or("the proof has no list of hashes")?
        .iter()
        .map(|hash| {
            let bytes = STANDARD
                .decode(hash.as_str().unwrap_or_default())
                .map_err(|_| "a hash of the proof is not base64")?;
            let bytes: [u8; 32] = bytes
                .try_into()
                .map_err(|_| "a hash of the proof is not 32 bytes")?;
            Ok(Hash(bytes))
        })
        .collect()
}

/// What the checks found of one credential.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The credential's id, as it says.
    pub id: String,
    pub result: Result<VerifiedCredential, CredentialError>,
    /// The size of the issuer's checkpoint the credential was shown to be in; none where the
    /// bundle had no checkpoint of its issuer's log.
    pub logged_in: Option<u64>,
}

/// What a bundle holds: its credentials, the checkpoint and the proofs by credential id.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    pub credentials: Vec<Value>,
    pub checkpoint: Option<String>,
    /// Each proof by the credential it is for, or why it does not read (which refuses that
    /// credential alone).
    pub inclusion: HashMap<String, Result<InclusionProof, String>>,
}

impl Bundle {
    /// Reads a bundle: one credential, a list of them, or a node's answer listing them
    /// (`items`, each with its `credential`), with its `checkpoint` and `inclusion` where it
    /// has them.
    pub fn read(document: Value) -> Result<Bundle, String> {
        let unwrap = |item: Value| match item {
            Value::Object(mut object) if object.contains_key("credential") => {
                object.remove("credential").unwrap_or(Value::Null)
            }
            other => other,
        };
        match document {
            Value::Array(items) => Ok(Bundle {
                credentials: items.into_iter().map(unwrap).collect(),
                ..Bundle::default()
            }),
            Value::Object(mut object) if object.contains_key("items") => {
                let credentials = match object.remove("items") {
                    Some(Value::Array(items)) => items.into_iter().map(unwrap).collect(),
                    _ => return Err("items is not a list".into()),
                };
                let checkpoint = match object.remove("checkpoint") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(note)) => Some(note),
                    Some(_) => return Err("checkpoint is not a signed note".into()),
                };
                let mut inclusion = HashMap::new();
                if let Some(proofs) = object.get("inclusion").and_then(Value::as_array) {
                    let read = in_parallel(proofs, |share| {
                        share
                            .iter()
                            .map(|proof| {
                                let id = proof["credential_id"].as_str().map(str::to_owned);
                                (id, InclusionProof::read(proof))
                            })
                            .collect()
                    });
                    for (id, proof) in read {
                        let id = id.ok_or("a proof names no credential_id")?;
                        inclusion.insert(id, proof);
                    }
                }
                Ok(Bundle {
                    credentials,
                    checkpoint,
                    inclusion,
                })
            }
            other => Ok(Bundle {
                credentials: vec![other],
                ..Bundle::default()
            }),
        }
    }
}

/// Opens a checkpoint of the log of one of `issuers`: the note names the log, the log names
/// its tenant, and one of that tenant's keys must have signed it. Answers the issuer's DID
/// with the checkpoint.
pub fn open_issuer_checkpoint(
    note: &str,
    issuers: &[DidKeys],
) -> Result<(String, Checkpoint), String> {
    let text = note_text(note).map_err(|error| format!("the checkpoint: {error}"))?;
    let origin = Checkpoint::from_bytes(text.as_bytes())
        .map_err(|_| "the checkpoint is not a checkpoint of a log".to_owned())?
        .origin()
        .to_owned();
    let issuer = issuers
        .iter()
        .find(|issuer| {
            issuer
                .did
                .rsplit_once(":tenants:")
                .is_some_and(|(_, code)| {
                    log_origin(&issuer.did, code).is_ok_and(|log| log == origin)
                })
        })
        .ok_or_else(|| format!("the checkpoint is of {origin}, the log of no issuer given"))?;
    let keys: Vec<_> = issuer
        .keys
        .iter()
        .map(|published| published.key.clone())
        .collect();
    let checkpoint = open_checkpoint(note.as_bytes(), &origin, &keys)
        .map_err(|error| format!("the checkpoint of {origin}: {error}"))?;
    Ok((issuer.did.clone(), checkpoint))
}

/// Checks that a credential is in the log at `checkpoint`, by `proof`: the entry (its id and
/// `digest`, the SHA-256 of its canonical form) hashes up to the checkpoint's root.
pub fn check_logged(
    id: &str,
    digest: [u8; 32],
    proof: &InclusionProof,
    checkpoint: &Checkpoint,
) -> Result<(), String> {
    if proof.size != checkpoint.size() {
        return Err(format!(
            "the proof is for the tree of {} entries, the checkpoint is of {}",
            proof.size,
            checkpoint.size()
        ));
    }
    let entry = entry_hash(&LogEntry {
        credential_id: id.to_owned(),
        digest,
    });
    check_inclusion(
        &proof.hashes,
        checkpoint.size(),
        *checkpoint.hash(),
        proof.index,
        entry,
    )
    .map_err(|error| error.to_string())
}

/// Runs every check a bundle allows, spread over the machine's cores: each credential against
/// its issuer's keys, then, where the bundle has a checkpoint signed by an issuer's key, each
/// of that issuer's credentials must have a proof of inclusion in it, or it is refused. A
/// checkpoint that does not open refuses the bundle, naming why.
pub fn audit(bundle: &Bundle, issuers: &[DidKeys]) -> Result<Vec<Finding>, String> {
    let checkpoint = bundle
        .checkpoint
        .as_deref()
        .map(|note| open_issuer_checkpoint(note, issuers))
        .transpose()?;
    let check = |credential: &Value, result: Result<VerifiedCredential, CredentialError>| {
        let id = credential["id"].as_str().unwrap_or("(no id)").to_owned();
        let mut finding = Finding {
            id,
            result,
            logged_in: None,
        };
        let Ok(verified) = &finding.result else {
            return finding;
        };
        let Some((issuer, checkpoint)) = &checkpoint else {
            return finding;
        };
        if verified.issuer != *issuer {
            return finding;
        }
        let logged = match bundle.inclusion.get(&finding.id) {
            Some(Ok(proof)) => check_logged(&finding.id, verified.digest, proof, checkpoint),
            Some(Err(unread)) => Err(unread.clone()),
            None => Err("the bundle has no proof of its inclusion".to_owned()),
        };
        match logged {
            Ok(()) => finding.logged_in = Some(checkpoint.size()),
            Err(reason) => {
                finding.result = Err(CredentialError::NotInLog {
                    id: finding.id.clone(),
                    reason,
                })
            }
        }
        finding
    };
    Ok(in_parallel(&bundle.credentials, |share| {
        share
            .iter()
            .zip(verify_together(share, issuers))
            .map(|(credential, result)| check(credential, result))
            .collect()
    }))
}
