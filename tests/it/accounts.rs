//! Accounts and their grants, sign-in, sessions and their limits.

use reqwest::Method;
use serde_json::{Value, json};
use zhiyuan_domain::GrantKind;

use crate::support::{Backend, TestNode, eventually, on_both_databases};

async fn body_id(node: &TestNode, tenant: &str, kind: &str, token: &str) -> String {
    let bodies = node
        .get(&format!("/api/v1/tenants/{tenant}/reviewing-bodies"), token)
        .await;
    bodies.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|body| body["kind"] == kind && body["region"] == tenant)
        .unwrap_or_else(|| panic!("a city {kind}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn sign_in(tenant: &str, username: &str, password: &str) -> Value {
    json!({ "tenant": tenant, "username": username, "password": password })
}

/// A node that believes X-Forwarded-For from the tests (its peer, 127.0.0.1, is its proxy), so
/// that a test can speak from several client addresses.
async fn behind_a_proxy(backend: Backend) -> TestNode {
    TestNode::spawn_configured(backend, |config| {
        config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await
}

async fn sign_in_from(node: &TestNode, address: &str, password: &str) -> reqwest::Response {
    node.client
        .post(format!("{}/api/v1/session", node.base_url))
        .header("x-forwarded-for", address)
        .json(&sign_in("421300", "office", password))
        .send()
        .await
        .unwrap()
}

on_both_databases! {
    async fn signing_in_gives_a_token_and_a_strict_cookie_and_signing_out_ends_both(node: &TestNode) {
        node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let login = node
            .call(Method::POST, "/api/v1/session", None, Some(sign_in("421300", "office", "office-password")))
            .await;
        let token = login.assert_ok()["token"].as_str().unwrap().to_owned();
        assert_eq!(login.body["account"]["grants"], json!([{ "kind": "office_admin", "scope": "tenant" }]));
        assert!(login.body["account"].get("password_hash").is_none());
        assert_eq!(login.headers["cache-control"], "no-store", "an answer with a token is never cached");
        let cookie = login.headers["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.starts_with(&format!("zhiyuan_session={token};")), "{cookie}");
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }

        // The cookie alone signs the browser in.
        let me = node
            .client
            .get(format!("{}/api/v1/session", node.base_url))
            .header("cookie", format!("theme=dark; zhiyuan_session={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);

        let out = node.call(Method::DELETE, "/api/v1/session", Some(&token), None).await;
        assert_eq!(out.status, 204);
        node.get("/api/v1/session", &token).await.assert_problem(401, "unauthenticated");
        node.call(Method::GET, "/api/v1/session", None, None).await.assert_problem(401, "unauthenticated");
        let events = node.get("/api/v1/tenants/421300/audit-events", &node.login(Some("421300"), "office", "office-password").await).await;
        let actions: Vec<&str> = events.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"account.sign_in") && actions.contains(&"account.sign_out"), "{actions:?}");
    }

    async fn signing_out_everywhere_ends_every_session_and_an_account_keeps_a_few(node: &TestNode) {
        node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let mut tokens = Vec::new();
        for _ in 0..zhiyuan_store::SESSIONS_PER_ACCOUNT {
            node.clock.advance_seconds(1);
            tokens.push(node.login(Some("421300"), "office", "office-password").await);
        }
        // The account's first session (made by the test helper) and the ten above: the oldest
        // went when the newest came.
        for token in &tokens {
            node.get("/api/v1/session", token).await.assert_ok();
        }
        assert_eq!(node.count("sessions").await, zhiyuan_store::SESSIONS_PER_ACCOUNT);
        let everywhere = node.call(Method::DELETE, "/api/v1/session/everywhere", Some(&tokens[0]), None).await;
        assert_eq!(everywhere.assert_ok()["sessions_ended"], zhiyuan_store::SESSIONS_PER_ACCOUNT);
        for token in &tokens {
            node.get("/api/v1/session", token).await.assert_problem(401, "unauthenticated");
        }
    }

    async fn sessions_expire_and_are_cleaned_up(node: &TestNode) {
        let token = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        node.get("/api/v1/session", &token).await.assert_ok();
        node.clock.advance_seconds(12 * 3600 + 1);
        node.get("/api/v1/session", &token).await.assert_problem(401, "unauthenticated");
        assert_eq!(node.count("sessions").await, 1);
        zhiyuan_app::accounts::purge_expired(node.app()).await.unwrap();
        assert_eq!(node.count("sessions").await, 0, "expired sessions are deleted");
    }

    async fn wrong_passwords_and_unknown_accounts_look_alike(node: &TestNode) {
        node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        for (tenant, username, password) in [
            ("421300", "office", "not-the-password"),
            ("421300", "nobody", "office-password"),
            ("420700", "office", "office-password"),
            ("421300", "Not A Username", "office-password"),
            // A tenant this node does not serve is answered alike.
            ("421381", "office", "office-password"),
        ] {
            let answer = node
                .call(Method::POST, "/api/v1/session", None, Some(sign_in(tenant, username, password)))
                .await;
            answer.assert_problem(401, "bad_credentials");
        }
        let events = node.get("/api/v1/tenants/421300/audit-events", &node.login(Some("421300"), "office", "office-password").await).await;
        let refused: Vec<&Value> = events.body["items"].as_array().unwrap().iter().filter(|e| e["action"] == "account.sign_in_refused").collect();
        assert_eq!(refused.len(), 3, "refused sign-ins are in the tenant's trail");
        assert!(refused.iter().all(|event| !event.to_string().contains("not-the-password")));
        assert_eq!(
            node.count("audit_events WHERE tenant_code = 'node' AND entity_id = '421381/office'").await,
            1,
            "a sign-in to a tenant not served here is in the node's trail"
        );
    }

    async fn repeated_failures_from_one_address_stop_that_address_for_a_while(node: &TestNode) {
        node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let attempt = |password: &'static str| {
            node.call(Method::POST, "/api/v1/session", None, Some(sign_in("421300", "office", password)))
        };
        for _ in 0..5 {
            attempt("guess-guess-guess").await.assert_problem(401, "bad_credentials");
        }
        let locked = attempt("office-password").await;
        locked.assert_problem(429, "too_many_attempts");
        assert_eq!(locked.headers["retry-after"], "900");

        node.clock.advance_seconds(15 * 60 + 1);
        attempt("office-password").await.assert_ok();
    }

    async fn repeated_failures_from_one_address_are_limited_across_accounts(node: &TestNode) {
        node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        for attempt in 0..30 {
            let answer = node
                .call(Method::POST, "/api/v1/session", None, Some(sign_in("421300", &format!("user{attempt}"), "guess-guess")))
                .await;
            answer.assert_problem(401, "bad_credentials");
        }
        let answer = node
            .call(Method::POST, "/api/v1/session", None, Some(sign_in("421300", "office", "office-password")))
            .await;
        answer.assert_problem(429, "too_many_attempts");
    }

    async fn guesses_sent_at_once_are_checked_no_more_often_than_the_limit(node: &TestNode) {
        node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let guesses: Vec<_> = (0..60)
            .map(|_| {
                let request = node
                    .client
                    .post(format!("{}/api/v1/session", node.base_url))
                    .json(&sign_in("421300", "office", "guess-guess-guess"));
                tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
            })
            .collect();
        let mut statuses = Vec::new();
        for guess in guesses {
            statuses.push(guess.await.unwrap());
        }
        let checked = statuses.iter().filter(|status| **status == 401).count();
        let refused = statuses.iter().filter(|status| **status == 429).count();
        assert_eq!(checked + refused, 60, "every guess was checked or refused unchecked");
        assert!(checked <= 5, "{checked} guesses were checked against the password; the limit is 5");
    }

    async fn an_office_admin_creates_accounts_with_grants_of_its_tenant_only(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let association = body_id(node, "421300", "association", &office).await;
        let create = |body: Value| {
            node.call(Method::POST, "/api/v1/tenants/421300/accounts", Some(&office), Some(body))
        };

        let reviewer = create(json!({
            "username": "li.si", "display_name": "李四", "password": "li-si-password",
            "grants": [{ "kind": "reviewer", "scope": format!("reviewing_body:{association}") }]
        }))
        .await;
        assert_eq!(reviewer.status, 201, "{:#}", reviewer.body);
        assert_eq!(reviewer.body["grants"][0]["scope"], format!("reviewing_body:{association}"));
        node.login(Some("421300"), "li.si", "li-si-password").await;

        let before = node.snapshot().await;
        let no_scope = create(json!({
            "username": "wang.wu", "display_name": "王五", "password": "wang-wu-password",
            "grants": [{ "kind": "reviewer" }]
        }))
        .await;
        assert_eq!(no_scope.assert_problem(422, "grant_scope").as_deref(), Some("/grants/0/scope"));

        let operator = create(json!({
            "username": "boss", "display_name": "Boss", "password": "boss-password",
            "grants": [{ "kind": "operator", "scope": "node" }]
        }))
        .await;
        assert_eq!(operator.assert_problem(422, "schema_violation").as_deref(), Some("/grants/0/kind"));

        let ezhou_office = node.account_as(Some("420700"), "office", GrantKind::OfficeAdmin).await;
        let ezhou_association = body_id(node, "420700", "association", &ezhou_office).await;
        let foreign_body = create(json!({
            "username": "wang.wu", "display_name": "王五", "password": "wang-wu-password",
            "grants": [{ "kind": "reviewer", "scope": format!("reviewing_body:{ezhou_association}") }]
        }))
        .await;
        assert_eq!(foreign_body.assert_problem(422, "grant_target_unknown").as_deref(), Some("/grants/0"));

        let taken = create(json!({ "username": "li.si", "display_name": "另一个李四", "password": "li-si-password-2" })).await;
        assert_eq!(taken.assert_problem(409, "username_taken").as_deref(), Some("/username"));

        let short = create(json!({ "username": "zhao.liu", "display_name": "赵六", "password": "short" })).await;
        assert_eq!(short.assert_problem(422, "schema_violation").as_deref(), Some("/password"));

        // Of the refused requests none wrote: the one new account is Ezhou's office admin,
        // made in between to look up Ezhou's association.
        let after = node.snapshot().await;
        let accounts = |snapshot: &[(&str, i64)]| snapshot.iter().find(|(t, _)| *t == "accounts").unwrap().1;
        assert_eq!(accounts(&after), accounts(&before) + 1);

        // The same username may exist in another tenant.
        let ezhou_li = node
            .call(
                Method::POST,
                "/api/v1/tenants/420700/accounts",
                Some(&ezhou_office),
                Some(json!({ "username": "li.si", "display_name": "李四", "password": "li-si-password" })),
            )
            .await;
        assert_eq!(ezhou_li.status, 201, "{:#}", ezhou_li.body);
    }

    async fn an_office_admin_changes_grants_and_they_take_effect_at_once(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let someone = node.account(Some("421300"), "someone", &[]).await;
        let someone_id = node.get("/api/v1/session", &someone).await.body["account"]["id"].as_str().unwrap().to_owned();
        node.get("/api/v1/tenants/421300/audit-events", &someone).await.assert_problem(403, "forbidden");
        let changed = node
            .call(
                Method::POST,
                &format!("/api/v1/tenants/421300/accounts/{someone_id}/grants"),
                Some(&office),
                Some(json!({ "add": [{ "kind": "auditor" }] })),
            )
            .await;
        assert_eq!(changed.assert_ok()["grants"], json!([{ "kind": "auditor", "scope": "tenant" }]));
        node.get("/api/v1/tenants/421300/audit-events", &someone).await.assert_ok();
        node.call(
            Method::POST,
            &format!("/api/v1/tenants/421300/accounts/{someone_id}/grants"),
            Some(&office),
            Some(json!({ "revoke": [{ "kind": "auditor" }] })),
        )
        .await
        .assert_ok();
        node.get("/api/v1/tenants/421300/audit-events", &someone).await.assert_problem(403, "forbidden");
        // Nobody changes their own grants.
        let office_id = node.get("/api/v1/session", &office).await.body["account"]["id"].as_str().unwrap().to_owned();
        node.call(
            Method::POST,
            &format!("/api/v1/tenants/421300/accounts/{office_id}/grants"),
            Some(&office),
            Some(json!({ "add": [{ "kind": "auditor" }] })),
        )
        .await
        .assert_problem(403, "own_application");
    }

    async fn everyone_reads_their_own_account_but_not_others(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let plain = node.account(Some("421300"), "plain", &[]).await;
        let my_id = node.get("/api/v1/session", &plain).await.assert_ok()["account"]["id"].as_str().unwrap().to_owned();
        let office_id = node.get("/api/v1/session", &office).await.body["account"]["id"].as_str().unwrap().to_owned();
        node.get(&format!("/api/v1/tenants/421300/accounts/{my_id}"), &plain).await.assert_ok();
        node.get(&format!("/api/v1/tenants/421300/accounts/{office_id}"), &plain)
            .await
            .assert_problem(403, "outside_grant_scope");
        node.get(&format!("/api/v1/tenants/421300/accounts/{my_id}"), &office).await.assert_ok();
        node.get("/api/v1/tenants/421300/accounts", &plain).await.assert_problem(403, "forbidden");
    }
}

/// Five failures from one address do not keep the person out from another: the right password
/// from a new address still signs in, after a delay, and X-Forwarded-For counts only from a
/// proxy the operator configured.
async fn nobody_can_lock_a_person_out(backend: Backend) {
    let node = behind_a_proxy(backend).await;
    node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;
    for _ in 0..5 {
        let answer = sign_in_from(&node, "203.0.113.7", "guess-guess-guess").await;
        assert_eq!(answer.status(), 401);
    }
    let attacker_again = sign_in_from(&node, "203.0.113.7", "office-password").await;
    assert_eq!(
        attacker_again.status(),
        429,
        "the attacker's address is stopped"
    );
    let started = std::time::Instant::now();
    let person = sign_in_from(&node, "198.51.100.20", "office-password").await;
    assert_eq!(
        person.status(),
        200,
        "the person signs in from their own address"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "after a delay"
    );
    node.verify().await;
    node.stop().await;

    // Without the proxy configured, the header is the client's own claim and counts for nothing.
    let node = TestNode::spawn(backend).await;
    node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;
    for _ in 0..5 {
        assert_eq!(
            sign_in_from(&node, "203.0.113.7", "guess-guess-guess")
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        sign_in_from(&node, "198.51.100.20", "office-password")
            .await
            .status(),
        429,
        "a claimed address is not believed: it is the same client"
    );
    node.stop().await;
}

/// A sign-in the node is too busy to check (503) is no attempt: a person who tries again and
/// again while the node is loaded is not then kept out as if they had guessed.
async fn sign_ins_refused_as_busy_do_not_count(backend: Backend) {
    let node = TestNode::spawn(backend).await;
    node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;
    // The node's use cases over its own database, with no password worker free.
    let mut busy = node.app().clone();
    busy.passwords = zhiyuan_app::Passwords::new(0, 0);
    for _ in 0..10 {
        let request = zhiyuan_app::accounts::SignInRequest {
            tenant: Some("421300".into()),
            username: "office".into(),
            password: "office-password".into(),
        };
        let refused = zhiyuan_app::accounts::sign_in(&busy, request, "127.0.0.1").await;
        assert!(
            matches!(refused, Err(zhiyuan_app::AppError::Busy { .. })),
            "{refused:?}"
        );
    }
    // Ten tries, twice the limit of failures from one address for one account, and the node,
    // no longer busy, checks the next one.
    let answer = node
        .call(
            Method::POST,
            "/api/v1/session",
            None,
            Some(sign_in("421300", "office", "office-password")),
        )
        .await;
    answer.assert_ok();
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_refused_as_busy_do_not_count_sqlite() {
    sign_ins_refused_as_busy_do_not_count(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_refused_as_busy_do_not_count_postgres() {
    sign_ins_refused_as_busy_do_not_count(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_can_lock_a_person_out_sqlite() {
    nobody_can_lock_a_person_out(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_can_lock_a_person_out_postgres() {
    nobody_can_lock_a_person_out(Backend::Postgres).await;
}

/// A sign-out takes effect at once on the node that saw it, and within seconds on a replica
/// sharing its database, though the replica keeps sessions it read in memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_reaches_a_replica_within_seconds() {
    let node = TestNode::spawn(Backend::Postgres).await;
    let token = node
        .account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;
    let replica = node.start_replica().await;
    let replica_url = &replica.base_url;
    let replica_status = || async {
        node.client
            .get(format!("{replica_url}/api/v1/session"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    // The replica reads the session once and keeps it.
    assert_eq!(replica_status().await, 200);
    assert_eq!(replica_status().await, 200);

    node.call(Method::DELETE, "/api/v1/session", Some(&token), None)
        .await;
    node.get("/api/v1/session", &token)
        .await
        .assert_problem(401, "unauthenticated");
    assert!(
        eventually(|| async { replica_status().await == 401 }).await,
        "the replica refuses the session within seconds"
    );
    replica.stop().await;
    node.stop().await;
}

/// A grant taken away takes effect at once on the node that saw it, and within seconds on a
/// replica sharing its database, though the replica keeps the session it read, grants and all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_grant_reaches_a_replica_within_seconds() {
    let node = TestNode::spawn(Backend::Postgres).await;
    let office = node
        .account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;
    let auditor = node
        .account_as(Some("421300"), "auditor", GrantKind::Auditor)
        .await;
    let auditor_id = node.get("/api/v1/session", &auditor).await.body["account"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let replica = node.start_replica().await;
    let replica_url = &replica.base_url;
    let reads_the_trail = || async {
        node.client
            .get(format!("{replica_url}/api/v1/tenants/421300/audit-events"))
            .bearer_auth(&auditor)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    // The replica reads the session and its grants once and keeps them.
    assert_eq!(reads_the_trail().await, 200);
    assert_eq!(reads_the_trail().await, 200);

    node.call(
        Method::POST,
        &format!("/api/v1/tenants/421300/accounts/{auditor_id}/grants"),
        Some(&office),
        Some(json!({ "revoke": [{ "kind": "auditor" }] })),
    )
    .await
    .assert_ok();
    node.get("/api/v1/tenants/421300/audit-events", &auditor)
        .await
        .assert_problem(403, "forbidden");
    assert!(
        eventually(|| async { reads_the_trail().await == 403 }).await,
        "the replica refuses the revoked grant within seconds"
    );

    // A grant given back reaches it the same way.
    node.call(
        Method::POST,
        &format!("/api/v1/tenants/421300/accounts/{auditor_id}/grants"),
        Some(&office),
        Some(json!({ "add": [{ "kind": "auditor" }] })),
    )
    .await
    .assert_ok();
    assert!(
        eventually(|| async { reads_the_trail().await == 200 }).await,
        "the replica honours the new grant within seconds"
    );
    replica.stop().await;
    node.stop().await;
}
