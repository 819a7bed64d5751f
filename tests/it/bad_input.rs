//! Bad input, for every endpoint that takes a body (taken from the OpenAPI document) and for
//! path and query parameters: each gets a 4xx problem+json that names the problem and the
//! field, and nothing is written.

use reqwest::Method;
use serde_json::{Value, json};
use zhiyuan_domain::{GrantKind, Scope};

use crate::support::{application, on_both_databases, resident_id};

/// A valid body for each endpoint that takes one, and the path to send it to.
fn valid_body(method: &str, template: &str, unit_id: &str, volunteer_id: &str) -> (String, Value) {
    let path = template
        .replace("{tenant}", "421300")
        .replace("{region}", "421321")
        .replace("{unit_id}", unit_id)
        .replace("{volunteer_id}", volunteer_id)
        .replace("{account_id}", &uuid::Uuid::now_v7().to_string())
        .replace("{team_id}", &uuid::Uuid::now_v7().to_string())
        .replace("{project_id}", &uuid::Uuid::now_v7().to_string())
        .replace("{need_id}", &uuid::Uuid::now_v7().to_string())
        .replace("{shift_id}", &uuid::Uuid::now_v7().to_string())
        .replace("{enrollment_id}", &uuid::Uuid::now_v7().to_string())
        .replace("{record_id}", &uuid::Uuid::now_v7().to_string())
        .replace("{dispute_id}", &uuid::Uuid::now_v7().to_string())
        .replace("{certificate_id}", &uuid::Uuid::now_v7().to_string())
        .replace("{serial}", "1")
        .replace("{sha256}", &"0".repeat(64));
    let body = match (method, template) {
        ("post", "/api/v1/session") => {
            json!({ "tenant": "421300", "username": "office", "password": "office-password" })
        }
        ("post", "/api/v1/tenants") => json!({
            "code": "420800",
            "name": { "zh": "荆门市" },
            "regions": [{ "code": "420800", "name": { "zh": "荆门市" }, "level": "city", "resident_population": 2_597_068 }]
        }),
        ("patch", "/api/v1/tenants/{tenant}/regions/{region}") => {
            json!({ "resident_population": 600_000 })
        }
        ("post", "/api/v1/tenants/{tenant}/units") => json!({
            "name": { "zh": "随州市档案馆" }, "region": "421300", "kind": "public_institution",
            "civilisation_level": "other", "staff": 30
        }),
        ("patch", "/api/v1/tenants/{tenant}/units/{unit_id}") => json!({ "staff": 31 }),
        ("post", "/api/v1/tenants/{tenant}/accounts") => json!({
            "username": "zhou.qi", "display_name": "周七", "password": "zhou-qi-password",
            "grants": [{ "kind": "auditor" }]
        }),
        ("post", "/api/v1/tenants/{tenant}/accounts/{account_id}/grants") => {
            json!({ "add": [{ "kind": "auditor" }] })
        }
        ("post", "/api/v1/tenants/{tenant}/volunteers/{volunteer_id}/void") => {
            json!({ "reason": "本人持证核实" })
        }
        ("post", "/api/v1/tenants/{tenant}/volunteers") => {
            application("赵敏", "11010519491231002X", "zhao.min")
        }
        ("post", "/api/v1/tenants/{tenant}/volunteers/{volunteer_id}/decision")
        | ("post", "/api/v1/tenants/{tenant}/teams/{team_id}/decision") => {
            json!({ "decision": "reject", "reason": "证件照片不清晰" })
        }
        ("post", "/api/v1/tenants/{tenant}/teams")
        | ("put", "/api/v1/tenants/{tenant}/teams/{team_id}") => json!({
            "name": "南湖社区志愿服务队", "kind": "community", "region": "421303",
            "contact_name": "张三", "contact_mobile": "13900001111",
            "legal_status": "unregistered", "liaison_team_id": uuid::Uuid::now_v7()
        }),
        ("post", "/api/v1/tenants/{tenant}/teams/{team_id}/members/{volunteer_id}/decision") => {
            json!({ "decision": "accept" })
        }
        ("post", "/api/v1/tenants/{tenant}/teams/{team_id}/admins") => {
            json!({ "volunteer_id": uuid::Uuid::now_v7() })
        }
        ("post", "/api/v1/tenants/{tenant}/plugins/{sha256}/dry-run") => json!({
            "hook": "unit-target",
            "input": { "kind": "organ", "civilisation_level": "national", "staff": 10 },
            "settings": { "national-percent": "99" }
        }),
        ("put", "/api/v1/tenants/{tenant}/policy") => json!({ "bindings": [] }),
        ("post", "/api/v1/tenants/{tenant}/teams/{team_id}/projects")
        | ("put", "/api/v1/tenants/{tenant}/projects/{project_id}") => json!({
            "title": "敬老院陪伴", "summary": "周末陪伴老人", "service_categories": ["elderly_and_disabled"],
            "region": "421303", "address": "曾都区青年路1号", "place": { "longitude": 113.38, "latitude": 31.69 },
            "starts_at": "2026-12-01T08:00:00+08:00", "ends_at": "2026-12-31T18:00:00+08:00",
            "contact_name": "李四", "contact_mobile": "13900002222",
            "shifts": [{ "starts_at": "2026-12-05T09:00:00+08:00", "ends_at": "2026-12-05T12:00:00+08:00", "capacity": 20 }]
        }),
        ("post", "/api/v1/tenants/{tenant}/needs") => json!({
            "title": "敬老院周末陪伴", "description": "需要志愿者", "service_categories": ["elderly_and_disabled"],
            "region": "421303", "address": "曾都区西城敬老院", "starts_at": "2026-12-01T08:00:00+08:00",
            "ends_at": "2026-12-31T18:00:00+08:00", "people_needed": 3, "contact_name": "王五",
            "contact_mobile": "13700003333", "poster": "community"
        }),
        ("post", "/api/v1/tenants/{tenant}/needs/{need_id}/curation")
        | ("post", "/api/v1/tenants/{tenant}/projects/{project_id}/decision") => {
            json!({ "decision": "reject", "reason": "信息不全" })
        }
        ("post", "/api/v1/tenants/{tenant}/needs/{need_id}/closure") => {
            json!({ "outcome": "met", "note": "已满足" })
        }
        ("post", "/api/v1/tenants/{tenant}/projects/{project_id}/take-down") => {
            json!({ "reason": "场地安全隐患" })
        }
        ("post", "/api/v1/tenants/{tenant}/projects/{project_id}/grants") => {
            json!({ "volunteer_id": uuid::Uuid::now_v7(), "kind": "scanner" })
        }
        ("post", "/api/v1/tenants/{tenant}/shifts/{shift_id}/enrollment") => json!({
            "guardian_consent": { "guardian_name": "林父", "guardian_mobile": "13900003333", "relationship": "父母" }
        }),
        (
            "post",
            "/api/v1/tenants/{tenant}/shifts/{shift_id}/enrollments/{enrollment_id}/decision",
        ) => {
            json!({ "decision": "remove", "reason": "多次缺勤" })
        }
        ("post", "/api/v1/tenants/{tenant}/policy/switch") => {
            json!({ "revision": 1, "reason": "回滚" })
        }
        ("post", "/api/v1/tenants/{tenant}/projects/{project_id}/scans") => {
            json!({ "scan_id": uuid::Uuid::now_v7(), "code": "ZY1:BAD INPUT", "direction": "in" })
        }
        ("post", "/api/v1/tenants/{tenant}/projects/{project_id}/scans/batch") => json!({
            "scans": [{ "scan_id": uuid::Uuid::now_v7(), "code": "ZY1:BAD INPUT", "scanned_at": "2026-12-01T09:00:00+08:00" }]
        }),
        ("post", "/api/v1/tenants/{tenant}/teams/{team_id}/service-records") => json!({
            "volunteer_id": uuid::Uuid::now_v7(), "started_at": "2026-11-20T09:00:00+08:00",
            "ended_at": "2026-11-20T10:00:00+08:00", "minutes": 30, "content": "清扫", "reason": "补录"
        }),
        ("post", "/api/v1/tenants/{tenant}/service-records/{record_id}/correction") => {
            json!({ "minutes": 30, "reason": "更正" })
        }
        ("post", "/api/v1/tenants/{tenant}/service-records/{record_id}/dispute") => {
            json!({ "claim": "时长不对", "claimed_minutes": 60 })
        }
        ("post", "/api/v1/tenants/{tenant}/disputes/{dispute_id}/answer") => {
            json!({ "answer": "已核实" })
        }
        ("post", "/api/v1/tenants/{tenant}/disputes/{dispute_id}/settlement") => {
            json!({ "decision": "uphold", "reason": "核实", "minutes": 30 })
        }
        ("post", "/api/v1/tenants/{tenant}/printed-cards/{serial}/revocation")
        | ("post", "/api/v1/tenants/{tenant}/certificates/{certificate_id}/revocation") => {
            json!({ "reason": "遗失" })
        }
        ("post", "/api/v1/tenants/{tenant}/volunteers/me/certificates") => json!({
            "team_id": uuid::Uuid::now_v7(), "from": "2026-11-01", "to": "2026-11-30", "purpose": "升学"
        }),
        ("post", "/api/v1/tenants/{tenant}/certificates/{certificate_id}/issue") => json!({
            "person_in_charge": "王队长", "handler": "李经办", "contact": "0722-3331234"
        }),
        ("post", "/api/v1/audit/credentials") => json!({
            "items": [{ "credential": { "id": "urn:uuid:0193a5b0-0000-7000-8000-000000000001" } }]
        }),
        ("post", "/api/v1/tenants/{tenant}/volunteers/me/transfers") => json!({
            "destination": "did:web:wuhan.example:tenants:420100", "consent": true
        }),
        ("post", "/federation/v1/tenants/{tenant}/inbox") => json!({
            "destination": "did:web:suizhou.example:tenants:421300",
            "transfer": "0193a5b0-0000-7000-8000-000000000001",
            "volunteer": {
                "name": "王小明", "id_kind": "resident_id_card", "id_number": "421303199003071234",
                "mobile": "13800001234", "skills": [], "service_categories": []
            },
            "identity_salt": "A".repeat(43),
            "parts": [{
                "items": [{ "id": "urn:uuid:0193a5b0-0000-7000-8000-000000000002" }],
                "checkpoint": "suizhou.example/log/421300\n1\nAAAA\n",
                "inclusion": []
            }]
        }),
        _ => panic!("no valid body for {method} {template}: add one so that bad input covers it"),
    };
    (path, body)
}

