//! The auditor's tools, offline: credentials checked against the DID documents of their
//! issuers (and of the operators the auditor trusts), trusting nothing a node says.

use std::path::Path;

use anyhow::Context;
use serde_json::Value;
use zhiyuan_federation::did::{CredentialError, DidKeys, VerifiedCredential, verify_credentials};

/// What `zhiyuan audit verify` found: each credential verified or refused, by its id.
#[derive(Debug)]
pub struct VerifyReport {
    pub results: Vec<(String, Result<VerifiedCredential, CredentialError>)>,
    /// The credentials as read, in the order of the results.
    pub credentials: Vec<Value>,
    /// The issuers' keys they were checked with.
    pub issuers: Vec<DidKeys>,
}

impl VerifyReport {
    pub fn refused(&self) -> usize {
        self.results
            .iter()
            .filter(|(_, result)| result.is_err())
            .count()
    }
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// The credentials of a file: one credential, a list of them, or a node's answer listing
/// them (`items`, each with its `credential`).
pub fn credentials_of(document: Value) -> Vec<Value> {
    let unwrap = |item: Value| match item.get("credential") {
        Some(credential) => credential.clone(),
        None => item,
    };
    match document {
        Value::Array(items) => items.into_iter().map(unwrap).collect(),
        Value::Object(mut object) if object.contains_key("items") => match object.remove("items") {
            Some(Value::Array(items)) => items.into_iter().map(unwrap).collect(),
            _ => Vec::new(),
        },
        other => vec![other],
    }
}

/// Checks every credential of `file` against the issuers' DID documents (`did_files`). Where
/// operator documents are given, each issuer's document must carry a proof by one of those
/// operators' keys, or none of its credentials verify.
pub fn verify_file(
    file: &Path,
    did_files: &[impl AsRef<Path>],
    operator_files: &[impl AsRef<Path>],
) -> anyhow::Result<VerifyReport> {
    let operators = operator_files
        .iter()
        .map(|path| {
            let path = path.as_ref();
            DidKeys::read(&read_json(path)?).with_context(|| format!("{}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let issuers = did_files
        .iter()
        .map(|path| {
            let path = path.as_ref();
            let document = read_json(path)?;
            let keys = if operators.is_empty() {
                DidKeys::read(&document)
            } else {
                DidKeys::read_endorsed(&document, &operators)
            };
            keys.with_context(|| format!("{}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let credentials = credentials_of(read_json(file)?);
    let ids: Vec<String> = credentials
        .iter()
        .map(|credential| credential["id"].as_str().unwrap_or("(no id)").to_owned())
        .collect();
    let results = verify_credentials(&credentials, &issuers);
    Ok(VerifyReport {
        results: ids.into_iter().zip(results).collect(),
        credentials,
        issuers,
    })
}

/// Checks that each verified credential of the tenant whose log is at `url`
/// (`https://<node>/log/<code>`) is in that log: the checkpoint, signed by a key of the
/// tenant's DID document, and for each credential the proof that its entry (its id and the
/// SHA-256 of its canonical form) is in the checkpoint's tree. A credential that is not is
/// refused. Answers the checkpoint's size.
pub async fn check_logged(report: &mut VerifyReport, url: &str) -> anyhow::Result<u64> {
    use zhiyuan_federation::log::{check_inclusion, entry_hash, entry_of, open_checkpoint};

    let url = url.trim_end_matches('/');
    let (_, code) = url.rsplit_once("/log/").ok_or_else(|| {
        anyhow::anyhow!("{url} is not a log's address (https://<node>/log/<code>)")
    })?;
    let issuer = report
        .issuers
        .iter()
        .find(|issuer| issuer.did.ends_with(&format!(":tenants:{code}")))
        .ok_or_else(|| anyhow::anyhow!("no DID document given of the tenant {code}"))?
        .clone();
    let origin = zhiyuan_federation::did::log_origin(&issuer.did, code)?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let get = |path: String| {
        let client = client.clone();
        async move {
            let answer = client.get(&path).send().await?;
            if !answer.status().is_success() {
                anyhow::bail!("GET {path}: {}", answer.status());
            }
            Ok::<_, anyhow::Error>(answer.bytes().await?.to_vec())
        }
    };
    let keys: Vec<_> = issuer
        .keys
        .iter()
        .map(|published| published.key.clone())
        .collect();
    let note = get(format!("{url}/checkpoint")).await?;
    let checkpoint = open_checkpoint(&note, &origin, &keys)
        .with_context(|| format!("the checkpoint of {origin}"))?;
    for ((id, result), credential) in report.results.iter_mut().zip(&report.credentials) {
        let Ok(verified) = result else { continue };
        if verified.issuer != issuer.did {
            continue;
        }
        let canonical = zhiyuan_federation::data_integrity::canonical_text(credential)
            .map_err(|error| anyhow::anyhow!("{id}: {error}"))?;
        let entry = entry_hash(&entry_of(id, canonical.as_bytes()));
        let proven = async {
            let proof: Value = serde_json::from_slice(
                &get(format!(
                    "{url}/proof/inclusion?credential={id}&size={}",
                    checkpoint.size()
                ))
                .await?,
            )?;
            let hashes = proof_hashes(&proof)?;
            let index = proof["index"]
                .as_u64()
                .ok_or_else(|| anyhow::anyhow!("the proof names no entry"))?;
            check_inclusion(&hashes, checkpoint.size(), *checkpoint.hash(), index, entry)?;
            Ok::<_, anyhow::Error>(())
        }
        .await;
        if let Err(error) = proven {
            *result = Err(CredentialError::NotInLog {
                id: id.clone(),
                reason: format!("{error:#}"),
            });
        }
    }
    Ok(checkpoint.size())
}

/// What `zhiyuan audit log` found of a tenant's log.
#[derive(Debug)]
pub struct LogAudit {
    pub origin: String,
    pub size: u64,
    pub root: String,
    /// The size of the checkpoint kept from before, which the log extends.
    pub extends: Option<u64>,
    /// Tiles fetched to rebuild the tree.
    pub tiles: usize,
}

/// Audits a tenant's log at `url` (`https://<node>/log/<code>`), trusting nothing the node
/// says: the tenant's DID document (with its operator's proof, where the operator's keys are
/// given), the checkpoint's signature by one of the tenant's keys, its consistency with the
/// checkpoint kept in `state` from the last audit (which it then replaces), and the tree's root
/// rebuilt from every tile. Any failure names what failed.
pub async fn audit_log(
    url: &str,
    operator_keys: &[String],
    state: Option<&Path>,
) -> anyhow::Result<LogAudit> {
    use zhiyuan_federation::log::{
        Checkpoint, check_consistency, check_tiles, open_checkpoint, tile_paths,
    };
    use zhiyuan_federation::witness::note_text;

    let (node, code) = url
        .trim_end_matches('/')
        .rsplit_once("/log/")
        .ok_or_else(|| {
            anyhow::anyhow!("{url} is not a log's address (https://<node>/log/<code>)")
        })?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let get = |path: String| {
        let client = client.clone();
        async move {
            let answer = client
                .get(&path)
                .send()
                .await
                .with_context(|| format!("GET {path}"))?;
            if !answer.status().is_success() {
                anyhow::bail!("GET {path}: {}", answer.status());
            }
            Ok::<_, anyhow::Error>(answer.bytes().await?.to_vec())
        }
    };
    let json = |bytes: Vec<u8>| -> anyhow::Result<Value> { Ok(serde_json::from_slice(&bytes)?) };

    let tenant_document = json(get(format!("{node}/tenants/{code}/did.json")).await?)?;
    let keys = if operator_keys.is_empty() {
        DidKeys::read(&tenant_document)?
    } else {
        let operator = DidKeys::read(&json(get(format!("{node}/.well-known/did.json")).await?)?)?;
        let pinned = operator.keys.iter().any(|published| {
            operator_keys
                .iter()
                .any(|key| *key == published.key.to_multibase())
        });
        if !pinned {
            anyhow::bail!("the operator's DID document of {node} holds none of the keys given");
        }
        DidKeys::read_endorsed(&tenant_document, &[operator])?
    };
    let origin = zhiyuan_federation::did::log_origin(&keys.did, code)?;
    let verifying: Vec<_> = keys
        .keys
        .iter()
        .map(|published| published.key.clone())
        .collect();
    let note = String::from_utf8(get(format!("{url}/checkpoint")).await?)?;
    let checkpoint = open_checkpoint(note.as_bytes(), &origin, &verifying)
        .with_context(|| format!("the checkpoint of {origin}"))?;

    let mut extends = None;
    if let Some(state) = state.filter(|state| state.exists()) {
        let kept = std::fs::read_to_string(state)
            .with_context(|| format!("reading {}", state.display()))?;
        let kept = Checkpoint::from_bytes(note_text(&kept)?.as_bytes())
            .map_err(|_| anyhow::anyhow!("{} holds no checkpoint", state.display()))?;
        let proof = if checkpoint.size() > kept.size() && kept.size() > 0 {
            let answer = json(
                get(format!(
                    "{url}/proof/consistency?from={}&to={}",
                    kept.size(),
                    checkpoint.size()
                ))
                .await?,
            )?;
            proof_hashes(&answer)?
        } else {
            Vec::new()
        };
        check_consistency(&proof, &kept, &checkpoint)
            .with_context(|| format!("against the checkpoint kept in {}", state.display()))?;
        extends = Some(kept.size());
    }

    let paths = tile_paths(checkpoint.size());
    let mut tiles = std::collections::HashMap::new();
    for path in &paths {
        tiles.insert(path.clone(), get(format!("{url}/{path}")).await?);
    }
    check_tiles(&checkpoint, |path: &str| {
        tiles
            .get(path)
            .cloned()
            .ok_or_else(|| "not fetched".to_owned())
    })?;
    if let Some(state) = state {
        std::fs::write(state, &note).with_context(|| format!("writing {}", state.display()))?;
    }
    Ok(LogAudit {
        origin,
        size: checkpoint.size(),
        root: checkpoint.hash().to_string(),
        extends,
        tiles: paths.len(),
    })
}

/// The hashes of a proof as the node serves it (`hashes`, base64).
pub(crate) fn proof_hashes(answer: &Value) -> anyhow::Result<Vec<zhiyuan_federation::log::Hash>> {
    use base64::Engine;
    answer["hashes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|hash| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(hash.as_str().unwrap_or_default())?;
            let bytes: [u8; 32] = bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("a hash is 32 bytes"))?;
            Ok(zhiyuan_federation::log::Hash(bytes))
        })
        .collect()
}
