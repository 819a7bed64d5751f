//! A tenant's data key is replaced by `zhiyuan keys rotate-data`: its identity numbers are
//! resealed and reindexed under the new key, the old key file is kept as retired, and a node
//! given the old key refuses to start rather than seal what no one could open.

use reqwest::Method;
use serde_json::json;
use zhiyuan_domain::GrantKind;

use crate::support::{Backend, TestNode, application, resident_id};

async fn a_rotated_data_key_reseals_and_the_old_key_is_refused(backend: Backend) {
    let mut node = TestNode::spawn(backend).await;
    let office = node
        .account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;
    let id_number = resident_id("42138119851201004");
    let (person, _) = node
        .apply_as_volunteer("421300", application("钱六", &id_number, "qian.liu"))
        .await;
    node.call(
        Method::POST,
        &format!("/api/v1/tenants/421300/volunteers/{person}/decision"),
        Some(&office),
        Some(json!({ "decision": "approve" })),
    )
    .await
    .assert_ok();
    let (stranger, _) = node
        .apply_as_volunteer("421300", application("孙七", &id_number, "sun.qi"))
        .await;
    let volunteers = node.count("volunteers WHERE tenant_code = '421300'").await;
    let (ok, shown, err) = node.command(&["keys", "show", "--tenant", "421300"]);
    assert!(ok, "{err}");
    let old_check = shown.split_whitespace().nth(3).unwrap().to_owned();
    assert!(
        !shown.contains(
            &std::fs::read_to_string(node.config.data_dir.join("keys/421300.key"))
                .unwrap()
                .trim()
                .to_owned()
        ),
        "keys are never shown"
    );

    node.halt().await;
    let (ok, out, err) = node.command(&["keys", "rotate-data", "--tenant", "421300"]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("{volunteers} identity numbers resealed")),
        "{out}"
    );
    let keys = node.config.data_dir.join("keys");
    assert!(
        keys.join(format!("421300.retired-{old_check}.key"))
            .exists(),
        "the old key is kept"
    );
    let (ok, shown, _) = node.command(&["keys", "show", "--tenant", "421300"]);
    assert!(ok);
    let new_check = shown.split_whitespace().nth(3).unwrap().to_owned();
    assert_ne!(new_check, old_check);
    assert!(out.contains(&format!("replaced by {new_check}")), "{out}");

    // The records open and are found under the new key.
    node.resume()
        .await
        .expect("the node starts with the new key");
    let office = node
        .login(Some("421300"), "office", "office-password")
        .await;
    let listed = node
        .get(
            &format!("/api/v1/tenants/421300/volunteers/{stranger}"),
            &office,
        )
        .await;
    assert_eq!(
        listed.assert_ok()["same_document"],
        1,
        "the index was computed again"
    );
    assert_eq!(
        listed.body["age_group"], "middle_aged",
        "the sealed number opens"
    );
    node.call(
        Method::POST,
        &format!("/api/v1/tenants/421300/volunteers/{stranger}/decision"),
        Some(&office),
        Some(json!({ "decision": "approve" })),
    )
    .await
    .assert_problem(409, "id_number_registered");
    let (ok, out, _) = node.command(&["audit", "check", "--tenant", "421300"]);
    assert!(ok, "{out}");
    assert_eq!(
        node.count("audit_events WHERE action = 'data_key.rotate'")
            .await,
        1
    );

    // A node still given the old key refuses to start.
    node.halt().await;
    let old_key =
        std::fs::read_to_string(keys.join(format!("421300.retired-{old_check}.key"))).unwrap();
    let mut config = node.config.clone();
    node.config
        .data_keys
        .insert("421300".to_owned(), old_key.trim().to_owned());
    let refused = node.resume().await.expect_err("the old key is refused");
    assert!(
        format!("{refused:#}").contains("not the one its records were sealed with"),
        "{refused:#}"
    );

    // A rotation that stopped after the records were resealed, before the files were swapped,
    // is finished by the next start.
    std::fs::rename(keys.join("421300.key"), keys.join("421300.next.key")).unwrap();
    std::fs::rename(
        keys.join(format!("421300.retired-{old_check}.key")),
        keys.join("421300.key"),
    )
    .unwrap();
    std::mem::swap(&mut node.config, &mut config);
    node.resume().await.expect("the node finishes the rotation");
    assert!(!keys.join("421300.next.key").exists());
    let office = node
        .login(Some("421300"), "office", "office-password")
        .await;
    node.get(
        &format!("/api/v1/tenants/421300/volunteers/{stranger}"),
        &office,
    )
    .await
    .assert_ok();
    node.verify().await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_data_key_reseals_and_the_old_key_is_refused_on_sqlite() {
    a_rotated_data_key_reseals_and_the_old_key_is_refused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_data_key_reseals_and_the_old_key_is_refused_on_postgres() {
    a_rotated_data_key_reseals_and_the_old_key_is_refused(Backend::Postgres).await;
}

/// A key file that went missing (a data folder restored without its keys) stops the node with
/// the check value of the key to restore; nothing makes a new key in its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_data_key_is_asked_for_not_replaced() {
    let mut node = TestNode::spawn(Backend::Sqlite).await;
    node.halt().await;
    let keys = node.config.data_dir.join("keys");
    let (_, shown, _) = node.command(&["keys", "show", "--tenant", "421300"]);
    let check = shown.split_whitespace().nth(3).unwrap().to_owned();
    let aside = tempfile::tempdir().unwrap();
    std::fs::rename(keys.join("421300.key"), aside.path().join("421300.key")).unwrap();

    let refused = node
        .resume()
        .await
        .expect_err("a node without the key stops");
    let message = format!("{refused:#}");
    assert!(
        message.contains("tenant 421300 has no data key") && message.contains(&check),
        "{message}"
    );
    let (ok, _, err) = node.command(&["keys", "show", "--tenant", "421300"]);
    assert!(!ok && err.contains(&check), "{err}");
    assert!(
        !keys.join("421300.key").exists(),
        "no new key was made in its place"
    );

    // Restored from the backup, the node starts.
    std::fs::rename(aside.path().join("421300.key"), keys.join("421300.key")).unwrap();
    node.resume()
        .await
        .expect("the node starts with its key restored");
    node.stop().await;
}

/// Signing keys rotate by version (`keys rotate`, or by its earlier name `rotate-signing`), and
/// the older versions stay. The node made the first when it started, to publish it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_keys_rotate_by_version() {
    let node = TestNode::spawn(Backend::Sqlite).await;
    let (ok, first, err) = node.command(&["keys", "rotate", "--tenant", "421300"]);
    assert!(ok, "{err}");
    assert!(
        first.starts_with("421300: signing key version 2 z6Mk")
            && first
                .trim_end()
                .ends_with("restart the node to sign with it"),
        "{first}"
    );
    let (_, second, _) = node.command(&["keys", "rotate-signing", "--tenant", "421300"]);
    assert!(
        second.starts_with("421300: signing key version 3 z6Mk"),
        "{second}"
    );
    let (ok, operator, err) = node.command(&["keys", "rotate", "--operator"]);
    assert!(ok, "{err}");
    assert!(
        operator.starts_with("node: signing key version 2 z6Mk"),
        "{operator}"
    );
    let (_, shown, _) = node.command(&["keys", "show", "--tenant", "421300"]);
    for rotated in [&first, &second] {
        let key = rotated
            .split_whitespace()
            .nth(5)
            .unwrap()
            .trim_end_matches(';');
        assert!(shown.contains(key), "{key} in {shown}");
    }
    node.stop().await;
}