/// Mutations of a valid body, each with the problem it must cause and the field it must name.
fn mutations(
    body: &Value,
    template: &str,
) -> Vec<(&'static str, Value, u16, &'static str, String)> {
    let object = body.as_object().unwrap();
    let (first_key, first_value) = object.iter().next().unwrap();
    let wrong_type = match first_value {
        Value::String(_) => json!(12345),
        _ => json!("not the right type"),
    };
    let mut typed = body.clone();
    typed[first_key] = wrong_type;
    // A required field left out; a PATCH requires none, but an empty one changes nothing.
    let (missing, missing_field, missing_code) = if template
        == "/api/v1/tenants/{tenant}/units/{unit_id}"
        || template.ends_with("/accounts/{account_id}/grants")
    {
        (json!({}), "/".to_owned(), "schema_violation")
    } else if template.ends_with("/enrollment") {
        // A sign-up requires nothing; a guardian's consent requires the guardian's name.
        let mut missing = body.clone();
        missing["guardian_consent"]
            .as_object_mut()
            .unwrap()
            .remove("guardian_name");
        (
            missing,
            "/guardian_consent/guardian_name".to_owned(),
            "schema_violation",
        )
    } else {
        let required = [
            "name",
            "password",
            "regions",
            "resident_population",
            "decision",
            "volunteer_id",
            "bindings",
            "revision",
            "hook",
            "reason",
            "title",
            "outcome",
            "scan_id",
            "scans",
            "claim",
            "answer",
            "person_in_charge",
            "from",
            "items",
            "destination",
        ]
        .into_iter()
        .find(|key| object.contains_key(*key))
        .unwrap();
        let mut missing = body.clone();
        missing.as_object_mut().unwrap().remove(required);
        // A missing reason breaks a rule of its own, which the answer names.
        let code = if required == "reason" {
            "reason_required"
        } else {
            "schema_violation"
        };
        (missing, format!("/{required}"), code)
    };
    let mut unknown = body.clone();
    unknown["is_admin"] = json!(true);
    let mut null = body.clone();
    null[first_key] = Value::Null;
    vec![
        (
            "wrong type",
            typed,
            422,
            "schema_violation",
            format!("/{first_key}"),
        ),
        (
            "null",
            null,
            422,
            "schema_violation",
            format!("/{first_key}"),
        ),
        (
            "unknown field",
            unknown,
            422,
            "schema_violation",
            "/is_admin".to_owned(),
        ),
        (
            "array instead of object",
            json!([body]),
            422,
            "schema_violation",
            "/".to_owned(),
        ),
        ("missing field", missing, 422, missing_code, missing_field),
    ]
}

