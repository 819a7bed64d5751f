//! Properties of signed credentials over anything the credential schemas allow: the canonical
//! form (RFC 8785) is a fixed point and reads back as the document; a credential verifies
//! however it was written on the way (members reordered, pretty-printed, escaped); and any
//! change of a fact it states is refused.

use proptest::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zhiyuan_federation::data_integrity::{ProofError, canonical_text};
use zhiyuan_federation::did::{CredentialError, DidKeys, verify_credential, verify_credentials};
use zhiyuan_federation::{ProofOptions, SigningKey, add_proof};

const DID: &str = "did:web:zhiyuan.example:tenants:421300";

fn key() -> SigningKey {
    SigningKey::from_seed([21; 32])
}

fn issuers() -> Vec<DidKeys> {
    let document = json!({
        "id": DID,
        "verificationMethod": [{
            "id": format!("{DID}#key-1"), "type": "Multikey", "controller": DID,
            "publicKeyMultibase": key().verifying_key().to_multibase(),
            "validFrom": "2026-01-01T00:00:00.000Z",
        }],
    });
    vec![DidKeys::read(&document).unwrap()]
}

fn schema() -> jsonschema::Validator {
    let text = include_str!("../../schemas/credentials/service-record.schema.json");
    jsonschema::validator_for(&serde_json::from_str(text).unwrap()).unwrap()
}

fn time() -> impl Strategy<Value = String> {
    (
        2020u32..2030,
        1u32..13,
        1u32..29,
        0u32..24,
        0u32..60,
        0u32..1000,
    )
        .prop_map(|(year, month, day, hour, minute, millis)| {
            format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:00.{millis:03}Z")
        })
}

fn uuid() -> impl Strategy<Value = String> {
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
}

/// A service record credential as the schema allows it, unsigned: any text without control
/// characters (CJK, emoji, quotes, backslashes), any minutes, optional members present or not.
fn credential() -> impl Strategy<Value = Value> {
    (
        (
            uuid(),
            uuid(),
            proptest::option::of(uuid()),
            proptest::option::of(uuid()),
        ),
        "[0-9]{10}",
        prop_oneof![
            Just("scan"),
            Just("missing_check_out"),
            Just("manual"),
            Just("correction"),
            Just("settlement")
        ],
        (time(), time(), time()),
        0u64..=1440,
        "[^\\p{Cc}]{0,200}",
    )
        .prop_map(
            |(
                (record, team, project, corrects),
                number,
                kind,
                (started, ended, recorded),
                minutes,
                content,
            )| {
                let mut subject = json!({
                    "type": "ServiceRecord",
                    "volunteerNumber": format!("421300{number}"),
                    "record": record, "kind": kind, "team": team, "region": "421303",
                    "startedAt": started, "endedAt": ended, "minutes": minutes,
                    "content": content, "recordedAt": recorded,
                });
                if let Some(project) = project {
                    subject["project"] = project.into();
                }
                if let Some(corrects) = corrects {
                    subject["corrects"] = corrects.into();
                }
                json!({
                    "@context": ["https://www.w3.org/ns/credentials/v2"],
                    "id": format!("urn:uuid:{record}"),
                    "type": ["VerifiableCredential", "ServiceRecordCredential"],
                    "issuer": DID,
                    "validFrom": "2026-06-01T00:00:00.000Z",
                    "credentialSubject": subject,
                })
            },
        )
}

fn sign(credential: &Value) -> Value {
    let options = ProofOptions {
        created: "2026-06-01T00:00:01.000Z".into(),
        verification_method: format!("{DID}#key-1"),
        proof_purpose: "assertionMethod".into(),
    };
    add_proof(credential, &options, &key()).unwrap()
}

