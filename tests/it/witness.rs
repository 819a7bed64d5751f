//! Two real nodes on loopback: one witnesses the other's logs. It cosigns each checkpoint that
//! extends the one it cosigned before, so anyone holding its key knows it saw the same tree;
//! when the other node shows a different tree of a size it already cosigned (a fork, made here
//! behind the node's back in its database), it refuses to cosign and raises the alarm, with both
//! checkpoints as evidence, on its public list and in its metrics.

use zhiyuan_domain::{LogEntry, TenantCode};
use zhiyuan_federation::SigningKey;
use zhiyuan_federation::log::{LogError, entry_of, open_checkpoint};
use zhiyuan_federation::witness::open_cosignature;

use crate::support::{Backend, TestNode};

fn credential(number: u64) -> LogEntry {
    entry_of(
        &format!("urn:uuid:0193a5b0-0000-7000-8000-{number:012}"),
        format!("{{\"n\":{number}}}").as_bytes(),
    )
}

fn operator_key(node: &TestNode) -> SigningKey {
    let ring = zhiyuan_keys::KeyRing::new(
        &node.config.data_keys,
        Some(node.config.data_dir.join("keys")),
    )
    .unwrap();
    SigningKey::from_secret(&ring.signing_secret("node").unwrap().secret)
}

async fn round(witness: &TestNode, peer: &TestNode) -> Vec<zhiyuan::witness::Observed> {
    let key = operator_key(witness);
    let client = reqwest::Client::new();
    zhiyuan::witness::witness_round(witness.app(), &witness.config.peers, &key, &client)
        .await
        .into_iter()
        .filter(|observed| format!("{observed:?}").contains(&format!("{}/log/421300", host(peer))))
        .collect()
}

fn host(node: &TestNode) -> String {
    zhiyuan_app::log::host(&node.app().settings.public_url).to_owned()
}

async fn witnessed(witness: &TestNode, origin: &str) -> serde_json::Value {
    let logs = witness.download("/witness/logs", None).await;
    logs.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|log| log["origin"] == origin)
        .cloned()
        .unwrap_or_else(|| panic!("{origin} is witnessed: {:#}", logs.body))
}

