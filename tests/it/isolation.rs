//! Tenant isolation: an account of one tenant can neither read nor change anything of another,
//! through any endpoint the node has (taken from its own OpenAPI document, so a new endpoint
//! is covered the day it is added), even by guessing ids. An operator sees both.

use reqwest::Method;
use serde_json::{Value, json};
use zhiyuan_domain::GrantKind;

use crate::support::{TestNode, application, on_both_databases, resident_id};

/// Endpoints open to anyone, tenant or not: the tenant's summary, and applying to become one
/// of its volunteers (which creates an application, and reaches nothing that exists).
const PUBLIC: [(&str, &str); 2] = [
    ("get", "/api/v1/tenants/{tenant}"),
    ("post", "/api/v1/tenants/{tenant}/volunteers"),
];

/// A valid body for every endpoint that takes one, so that the answer is about who asks, not
/// about what they sent.
fn sample_body(method: &str, path: &str, reviewing_body: &str) -> Option<Value> {
    match (method, path) {
        ("get" | "delete", _) => None,
        ("patch", "/api/v1/tenants/{tenant}/regions/{region}") => {
            Some(json!({ "resident_population": 1 }))
        }
        ("post", "/api/v1/tenants/{tenant}/units") => Some(json!({
            "name": { "zh": "渗透测试单位" }, "region": "421300", "kind": "other",
            "civilisation_level": "other", "staff": 1
        })),
        ("patch", "/api/v1/tenants/{tenant}/units/{unit_id}") => Some(json!({ "staff": 1 })),
        ("post", "/api/v1/tenants/{tenant}/volunteers/{volunteer_id}/decision")
        | ("post", "/api/v1/tenants/{tenant}/teams/{team_id}/decision") => {
            Some(json!({ "decision": "reject", "reason": "测试" }))
        }
        ("post", "/api/v1/tenants/{tenant}/teams")
        | ("put", "/api/v1/tenants/{tenant}/teams/{team_id}") => Some(json!({
            "name": "渗透测试志愿服务队", "kind": "community", "region": "421303",
            "contact_name": "张三", "contact_mobile": "13900001111",
            "legal_status": "unregistered", "liaison_team_id": reviewing_body
        })),
        ("post", "/api/v1/tenants/{tenant}/teams/{team_id}/members/{volunteer_id}/decision") => {
            Some(json!({ "decision": "accept" }))
        }
        ("post", "/api/v1/tenants/{tenant}/teams/{team_id}/admins") => {
            Some(json!({ "volunteer_id": uuid::Uuid::now_v7() }))
        }
        // Raw bytes and bodiless requests: the answer is about who asks either way.
        ("post", "/api/v1/tenants/{tenant}/files")
        | ("post", "/api/v1/tenants/{tenant}/plugins")
        | ("post", "/api/v1/tenants/{tenant}/teams/{team_id}/membership") => None,
        ("post", "/api/v1/tenants/{tenant}/plugins/{sha256}/dry-run") => Some(json!({
            "hook": "region-target", "input": { "code": "421300", "resident_population": 1000 }
        })),
        ("put", "/api/v1/tenants/{tenant}/policy") => Some(json!({ "bindings": [] })),
        ("post", "/api/v1/tenants/{tenant}/policy/switch") => Some(json!({ "revision": 1 })),
        ("post", "/api/v1/tenants/{tenant}/users") => Some(json!({
            "username": "intruder", "display_name": "x", "role": "reviewer",
            "reviewing_body_id": reviewing_body, "password": "intruder-password"
        })),
        _ => panic!("no sample body for {method} {path}: add one so that isolation covers it"),
    }
}

struct SuizhouIds {
    unit: String,
    user: String,
    reviewing_body: String,
    volunteer: String,
    team: String,
    file: String,
}

