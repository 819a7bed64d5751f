//! W3C Data Integrity proofs of the `eddsa-jcs-2022` cryptosuite (Data Integrity EdDSA
//! Cryptosuites v1.0, §3.3): the proof options and the document are each canonicalized with
//! RFC 8785 (JCS) and hashed with SHA-256; Ed25519 signs the two hashes, options first.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::{SigningKey, VerifyingKey};

pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("a secured document is a JSON object")]
    NotAnObject,
    #[error("the document has no proof")]
    NoProof,
    #[error("the proof is not a DataIntegrityProof of eddsa-jcs-2022")]
    WrongSuite,
    #[error("the proof's @context is not the document's")]
    ContextMismatch,
    #[error("the proof value is not a base58btc multibase Ed25519 signature")]
    MalformedProofValue,
    #[error("no key is known for verification method {0}")]
    UnknownKey(String),
    #[error("the signature does not match the document")]
    BadSignature,
    #[error("the document cannot be canonicalized: {0}")]
    Canonicalization(String),
}

/// The options of a proof: who signs, when, and for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofOptions {
    /// RFC 3339, UTC.
    pub created: String,
    /// The key's identifier, e.g. `did:web:node.example:t:421300#key-1`.
    pub verification_method: String,
    /// `assertionMethod` for records a tenant issues.
    pub proof_purpose: String,
}

fn canonical(value: &Value) -> Result<Vec<u8>, ProofError> {
    serde_json_canonicalizer::to_vec(value)
        .map_err(|error| ProofError::Canonicalization(error.to_string()))
}

/// A document's canonical form (RFC 8785) as text: how credentials are stored and exchanged,
/// so that the SHA-256 of the text is the digest a log entry holds.
pub fn canonical_text(value: &Value) -> Result<String, ProofError> {
    serde_json_canonicalizer::to_string(value)
        .map_err(|error| ProofError::Canonicalization(error.to_string()))
}

/// The SHA-256 of an object's canonical form, and of the same object without its `proof`
/// member, from one canonicalization of each member: RFC 8785 writes an object as its members
/// sorted by the UTF-16 code units of their names, each name and value in canonical form.
fn digests_with_and_without_proof(
    object: &Map<String, Value>,
) -> Result<([u8; 32], [u8; 32]), ProofError> {
    let mut members: Vec<(&String, &Value)> = object.iter().collect();
    members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
    let (mut whole, mut without_proof) = (Sha256::new(), Sha256::new());
    whole.update(b"{");
    without_proof.update(b"{");
    let mut first_without_proof = true;
    for (at, (name, value)) in members.into_iter().enumerate() {
        let mut member = canonical(&Value::String(name.clone()))?;
        member.push(b':');
        member.extend(canonical(value)?);
        if at > 0 {
            whole.update(b",");
        }
        whole.update(&member);
        if name != "proof" {
            if !first_without_proof {
                without_proof.update(b",");
            }
            without_proof.update(&member);
            first_without_proof = false;
        }
    }
    whole.update(b"}");
    without_proof.update(b"}");
    Ok((whole.finalize().into(), without_proof.finalize().into()))
}

/// SHA-256 of the canonical proof configuration, then of the canonical document.
fn hash_data(proof_config: &Value, document: &Value) -> Result<Vec<u8>, ProofError> {
    let mut data = Sha256::digest(canonical(proof_config)?).to_vec();
    data.extend_from_slice(&Sha256::digest(canonical(document)?));
    Ok(data)
}

/// The proof configuration: the options, and the document's @context where it has one.
fn proof_config(document: &Map<String, Value>, options: &ProofOptions) -> Map<String, Value> {
    let mut config = Map::new();
    config.insert("type".into(), "DataIntegrityProof".into());
    config.insert("cryptosuite".into(), CRYPTOSUITE.into());
    config.insert("created".into(), options.created.clone().into());
    config.insert(
        "verificationMethod".into(),
        options.verification_method.clone().into(),
    );
    config.insert("proofPurpose".into(), options.proof_purpose.clone().into());
    if let Some(context) = document.get("@context") {
        config.insert("@context".into(), context.clone());
    }
    config
}