async fn scenario(backend: Backend) {
    let city = TestNode::spawn_configured(backend, |config| {
        config.public_url = Some("https://suizhou.test".into());
    })
    .await;
    let operator = operator_key(&city).verifying_key().to_multibase();
    let base_url = city.base_url.clone();
    let witness = TestNode::spawn_configured(backend, move |config| {
        config.public_url = Some("https://witness.test".into());
        config.peers = vec![zhiyuan::config::PeerConfig {
            url: base_url,
            operator_keys: vec![operator],
        }];
        // Rounds are run by the test; the node's own would come an hour later.
        config.witness_every_seconds = 3600;
    })
    .await;
    let tenant = TenantCode::parse("421300").unwrap();
    let origin = "suizhou.test/log/421300";
    let now = city.app().clock.now();
    let witness_key = operator_key(&witness).verifying_key();

    // The first checkpoint seen is cosigned as it is.
    let batch: Vec<LogEntry> = (0..10).map(credential).collect();
    city.store()
        .append_to_log(&tenant, &batch, now)
        .await
        .unwrap();
    let first = round(&witness, &city).await;
    assert_eq!(
        first,
        [zhiyuan::witness::Observed::Cosigned {
            origin: origin.into(),
            size: 10
        }]
    );
    let log = witnessed(&witness, origin).await;
    assert_eq!(log["size"], 10);
    let cosigned = log["checkpoint"].as_str().unwrap();
    open_cosignature(cosigned, "witness.test/witness", &witness_key).unwrap();

    // Nothing new: nothing to sign. The log grows: the witness checks the consistency proof
    // and cosigns the larger checkpoint.
    assert!(matches!(
        round(&witness, &city).await[..],
        [zhiyuan::witness::Observed::Unchanged { .. }]
    ));
    let more: Vec<LogEntry> = (10..300).map(credential).collect();
    city.store()
        .append_to_log(&tenant, &more, now)
        .await
        .unwrap();
    assert_eq!(
        round(&witness, &city).await,
        [zhiyuan::witness::Observed::Cosigned {
            origin: origin.into(),
            size: 300
        }]
    );
    let log = witnessed(&witness, origin).await;
    let cosigned_300 = log["checkpoint"].as_str().unwrap().to_owned();
    open_cosignature(&cosigned_300, "witness.test/witness", &witness_key).unwrap();
    assert!(log["alarm"].is_null());

    // Someone with the city's database shows another tree of the same size: a fork.
    let forged_root = [7u8; 32];
    let hex: String = forged_root
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let literal = match backend {
        Backend::Sqlite => format!("x'{hex}'"),
        Backend::Postgres => format!("'\\x{hex}'::bytea"),
    };
    city.execute(&format!(
        "UPDATE log_heads SET root = {literal} WHERE tenant_code = '421300'"
    ))
    .await;
    let forked = city.download("/log/421300/checkpoint", None).await;
    assert_eq!(
        forked.status, 200,
        "the city's node signs whatever its database says"
    );

    let observed = round(&witness, &city).await;
    let [zhiyuan::witness::Observed::Alarm { alarm, .. }] = &observed[..] else {
        panic!("{observed:?}");
    };
    assert!(alarm.contains("forked"), "{alarm}");
    let log = witnessed(&witness, origin).await;
    assert_eq!(log["size"], 300, "the forked checkpoint is not cosigned");
    assert_eq!(log["checkpoint"], cosigned_300.as_str());
    let evidence = log["evidence"].as_str().unwrap();
    assert!(
        evidence.contains(&cosigned_300)
            && evidence.contains(std::str::from_utf8(&forked.bytes).unwrap()),
        "{evidence}"
    );
    // Both checkpoints of the evidence carry the city tenant's signature: the fork is proven.
    let ring = zhiyuan_keys::KeyRing::new(
        &city.config.data_keys,
        Some(city.config.data_dir.join("keys")),
    )
    .unwrap();
    let tenant_key =
        SigningKey::from_secret(&ring.signing_secret("421300").unwrap().secret).verifying_key();
    let before = open_checkpoint(
        cosigned_300.as_bytes(),
        origin,
        std::slice::from_ref(&tenant_key),
    )
    .unwrap();
    let after = open_checkpoint(&forked.bytes, origin, std::slice::from_ref(&tenant_key)).unwrap();
    assert_eq!(
        zhiyuan_federation::log::check_consistency(&Vec::new(), &before, &after).unwrap_err(),
        LogError::Forked {
            size: 300,
            first: before.hash().to_string(),
            second: after.hash().to_string()
        }
    );
    let operator_token = witness
        .account_as(None, "operator", zhiyuan_domain::GrantKind::Operator)
        .await;
    let metrics = witness.download("/metrics", Some(&operator_token)).await;
    let text = String::from_utf8(metrics.bytes.clone()).unwrap();
    assert!(
        text.lines().any(|line| line == "zhiyuan_witness_alarms 1"),
        "{text}"
    );
    // The alarm stays: later rounds neither clear it nor cosign.
    assert!(matches!(
        round(&witness, &city).await[..],
        [zhiyuan::witness::Observed::Alarm { .. }]
    ));

    // The witness keeps the tenant's DID document it checked with: when the city's node is
    // gone, its credentials still verify against the copy.
    let people = crate::support::volunteers(&city, "421303", "19930101", 1).await;
    zhiyuan_app::credentials::issue_pending(
        city.app(),
        &tenant,
        zhiyuan_domain::Timestamp::from_unix_millis(0),
        100,
    )
    .await
    .unwrap();
    let mine = city
        .get(
            "/api/v1/tenants/421300/volunteers/me/credentials",
            &people[0].token,
        )
        .await;
    let credential = mine.assert_ok()["items"][0]["credential"].clone();
    let copy = witnessed(&witness, origin).await["did_document"].clone();
    assert_eq!(copy["id"], "did:web:suizhou.test:tenants:421300");

    // A witness told to trust another operator key witnesses nothing of the city.
    let misconfigured = [zhiyuan::config::PeerConfig {
        url: city.base_url.clone(),
        operator_keys: vec![
            SigningKey::from_seed([3; 32])
                .verifying_key()
                .to_multibase(),
        ],
    }];
    let key = operator_key(&witness);
    let observed = zhiyuan::witness::witness_round(
        witness.app(),
        &misconfigured,
        &key,
        &reqwest::Client::new(),
    )
    .await;
    assert!(observed.is_empty(), "{observed:?}");
    city.stop().await;
    let keys = zhiyuan_federation::did::DidKeys::read(&copy).unwrap();
    zhiyuan_federation::did::verify_credential(&credential, &[keys]).unwrap();
    // The witness's audit endpoint checks it against that copy too, for anyone who asks; its
    // log is not checked, as the witness holds no checkpoint of the city's with a proof.
    let audited = witness
        .call(
            reqwest::Method::POST,
            "/api/v1/audit/credentials",
            None,
            Some(serde_json::json!({ "items": [{ "credential": credential }] })),
        )
        .await;
    let finding = &audited.assert_ok()["items"][0];
    assert_eq!(finding["verified"], true, "{finding:#}");
    assert_eq!(finding["issuer"], "did:web:suizhou.test:tenants:421300");
    assert!(finding["logged_in"].is_null(), "{finding:#}");
    witness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_node_cosigns_a_peers_log_and_flags_its_fork_on_sqlite() {
    scenario(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_node_cosigns_a_peers_log_and_flags_its_fork_on_postgres() {
    scenario(Backend::Postgres).await;
}
