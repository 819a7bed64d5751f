//! Who may do what: every operation of the OpenAPI document (so a new route is covered the day
//! it is added), asked by an account holding each kind of grant, of its own tenant, of another
//! tenant and of the node, and by nobody signed in, against the permission table. Nothing the
//! table forbids is allowed, and nothing it allows is refused by it: a refusal by the table is
//! 403 `forbidden` (401 `unauthenticated` without a session); a grant that reaches the action
//! but not the resource, or a rule of the resource, answers otherwise.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;
use zhiyuan_domain::{Action, GrantKind, Scope, Who};

use crate::described::DOCUMENT;
use crate::support::{TestNode, application, on_both_databases, resident_id};

/// An account the matrix asks with, and what it is.
struct Actor {
    name: String,
    /// Its tenant; `None` for an account of the node.
    tenant: Option<&'static str>,
    username: String,
    token: String,
    account_id: String,
    grants: Vec<GrantKind>,
    volunteer: bool,
}

impl Actor {
    /// Whether the permission table lets this actor perform `action` in Suizhou (or, for a
    /// route of no tenant, on the node).
    fn permitted(&self, action: Action, tenant_route: bool) -> bool {
        let in_suizhou = self.tenant == Some("421300");
        action.open_to().iter().any(|who| match who {
            Who::Public => true,
            Who::Account | Who::Itself => in_suizhou || !tenant_route,
            Who::Volunteer => in_suizhou && self.volunteer,
            Who::Holder(kind) => {
                self.grants.contains(kind)
                    && (in_suizhou
                        || matches!(kind, GrantKind::Operator | GrantKind::Auditor)
                            && self.tenant.is_none())
            }
        })
    }
}

/// The resources of Suizhou the matrix names in its paths.
struct Fixture {
    unit: String,
    volunteer: String,
    team: String,
    file: String,
    plugin: String,
    reviewing_body: String,
}