/// Secures a document: answers it with a `proof` member.
pub fn add_proof(
    document: &Value,
    options: &ProofOptions,
    key: &SigningKey,
) -> Result<Value, ProofError> {
    let document = document.as_object().ok_or(ProofError::NotAnObject)?;
    let mut config = proof_config(document, options);
    let data = hash_data(
        &Value::Object(config.clone()),
        &Value::Object(document.clone()),
    )?;
    let signature = key.sign(&data);
    config.insert(
        "proofValue".into(),
        format!("z{}", bs58::encode(signature).into_string()).into(),
    );
    let mut secured = document.clone();
    secured.insert("proof".into(), Value::Object(config));
    Ok(Value::Object(secured))
}

/// A secured document's proof, read and resolved, with its signature not yet checked: what
/// checking many documents together needs (`VerifyingKey::verify_all`).
#[derive(Debug, Clone)]
pub struct ReadProof {
    /// The document without its proof.
    pub document: Value,
    /// What the signature covers: the hashes of the proof's options and of the document.
    pub data: Vec<u8>,
    pub signature: [u8; 64],
    pub key: VerifyingKey,
    /// The SHA-256 of the secured document's canonical form, proof and all: the digest a log
    /// entry holds of a credential.
    pub digest: [u8; 32],
}

