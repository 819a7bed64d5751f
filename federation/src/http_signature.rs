//! Requests between nodes, signed with RFC 9421 HTTP Message Signatures in one profile: Ed25519
//! over the request's method, its target URI and its body's Content-Digest (RFC 9530,
//! SHA-256), with the time the signature was made and a nonce, keyed by a key of the sender's
//! DID document (`keyid` is the key's DID URL, `did:web:<host>:tenants:<code>#key-<n>`).
//!
//! The receiver checks the digest against the body, that the signature covers exactly those
//! components, the algorithm, the time against its own clock, and the signature with the key
//! the `keyid` names, which it resolves from the DID documents it trusts (each endorsed by an
//! operator key it pins). Whether the nonce was seen before is the receiver's to remember: it
//! keeps the nonces of the signatures it accepted for as long as their time is within the
//! allowed skew. The signature base is built as RFC 9421 section 2.5 says, and reproduces its
//! example B.2.6 byte for byte (`federation/tests/http_signature.rs`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sfv::{
    BareItem, Dictionary, FieldType, InnerList, Integer, Item, Key, KeyRef, ListEntry, Parser,
    StringRef,
};
use sha2::{Digest, Sha256};

use crate::multikey::{SigningKey, VerifyingKey};

/// The label of a Zhiyuan node's signature among a request's signatures.
pub const LABEL: &str = "zhiyuan";

/// What a Zhiyuan node's signature covers, in this order.
pub const COVERED: [&str; 3] = ["@method", "@target-uri", "content-digest"];

/// The `Content-Digest` of a body: its SHA-256, as RFC 9530 writes it.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// The signature base of RFC 9421 section 2.5: each covered component's identifier and value
/// on a line, then the signature parameters. Components are given as their identifiers (a
/// derived component's name, or a field's lowercase name) with their values.
pub fn signature_base(components: &[(&str, &str)], signature_params: &str) -> String {
    let mut base = String::new();
    for (name, value) in components {
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {signature_params}"));
    base
}

/// The signature parameters as they are serialized, in the base and in `Signature-Input`.
fn serialize_params(params: &InnerList) -> String {
    vec![ListEntry::InnerList(params.clone())]
        .serialize()
        .unwrap_or_default()
}

/// The headers that sign a request: `Content-Digest`, `Signature-Input` and `Signature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub content_digest: String,
    pub signature_input: String,
    pub signature: String,
}

/// Who signed a request that verified, when, and with which nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBy {
    /// The DID URL of the key.
    pub key_id: String,
    /// When the signature was made, in seconds since the epoch.
    pub created: i64,
    pub nonce: String,
}

/// Why a request's signature was refused, in the words its sender's operator reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no {0} header")]
    Missing(&'static str),
    #[error("the {0} header is not what RFC 9421 and RFC 9530 write: {1}")]
    Malformed(&'static str, String),
    #[error("the signature covers {0}, not @method, @target-uri and content-digest")]
    NotCovered(String),
    #[error("the signature is of the algorithm {0}, not ed25519")]
    Algorithm(String),
    #[error("the body does not match its Content-Digest")]
    Digest,
    #[error("the signature was made at {created}, more than {skew} s from this node's time {now}")]
    Time { created: i64, now: i64, skew: i64 },
    #[error("the key {0} is not one this node trusts")]
    UnknownKey(String),
    #[error("the signature by {0} does not verify")]
    BadSignature(String),
}

fn sf_string(value: &str) -> Result<BareItem, SignatureError> {
    StringRef::from_str(value)
        .map(|string| BareItem::String(string.to_owned()))
        .map_err(|error| SignatureError::Malformed("Signature-Input", error.to_string()))
}

/// Signs a request as a node sends it: its method, target URI and body, at `created` (seconds
/// since the epoch) with a fresh `nonce`, by the key named `key_id`.
pub fn sign_request(
    method: &str,
    target_uri: &str,
    body: &[u8],
    key_id: &str,
    key: &SigningKey,
    created: i64,
    nonce: &str,
) -> Result<SignedRequest, SignatureError> {
    let digest = content_digest(body);
    let mut params = sfv::Parameters::new();
    params.insert(
        Key::from_string("created".into()).expect("a key"),
        BareItem::Integer(
            Integer::try_from(created)
                .map_err(|error| SignatureError::Malformed("created", error.to_string()))?,
        ),
    );
    params.insert(
        Key::from_string("nonce".into()).expect("a key"),
        sf_string(nonce)?,
    );
    params.insert(
        Key::from_string("keyid".into()).expect("a key"),
        sf_string(key_id)?,
    );
    params.insert(
        Key::from_string("alg".into()).expect("a key"),
        sf_string("ed25519")?,
    );
    let inner = InnerList::with_params(
        COVERED
            .iter()
            .map(|name| sf_string(name).map(Item::new))
            .collect::<Result<_, _>>()?,
        params,
    );
    let signature_params = serialize_params(&inner);
    let method = method.to_ascii_uppercase();
    let base = signature_base(
        &[
            ("@method", &method),
            ("@target-uri", target_uri),
            ("content-digest", &digest),
        ],
        &signature_params,
    );
    let signature = key.sign(base.as_bytes());
    Ok(SignedRequest {
        content_digest: digest,
        signature_input: format!("{LABEL}={signature_params}"),
        signature: format!("{LABEL}=:{}:", STANDARD.encode(signature)),
    })
}

/// What a receiver was sent: the request line's method and target URI, the three headers as
/// they came (none where absent), and the body.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub method: &'a str,
    pub target_uri: &'a str,
    pub content_digest: Option<&'a str>,
    pub signature_input: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
}