async fn suizhou_ids(node: &TestNode, office: &str) -> SuizhouIds {
    let (volunteer, _) = node
        .apply_as_volunteer(
            "421300",
            application("王小明", &resident_id("42130319900307123"), "wang.xm"),
        )
        .await;
    let units = node.get("/api/v1/tenants/421300/units", office).await;
    let teams = node.get("/api/v1/tenants/421300/teams", office).await;
    let file = node
        .call_raw(
            Method::POST,
            "/api/v1/tenants/421300/files",
            Some(office),
            Some("application/pdf"),
            b"%PDF-1.4\n%%EOF\n".to_vec(),
        )
        .await;
    let users = node.get("/api/v1/tenants/421300/users", office).await;
    let bodies = node
        .get("/api/v1/tenants/421300/reviewing-bodies", office)
        .await;
    SuizhouIds {
        unit: units.assert_ok()["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        user: users.assert_ok()["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        reviewing_body: bodies.assert_ok()["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        volunteer,
        team: teams.assert_ok()["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        file: file.assert_ok()["sha256"].as_str().unwrap().to_owned(),
    }
}

fn fill(path: &str, tenant: &str, ids: &SuizhouIds) -> String {
    path.replace("{tenant}", tenant)
        .replace("{region}", "421321")
        .replace("{unit_id}", &ids.unit)
        .replace("{user_id}", &ids.user)
        .replace("{volunteer_id}", &ids.volunteer)
        .replace("{team_id}", &ids.team)
        .replace("{sha256}", &ids.file)
}

/// Every (method, path template) of the API that is scoped to a tenant.
async fn tenant_endpoints(node: &TestNode) -> Vec<(String, String)> {
    let document = node
        .call(Method::GET, "/api/openapi.json", None, None)
        .await;
    let mut endpoints = Vec::new();
    for (path, item) in document.assert_ok()["paths"].as_object().unwrap() {
        if !path.contains("{tenant}") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            endpoints.push((method.clone(), path.clone()));
        }
    }
    assert!(endpoints.len() >= 12, "{endpoints:?}");
    endpoints
}

fn method(name: &str) -> Method {
    Method::from_bytes(name.to_ascii_uppercase().as_bytes()).unwrap()
}

on_both_databases! {
    async fn accounts_of_one_tenant_cannot_reach_another(node: &TestNode) {
        let suizhou_office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let ids = suizhou_ids(node, &suizhou_office).await;
        let ezhou_tokens = [
            node.account_as(Some("420700"), "office", GrantKind::OfficeAdmin).await,
            node.account_as(Some("420700"), "auditor", GrantKind::Auditor).await,
            node.account(Some("420700"), "volunteer", &[]).await,
        ];
        let before = node.snapshot().await;

        for (method_name, template) in tenant_endpoints(node).await {
            let public = PUBLIC.contains(&(method_name.as_str(), template.as_str()));
            if public && method_name != "get" {
                continue;
            }
            let path = fill(&template, "421300", &ids);
            for token in &ezhou_tokens {
                let body = sample_body(&method_name, &template, &ids.reviewing_body);
                let answer = node.call(method(&method_name), &path, Some(token), body).await;
                if public {
                    answer.assert_ok();
                } else {
                    answer.assert_problem(403, "forbidden");
                }
            }
        }
        assert_eq!(node.snapshot().await, before, "nothing of Suizhou changed");
    }

    async fn guessed_ids_of_another_tenant_are_not_found_in_ones_own(node: &TestNode) {
        let suizhou_office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let ids = suizhou_ids(node, &suizhou_office).await;
        let ezhou_office = node.account_as(Some("420700"), "office", GrantKind::OfficeAdmin).await;
        let before = node.snapshot().await;

        for (method_name, template) in tenant_endpoints(node).await {
            let takes_an_id = template.contains("_id}")
                || template.contains("{region}")
                || template.contains("{sha256}");
            if !takes_an_id {
                continue;
            }
            let path = fill(&template, "420700", &ids);
            let body = sample_body(&method_name, &template, &ids.reviewing_body);
            let answer = node.call(method(&method_name), &path, Some(&ezhou_office), body).await;
            answer.assert_problem(404, "not_found");
        }

        // Naming another tenant's reviewing body when creating an account is refused too.
        let answer = node
            .call(
                Method::POST,
                "/api/v1/tenants/420700/users",
                Some(&ezhou_office),
                sample_body("post", "/api/v1/tenants/{tenant}/users", &ids.reviewing_body),
            )
            .await;
        answer.assert_problem(422, "reviewing_body_unknown");
        assert_eq!(node.snapshot().await, before);
    }

    async fn an_operator_sees_every_tenant(node: &TestNode) {
        let operator = node.account_as(None, "operator", GrantKind::Operator).await;
        for tenant in ["421300", "420700"] {
            for what in ["regions", "units", "reviewing-bodies", "users", "audit-events"] {
                let answer = node.get(&format!("/api/v1/tenants/{tenant}/{what}"), &operator).await;
                assert!(!answer.assert_ok()["items"].as_array().unwrap().is_empty() || what == "users", "{tenant} {what}");
            }
        }
        node.get("/api/v1/operators", &operator).await.assert_ok();
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        node.get("/api/v1/operators", &office).await.assert_problem(403, "forbidden");
    }
}
