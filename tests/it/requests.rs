//! A signed request between nodes, as its receiver checks it: the signature (RFC 9421, by the
//! sender tenant's DID key), then its nonce, which the receiver's store accepts once. The same
//! request sent again, byte for byte, is a replay and is refused, on both databases.

use zhiyuan_domain::Timestamp;
use zhiyuan_federation::SigningKey;
use zhiyuan_federation::http_signature::{Received, sign_request, verify_request};

use crate::support::{TestNode, on_both_databases};

const KEY_ID: &str = "did:web:wuhan.example:tenants:420100#key-1";
const TARGET: &str = "https://suizhou.example/federation/v1/transfers";
const SKEW_SECONDS: i64 = 300;

/// What a receiver does with a request: checks its signature, then takes its nonce.
async fn receive(node: &TestNode, key: &SigningKey, signed: &[String; 3], body: &[u8]) -> bool {
    let now = node.app().clock.now();
    let seconds = now.unix_millis() / 1000;
    let received = Received {
        method: "POST",
        target_uri: TARGET,
        content_digest: Some(&signed[0]),
        signature_input: Some(&signed[1]),
        signature: Some(&signed[2]),
        body,
    };
    let verifying = key.verifying_key();
    let by = verify_request(&received, seconds, SKEW_SECONDS, |id| {
        (id == KEY_ID).then(|| verifying.clone())
    })
    .expect("a well-signed request");
    node.store()
        .accept_nonce(
            "421300",
            &by.key_id,
            &by.nonce,
            Timestamp::from_unix_millis(by.created * 1000),
            now.plus_seconds(-SKEW_SECONDS),
        )
        .await
        .unwrap()
}

fn sign(node: &TestNode, key: &SigningKey, body: &[u8], nonce: &str) -> [String; 3] {
    let seconds = node.app().clock.now().unix_millis() / 1000;
    let signed = sign_request("POST", TARGET, body, KEY_ID, key, seconds, nonce).unwrap();
    [
        signed.content_digest,
        signed.signature_input,
        signed.signature,
    ]
}

on_both_databases! {
    async fn a_signed_request_is_accepted_once_and_its_replay_refused(node: &TestNode) {
        let key = SigningKey::from_seed([5; 32]);
        let body = br#"{"transfer":"0193a5b0-0000-7000-8000-000000000001"}"#;
        let first = sign(node, &key, body, "n-1");
        assert!(receive(node, &key, &first, body).await, "the first delivery");
        assert!(!receive(node, &key, &first, body).await, "the same request again is a replay");
        // A new nonce is a new request, from the same key.
        let second = sign(node, &key, body, "n-2");
        assert!(receive(node, &key, &second, body).await);
        // Past the skew, a nonce is forgotten: its signature is refused by its time anyway.
        node.clock.advance_seconds(SKEW_SECONDS + 1);
        let third = sign(node, &key, body, "n-3");
        assert!(receive(node, &key, &third, body).await);
        assert_eq!(node.count("request_nonces WHERE nonce IN ('n-1', 'n-2')").await, 0);
        assert_eq!(node.count("request_nonces").await, 1);
    }
}
