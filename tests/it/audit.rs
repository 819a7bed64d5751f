//! The audit trail is a hash chain per tenant: `zhiyuan audit check` walks it and names the
//! first event that was changed, removed or reordered behind the node's back.

use reqwest::Method;
use serde_json::json;
use zhiyuan_domain::GrantKind;

use crate::support::{Backend, TestNode};

/// Runs `zhiyuan audit check` against the test node's database; answers whether it passed and
/// what it printed.
fn audit_check(node: &TestNode, tenant: Option<&str>) -> (bool, String) {
    let mut args = vec!["audit", "check"];
    if let Some(tenant) = tenant {
        args.extend(["--tenant", tenant]);
    }
    let (ok, out, _) = node.command(&args);
    (ok, out)
}

async fn tampered_events_are_named(backend: Backend) {
    let node = TestNode::spawn(backend).await;
    // A few events: an account made, sign-ins, a refused sign-in, a unit created.
    node.account_as(None, "root", GrantKind::Operator).await;
    let office = node
        .account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;
    let refused = node
        .call(
            Method::POST,
            "/api/v1/session",
            None,
            Some(json!({ "tenant": "421300", "username": "office", "password": "wrong-password" })),
        )
        .await;
    assert_eq!(refused.status, 401);
    node.call(
        Method::POST,
        "/api/v1/tenants/421300/units",
        Some(&office),
        Some(json!({ "name": { "zh": "曾都区民政局" }, "region": "421303", "kind": "organ", "civilisation_level": "other", "staff": 12 })),
    )
    .await
    .assert_ok();
    let events = node
        .count("audit_events WHERE tenant_code = '421300'")
        .await;
    assert!(events >= 4, "{events} events");

    let (ok, out) = audit_check(&node, None);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("421300: {events} events, chain intact")),
        "{out}"
    );
    assert!(
        out.contains("node: "),
        "node-wide events have a trail too: {out}"
    );

    // Someone with the database in hand rewrites what the second event says.
    node.execute("UPDATE audit_events SET actor_name = 'someone else' WHERE tenant_code = '421300' AND seq = 2")
        .await;
    let (ok, out) = audit_check(&node, Some("421300"));
    assert!(!ok);
    assert!(
        out.contains("421300: chain broken at event 2 ("),
        "the changed event is named by its id: {out}"
    );
    assert!(out.contains("changed or moved"), "{out}");
    // Erasing its hash as well does not make the node chain it again at start-up.
    node.execute("UPDATE audit_events SET hash = NULL WHERE tenant_code = '421300' AND seq = 2")
        .await;
    let (ok, out) = audit_check(&node, Some("421300"));
    assert!(!ok && out.contains("chain broken at event 2"), "{out}");
    node.stop().await;
}

async fn removed_and_reordered_events_are_named(backend: Backend) {
    let node = TestNode::spawn(backend).await;
    for index in 0..3 {
        node.account(Some("421300"), &format!("person{index}"), &[])
            .await;
    }
    let events = node
        .count("audit_events WHERE tenant_code = '421300'")
        .await;
    assert!(events >= 6, "{events} events");

    // The third event removed: the chain skips a number.
    node.execute("DELETE FROM audit_events WHERE tenant_code = '421300' AND seq = 3")
        .await;
    let (ok, out) = audit_check(&node, Some("421300"));
    assert!(!ok);
    assert!(
        out.contains("421300: chain broken at event 3: missing (removed)"),
        "{out}"
    );

    // The gap filled by moving the last event into it: its hash was made for another place.
    node.execute(&format!(
        "UPDATE audit_events SET seq = 3 WHERE tenant_code = '421300' AND seq = {events}"
    ))
    .await;
    let (ok, out) = audit_check(&node, Some("421300"));
    assert!(!ok);
    assert!(
        out.contains("421300: chain broken at event 3 (") && out.contains("changed or moved"),
        "{out}"
    );

    // Two events swapped: each carries a hash of its own place.
    node.execute("UPDATE audit_events SET seq = -1 WHERE tenant_code = '421300' AND seq = 1")
        .await;
    node.execute("UPDATE audit_events SET seq = 1 WHERE tenant_code = '421300' AND seq = 2")
        .await;
    node.execute("UPDATE audit_events SET seq = 2 WHERE tenant_code = '421300' AND seq = -1")
        .await;
    let (ok, out) = audit_check(&node, Some("421300"));
    assert!(!ok);
    assert!(
        out.contains("421300: chain broken at event 1 (") && out.contains("changed or moved"),
        "{out}"
    );
    node.stop().await;
}

async fn a_truncated_trail_is_named(backend: Backend) {
    let node = TestNode::spawn(backend).await;
    node.account(Some("421300"), "person", &[]).await;
    let events = node
        .count("audit_events WHERE tenant_code = '421300'")
        .await;
    node.execute(&format!(
        "DELETE FROM audit_events WHERE tenant_code = '421300' AND seq = {events}"
    ))
    .await;
    let (ok, out) = audit_check(&node, Some("421300"));
    assert!(!ok);
    assert!(
        out.contains(&format!(
            "421300: chain broken at event {events}: missing (removed)"
        )),
        "{out}"
    );

    // The head moved back to hide it: its number now fits, but not its hash.
    let head_named = format!(
        "421300: chain broken at event {}: the last; the trail's head no longer names it",
        events - 1
    );
    node.execute(&format!(
        "UPDATE audit_heads SET seq = {} WHERE tenant_code = '421300'",
        events - 1
    ))
    .await;
    let (ok, out) = audit_check(&node, Some("421300"));
    assert!(!ok && out.contains(&head_named), "{out}");

    // The head removed as well: the trail is still found by its events and named, and the
    // node, restarted on the database, does not chain it again.
    node.execute("DELETE FROM audit_heads WHERE tenant_code = '421300'")
        .await;
    let (ok, out) = audit_check(&node, None);
    assert!(!ok && out.contains(&head_named), "{out}");
    assert_eq!(
        node.count("audit_heads WHERE tenant_code = '421300'").await,
        0
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_events_are_named_on_sqlite() {
    tampered_events_are_named(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_events_are_named_on_postgres() {
    tampered_events_are_named(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_and_reordered_events_are_named_on_sqlite() {
    removed_and_reordered_events_are_named(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_and_reordered_events_are_named_on_postgres() {
    removed_and_reordered_events_are_named(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_trail_is_named_on_sqlite() {
    a_truncated_trail_is_named(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_trail_is_named_on_postgres() {
    a_truncated_trail_is_named(Backend::Postgres).await;
}