fn member<'d>(
    dictionary: &'d Dictionary,
    header: &'static str,
) -> Result<&'d ListEntry, SignatureError> {
    dictionary
        .get(KeyRef::constant(LABEL))
        .ok_or_else(|| SignatureError::Malformed(header, format!("it has no signature {LABEL}")))
}

fn parse_dictionary(header: &'static str, value: &str) -> Result<Dictionary, SignatureError> {
    Parser::new(value)
        .parse::<Dictionary>()
        .map_err(|error| SignatureError::Malformed(header, error.to_string()))
}

/// Checks a request's signature: the digest of its body, the components covered, the
/// algorithm, its time within `skew` seconds of `now`, and the signature by the key
/// `key_of` finds for its `keyid`. Answers who signed it, when, and its nonce, which the
/// caller must not have accepted before.
pub fn verify_request(
    received: &Received<'_>,
    now: i64,
    skew: i64,
    key_of: impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<SignedBy, SignatureError> {
    let digest = received
        .content_digest
        .ok_or(SignatureError::Missing("Content-Digest"))?;
    let input = received
        .signature_input
        .ok_or(SignatureError::Missing("Signature-Input"))?;
    let signature = received
        .signature
        .ok_or(SignatureError::Missing("Signature"))?;

    let inputs = parse_dictionary("Signature-Input", input)?;
    let ListEntry::InnerList(inner) = member(&inputs, "Signature-Input")? else {
        return Err(SignatureError::Malformed(
            "Signature-Input",
            format!("{LABEL} is not a list of components"),
        ));
    };
    let covered: Vec<&str> = inner
        .items
        .iter()
        .map(|item| item.bare_item.as_string().map_or("?", StringRef::as_str))
        .collect();
    if covered != COVERED || inner.items.iter().any(|item| !item.params.is_empty()) {
        return Err(SignatureError::NotCovered(covered.join(" ")));
    }
    let param = |name: &str| inner.params.get(KeyRef::from_str(name).ok()?);
    let text = |name: &'static str| {
        param(name)
            .and_then(BareItem::as_string)
            .map(|value| value.as_str().to_owned())
            .ok_or_else(|| SignatureError::Malformed("Signature-Input", format!("no {name}")))
    };
    let algorithm = text("alg")?;
    if algorithm != "ed25519" {
        return Err(SignatureError::Algorithm(algorithm));
    }
    let key_id = text("keyid")?;
    let nonce = text("nonce")?;
    let created = param("created")
        .and_then(BareItem::as_integer)
        .map(i64::from)
        .ok_or_else(|| SignatureError::Malformed("Signature-Input", "no created".into()))?;
    if (created - now).abs() > skew {
        return Err(SignatureError::Time { created, now, skew });
    }

    let signatures = parse_dictionary("Signature", signature)?;
    let value: [u8; 64] = match member(&signatures, "Signature")? {
        ListEntry::Item(item) => item
            .bare_item
            .as_byte_sequence()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| {
                SignatureError::Malformed("Signature", "not 64 bytes between colons".into())
            })?,
        ListEntry::InnerList(_) => {
            return Err(SignatureError::Malformed("Signature", "a list".into()));
        }
    };
    if digest != content_digest(received.body) {
        return Err(SignatureError::Digest);
    }
    let key = key_of(&key_id).ok_or_else(|| SignatureError::UnknownKey(key_id.clone()))?;
    let method = received.method.to_ascii_uppercase();
    let base = signature_base(
        &[
            ("@method", &method),
            ("@target-uri", received.target_uri),
            ("content-digest", digest),
        ],
        &serialize_params(inner),
    );
    if !key.verify(base.as_bytes(), &value) {
        return Err(SignatureError::BadSignature(key_id));
    }
    Ok(SignedBy {
        key_id,
        created,
        nonce,
    })
}