on_both_databases! {
    async fn every_body_endpoint_refuses_bad_bodies_and_writes_nothing(node: &TestNode) {
        let operator = node.account_as(None, "operator", GrantKind::Operator).await;
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        // Requests are authorised before their bodies are read: one account holding every
        // grant a body endpoint takes, so that each answer is about the body.
        let bodies = node.get("/api/v1/tenants/421300/reviewing-bodies", &office).await;
        let association: uuid::Uuid = bodies.assert_ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|body| body["kind"] == "association")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let office = node
            .account(
                Some("421300"),
                "everything",
                &[
                    (GrantKind::OfficeAdmin, None),
                    (GrantKind::Reviewer, Some(Scope::ReviewingBody(association))),
                    (GrantKind::TeamAdmin, Some(Scope::Team(association))),
                ],
            )
            .await;
        let units = node.get("/api/v1/tenants/421300/units", &office).await;
        let unit_id = units.assert_ok()["items"][0]["id"].as_str().unwrap().to_owned();
        let (volunteer_id, volunteer) = node
            .apply_as_volunteer("421300", application("王小明", &resident_id("42130319900307123"), "wang.xm"))
            .await;
        let document = node.call(Method::GET, "/api/openapi.json", None, None).await;
        let mut endpoints = Vec::new();
        for (path, item) in document.assert_ok()["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                if operation["requestBody"]["content"].get("application/json").is_some() {
                    endpoints.push((method.clone(), path.clone()));
                }
            }
        }
        assert_eq!(endpoints.len(), 42, "{endpoints:?}");
        let before = node.snapshot().await;

        for (method_name, template) in &endpoints {
            let method = Method::from_bytes(method_name.to_ascii_uppercase().as_bytes()).unwrap();
            // Anyone may apply to be a volunteer: the application goes unsigned, as the public's.
            let token = match template.as_str() {
                "/api/v1/tenants" => Some(operator.as_str()),
                "/api/v1/tenants/{tenant}/volunteers" => None,
                // Signing up, disputing and asking for a certificate are a volunteer's own acts.
                "/api/v1/tenants/{tenant}/shifts/{shift_id}/enrollment"
                | "/api/v1/tenants/{tenant}/service-records/{record_id}/dispute"
                | "/api/v1/tenants/{tenant}/volunteers/me/certificates"
                | "/api/v1/tenants/{tenant}/volunteers/me/transfers" => Some(volunteer.as_str()),
                // Another node's signed message: its body is checked before its signature.
                "/federation/v1/tenants/{tenant}/inbox" => None,
                _ => Some(office.as_str()),
            };
            let (path, body) = valid_body(method_name, template, &unit_id, &volunteer_id);
            let context = format!("{method_name} {template}");

            let malformed = node
                .call_raw(method.clone(), &path, token, Some("application/json"), b"{\"name\": ".to_vec())
                .await;
            malformed.assert_problem(400, "malformed_json");
            let not_utf8 = node
                .call_raw(method.clone(), &path, token, Some("application/json"), vec![0xff, 0xfe, b'{'])
                .await;
            not_utf8.assert_problem(400, "malformed_json");

            for (what, bad, status, code, field) in mutations(&body, template) {
                let answer = node.call(method.clone(), &path, token, Some(bad)).await;
                let named = answer.assert_problem(status, code);
                assert_eq!(named.as_deref(), Some(field.as_str()), "{context}: {what}: {:#}", answer.body);
            }

            let text = node
                .call_raw(method.clone(), &path, token, Some("text/plain"), body.to_string().into_bytes())
                .await;
            text.assert_problem(415, "unsupported_media_type");
            let none = node
                .call_raw(method.clone(), &path, token, None, body.to_string().into_bytes())
                .await;
            none.assert_problem(415, "unsupported_media_type");

            // Beyond the largest JSON body any endpoint takes (4 MiB, a thousand credentials), or
            // for another node's message, a volunteer's whole record (16 MiB).
            let mebibytes = if template.starts_with("/federation/") { 17 } else { 5 };
            let huge = format!("{{\"padding\": \"{}\"}}", "x".repeat(mebibytes * 1024 * 1024));
            let oversized = node
                .call_raw(method.clone(), &path, token, Some("application/json"), huge.into_bytes())
                .await;
            oversized.assert_problem(413, "payload_too_large");
        }
        assert_eq!(node.snapshot().await, before, "a refused request wrote something");
    }

    async fn bad_path_and_query_parameters_are_named(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let cases = [
            ("/api/v1/tenants/42130x/regions", "path/tenant"),
            ("/api/v1/tenants/420000/regions", "path/tenant"),
            ("/api/v1/tenants/%E9%9A%8F%E5%B7%9E/units", "path/tenant"),
            ("/api/v1/tenants/421300/regions/4213", "path/region"),
            ("/api/v1/tenants/421300/units/not-a-uuid", "path/unit_id"),
            ("/api/v1/tenants/421300/accounts/123", "path/account_id"),
            ("/api/v1/tenants/421300/volunteers/x", "path/volunteer_id"),
            ("/api/v1/tenants/421300/teams/x", "path/team_id"),
            ("/api/v1/tenants/421300/files/ABC", "path/sha256"),
        ];
        for (path, field) in cases {
            let answer = node.get(path, &office).await;
            assert_eq!(answer.assert_problem(400, "bad_path_parameter").as_deref(), Some(field), "{path}");
        }
        for query in ["limit=abc", "limit=0", "limit=1001", "limit=-1"] {
            let answer = node.get(&format!("/api/v1/tenants/421300/audit-events?{query}"), &office).await;
            answer.assert_problem(400, "bad_query");
        }
        node.get("/api/v1/no-such-thing", &office).await.assert_problem(404, "not_found");
        node.get("/api/v1/tenants/429900", &office).await.assert_problem(404, "not_found");
        let wrong_method = node.call(Method::PUT, "/api/v1/tenants", Some(&office), Some(json!({}))).await;
        wrong_method.assert_problem(405, "method_not_allowed");
        let bad_token = node.get("/api/v1/tenants/421300/units", "not-a-token").await;
        bad_token.assert_problem(401, "unauthenticated");
    }
}