/// The same JSON written another way: members in reverse order, every non-ASCII character
/// escaped, pretty-printed.
fn rewritten(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(members) => {
                out.push_str("{\n");
                for (at, (name, member)) in members.iter().rev().enumerate() {
                    if at > 0 {
                        out.push_str(",\n");
                    }
                    write(&Value::String(name.clone()), out);
                    out.push_str(" : ");
                    write(member, out);
                }
                out.push_str("\n}");
            }
            Value::Array(items) => {
                out.push('[');
                for (at, item) in items.iter().enumerate() {
                    if at > 0 {
                        out.push_str(", ");
                    }
                    write(item, out);
                }
                out.push(']');
            }
            Value::String(text) => {
                out.push('"');
                for unit in text.encode_utf16() {
                    match unit {
                        0x22 => out.push_str("\\\""),
                        0x5c => out.push_str("\\\\"),
                        0x20..=0x7e => out.push(char::from(unit as u8)),
                        _ => out.push_str(&format!("\\u{unit:04x}")),
                    }
                }
                out.push('"');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

proptest! {
    #[test]
    fn canonical_form_and_verification_agree(unsigned in credential()) {
        let signed = sign(&unsigned);
        let errors: Vec<String> = schema().iter_errors(&signed).map(|error| error.to_string()).collect();
        prop_assert!(errors.is_empty(), "{errors:?}");

        // The canonical form is a fixed point, and reads back as the document.
        let canonical = canonical_text(&signed).unwrap();
        let read: Value = serde_json::from_str(&canonical).unwrap();
        prop_assert_eq!(&read, &signed);
        prop_assert_eq!(canonical_text(&read).unwrap(), canonical.clone());

        // However it was written on the way, it verifies, and canonicalizes to the same bytes.
        let issuers = issuers();
        let written: Value = serde_json::from_str(&rewritten(&signed)).unwrap();
        prop_assert_eq!(canonical_text(&written).unwrap(), canonical);
        prop_assert!(verify_credential(&written, &issuers).is_ok());

        // A change of any fact is refused.
        let mut more = signed.clone();
        more["credentialSubject"]["minutes"] = (signed["credentialSubject"]["minutes"].as_u64().unwrap() + 1).into();
        let mut other_text = signed.clone();
        other_text["credentialSubject"]["content"] = format!("{} ", signed["credentialSubject"]["content"].as_str().unwrap()).into();
        let mut dropped = signed.clone();
        dropped["credentialSubject"].as_object_mut().unwrap().remove("team");
        for changed in [more, other_text, dropped] {
            let refused = verify_credential(&changed, &issuers);
            prop_assert!(matches!(refused, Err(CredentialError::Proof { error: ProofError::BadSignature, .. })), "{:?}", refused);
        }
    }

    /// Many credentials checked together (their signatures in one batch) come to what each
    /// checked alone comes to: a changed one among them is refused, by name, and only it.
    #[test]
    fn credentials_checked_together_are_refused_one_by_one(
        unsigned in proptest::collection::vec(credential(), 2..24),
        changed in proptest::option::of(any::<proptest::sample::Index>()),
    ) {
        let mut signed: Vec<Value> = unsigned.iter().map(sign).collect();
        let changed = changed.map(|index| index.index(signed.len()));
        if let Some(at) = changed {
            let minutes = signed[at]["credentialSubject"]["minutes"].as_u64().unwrap();
            signed[at]["credentialSubject"]["minutes"] = (minutes + 1).into();
        }
        let issuers = issuers();
        let together = verify_credentials(&signed, &issuers);
        prop_assert_eq!(together.len(), signed.len());
        for (at, (credential, result)) in signed.iter().zip(together).enumerate() {
            let alone = verify_credential(credential, &issuers);
            prop_assert_eq!(&result, &alone);
            if Some(at) == changed {
                let refused_by_name = matches!(&result, Err(CredentialError::Proof { id, error: ProofError::BadSignature }) if Some(id.as_str()) == credential["id"].as_str());
                prop_assert!(refused_by_name, "{:?}", result);
            } else {
                let verified = result.unwrap();
                let digest: [u8; 32] = Sha256::digest(canonical_text(credential).unwrap()).into();
                prop_assert_eq!(verified.digest, digest);
            }
        }
    }
}
