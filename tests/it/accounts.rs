//! Accounts, sign-in, sessions and their limits.

use reqwest::Method;
use serde_json::json;
use zhiyuan_domain::GrantKind;

use crate::support::{TestNode, on_both_databases};

async fn federation_id(node: &TestNode, tenant: &str, token: &str) -> String {
    let bodies = node
        .get(&format!("/api/v1/tenants/{tenant}/reviewing-bodies"), token)
        .await;
    bodies.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|body| body["kind"] == "federation" && body["region"] == tenant)
        .expect("a city federation")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

on_both_databases! {
    async fn signing_in_gives_a_token_and_a_strict_cookie_and_signing_out_ends_both(node: &TestNode) {
        node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let login = node
            .call(
                Method::POST,
                "/api/v1/session",
                None,
                Some(json!({ "tenant": "421300", "username": "office", "password": "office-password" })),
            )
            .await;
        let token = login.assert_ok()["token"].as_str().unwrap().to_owned();
        assert_eq!(login.body["user"]["role"], "office_admin");
        assert!(login.body["user"].get("password_hash").is_none());
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
    }

    async fn sessions_expire(node: &TestNode) {
        let token = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        node.get("/api/v1/session", &token).await.assert_ok();
        node.clock.advance_seconds(12 * 3600 + 1);
        node.get("/api/v1/session", &token).await.assert_problem(401, "unauthenticated");
    }

    async fn wrong_passwords_and_unknown_accounts_look_alike(node: &TestNode) {
        node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        for (tenant, username, password) in [
            ("421300", "office", "not-the-password"),
            ("421300", "nobody", "office-password"),
            ("420700", "office", "office-password"),
            ("421300", "Not A Username", "office-password"),
        ] {
            let answer = node
                .call(
                    Method::POST,
                    "/api/v1/session",
                    None,
                    Some(json!({ "tenant": tenant, "username": username, "password": password })),
                )
                .await;
            answer.assert_problem(401, "bad_credentials");
        }
    }

    async fn repeated_failures_lock_the_account_for_a_while(node: &TestNode) {
        node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let attempt = |password: &'static str| {
            node.call(
                Method::POST,
                "/api/v1/session",
                None,
                Some(json!({ "tenant": "421300", "username": "office", "password": password })),
            )
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
                .call(
                    Method::POST,
                    "/api/v1/session",
                    None,
                    Some(json!({ "tenant": "421300", "username": format!("user{attempt}"), "password": "guess-guess" })),
                )
                .await;
            answer.assert_problem(401, "bad_credentials");
        }
        let answer = node
            .call(
                Method::POST,
                "/api/v1/session",
                None,
                Some(json!({ "tenant": "421300", "username": "office", "password": "office-password" })),
            )
            .await;
        answer.assert_problem(429, "too_many_attempts");
    }

    async fn an_office_admin_creates_accounts_and_reviewers_are_bound_to_a_body(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let federation = federation_id(node, "421300", &office).await;
        let create = |body: serde_json::Value| {
            node.call(Method::POST, "/api/v1/tenants/421300/users", Some(&office), Some(body))
        };

        let reviewer = create(json!({
            "username": "li.si", "display_name": "李四", "role": "reviewer",
            "reviewing_body_id": federation, "password": "li-si-password"
        }))
        .await;
        assert_eq!(reviewer.status, 201, "{:#}", reviewer.body);
        assert_eq!(reviewer.body["reviewing_body"], federation.as_str());
        node.login(Some("421300"), "li.si", "li-si-password").await;

        let before = node.snapshot().await;
        let no_body = create(json!({
            "username": "wang.wu", "display_name": "王五", "role": "reviewer", "password": "wang-wu-password"
        }))
        .await;
        assert_eq!(no_body.assert_problem(422, "reviewer_needs_body").as_deref(), Some("/reviewing_body_id"));

        let body_for_volunteer = create(json!({
            "username": "wang.wu", "display_name": "王五", "role": "volunteer",
            "reviewing_body_id": federation, "password": "wang-wu-password"
        }))
        .await;
        assert_eq!(body_for_volunteer.assert_problem(422, "body_only_for_reviewer").as_deref(), Some("/reviewing_body_id"));

        let ezhou_office = node.account_as(Some("420700"), "office", GrantKind::OfficeAdmin).await;
        let ezhou_federation = federation_id(node, "420700", &ezhou_office).await;
        let foreign_body = create(json!({
            "username": "wang.wu", "display_name": "王五", "role": "reviewer",
            "reviewing_body_id": ezhou_federation, "password": "wang-wu-password"
        }))
        .await;
        assert_eq!(foreign_body.assert_problem(422, "reviewing_body_unknown").as_deref(), Some("/reviewing_body_id"));

        let taken = create(json!({
            "username": "li.si", "display_name": "另一个李四", "role": "volunteer", "password": "li-si-password-2"
        }))
        .await;
        assert_eq!(taken.assert_problem(409, "username_taken").as_deref(), Some("/username"));

        let operator = create(json!({
            "username": "boss", "display_name": "Boss", "role": "operator", "password": "boss-password"
        }))
        .await;
        assert_eq!(operator.assert_problem(422, "schema_violation").as_deref(), Some("/role"));

        let short = create(json!({
            "username": "zhao.liu", "display_name": "赵六", "role": "volunteer", "password": "short"
        }))
        .await;
        assert_eq!(short.assert_problem(422, "schema_violation").as_deref(), Some("/password"));

        // Of the refused requests none wrote: the one new account is Ezhou's office admin,
        // made in between to look up Ezhou's federation.
        let after = node.snapshot().await;
        let users_before = before.iter().find(|(t, _)| *t == "users").unwrap().1;
        let users_after = after.iter().find(|(t, _)| *t == "users").unwrap().1;
        assert_eq!(users_after, users_before + 1);

        // The same username may exist in another tenant.
        let ezhou_li = node
            .call(
                Method::POST,
                "/api/v1/tenants/420700/users",
                Some(&ezhou_office),
                Some(json!({ "username": "li.si", "display_name": "李四", "role": "volunteer", "password": "li-si-password" })),
            )
            .await;
        assert_eq!(ezhou_li.status, 201, "{:#}", ezhou_li.body);
    }

    async fn everyone_reads_their_own_account_but_not_others(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let volunteer = node.account(Some("421300"), "volunteer", &[]).await;
        let me = node.get("/api/v1/session", &volunteer).await;
        let my_id = me.assert_ok()["user"]["id"].as_str().unwrap().to_owned();
        let office_id = node.get("/api/v1/session", &office).await.body["user"]["id"].as_str().unwrap().to_owned();
        node.get(&format!("/api/v1/tenants/421300/users/{my_id}"), &volunteer).await.assert_ok();
        node.get(&format!("/api/v1/tenants/421300/users/{office_id}"), &volunteer)
            .await
            .assert_problem(403, "forbidden");
        node.get(&format!("/api/v1/tenants/421300/users/{my_id}"), &office).await.assert_ok();
        node.get("/api/v1/tenants/421300/users", &volunteer).await.assert_problem(403, "forbidden");
    }
}
