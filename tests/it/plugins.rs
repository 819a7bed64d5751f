//! A city office's policy plugins over HTTP: signed upload, refusals, dry runs, bindings,
//! switching and rolling back revisions under load, and a failing plugin kept to its tenant.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use reqwest::Method;
use serde_json::{Value, json};
use zhiyuan_domain::GrantKind;
use zhiyuan_federation::multikey::SigningKey;
use zhiyuan_plugins::sign_package;

use crate::support::{Backend, TestNode, eventually};

// The harness is told where the plugins to test are, as CI rebuilds them.
#[allow(clippy::disallowed_methods)]
fn dist() -> PathBuf {
    match std::env::var_os("ZHIYUAN_PLUGIN_DIST") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../plugins/dist"),
    }
}

fn wasm(relative: &str) -> Vec<u8> {
    let path = dist().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A node that trusts one operator key and requires signatures, as nodes outside the demo do.
async fn node_with_operator(backend: Backend) -> (TestNode, SigningKey) {
    let operator = SigningKey::from_seed([42; 32]);
    let public = operator.verifying_key().to_multibase();
    let node = TestNode::spawn_configured(backend, |config| {
        config.plugins.trusted_keys = vec![public];
        config.plugins.failure_threshold = 3;
    })
    .await;
    (node, operator)
}

async fn upload(
    node: &TestNode,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
    signature: Option<&str>,
) -> crate::support::Answer {
    let mut headers = vec![("content-type", "application/wasm")];
    if let Some(signature) = signature {
        headers.push(("zhiyuan-signature", signature));
    }
    node.call_with_headers(
        Method::POST,
        &format!("/api/v1/tenants/421300/plugins?name={name}&version=0.1.0"),
        token,
        &headers,
        bytes,
    )
    .await
}

/// Uploads the test plugin, signed by the operator; its SHA-256.
async fn upload_misbehaving(node: &TestNode, office: &str, operator: &SigningKey) -> String {
    let plugin = wasm("test/misbehaving.wasm");
    let signature = sign_package(operator, &plugin);
    let stored = upload(node, office, "misbehaving", plugin, Some(&signature)).await;
    stored.assert_ok()["sha256"].as_str().unwrap().to_owned()
}

/// Waits up to five seconds for `condition` to hold.
fn region_targets(report: &Value) -> Vec<f64> {
    report["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["target"].as_f64().unwrap())
        .collect()
}

fn unit_targets(report: &Value) -> Vec<f64> {
    report["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["target"].as_f64().unwrap())
        .collect()
}

async fn an_office_uploads_binds_dry_runs_and_rolls_back(backend: Backend) {
    let (node, operator) = node_with_operator(backend).await;
    let office = node
        .account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;
    let plugin = wasm("test/misbehaving.wasm");

    // Refused before anything is stored: unsigned, signed by a stranger, signed over other bytes.
    let before = node.snapshot().await;
    let unsigned = upload(&node, &office, "misbehaving", plugin.clone(), None).await;
    assert_eq!(
        unsigned.assert_problem(422, "plugin_refused").as_deref(),
        Some("header/zhiyuan-signature")
    );
    assert_eq!(unsigned.body["rule"], "unsigned");
    let stranger = sign_package(&SigningKey::from_seed([7; 32]), &plugin);
    let wrong = upload(
        &node,
        &office,
        "misbehaving",
        plugin.clone(),
        Some(&stranger),
    )
    .await;
    wrong.assert_problem(422, "plugin_refused");
    assert_eq!(wrong.body["rule"], "bad_signature");
    let other_bytes = sign_package(&operator, b"other bytes");
    let wrong = upload(
        &node,
        &office,
        "misbehaving",
        plugin.clone(),
        Some(&other_bytes),
    )
    .await;
    assert_eq!(wrong.body["rule"], "bad_signature");
    for (fixture, rule) in [
        ("test/wrong-world.wasm", "wrong_world"),
        ("test/unknown-version.wasm", "unknown_wit_version"),
        ("test/core-module.wasm", "not_a_component"),
        ("test/imports-clock.wasm", "forbidden_import"),
    ] {
        let bytes = wasm(fixture);
        let signature = sign_package(&operator, &bytes);
        let refused = upload(&node, &office, "fixture", bytes, Some(&signature)).await;
        refused.assert_problem(422, "plugin_refused");
        assert_eq!(refused.body["rule"], rule, "{fixture}: {:#}", refused.body);
    }
    let bad_name = upload(&node, &office, "Bad_Name", plugin.clone(), None).await;
    assert_eq!(
        bad_name.assert_problem(422, "plugin_name").as_deref(),
        Some("name")
    );
    assert_eq!(
        node.snapshot().await,
        before,
        "a refused upload stored something"
    );

    // Signed by the operator: stored once.
    let signature = sign_package(&operator, &plugin);
    let stored = upload(
        &node,
        &office,
        "misbehaving",
        plugin.clone(),
        Some(&signature),
    )
    .await;
    assert_eq!(stored.status.as_u16(), 201, "{:#}", stored.body);
    let sha256 = stored.body["sha256"].as_str().unwrap().to_owned();
    assert_eq!(
        stored.body["signed_by"],
        operator.verifying_key().to_multibase()
    );
    assert_eq!(stored.body["hooks"].as_array().unwrap().len(), 6);
    let again = upload(
        &node,
        &office,
        "misbehaving",
        plugin.clone(),
        Some(&signature),
    )
    .await;
    assert_eq!(again.status.as_u16(), 200);

    // The tenant starts on revision 1, the bundled plugins its file binds.
    let policy = node.get("/api/v1/tenants/421300/policy", &office).await;
    let policy = policy.assert_ok();
    assert_eq!(policy["revision"], 1);
    assert!(
        policy["hooks"][1]["source"]
            .as_str()
            .unwrap()
            .starts_with("suizhou-targets 0.1.0")
    );
    assert_eq!(
        policy["hooks"][4]["source"].as_str().unwrap(),
        zhiyuan_plugins::BUILTIN_NAME
    );

    // A dry run answers and changes nothing.
    let dry = node
        .call(
            Method::POST,
            &format!("/api/v1/tenants/421300/plugins/{sha256}/dry-run"),
            Some(&office),
            Some(json!({
                "hook": "region-target",
                "input": { "code": "421300", "resident_population": 1000 },
                "settings": { "region-bp": "4242" }
            })),
        )
        .await;
    assert_eq!(dry.assert_ok()["answer"], json!({ "target": 4242 }));
    let looping = node
        .call(
            Method::POST,
            &format!("/api/v1/tenants/421300/plugins/{sha256}/dry-run"),
            Some(&office),
            Some(json!({ "hook": "star-level", "input": { "service_minutes": 1, "registered_on": "2026-01-01", "as_of": "2026-11-29" }, "settings": { "mode": "loop" } })),
        )
        .await;
    // Stopped by time: its ten milliseconds of CPU, or the wall-clock backstop on a machine too
    // busy to give it those; never by fuel, whatever the machine's speed.
    let reason = &looping.assert_ok()["failure"]["reason"];
    assert!(
        *reason == json!({ "kind": "deadline", "ms": 10 }) || reason["kind"] == "host_busy",
        "{reason}"
    );
    let misfit = node
        .call(
            Method::POST,
            &format!("/api/v1/tenants/421300/plugins/{sha256}/dry-run"),
            Some(&office),
            Some(json!({ "hook": "region-target", "input": { "kind": "organ" } })),
        )
        .await;
    assert_eq!(
        misfit.assert_problem(422, "hook_input").as_deref(),
        Some("/input")
    );

    // Bad bindings name the binding at fault and change nothing.
    let before = node.snapshot().await;
    let naming_sha = node
        .get("/api/v1/tenants/421300/plugins", &office)
        .await
        .assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "suizhou-naming")
        .unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases = [
        (
            json!([{ "hook": "region-target", "plugin": "0".repeat(64) }]),
            "plugin_unknown",
            "/bindings/0/plugin",
        ),
        (
            json!([{ "hook": "region-target", "plugin": sha256 }, { "hook": "region-target", "plugin": sha256 }]),
            "hook_bound_twice",
            "/bindings/1/hook",
        ),
        (
            json!([{ "hook": "region-target", "plugin": naming_sha }]),
            "plugin_refused",
            "/bindings",
        ),
    ];
    for (bindings, code, field) in cases {
        let answer = node
            .call(
                Method::PUT,
                "/api/v1/tenants/421300/policy",
                Some(&office),
                Some(json!({ "bindings": bindings })),
            )
            .await;
        assert_eq!(
            answer.assert_problem(422, code).as_deref(),
            Some(field),
            "{:#}",
            answer.body
        );
    }
    assert_eq!(
        node.snapshot().await,
        before,
        "a refused binding changed something"
    );

    // Revision 2 binds the targets to the uploaded plugin; the report follows it at once.
    let bound = node
        .call(
            Method::PUT,
            "/api/v1/tenants/421300/policy",
            Some(&office),
            Some(json!({ "bindings": [
                { "hook": "region-target", "plugin": sha256, "settings": { "region-bp": "4242" } },
                { "hook": "unit-target", "plugin": sha256 }
            ] })),
        )
        .await;
    assert_eq!(bound.assert_ok()["revision"], 2);
    let report = node
        .get("/api/v1/tenants/421300/stats/registration", &office)
        .await;
    assert!(
        region_targets(report.assert_ok())
            .iter()
            .all(|t| *t == 0.4242)
    );
    assert!(unit_targets(&report.body).iter().all(|t| *t == 0.5));
    // Hooks left out answer with the built-in default.
    let policy = node.get("/api/v1/tenants/421300/policy", &office).await;
    assert_eq!(
        policy.assert_ok()["hooks"][0]["source"],
        zhiyuan_plugins::BUILTIN_NAME
    );

    // Rolled back to revision 1: the notice's targets again.
    let switched = node
        .call(
            Method::POST,
            "/api/v1/tenants/421300/policy/switch",
            Some(&office),
            Some(json!({ "revision": 1, "reason": "回到通知的目标" })),
        )
        .await;
    switched.assert_ok();
    let report = node
        .get("/api/v1/tenants/421300/stats/registration", &office)
        .await;
    assert!(
        region_targets(report.assert_ok())
            .iter()
            .all(|t| *t == 0.13)
    );
    let unknown = node
        .call(
            Method::POST,
            "/api/v1/tenants/421300/policy/switch",
            Some(&office),
            Some(json!({ "revision": 99 })),
        )
        .await;
    assert_eq!(
        unknown
            .assert_problem(422, "policy_revision_unknown")
            .as_deref(),
        Some("/revision")
    );

    // Every change is in the audit trail.
    let events = node
        .get("/api/v1/tenants/421300/audit-events?limit=1000", &office)
        .await;
    let actions: Vec<&str> = events.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["action"].as_str().unwrap())
        .collect();
    for action in ["plugin.upload", "policy.bind", "policy.switch"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }

    // Accounts without the office grant may not touch policy.
    let auditor = node
        .account_as(Some("421300"), "auditor", GrantKind::Auditor)
        .await;
    let forbidden = node
        .call(
            Method::PUT,
            "/api/v1/tenants/421300/policy",
            Some(&auditor),
            Some(json!({ "bindings": [] })),
        )
        .await;
    forbidden.assert_problem(403, "forbidden");
    node.get("/api/v1/tenants/421300/policy", &auditor)
        .await
        .assert_ok();

    node.verify().await;
    node.stop().await;
}

async fn switching_under_concurrent_requests_never_serves_a_mix(backend: Backend) {
    let (node, operator) = node_with_operator(backend).await;
    let node = Arc::new(node);
    let office = node
        .account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;
    let sha256 = upload_misbehaving(&node, &office, &operator).await;
    let bound = node
        .call(
            Method::PUT,
            "/api/v1/tenants/421300/policy",
            Some(&office),
            Some(json!({ "bindings": [
                { "hook": "region-target", "plugin": sha256, "settings": { "region-bp": "4242" } },
                { "hook": "unit-target", "plugin": sha256 }
            ] })),
        )
        .await;
    assert_eq!(bound.assert_ok()["revision"], 2);

    let done = Arc::new(AtomicBool::new(false));
    // How many reports each revision gave, counted by the readers as they go.
    let seen = Arc::new([AtomicU32::new(0), AtomicU32::new(0)]);
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (node, office, done, seen) = (node.clone(), office.clone(), done.clone(), seen.clone());
        readers.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let report = node
                    .get("/api/v1/tenants/421300/stats/registration", &office)
                    .await;
                let report = report.assert_ok();
                let regions = region_targets(report);
                let units = unit_targets(report);
                let source = report["policy"]["region_target"].as_str().unwrap();
                if regions.iter().all(|t| *t == 0.13) {
                    // Revision 1: the bundled targets, for units too.
                    assert!(
                        units.iter().all(|t| [0.95, 0.9, 0.85, 0.8].contains(t)),
                        "{units:?}"
                    );
                    assert!(
                        source.starts_with("suizhou-targets") && source.ends_with("revision 1"),
                        "{source}"
                    );
                    assert!(
                        report["policy"]["unit_target"]
                            .as_str()
                            .unwrap()
                            .ends_with("revision 1")
                    );
                    seen[0].fetch_add(1, Ordering::Relaxed);
                } else {
                    assert!(
                        regions.iter().all(|t| *t == 0.4242),
                        "a mix of region targets: {regions:?}"
                    );
                    assert!(
                        units.iter().all(|t| *t == 0.5),
                        "revision 2 with other unit targets: {units:?}"
                    );
                    assert!(source.ends_with("revision 2"), "{source}");
                    seen[1].fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for i in 0..12 {
        let revision = if i % 2 == 0 { 1 } else { 2 };
        let before = seen[i % 2].load(Ordering::Relaxed);
        node.call(
            Method::POST,
            "/api/v1/tenants/421300/policy/switch",
            Some(&office),
            Some(json!({ "revision": revision })),
        )
        .await
        .assert_ok();
        // The next switch waits until a reader was served this revision, so that every switch
        // is seen under concurrent reads whatever the machine's pace (a minute is a backstop).
        let started = std::time::Instant::now();
        while seen[i % 2].load(Ordering::Relaxed) == before {
            // A reader that stopped saw a mix: its panic is reported below.
            if readers.iter().any(tokio::task::JoinHandle::is_finished) {
                break;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "revision {revision} was never served"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    done.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.await.expect("a reader saw a mix");
    }
    let node = Arc::into_inner(node).expect("readers done");
    node.verify().await;
    node.stop().await;
}

async fn a_failing_plugin_is_kept_to_its_tenant_and_switched_off(backend: Backend) {
    let (node, operator) = node_with_operator(backend).await;
    let office = node
        .account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;
    let ezhou = node
        .account_as(Some("420700"), "office", GrantKind::OfficeAdmin)
        .await;
    let sha256 = upload_misbehaving(&node, &office, &operator).await;
    node.call(
        Method::PUT,
        "/api/v1/tenants/421300/policy",
        Some(&office),
        Some(json!({ "bindings": [{ "hook": "region-target", "plugin": sha256, "settings": { "mode": "trap" } }] })),
    )
    .await
    .assert_ok();

    // Fails closed, naming tenant, plugin, version and hook; Ezhou's report is untouched.
    for _ in 0..3 {
        let failed = node
            .get("/api/v1/tenants/421300/stats/registration", &office)
            .await;
        failed.assert_problem(503, "plugin_failed");
        let message = failed.body["message"]["en"].as_str().unwrap();
        for part in ["421300", "misbehaving", "0.1.0", "region-target"] {
            assert!(message.contains(part), "{message} names {part}");
        }
        let other = node
            .get("/api/v1/tenants/420700/stats/registration", &ezhou)
            .await;
        assert!(
            region_targets(other.assert_ok()).iter().all(|t| *t == 0.10),
            "Ezhou binds 10%"
        );
    }

    // After three failures in a row the hook is switched off: the plugin runs no more, the
    // binding (fail closed) keeps refusing, and the office sees why, now and after the node
    // records it.
    let refused = node
        .get("/api/v1/tenants/421300/stats/registration", &office)
        .await;
    refused.assert_problem(503, "plugin_failed");
    let message = refused.body["message"]["en"].as_str().unwrap();
    assert!(message.contains("switched off"), "{message}");
    let policy = node.get("/api/v1/tenants/421300/policy", &office).await;
    let why = policy.assert_ok()["hooks"][1]["switched_off"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(why.contains("3 failures in a row"), "{why}");
    let recorded = eventually(|| async { node.count("policy_switch_offs").await == 1 }).await;
    assert!(recorded, "the switch-off is stored");
    node.verify().await;
    node.stop().await;
}

async fn a_tenant_created_over_the_api_binds_the_bundled_plugins_it_names(backend: Backend) {
    let (node, _) = node_with_operator(backend).await;
    let operator = node.account_as(None, "operator", GrantKind::Operator).await;
    let document = |plugin: &str| {
        json!({
            "code": "420800",
            "name": { "zh": "荆门市" },
            "regions": [{ "code": "420800", "name": { "zh": "荆门市" }, "level": "city", "resident_population": 2_597_068 }],
            "plugins": [
                { "hook": "region-target", "plugin": plugin, "settings": { "region-percent": "11" } }
            ]
        })
    };
    let before = node.snapshot().await;
    let refused = node
        .call(
            Method::POST,
            "/api/v1/tenants",
            Some(&operator),
            Some(document("no-such-plugin")),
        )
        .await;
    assert_eq!(
        refused.assert_problem(422, "plugin_not_bundled").as_deref(),
        Some("/plugins/0/plugin")
    );
    let mut lacking = document("suizhou-targets");
    lacking["plugins"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "hook": "team-name", "plugin": "suizhou-targets" }));
    let refused = node
        .call(
            Method::POST,
            "/api/v1/tenants",
            Some(&operator),
            Some(lacking),
        )
        .await;
    assert_eq!(
        refused.assert_problem(422, "plugin_lacks_hook").as_deref(),
        Some("/plugins/1/hook")
    );
    assert_eq!(
        node.snapshot().await,
        before,
        "a refused tenant left something behind"
    );

    node.call(
        Method::POST,
        "/api/v1/tenants",
        Some(&operator),
        Some(document("suizhou-targets")),
    )
    .await
    .assert_ok();
    let report = node
        .get("/api/v1/tenants/420800/stats/registration", &operator)
        .await;
    assert!(
        region_targets(report.assert_ok())
            .iter()
            .all(|t| *t == 0.11),
        "{:#}",
        report.body
    );
    let policy = node.get("/api/v1/tenants/420800/policy", &operator).await;
    assert_eq!(policy.assert_ok()["revision"], 1);
    node.verify().await;
    node.stop().await;
}

/// Replicas sharing one PostgreSQL database: a change made through one is in force on the other
/// within seconds, and a rollback too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_follows_a_policy_change_made_through_another() {
    let (node, operator) = node_with_operator(Backend::Postgres).await;
    let office = node
        .account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;
    let replica = node.start_replica().await;
    let replica_url = &replica.base_url;
    let replica_targets = || async {
        let answer: Value = node
            .client
            .get(format!(
                "{replica_url}/api/v1/tenants/421300/stats/registration"
            ))
            .bearer_auth(&office)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        region_targets(&answer)
    };
    assert!(replica_targets().await.iter().all(|t| *t == 0.13));

    let sha256 = upload_misbehaving(&node, &office, &operator).await;
    node.call(
        Method::PUT,
        "/api/v1/tenants/421300/policy",
        Some(&office),
        Some(json!({ "bindings": [{ "hook": "region-target", "plugin": sha256, "settings": { "region-bp": "4242" } }] })),
    )
    .await
    .assert_ok();
    let followed =
        eventually(|| async { replica_targets().await.iter().all(|t| *t == 0.4242) }).await;
    assert!(followed, "the replica runs revision 2");

    node.call(
        Method::POST,
        "/api/v1/tenants/421300/policy/switch",
        Some(&office),
        Some(json!({ "revision": 1 })),
    )
    .await
    .assert_ok();
    let followed =
        eventually(|| async { replica_targets().await.iter().all(|t| *t == 0.13) }).await;
    assert!(followed, "the replica is back on revision 1");
    replica.stop().await;
    node.stop().await;
}

macro_rules! on_both {
    ($($name:ident),*) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(crate::support::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(crate::support::Backend::Postgres).await;
                }
            }
        )*
    };
}

on_both!(
    an_office_uploads_binds_dry_runs_and_rolls_back,
    switching_under_concurrent_requests_never_serves_a_mix,
    a_failing_plugin_is_kept_to_its_tenant_and_switched_off,
    a_tenant_created_over_the_api_binds_the_bundled_plugins_it_names
);