async fn account_id(node: &TestNode, token: &str) -> String {
    node.get("/api/v1/session", token).await.assert_ok()["account"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn find_id(
    node: &TestNode,
    token: &str,
    path: &str,
    what: impl Fn(&Value) -> bool,
) -> String {
    node.get(path, token).await.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| what(item))
        .unwrap_or_else(|| panic!("nothing fits in {path}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every kind of actor, of each tenant and of the node.
async fn actors(node: &TestNode, fixture_office: &str) -> (Vec<Actor>, Fixture) {
    let mut actors = Vec::new();
    let mut fixture = None;
    for tenant in ["421300", "420700"] {
        let suffix = tenant;
        let office = if tenant == "421300" {
            fixture_office.to_owned()
        } else {
            node.account_as(Some(tenant), "office", GrantKind::OfficeAdmin)
                .await
        };
        let bodies = format!("/api/v1/tenants/{tenant}/reviewing-bodies");
        let city_office: Uuid = find_id(node, &office, &bodies, |body| {
            body["kind"] == "civilisation_office" && body["region"] == tenant
        })
        .await
        .parse()
        .unwrap();
        let association = find_id(node, &office, &bodies, |body| {
            body["kind"] == "association" && body["region"] == tenant
        })
        .await;
        // A verified volunteer of the tenant's city region, who also applies for a team.
        let mut body = application(
            "马一",
            &resident_id(&format!("{}19900101011", &tenant[..6])),
            &format!("volunteer{suffix}"),
        );
        body["region"] = json!(tenant);
        let (volunteer_id, volunteer) = node.apply_as_volunteer(tenant, body).await;
        node.call(
            Method::POST,
            &format!("/api/v1/tenants/{tenant}/volunteers/{volunteer_id}/decision"),
            Some(&office),
            Some(json!({ "decision": "approve" })),
        )
        .await
        .assert_ok();
        let (_, founder) = {
            let mut body = application(
                "马二",
                &resident_id(&format!("{}19900101038", &tenant[..6])),
                &format!("founder{suffix}"),
            );
            body["region"] = json!(tenant);
            node.apply_as_volunteer(tenant, body).await
        };
        let founder_record = find_id(
            node,
            &office,
            &format!("/api/v1/tenants/{tenant}/volunteers?status=pending"),
            |_| true,
        )
        .await;
        node.call(
            Method::POST,
            &format!("/api/v1/tenants/{tenant}/volunteers/{founder_record}/decision"),
            Some(&office),
            Some(json!({ "decision": "approve" })),
        )
        .await
        .assert_ok();
        let team = node
            .call(
                Method::POST,
                &format!("/api/v1/tenants/{tenant}/teams"),
                Some(&founder),
                Some(json!({
                    "name": format!("矩阵测试志愿服务队{suffix}"), "kind": "community", "region": tenant,
                    "contact_name": "马二", "contact_mobile": "13900001111",
                    "legal_status": "unregistered", "liaison_team_id": association
                })),
            )
            .await;
        let team = team.assert_ok()["id"].as_str().unwrap().to_owned();
        let team_admin = node
            .login(
                Some(tenant),
                &format!("founder{suffix}"),
                &format!("founder{suffix}-password"),
            )
            .await;
        let reviewer_name = format!("reviewer{suffix}");
        let reviewer = node
            .account(
                Some(tenant),
                &reviewer_name,
                &[(GrantKind::Reviewer, Some(Scope::ReviewingBody(city_office)))],
            )
            .await;
        let auditor = node
            .account_as(
                Some(tenant),
                &format!("auditor{suffix}"),
                GrantKind::Auditor,
            )
            .await;
        let plain = node
            .account(Some(tenant), &format!("plain{suffix}"), &[])
            .await;
        for (name, username, token, grants, volunteer) in [
            (
                "office_admin",
                "office".to_owned(),
                office.clone(),
                vec![GrantKind::OfficeAdmin],
                false,
            ),
            (
                "auditor",
                format!("auditor{suffix}"),
                auditor,
                vec![GrantKind::Auditor],
                false,
            ),
            (
                "reviewer",
                reviewer_name.clone(),
                reviewer,
                vec![GrantKind::Reviewer],
                false,
            ),
            (
                "team_admin",
                format!("founder{suffix}"),
                team_admin,
                vec![GrantKind::TeamAdmin],
                true,
            ),
            (
                "volunteer",
                format!("volunteer{suffix}"),
                volunteer,
                vec![],
                true,
            ),
            ("plain", format!("plain{suffix}"), plain, vec![], false),
        ] {
            let account_id = account_id(node, &token).await;
            actors.push(Actor {
                name: format!("{name} of {tenant}"),
                tenant: Some(tenant),
                username,
                token,
                account_id,
                grants,
                volunteer,
            });
        }
        if tenant == "421300" {
            let file = node
                .call_raw(
                    Method::POST,
                    "/api/v1/tenants/421300/files",
                    Some(&office),
                    Some("application/pdf"),
                    b"%PDF-1.4\n%%EOF\n".to_vec(),
                )
                .await;
            let plugin = node
                .get("/api/v1/tenants/421300/plugins", &office)
                .await
                .assert_ok()["items"][0]["sha256"]
                .as_str()
                .unwrap()
                .to_owned();
            fixture = Some(Fixture {
                unit: find_id(node, &office, "/api/v1/tenants/421300/units", |_| true).await,
                volunteer: volunteer_id,
                team,
                file: file.assert_ok()["sha256"].as_str().unwrap().to_owned(),
                plugin,
                reviewing_body: association,
            });
        }
    }
    for (name, kind) in [
        ("operator", GrantKind::Operator),
        ("node.auditor", GrantKind::Auditor),
    ] {
        let token = node.account(None, name, &[(kind, Some(Scope::Node))]).await;
        let account_id = account_id(node, &token).await;
        actors.push(Actor {
            name: format!("{name} of the node"),
            tenant: None,
            username: name.to_owned(),
            token,
            account_id,
            grants: vec![kind],
            volunteer: false,
        });
    }
    (actors, fixture.expect("Suizhou's fixture"))
}

/// A body of the right shape for every operation that takes JSON, so that what is asked is
/// about who asks.
fn sample_body(action: Action, fixture: &Fixture) -> Option<Value> {
    Some(match action {
        Action::SignIn => json!({ "username": "nobody", "password": "x" }),
        Action::CreateTenant => json!({
            "code": "420800", "name": { "zh": "荆门市" },
            "regions": [{ "code": "420800", "name": { "zh": "荆门市" }, "level": "city", "resident_population": 2_590_000 }]
        }),
        Action::UpdateRegion => json!({ "resident_population": 1 }),
        Action::CreateUnit => json!({
            "name": { "zh": format!("矩阵测试单位{}", Uuid::now_v7()) }, "region": "421300", "kind": "other",
            "civilisation_level": "other", "staff": 1
        }),
        Action::UpdateUnit => json!({ "staff": 2 }),
        Action::CreateAccount => json!({
            "username": format!("made.{}", &Uuid::now_v7().simple().to_string()[20..]), "display_name": "x", "password": "made-password"
        }),
        Action::ChangeGrants => json!({ "add": [{ "kind": "auditor" }] }),
        Action::RegisterVolunteer => application(
            "矩阵",
            &resident_id("42130319900101054"),
            &format!("m{}", &Uuid::now_v7().simple().to_string()[20..]),
        ),
        Action::DecideVolunteer | Action::DecideTeam => {
            json!({ "decision": "reject", "reason": "矩阵测试" })
        }
        Action::VoidRegistration => json!({ "reason": "矩阵测试" }),
        Action::ApplyTeam | Action::ResubmitTeam => json!({
            "name": format!("矩阵申请志愿服务队{}", &Uuid::now_v7().simple().to_string()[20..]), "kind": "community", "region": "421300",
            "contact_name": "张三", "contact_mobile": "13900001111",
            "legal_status": "unregistered", "liaison_team_id": fixture.reviewing_body
        }),
        Action::DecideMember => json!({ "decision": "accept" }),
        Action::AppointTeamAdmin => json!({ "volunteer_id": Uuid::now_v7() }),
        Action::DryRunPlugin => {
            json!({ "hook": "region-target", "input": { "code": "421300", "resident_population": 1000 } })
        }
        Action::BindPolicy => json!({ "bindings": [] }),
        Action::DecideProject | Action::CurateNeed => json!({ "decision": "approve" }),
        Action::TakeDownProject => json!({ "reason": "矩阵测试" }),
        Action::CloseNeed => json!({ "outcome": "met" }),
        Action::Enroll => json!({}),
        Action::DecideEnrollment => json!({ "decision": "accept" }),
        Action::ChangeProjectGrants => json!({ "volunteer_id": Uuid::now_v7(), "kind": "scanner" }),
        Action::PostNeed => json!({
            "title": "矩阵需求", "description": "矩阵测试", "service_categories": ["community"],
            "region": "421303", "address": "曾都区", "starts_at": "2026-12-01T08:00:00+08:00",
            "ends_at": "2026-12-02T08:00:00+08:00", "people_needed": 1, "contact_name": "王五",
            "contact_mobile": "13700003333", "poster": "resident"
        }),
        Action::CreateProject | Action::UpdateProject => json!({
            "title": "矩阵项目", "summary": "矩阵测试", "service_categories": ["community"],
            "region": "421303", "address": "曾都区", "place": { "longitude": 113.38, "latitude": 31.69 },
            "starts_at": "2026-12-01T08:00:00+08:00", "ends_at": "2026-12-02T08:00:00+08:00",
            "contact_name": "李四", "contact_mobile": "13900002222",
            "shifts": [{ "starts_at": "2026-12-01T09:00:00+08:00", "ends_at": "2026-12-01T10:00:00+08:00", "capacity": 1 }]
        }),
        Action::SwitchPolicy => json!({ "revision": 1 }),
        Action::ScanCard => json!({ "scan_id": Uuid::now_v7(), "code": "ZY1:MATRIX" }),
        Action::UploadScans => {
            json!({ "scans": [{ "scan_id": Uuid::now_v7(), "code": "ZY1:MATRIX", "scanned_at": "2026-12-01T09:00:00+08:00" }] })
        }
        Action::RecordService => json!({
            "volunteer_id": fixture.volunteer, "started_at": "2026-11-20T09:00:00+08:00",
            "ended_at": "2026-11-20T10:00:00+08:00", "content": "矩阵测试", "reason": "矩阵测试"
        }),
        Action::CorrectServiceRecord => json!({ "minutes": 0, "reason": "矩阵测试" }),
        Action::DisputeServiceRecord => json!({ "claim": "矩阵测试" }),
        Action::AnswerDispute => json!({ "answer": "矩阵测试" }),
        Action::SettleDispute => json!({ "decision": "dismiss", "reason": "矩阵测试" }),
        Action::RevokePrintedCard | Action::RevokeCertificate => json!({ "reason": "矩阵测试" }),
        Action::RequestCertificate => json!({ "from": "2026-11-01", "to": "2026-11-30" }),
        Action::IssueCertificate => {
            json!({ "person_in_charge": "王", "handler": "李", "contact": "0722" })
        }
        _ => return None,
    })
}

fn fill(template: &str, fixture: &Fixture, actor: Option<&Actor>) -> String {
    template
        .replace("{tenant}", "421300")
        .replace("{region}", "421303")
        .replace("{unit_id}", &fixture.unit)
        .replace(
            "{account_id}",
            actor.map_or("00000000-0000-7000-8000-000000000000", |a| &a.account_id),
        )
        .replace("{volunteer_id}", &fixture.volunteer)
        .replace("{team_id}", &fixture.team)
        // Projects, needs, shifts and sign-ups the matrix does not make: asked of ids the
        // tenant does not have, what the permission table says is the same.
        .replace("{project_id}", "00000000-0000-7000-8000-000000000001")
        .replace("{need_id}", "00000000-0000-7000-8000-000000000002")
        .replace("{shift_id}", "00000000-0000-7000-8000-000000000003")
        .replace("{enrollment_id}", "00000000-0000-7000-8000-000000000004")
        .replace("{record_id}", "00000000-0000-7000-8000-000000000005")
        .replace("{dispute_id}", "00000000-0000-7000-8000-000000000006")
        .replace("{certificate_id}", "00000000-0000-7000-8000-000000000007")
        .replace("{serial}", "1")
        .replace("{number}", "421300-2026-000001")
        .replace("{tile}", "0/000")
        .replace(
            "{sha256}",
            if template.contains("plugins") {
                &fixture.plugin
            } else {
                &fixture.file
            },
        )
}

/// Every operation of the document, with its action; those that change who an account is
/// (ending its session, making it a team's admin or a volunteer) last, so that the others are
/// asked by the same accounts.
fn operations() -> Vec<(Method, String, Action)> {
    let mut operations = Vec::new();
    for (path, item) in DOCUMENT["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let action = Action::from_db(operation["operationId"].as_str().unwrap())
                .unwrap_or_else(|| panic!("{method} {path}: its operationId is no action"));
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            operations.push((method, path.clone(), action));
        }
    }
    let rank = |action: &Action| match action {
        Action::ApplyTeam => 1,
        Action::RegisterVolunteer => 2,
        Action::SignOut => 3,
        Action::SignOutEverywhere => 4,
        _ => 0,
    };
    operations.sort_by_key(|(_, path, action)| (rank(action), path.clone()));
    assert_eq!(
        operations.len(),
        Action::ALL.len(),
        "every action has exactly one route"
    );
    operations
}

async fn ask(
    node: &TestNode,
    method: &Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> crate::support::Answer {
    match (
        method.as_str(),
        path.ends_with("/plugins") || path.ends_with("/files"),
    ) {
        ("POST", true) => {
            node.call_raw(
                method.clone(),
                &format!("{path}?name=x&version=1.0.0"),
                token,
                Some("application/octet-stream"),
                b"not a package".to_vec(),
            )
            .await
        }
        _ => node.call(method.clone(), path, token, body).await,
    }
}

on_both_databases! {
    async fn every_route_answers_every_grant_as_the_permission_table_says(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let (actors, fixture) = actors(node, &office).await;
        let before = node.count("audit_events").await;
        let mut checked = 0;
        for (method, template, action) in operations() {
            let body = sample_body(action, &fixture);
            // Nobody signed in.
            let path = fill(&template, &fixture, None);
            let answer = ask(node, &method, &path, None, body.clone()).await;
            if action.is_public() {
                assert!(answer.status != 401 && answer.status != 403 || answer.body["code"] == "bad_credentials", "{method} {template} refused to the public: {:#}", answer.body);
            } else {
                answer.assert_problem(401, "unauthenticated");
            }
            for actor in &actors {
                let path = fill(&template, &fixture, Some(actor));
                // Signing out ends the session the other operations used: each ends one of its
                // own.
                let token = match action {
                    Action::SignOut | Action::SignOutEverywhere => {
                        node.login(actor.tenant, &actor.username, &format!("{}-password", actor.username)).await
                    }
                    _ => actor.token.clone(),
                };
                let answer = ask(node, &method, &path, Some(&token), sample_body(action, &fixture)).await;
                let refused_by_table = answer.status == 403 && answer.body["code"] == "forbidden";
                let unauthenticated = answer.status == 401 && answer.body["code"] == "unauthenticated";
                assert!(!unauthenticated, "{method} {template}: {} is signed in: {:#}", actor.name, answer.body);
                if actor.permitted(action, template.contains("{tenant}")) {
                    assert!(!refused_by_table, "{method} {template}: the table allows {} ({action:?}) but the node refused", actor.name);
                } else {
                    assert!(refused_by_table, "{method} {template}: the table forbids {} ({action:?}) but the node answered {} {:#}", actor.name, answer.status, answer.body);
                }
                checked += 1;
            }
        }
        assert!(checked >= 50 * actors.len(), "{checked}");
        assert!(node.count("audit_events").await > before);
    }

    async fn guessed_ids_of_another_tenant_are_not_found_in_ones_own(node: &TestNode) {
        let suizhou_office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let (_, fixture) = actors(node, &suizhou_office).await;
        let ezhou_office = node.login(Some("420700"), "office", "office-password").await;
        let before = node.snapshot().await;

        for (method, template, action) in operations() {
            let takes_an_id = template.contains("_id}") && !template.contains("{account_id}")
                || template.contains("{region}")
                || template.contains("{sha256}");
            let open_to_an_office = action
                .open_to()
                .iter()
                .any(|who| matches!(who, Who::Account | Who::Holder(GrantKind::OfficeAdmin)));
            if !takes_an_id || action.is_public() || !open_to_an_office {
                continue;
            }
            let path = fill(&template, &fixture, None).replacen("421300", "420700", 1);
            let answer = ask(node, &method, &path, Some(&ezhou_office), sample_body(action, &fixture)).await;
            answer.assert_problem(404, "not_found");
        }

        // Naming another tenant's reviewing body in a grant is refused too.
        let answer = node
            .call(
                Method::POST,
                "/api/v1/tenants/420700/accounts",
                Some(&ezhou_office),
                Some(json!({
                    "username": "intruder", "display_name": "x", "password": "intruder-password",
                    "grants": [{ "kind": "reviewer", "scope": format!("reviewing_body:{}", fixture.reviewing_body) }]
                })),
            )
            .await;
        answer.assert_problem(422, "grant_target_unknown");
        assert_eq!(node.snapshot().await, before);
    }

    async fn an_operator_sees_every_tenant(node: &TestNode) {
        let operator = node.account_as(None, "operator", GrantKind::Operator).await;
        for tenant in ["421300", "420700"] {
            for what in ["regions", "units", "reviewing-bodies", "accounts", "audit-events"] {
                let answer = node.get(&format!("/api/v1/tenants/{tenant}/{what}"), &operator).await;
                assert!(!answer.assert_ok()["items"].as_array().unwrap().is_empty() || what == "accounts", "{tenant} {what}");
            }
        }
        node.get("/api/v1/node/accounts", &operator).await.assert_ok();
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        node.get("/api/v1/node/accounts", &office).await.assert_problem(403, "forbidden");
    }
}
