//! Tenants, their regions, units and reviewing bodies, through the API.

use reqwest::Method;
use serde_json::json;
use zhiyuan_domain::GrantKind;

use crate::support::{Backend, TestNode, eventually, on_both_databases};

fn tenant_document(code: &str) -> serde_json::Value {
    json!({
        "code": code,
        "name": { "zh": "荆门市", "en": "Jingmen" },
        "regions": [
            { "code": code, "name": { "zh": "荆门市" }, "level": "city", "resident_population": 2_597_068 },
            { "code": "420802", "parent": code, "name": { "zh": "东宝区" }, "level": "county", "resident_population": 400_000 }
        ],
        "units": [
            { "name": { "zh": "荆门市教育局" }, "region": code, "kind": "organ", "civilisation_level": "provincial", "staff": 210 }
        ],
        "reviewing_bodies": [
            { "kind": "association", "name": { "zh": "荆门市志愿服务联合会" }, "region": code }
        ]
    })
}

on_both_databases! {
    async fn both_bundled_tenants_are_listed_and_readable(node: &TestNode) {
        let tenants = node.call(Method::GET, "/api/v1/tenants", None, None).await;
        let codes: Vec<_> = tenants.assert_ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tenant| tenant["code"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(codes, ["420700", "421300"]);

        let suizhou = node.call(Method::GET, "/api/v1/tenants/421300", None, None).await;
        assert_eq!(suizhou.assert_ok()["name"]["zh"], "随州市");

        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let regions = node.get("/api/v1/tenants/421300/regions", &office).await;
        let regions = regions.assert_ok()["items"].as_array().unwrap().clone();
        let names: Vec<_> = regions.iter().map(|r| r["name"]["zh"].as_str().unwrap()).collect();
        for expected in ["随州市", "曾都区", "随县", "广水市", "随州高新区", "大洪山风景名胜区"] {
            assert!(names.contains(&expected), "{names:?}");
        }
        let zones: Vec<_> = regions.iter().filter(|r| r["level"] == "zone").collect();
        assert!(zones.iter().all(|zone| zone["local"] == true), "zones carry local codes");
        assert!(regions[0]["parent"].is_null());

        let units = node.get("/api/v1/tenants/421300/units", &office).await;
        let units = units.assert_ok()["items"].as_array().unwrap().clone();
        for level in ["national", "provincial", "municipal", "other"] {
            assert!(units.iter().any(|unit| unit["civilisation_level"] == level), "{level}");
        }
        let bodies = node.get("/api/v1/tenants/421300/reviewing-bodies", &office).await;
        let bodies = bodies.assert_ok()["items"].as_array().unwrap().clone();
        assert!(bodies.iter().any(|b| b["name"]["zh"] == "随州市志愿服务联合会" && b["kind"] == "association"));
        for county in ["421303", "421321", "421381"] {
            assert!(bodies.iter().any(|b| b["region"] == county && b["kind"] == "registration_authority"), "{county}");
            assert!(bodies.iter().any(|b| b["region"] == county && b["kind"] == "association"), "{county}");
        }
    }

    async fn an_operator_creates_a_tenant_once(node: &TestNode) {
        let operator = node.account_as(None, "operator", GrantKind::Operator).await;
        let created = node
            .call(Method::POST, "/api/v1/tenants", Some(&operator), Some(tenant_document("420800")))
            .await;
        assert_eq!(created.status, 201, "{:#}", created.body);
        assert_eq!(created.body["code"], "420800");

        let again = node
            .call(Method::POST, "/api/v1/tenants", Some(&operator), Some(tenant_document("420800")))
            .await;
        assert_eq!(again.assert_problem(409, "tenant_exists").as_deref(), Some("/code"));

        let regions = node.get("/api/v1/tenants/420800/regions", &operator).await;
        assert_eq!(regions.assert_ok()["items"].as_array().unwrap().len(), 2);
    }

    async fn a_tenant_document_that_breaks_a_rule_creates_nothing(node: &TestNode) {
        let operator = node.account_as(None, "operator", GrantKind::Operator).await;
        let before = node.snapshot().await;
        let cases = [
            ("/regions/1/parent", "region_parent_unknown", {
                let mut doc = tenant_document("420800");
                doc["regions"][1]["parent"] = json!("420900");
                doc
            }),
            ("/units/0/region", "region_unknown", {
                let mut doc = tenant_document("420800");
                doc["units"][0]["region"] = json!("420999");
                doc
            }),
            ("/regions/0/code", "tenant_region_missing", {
                let mut doc = tenant_document("420800");
                doc["regions"].as_array_mut().unwrap().remove(0);
                doc
            }),
            ("/code", "tenant_code_format", {
                let mut doc = tenant_document("420000");
                doc["regions"][1]["parent"] = json!("420000");
                doc
            }),
        ];
        for (field, code, document) in cases {
            let answer = node.call(Method::POST, "/api/v1/tenants", Some(&operator), Some(document)).await;
            assert_eq!(answer.assert_problem(422, code).as_deref(), Some(field));
        }
        assert_eq!(node.snapshot().await, before);
    }

    async fn an_office_admin_edits_units_and_regions_and_the_audit_trail_says_who(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let created = node
            .call(
                Method::POST,
                "/api/v1/tenants/421300/units",
                Some(&office),
                Some(json!({
                    "name": { "zh": "随州市图书馆", "en": "Suizhou Library" },
                    "region": "421303",
                    "kind": "public_institution",
                    "civilisation_level": "municipal",
                    "staff": 64
                })),
            )
            .await;
        assert_eq!(created.status, 201, "{:#}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();

        let duplicate = node
            .call(
                Method::POST,
                "/api/v1/tenants/421300/units",
                Some(&office),
                Some(json!({
                    "name": { "zh": "随州市图书馆" },
                    "region": "421300",
                    "kind": "public_institution",
                    "civilisation_level": "other",
                    "staff": 5
                })),
            )
            .await;
        assert_eq!(duplicate.assert_problem(409, "unit_name_taken").as_deref(), Some("/name/zh"));

        // Read once, so that the node keeps the unit; its change is read at once all the same.
        let before = node.get(&format!("/api/v1/tenants/421300/units/{id}"), &office).await;
        assert_eq!(before.assert_ok()["civilisation_level"], "municipal");
        let updated = node
            .call(
                Method::PATCH,
                &format!("/api/v1/tenants/421300/units/{id}"),
                Some(&office),
                Some(json!({ "staff": 70, "civilisation_level": "provincial" })),
            )
            .await;
        assert_eq!(updated.assert_ok()["staff"], 70);
        let read = node.get(&format!("/api/v1/tenants/421300/units/{id}"), &office).await;
        assert_eq!(read.assert_ok()["civilisation_level"], "provincial");
        assert_eq!(read.body["name"]["en"], "Suizhou Library");

        let region = node
            .call(
                Method::PATCH,
                "/api/v1/tenants/421300/regions/421321",
                Some(&office),
                Some(json!({ "resident_population": 560_001 })),
            )
            .await;
        assert_eq!(region.assert_ok()["resident_population"], 560_001);

        let events = node.get("/api/v1/tenants/421300/audit-events?limit=3", &office).await;
        let events = events.assert_ok()["items"].as_array().unwrap().clone();
        let actions: Vec<_> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["region.update", "unit.update", "unit.create"]);
        assert!(events.iter().all(|e| e["actor_name"] == "office"));
        assert_eq!(events[1]["before"]["staff"], 64);
        assert_eq!(events[1]["after"]["staff"], 70);
        assert_eq!(events[0]["after"]["resident_population"], 560_001);
    }

    async fn grants_that_may_not_write_are_refused(node: &TestNode) {
        let volunteer = node.account(Some("421300"), "volunteer", &[]).await;
        let auditor = node.account_as(Some("421300"), "auditor", GrantKind::Auditor).await;
        let before = node.snapshot().await;
        for token in [&volunteer, &auditor] {
            let answer = node
                .call(
                    Method::PATCH,
                    "/api/v1/tenants/421300/regions/421321",
                    Some(token),
                    Some(json!({ "resident_population": 1 })),
                )
                .await;
            answer.assert_problem(403, "forbidden");
            let answer = node
                .call(Method::POST, "/api/v1/tenants", Some(token), Some(tenant_document("420800")))
                .await;
            answer.assert_problem(403, "forbidden");
        }
        // The auditor reads what the office wrote; the volunteer does not.
        node.get("/api/v1/tenants/421300/audit-events", &auditor).await.assert_ok();
        node.get("/api/v1/tenants/421300/audit-events", &volunteer).await.assert_problem(403, "forbidden");
        assert_eq!(node.snapshot().await, before);
    }
}

/// A node configured without the bundled tenants hosts none until an operator creates one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_bundled_tenants_starts_empty() {
    let node = TestNode::spawn_empty(crate::support::Backend::Sqlite).await;
    let tenants = node.call(Method::GET, "/api/v1/tenants", None, None).await;
    assert_eq!(tenants.assert_ok()["items"], json!([]));
    node.stop().await;
}

/// A unit changed through one node is read as changed by a replica sharing its database within
/// seconds, though the replica keeps the units it reads for a while.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_unit_reaches_a_replica_within_seconds() {
    let node = TestNode::spawn(Backend::Postgres).await;
    let office = node
        .account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;
    let units = node.get("/api/v1/tenants/421300/units", &office).await;
    let id = units.assert_ok()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let replica = node.start_replica().await;
    let on_replica = format!("{}/api/v1/tenants/421300/units/{id}", replica.base_url);
    let staff = || async {
        let answer = node
            .client
            .get(&on_replica)
            .bearer_auth(&office)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        answer.json::<serde_json::Value>().await.unwrap()["staff"]
            .as_u64()
            .unwrap()
    };
    let before = staff().await;
    node.call(
        Method::PATCH,
        &format!("/api/v1/tenants/421300/units/{id}"),
        Some(&office),
        Some(json!({ "staff": before + 1 })),
    )
    .await
    .assert_ok();
    assert!(
        eventually(|| async { staff().await == before + 1 }).await,
        "the replica reads the change within seconds"
    );
    replica.stop().await;
    node.stop().await;
}
