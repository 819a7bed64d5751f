//! The auditor's tools, offline: credentials checked against the DID documents of their
//! issuers (and of the operators the auditor trusts), trusting nothing a node says.

use std::path::Path;

use anyhow::Context;
use serde_json::Value;
use zhiyuan_federation::audit::{Bundle, Finding, InclusionProof, audit};
use zhiyuan_federation::did::DidKeys;
use zhiyuan_federation::http_signature::{Received, verify_request};

/// The node's audit endpoint's checks: `zhiyuan audit verify`'s, over what a client posted.
pub struct Auditor;

impl zhiyuan_domain::ports::RecordVerifier for Auditor {
    fn audit(
        &self,
        bundle: Value,
        did_documents: &[String],
    ) -> Result<Vec<zhiyuan_domain::ports::CredentialFinding>, String> {
        let bundle = Bundle::read(bundle)?;
        // A document that does not read names no keys: its credentials are refused as of an
        // issuer not given.
        let issuers: Vec<DidKeys> = did_documents
            .iter()
            .filter_map(|document| serde_json::from_str(document).ok())
            .filter_map(|document| DidKeys::read(&document).ok())
            .collect();
        Ok(audit(&bundle, &issuers)?
            .into_iter()
            .map(|finding| zhiyuan_domain::ports::CredentialFinding {
                issuer: finding
                    .result
                    .as_ref()
                    .ok()
                    .map(|verified| verified.issuer.clone()),
                refusal: finding.result.as_ref().err().map(ToString::to_string),
                logged_in: finding.logged_in,
                id: finding.id,
            })
            .collect())
    }

    fn verify_request(
        &self,
        request: &zhiyuan_domain::ports::SignedRequest,
        now_seconds: i64,
        skew_seconds: i64,
        did_documents: &[String],
    ) -> Result<zhiyuan_domain::ports::RequestSignature, String> {
        let signers: Vec<DidKeys> = did_documents
            .iter()
            .filter_map(|document| serde_json::from_str(document).ok())
            .filter_map(|document| DidKeys::read(&document).ok())
            .collect();
        let now = zhiyuan_domain::Timestamp::from_unix_millis(now_seconds * 1000);
        // A key signs requests within its window: a retired key's requests are refused.
        let key_of = |key_id: &str| {
            signers
                .iter()
                .flat_map(|signer| signer.keys.iter())
                .find(|published| {
                    published.id == key_id
                        && published.valid_from.unix_millis() <= now.unix_millis()
                        && published
                            .valid_until
                            .is_none_or(|until| now.unix_millis() < until.unix_millis())
                })
                .map(|published| published.key.clone())
        };
        let received = Received {
            method: &request.method,
            target_uri: &request.target_uri,
            content_digest: request.content_digest.as_deref(),
            signature_input: request.signature_input.as_deref(),
            signature: request.signature.as_deref(),
            body: &request.body,
        };
        let by = verify_request(&received, now_seconds, skew_seconds, key_of)
            .map_err(|error| error.to_string())?;
        let did = by
            .key_id
            .split_once('#')
            .map(|(did, _)| did.to_owned())
            .unwrap_or_default();
        Ok(zhiyuan_domain::ports::RequestSignature {
            did,
            key_id: by.key_id,
            created: by.created,
            nonce: by.nonce,
        })
    }
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// The issuers' keys from their DID documents (`did_files`). Where operator documents are
/// given, each issuer's document must carry a proof by one of those operators' keys.
pub fn read_issuers(
    did_files: &[impl AsRef<Path>],
    operator_files: &[impl AsRef<Path>],
) -> anyhow::Result<Vec<DidKeys>> {
    let operators = operator_files
        .iter()
        .map(|path| {
            let path = path.as_ref();
            DidKeys::read(&read_json(path)?).with_context(|| format!("{}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    did_files
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
        .collect()
}

/// Reads the bundle of credentials in `file` (one credential, a list, or a node's answer
/// listing them, with the log's checkpoint and proofs where it has them); a checkpoint in
/// `checkpoint_file` (a signed note kept by the auditor) replaces the bundle's own.
pub fn read_bundle(file: &Path, checkpoint_file: Option<&Path>) -> anyhow::Result<Bundle> {
    let mut bundle = Bundle::read(read_json(file)?)
        .map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
    if let Some(path) = checkpoint_file {
        bundle.checkpoint = Some(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        );
    }
    Ok(bundle)
}

/// Checks every credential of the bundle against the issuers' keys and, where the bundle has
/// a checkpoint of an issuer's log, its inclusion there (`zhiyuan_federation::audit`).
pub fn verify_bundle(bundle: &Bundle, issuers: &[DidKeys]) -> anyhow::Result<Vec<Finding>> {
    audit(bundle, issuers).map_err(anyhow::Error::msg)
}

/// Fetches the log evidence for a bundle from the tenant's log at `url`
/// (`https://<node>/log/<code>`): its current checkpoint, and a proof at that size for each
/// credential the bundle holds, in place of what the bundle had. The checks themselves are
/// `verify_bundle`'s, as offline. Answers the checkpoint's size.
pub async fn fetch_log_evidence(bundle: &mut Bundle, url: &str) -> anyhow::Result<u64> {
    use zhiyuan_federation::log::Checkpoint;
    use zhiyuan_federation::witness::note_text;

    let url = url.trim_end_matches('/');
    if !url.contains("/log/") {
        anyhow::bail!("{url} is not a log's address (https://<node>/log/<code>)");
    }
    let client = client()?;
    let note = String::from_utf8(get(&client, &format!("{url}/checkpoint")).await?)?;
    let size = Checkpoint::from_bytes(note_text(&note)?.as_bytes())
        .map_err(|_| anyhow::anyhow!("{url}/checkpoint is not a checkpoint"))?
        .size();
    bundle.inclusion.clear();
    for credential in &bundle.credentials {
        let Some(id) = credential["id"].as_str() else {
            continue;
        };
        let path = format!("{url}/proof/inclusion?credential={id}&size={size}");
        // A credential the log does not hold has no proof; the audit refuses it for that.
        let Ok(answer) = get(&client, &path).await else {
            continue;
        };
        let proof = InclusionProof::read(&serde_json::from_slice(&answer)?)
            .map_err(|error| anyhow::anyhow!("{path}: {error}"))?;
        bundle.inclusion.insert(id.to_owned(), Ok(proof));
    }
    bundle.checkpoint = Some(note);
    Ok(size)
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?)
}

/// The body of a GET that succeeded; any other answer is an error naming the address.
pub(crate) async fn get(client: &reqwest::Client, url: &str) -> anyhow::Result<Vec<u8>> {
    let answer = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    if !answer.status().is_success() {
        anyhow::bail!("GET {url}: {}", answer.status());
    }
    Ok(answer.bytes().await?.to_vec())
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
    let client = client()?;
    let get = |path: String| {
        let client = client.clone();
        async move { get(&client, &path).await }
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
    zhiyuan_federation::audit::read_hashes(answer).map_err(anyhow::Error::msg)
}
