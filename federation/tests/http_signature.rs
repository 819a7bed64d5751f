//! Requests between nodes signed as RFC 9421 says: its Ed25519 example reproduced byte for
//! byte, RFC 9530's digest example, and every way a request can fail its signature refused by
//! name.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use zhiyuan_federation::SigningKey;
use zhiyuan_federation::http_signature::{
    Received, SignatureError, SignedBy, SignedRequest, content_digest, sign_request,
    signature_base, verify_request,
};

/// RFC 9421 appendix B.1.4: `test-key-ed25519`, its private key as the JWK's `d`.
fn rfc_test_key() -> SigningKey {
    let seed = URL_SAFE_NO_PAD
        .decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU")
        .unwrap();
    SigningKey::from_seed(seed.try_into().unwrap())
}

#[test]
fn the_rfc_9421_ed25519_example_is_reproduced_byte_for_byte() {
    // Appendix B.2.6: the test request signed over six components with test-key-ed25519.
    let base = signature_base(
        &[
            ("date", "Tue, 20 Apr 2021 02:07:55 GMT"),
            ("@method", "POST"),
            ("@path", "/foo"),
            ("@authority", "example.com"),
            ("content-type", "application/json"),
            ("content-length", "18"),
        ],
        r#"("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#,
    );
    assert_eq!(
        base,
        "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\
         \"@method\": POST\n\
         \"@path\": /foo\n\
         \"@authority\": example.com\n\
         \"content-type\": application/json\n\
         \"content-length\": 18\n\
         \"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\""
    );
    let key = rfc_test_key();
    assert_eq!(
        URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
        "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
    );
    assert_eq!(
        STANDARD.encode(key.sign(base.as_bytes())),
        "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
    );
}

#[test]
fn the_rfc_9530_digest_example_is_reproduced() {
    // The test request's body of RFC 9421 appendix B.2, its SHA-256 as RFC 9530 writes it.
    assert_eq!(
        content_digest(br#"{"hello": "world"}"#),
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    );
}

const KEY_ID: &str = "did:web:suizhou.example:tenants:421300#key-1";
const TARGET: &str = "https://wuhan.example/federation/v1/transfers";
const BODY: &[u8] = br#"{"transfer":"0193a5b0-0000-7000-8000-000000000001"}"#;
const NOW: i64 = 1_796_000_000;
const SKEW: i64 = 300;

fn signed() -> SignedRequest {
    sign_request(
        "POST",
        TARGET,
        BODY,
        KEY_ID,
        &rfc_test_key(),
        NOW,
        "3kq9Yd7tQ1uW0fXb",
    )
    .unwrap()
}

fn received(signed: &SignedRequest) -> Received<'_> {
    Received {
        method: "POST",
        target_uri: TARGET,
        content_digest: Some(&signed.content_digest),
        signature_input: Some(&signed.signature_input),
        signature: Some(&signed.signature),
        body: BODY,
    }
}

fn check(received: &Received<'_>) -> Result<SignedBy, SignatureError> {
    let key = rfc_test_key().verifying_key();
    verify_request(received, NOW + 10, SKEW, |id| {
        (id == KEY_ID).then(|| key.clone())
    })
}

#[test]
fn a_signed_request_verifies_and_names_its_key_time_and_nonce() {
    let signed = signed();
    assert_eq!(
        signed.signature_input,
        format!(
            r#"zhiyuan=("@method" "@target-uri" "content-digest");created={NOW};nonce="3kq9Yd7tQ1uW0fXb";keyid="{KEY_ID}";alg="ed25519""#
        )
    );
    assert_eq!(
        check(&received(&signed)).unwrap(),
        SignedBy {
            key_id: KEY_ID.into(),
            created: NOW,
            nonce: "3kq9Yd7tQ1uW0fXb".into(),
        }
    );
}

