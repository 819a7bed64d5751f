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
    })
}