/// Reads a secured document's proof and resolves its key with `resolve`, checking all but the
/// signature.
pub fn read_proof(
    secured: &Value,
    resolve: impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<ReadProof, ProofError> {
    let secured = secured.as_object().ok_or(ProofError::NotAnObject)?;
    let mut document = secured.clone();
    let Some(Value::Object(mut proof)) = document.remove("proof") else {
        return Err(ProofError::NoProof);
    };
    let suite_ok = proof.get("type") == Some(&Value::from("DataIntegrityProof"))
        && proof.get("cryptosuite") == Some(&Value::from(CRYPTOSUITE));
    if !suite_ok {
        return Err(ProofError::WrongSuite);
    }
    if let Some(context) = proof.get("@context")
        && document.get("@context") != Some(context)
    {
        return Err(ProofError::ContextMismatch);
    }
    let proof_value = proof
        .remove("proofValue")
        .and_then(|value| value.as_str().map(str::to_owned))
        .ok_or(ProofError::MalformedProofValue)?;
    let signature: [u8; 64] = proof_value
        .strip_prefix('z')
        .and_then(|encoded| bs58::decode(encoded).into_vec().ok())
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(ProofError::MalformedProofValue)?;
    let method = proof
        .get("verificationMethod")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let key = resolve(&method).ok_or(ProofError::UnknownKey(method))?;
    let (digest, unsecured) = digests_with_and_without_proof(secured)?;
    let mut data = Sha256::digest(canonical(&Value::Object(proof))?).to_vec();
    data.extend_from_slice(&unsecured);
    Ok(ReadProof {
        document: Value::Object(document),
        data,
        signature,
        key,
        digest,
    })
}

/// Checks a secured document's proof with the key `resolve` gives for its verification
/// method; answers the document without its proof.
pub fn verify_proof(
    secured: &Value,
    resolve: impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<Value, ProofError> {
    let proof = read_proof(secured, resolve)?;
    if proof.key.verify(&proof.data, &proof.signature) {
        Ok(proof.document)
    } else {
        Err(ProofError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const UNSIGNED: &str = include_str!("../tests/vectors/eddsa-jcs-2022/unsigned.json");
    const PROOF_CONFIG: &str = include_str!("../tests/vectors/eddsa-jcs-2022/proofConfigJCS.json");
    const CANONICAL_DOCUMENT: &str =
        include_str!("../tests/vectors/eddsa-jcs-2022/canonDocJCS.txt");
    const SIGNED: &str = include_str!("../tests/vectors/eddsa-jcs-2022/signedJCS.json");
    const SECRET: &str = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq";
    const METHOD: &str = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn options() -> ProofOptions {
        ProofOptions {
            created: "2023-02-24T23:36:38Z".into(),
            verification_method: METHOD.into(),
            proof_purpose: "assertionMethod".into(),
        }
    }

    #[test]
    fn reproduces_the_w3c_vector_byte_for_byte() {
        let unsigned = json(UNSIGNED);
        assert_eq!(
            canonical(&unsigned).unwrap(),
            CANONICAL_DOCUMENT.trim_end().as_bytes()
        );
        let config = proof_config(unsigned.as_object().unwrap(), &options());
        assert_eq!(
            canonical(&Value::Object(config)).unwrap(),
            canonical(&json(PROOF_CONFIG)).unwrap()
        );

        let key = SigningKey::from_multibase(SECRET).unwrap();
        let signed = add_proof(&unsigned, &options(), &key).unwrap();
        assert_eq!(
            signed["proof"]["proofValue"],
            "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
        );
        assert_eq!(
            canonical(&signed).unwrap(),
            canonical(&json(SIGNED)).unwrap()
        );
    }

    #[test]
    fn the_members_canonicalized_one_by_one_hash_as_the_whole_document() {
        let signed = json(SIGNED);
        let mut unusual = signed.clone();
        // Names whose UTF-16 order is not their UTF-8 order, an empty name, and names either
        // side of "proof".
        for name in ["\u{e000}", "\u{1f600}", "", "pro", "proofs", "a\"b"] {
            unusual[name] = json!({ "n": 1.5e300, "s": "\u{7}" });
        }
        for document in [signed, unusual] {
            let (whole, without_proof) =
                digests_with_and_without_proof(document.as_object().unwrap()).unwrap();
            let mut unsecured = document.clone();
            unsecured.as_object_mut().unwrap().remove("proof");
            let digest =
                |value: &Value| -> [u8; 32] { Sha256::digest(canonical(value).unwrap()).into() };
            assert_eq!(whole, digest(&document));
            assert_eq!(without_proof, digest(&unsecured));
        }
    }

    #[test]
    fn verifies_the_vector_and_refuses_any_change() {
        let key = SigningKey::from_multibase(SECRET).unwrap().verifying_key();
        let resolve = |method: &str| (method == METHOD).then(|| key.clone());
        let signed = json(SIGNED);
        assert_eq!(verify_proof(&signed, resolve).unwrap(), json(UNSIGNED));

        let mut changed = signed.clone();
        changed["credentialSubject"]["alumniOf"] = "Another School".into();
        assert_eq!(
            verify_proof(&changed, resolve),
            Err(ProofError::BadSignature)
        );
        let mut later = signed.clone();
        later["proof"]["created"] = "2024-02-24T23:36:38Z".into();
        assert_eq!(verify_proof(&later, resolve), Err(ProofError::BadSignature));
        let mut other_suite = signed.clone();
        other_suite["proof"]["cryptosuite"] = "ecdsa-jcs-2019".into();
        assert_eq!(
            verify_proof(&other_suite, resolve),
            Err(ProofError::WrongSuite)
        );
        let mut unknown = signed.clone();
        unknown["proof"]["verificationMethod"] = "did:example:x#k".into();
        assert!(matches!(
            verify_proof(&unknown, resolve),
            Err(ProofError::UnknownKey(_))
        ));
        let mut no_proof = signed;
        no_proof.as_object_mut().unwrap().remove("proof");
        assert_eq!(verify_proof(&no_proof, resolve), Err(ProofError::NoProof));
    }

    #[test]
    fn a_tenant_signs_a_record_another_node_verifies() {
        let tenant_key = SigningKey::from_seed([42; 32]);
        let public =
            VerifyingKey::from_multibase(&tenant_key.verifying_key().to_multibase()).unwrap();
        let record = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", "VolunteerRegistration"],
            "issuer": "did:web:node.example:t:421300",
            "credentialSubject": { "volunteerNumber": "4213001234567890", "name": "阿卜杜勒·艾尼" }
        });
        let options = ProofOptions {
            created: "2026-11-29T02:00:00Z".into(),
            verification_method: "did:web:node.example:t:421300#key-1".into(),
            proof_purpose: "assertionMethod".into(),
        };
        let signed = add_proof(&record, &options, &tenant_key).unwrap();
        assert_eq!(
            verify_proof(&signed, |_| Some(public.clone())).unwrap(),
            record
        );
    }
}