#[test]
fn every_change_to_a_signed_request_is_refused_by_name() {
    let signed = signed();

    let mut other_body = received(&signed);
    other_body.body = br#"{"transfer":"0193a5b0-0000-7000-8000-000000000002"}"#;
    assert_eq!(check(&other_body), Err(SignatureError::Digest));

    // The body changed with a digest to match: the digest is signed.
    let digest = content_digest(other_body.body);
    other_body.content_digest = Some(&digest);
    assert_eq!(
        check(&other_body),
        Err(SignatureError::BadSignature(KEY_ID.into()))
    );

    let mut other_method = received(&signed);
    other_method.method = "PUT";
    assert_eq!(
        check(&other_method),
        Err(SignatureError::BadSignature(KEY_ID.into()))
    );

    let mut other_target = received(&signed);
    other_target.target_uri = "https://ezhou.example/federation/v1/transfers";
    assert_eq!(
        check(&other_target),
        Err(SignatureError::BadSignature(KEY_ID.into()))
    );

    // A later nonce or time in the input than the one signed.
    let later_nonce = signed
        .signature_input
        .replace("3kq9Yd7tQ1uW0fXb", "fresh-nonce");
    let mut replayed = received(&signed);
    replayed.signature_input = Some(&later_nonce);
    assert_eq!(
        check(&replayed),
        Err(SignatureError::BadSignature(KEY_ID.into()))
    );
}

#[test]
fn a_stale_unknown_or_foreign_signature_is_refused() {
    let signed = signed();
    let key = rfc_test_key().verifying_key();
    let stale = verify_request(&received(&signed), NOW + SKEW + 1, SKEW, |_| {
        Some(key.clone())
    });
    assert_eq!(
        stale,
        Err(SignatureError::Time {
            created: NOW,
            now: NOW + SKEW + 1,
            skew: SKEW
        })
    );
    let early = verify_request(&received(&signed), NOW - SKEW - 1, SKEW, |_| {
        Some(key.clone())
    });
    assert!(matches!(early, Err(SignatureError::Time { .. })));

    let unknown = verify_request(&received(&signed), NOW, SKEW, |_| None);
    assert_eq!(unknown, Err(SignatureError::UnknownKey(KEY_ID.into())));

    // Signed by a key the DID never had, under the DID's key id.
    let stranger = SigningKey::from_seed([7; 32]);
    let forged = sign_request("POST", TARGET, BODY, KEY_ID, &stranger, NOW, "n").unwrap();
    assert_eq!(
        check(&received(&forged)),
        Err(SignatureError::BadSignature(KEY_ID.into()))
    );
}

#[test]
fn a_signature_of_another_shape_is_refused() {
    let signed = signed();

    let mut bare = received(&signed);
    bare.signature = None;
    assert_eq!(check(&bare), Err(SignatureError::Missing("Signature")));
    let mut bare = received(&signed);
    bare.signature_input = None;
    assert_eq!(
        check(&bare),
        Err(SignatureError::Missing("Signature-Input"))
    );
    let mut bare = received(&signed);
    bare.content_digest = None;
    assert_eq!(check(&bare), Err(SignatureError::Missing("Content-Digest")));

    let uncovered = signed.signature_input.replace(r#" "content-digest""#, "");
    let mut partial = received(&signed);
    partial.signature_input = Some(&uncovered);
    assert_eq!(
        check(&partial),
        Err(SignatureError::NotCovered("@method @target-uri".into()))
    );

    let other_suite = signed.signature_input.replace("ed25519", "hmac-sha256");
    let mut hmac = received(&signed);
    hmac.signature_input = Some(&other_suite);
    assert_eq!(
        check(&hmac),
        Err(SignatureError::Algorithm("hmac-sha256".into()))
    );

    let relabelled = signed.signature_input.replace("zhiyuan=", "other=");
    let mut other_label = received(&signed);
    other_label.signature_input = Some(&relabelled);
    assert!(matches!(
        check(&other_label),
        Err(SignatureError::Malformed("Signature-Input", _))
    ));

    let mut garbage = received(&signed);
    garbage.signature_input = Some("zhiyuan=(\"@method\"");
    assert!(matches!(
        check(&garbage),
        Err(SignatureError::Malformed("Signature-Input", _))
    ));
    let short = "zhiyuan=:AAAA:";
    let mut truncated = received(&signed);
    truncated.signature = Some(short);
    assert!(matches!(
        check(&truncated),
        Err(SignatureError::Malformed("Signature", _))
    ));
}
