//! Teams: registration with the right reviewer (R10, R11), naming (R12), review, resubmission,
//! certificates, admins and members (R5, R9).

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{Value, json};
use zhiyuan_domain::{GrantKind, Scope};

use crate::support::{Answer, TestNode, application, on_both_databases, resident_id};

/// The smallest valid PNG: a 1x1 transparent pixel.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// A valid unified social credit code of a social organisation (it begins with 5).
fn social_organisation_credit_code() -> String {
    let alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    let prefix = "51421303MJH12345X";
    let weights = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: usize = prefix
        .chars()
        .zip(weights)
        .map(|(c, w)| alphabet.find(c).unwrap() * w)
        .sum();
    format!(
        "{prefix}{}",
        alphabet.chars().nth((31 - sum % 31) % 31).unwrap()
    )
}

/// The Suizhou tenant's reviewing bodies and association teams by name.
struct Directory {
    bodies: HashMap<String, String>,
}

impl Directory {
    async fn load(node: &TestNode, tenant: &str, token: &str) -> Directory {
        let answer = node
            .get(&format!("/api/v1/tenants/{tenant}/reviewing-bodies"), token)
            .await;
        let bodies = answer.assert_ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["name"]["zh"].as_str().unwrap().to_owned(),
                    b["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        Directory { bodies }
    }

    fn id(&self, name: &str) -> String {
        self.bodies
            .get(name)
            .unwrap_or_else(|| panic!("no body named {name}"))
            .clone()
    }
}

fn unregistered(name: &str, region: &str, liaison: &str) -> Value {
    json!({
        "name": name, "kind": "community", "region": region,
        "contact_name": "张三", "contact_mobile": "13900001111",
        "legal_status": "unregistered", "liaison_team_id": liaison
    })
}

fn registered(name: &str, region: &str, authority: &str, certificate: &str) -> Value {
    json!({
        "name": name, "kind": "social_organisation", "region": region,
        "contact_name": "李四", "contact_mobile": "13900002222",
        "legal_status": "registered", "registration_authority_id": authority,
        "credit_code": social_organisation_credit_code(), "certificates": [certificate]
    })
}

async fn apply(node: &TestNode, tenant: &str, token: &str, body: Value) -> Answer {
    node.call(
        Method::POST,
        &format!("/api/v1/tenants/{tenant}/teams"),
        Some(token),
        Some(body),
    )
    .await
}

async fn decide(node: &TestNode, tenant: &str, token: &str, team: &str, body: Value) -> Answer {
    node.call(
        Method::POST,
        &format!("/api/v1/tenants/{tenant}/teams/{team}/decision"),
        Some(token),
        Some(body),
    )
    .await
}

async fn upload(node: &TestNode, token: &str, bytes: &[u8]) -> Answer {
    node.call_raw(
        Method::POST,
        "/api/v1/tenants/421300/files",
        Some(token),
        Some("application/octet-stream"),
        bytes.to_vec(),
    )
    .await
}

async fn reviewer(node: &TestNode, directory: &Directory, body: &str, username: &str) -> String {
    let id = directory.id(body).parse().unwrap();
    node.account(
        Some("421300"),
        username,
        &[(GrantKind::Reviewer, Some(Scope::ReviewingBody(id)))],
    )
    .await
}

async fn queue(node: &TestNode, token: &str) -> Vec<String> {
    let answer = node
        .get("/api/v1/tenants/421300/teams/review-queue", token)
        .await;
    answer.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A volunteer of Suizhou, verified by the office; answers (volunteer id, token).
async fn verified_volunteer(
    node: &TestNode,
    office: &str,
    first17: &str,
    username: &str,
) -> (String, String) {
    let (id, token) = node
        .apply_as_volunteer(
            "421300",
            application("陈晨", &resident_id(first17), username),
        )
        .await;
    node.call(
        Method::POST,
        &format!("/api/v1/tenants/421300/volunteers/{id}/decision"),
        Some(office),
        Some(json!({ "decision": "approve" })),
    )
    .await
    .assert_ok();
    (id, token)
}

on_both_databases! {
    // One person, one account: a verified volunteer who founds and runs a team and reviews
    // other teams' applications for the city's association, acting in each capacity in turn
    // with the same sign-in, and never deciding their own application.
    async fn one_account_volunteers_runs_a_team_and_reviews(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let directory = Directory::load(node, "421300", &office).await;
        let zengdu = reviewer(node, &directory, "曾都区志愿服务联合会", "zengdu.assoc").await;
        let (volunteer_id, person) = verified_volunteer(node, &office, "42130319880808081", "wang.fang").await;
        let session = node.get("/api/v1/session", &person).await;
        let account_id = session.assert_ok()["account"]["id"].as_str().unwrap().to_owned();
        assert_eq!(session.body["account"]["volunteer_id"], volunteer_id.as_str());
        assert_eq!(session.body["account"]["grants"], json!([]), "a volunteer is a person with a record, not a grant");

        // As a volunteer: their own record and card.
        let own = node.get("/api/v1/tenants/421300/volunteers/me", &person).await;
        assert_eq!(own.assert_ok()["status"], "verified");
        let card = node.get("/api/v1/tenants/421300/volunteers/me/card", &person).await;
        assert!(card.assert_ok()["code"].as_str().unwrap().starts_with("ZY1:"));

        // As a founder, then team admin: the team is theirs once approved.
        let applied = apply(node, "421300", &person, unregistered("曾都区银杏志愿服务队", "421303", &directory.id("曾都区志愿服务联合会"))).await;
        assert_eq!(applied.status, 201, "{:#}", applied.body);
        let team = applied.body["id"].as_str().unwrap().to_owned();
        decide(node, "421300", &zengdu, &team, json!({ "decision": "approve" })).await.assert_ok();

        // As a reviewer: the office grants them the city association's reviews.
        let city_association = directory.id("随州市志愿服务联合会");
        node.call(
            Method::POST,
            &format!("/api/v1/tenants/421300/accounts/{account_id}/grants"),
            Some(&office),
            Some(json!({ "add": [{ "kind": "reviewer", "scope": format!("reviewing_body:{city_association}") }] })),
        )
        .await
        .assert_ok();
        let grants = node.get("/api/v1/session", &person).await.body["account"]["grants"].clone();
        assert_eq!(
            grants,
            json!([
                { "kind": "reviewer", "scope": format!("reviewing_body:{city_association}") },
                { "kind": "team_admin", "scope": format!("team:{team}") }
            ]),
            "one account, two grants, and still its volunteer record"
        );

        // A city-level team applies; the person reviews and approves it.
        let (_, colleague) = verified_volunteer(node, &office, "42130319900101038", "colleague").await;
        let city_team = apply(node, "421300", &colleague, unregistered("随州市青年志愿服务队", "421300", &city_association)).await;
        assert_eq!(city_team.status, 201, "{:#}", city_team.body);
        let city_team = city_team.body["id"].as_str().unwrap().to_owned();
        assert_eq!(queue(node, &person).await, ["随州市青年志愿服务队"]);
        decide(node, "421300", &person, &city_team, json!({ "decision": "approve" })).await.assert_ok();

        // Their own application at the city level is not theirs to review.
        let own_city_team = apply(node, "421300", &person, unregistered("随州市银杏志愿服务总队", "421300", &city_association)).await;
        assert_eq!(own_city_team.status, 201, "{:#}", own_city_team.body);
        let own_city_team = own_city_team.body["id"].as_str().unwrap().to_owned();
        assert!(queue(node, &person).await.is_empty(), "nobody reviews their own application");
        decide(node, "421300", &person, &own_city_team, json!({ "decision": "approve" }))
            .await
            .assert_problem(403, "own_application");

        // As the team's admin: a member joins and is accepted, with the same sign-in.
        let (member_id, member) = verified_volunteer(node, &office, "42130319900101054", "member").await;
        let base = format!("/api/v1/tenants/421300/teams/{team}");
        node.call(Method::POST, &format!("{base}/membership"), Some(&member), None).await.assert_ok();
        let accepted = node
            .call(Method::POST, &format!("{base}/members/{member_id}/decision"), Some(&person), Some(json!({ "decision": "accept" })))
            .await;
        assert_eq!(accepted.assert_ok()["status"], "member");
        // ...and as a volunteer, a member of a team they do not run.
        node.call(Method::POST, &format!("/api/v1/tenants/421300/teams/{city_team}/membership"), Some(&person), None)
            .await
            .assert_ok();
    }

    async fn an_unregistered_team_goes_to_the_association_of_its_region(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let directory = Directory::load(node, "421300", &office).await;
        let zengdu_association = directory.id("曾都区志愿服务联合会");
        let zengdu = reviewer(node, &directory, "曾都区志愿服务联合会", "zengdu.assoc").await;
        let city = reviewer(node, &directory, "随州市志愿服务联合会", "city.assoc").await;
        let (_, applicant) = verified_volunteer(node, &office, "42130319900101011", "liu.yi").await;

        let applied = apply(node, "421300", &applicant, unregistered("东城街道爱心志愿服务队", "421303", &zengdu_association)).await;
        assert_eq!(applied.status, 201, "{:#}", applied.body);
        assert_eq!(applied.body["status"], "pending");
        assert_eq!(applied.body["contact_mobile"], "13900001111", "the applicant is its admin");
        let team = applied.body["id"].as_str().unwrap().to_owned();
        let same_name = apply(node, "421300", &applicant, unregistered("东城街道爱心志愿服务队", "421303", &zengdu_association)).await;
        assert_eq!(same_name.assert_problem(409, "team_name_taken").as_deref(), Some("/name"));

        assert_eq!(queue(node, &zengdu).await, ["东城街道爱心志愿服务队"]);
        assert!(queue(node, &city).await.is_empty(), "the city association sees no other level's applications");
        let before = node.snapshot().await;
        decide(node, "421300", &city, &team, json!({ "decision": "approve" })).await.assert_problem(403, "outside_grant_scope");
        decide(node, "421300", &applicant, &team, json!({ "decision": "approve" })).await.assert_problem(403, "outside_grant_scope");
        decide(node, "421300", &office, &team, json!({ "decision": "approve" })).await.assert_problem(403, "forbidden");
        assert_eq!(node.snapshot().await, before);

        let approved = decide(node, "421300", &zengdu, &team, json!({ "decision": "approve" })).await;
        assert_eq!(approved.assert_ok()["status"], "approved");
        assert_eq!(approved.body["contact_mobile"], "139****1111", "others see the contact masked");
        decide(node, "421300", &zengdu, &team, json!({ "decision": "reject", "reason": "x" }))
            .await
            .assert_problem(409, "already_decided");

        // An approved team may now be the parent and liaison of a team of its region. Its
        // admins review the child's application, but never the one who made it.
        let mut child = unregistered("东城街道爱心志愿服务队第一分队", "421303", &team);
        child["parent_team_id"] = json!(team);
        let child = apply(node, "421300", &applicant, child).await;
        assert_eq!(child.status, 201, "{:#}", child.body);
        let child_id = child.body["id"].as_str().unwrap().to_owned();
        assert!(queue(node, &applicant).await.is_empty(), "nobody reviews their own application");
        let before = node.snapshot().await;
        decide(node, "421300", &applicant, &child_id, json!({ "decision": "approve" })).await.assert_problem(403, "own_application");
        decide(node, "421300", &zengdu, &child_id, json!({ "decision": "approve" })).await.assert_problem(403, "outside_grant_scope");
        assert_eq!(node.snapshot().await, before);

        // Another admin of the parent team decides it.
        let (colleague_id, colleague) = verified_volunteer(node, &office, "42130319900101038", "colleague").await;
        let base = format!("/api/v1/tenants/421300/teams/{team}");
        node.call(Method::POST, &format!("{base}/membership"), Some(&colleague), None).await.assert_ok();
        node.call(Method::POST, &format!("{base}/members/{colleague_id}/decision"), Some(&applicant), Some(json!({ "decision": "accept" }))).await.assert_ok();
        node.call(Method::POST, &format!("{base}/admins"), Some(&applicant), Some(json!({ "volunteer_id": colleague_id }))).await.assert_ok();
        assert_eq!(queue(node, &colleague).await, ["东城街道爱心志愿服务队第一分队"], "the parent's other admin reviews it");
        decide(node, "421300", &colleague, &child_id, json!({ "decision": "approve" })).await.assert_ok();
    }

    async fn every_crossed_level_and_wrong_choice_is_refused(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let directory = Directory::load(node, "421300", &office).await;
        let (_, applicant) = verified_volunteer(node, &office, "42130319900101011", "liu.yi").await;
        let png = upload(node, &applicant, PNG).await;
        let certificate = png.assert_ok()["sha256"].as_str().unwrap().to_owned();

        // A pending team and an approved team that is neither association nor parent.
        let zengdu_association = directory.id("曾都区志愿服务联合会");
        let pending = apply(node, "421300", &applicant, unregistered("待审核志愿服务队", "421303", &zengdu_association)).await;
        let pending = pending.body["id"].as_str().unwrap().to_owned();
        let peer = apply(node, "421300", &applicant, unregistered("同级志愿服务队", "421303", &zengdu_association)).await;
        let peer = peer.body["id"].as_str().unwrap().to_owned();
        let zengdu = reviewer(node, &directory, "曾都区志愿服务联合会", "zengdu.assoc").await;
        decide(node, "421300", &zengdu, &peer, json!({ "decision": "approve" })).await.assert_ok();

        let before = node.snapshot().await;
        let cases: Vec<(&str, Value, &str, &str)> = vec![
            ("the city association over the county's own",
             unregistered("甲队", "421303", &directory.id("随州市志愿服务联合会")), "liaison_skips_level", "/liaison_team_id"),
            ("the city's industry association over the county's association",
             unregistered("甲队", "421303", &directory.id("随州市青年志愿者协会")), "liaison_skips_level", "/liaison_team_id"),
            ("another county's association",
             unregistered("甲队", "421303", &directory.id("随县志愿服务联合会")), "liaison_unrelated_region", "/liaison_team_id"),
            ("an unapproved liaison team",
             unregistered("甲队", "421303", &pending), "liaison_not_approved", "/liaison_team_id"),
            ("an approved team that is neither association nor parent",
             unregistered("甲队", "421303", &peer), "liaison_not_association_or_parent", "/liaison_team_id"),
            ("a liaison team of another tenant",
             unregistered("甲队", "421303", &uuid::Uuid::now_v7().to_string()), "liaison_unknown", "/liaison_team_id"),
            ("an unregistered team choosing an authority", {
                let mut body = unregistered("甲队", "421303", &zengdu_association);
                body["registration_authority_id"] = json!(directory.id("随州市曾都区民政局"));
                body
            }, "unregistered_team_takes_liaison", "/registration_authority_id"),
            ("an unregistered team without a liaison", {
                let mut body = unregistered("甲队", "421303", &zengdu_association);
                body.as_object_mut().unwrap().remove("liaison_team_id");
                body
            }, "unregistered_team_takes_liaison", "/liaison_team_id"),
            ("a registered team choosing a liaison team", {
                let mut body = registered("乙会", "421303", &directory.id("随州市曾都区民政局"), &certificate);
                body["liaison_team_id"] = json!(zengdu_association);
                body
            }, "registered_team_takes_authority", "/liaison_team_id"),
            ("another region's authority",
             registered("乙会", "421303", &directory.id("随州市民政局"), &certificate), "authority_not_own_region", "/registration_authority_id"),
            ("an association as authority",
             registered("乙会", "421303", &zengdu_association, &certificate), "authority_wrong_kind", "/registration_authority_id"),
            ("a registered team without a code", {
                let mut body = registered("乙会", "421303", &directory.id("随州市曾都区民政局"), &certificate);
                body.as_object_mut().unwrap().remove("credit_code");
                body
            }, "registered_team_needs_code", "/credit_code"),
            ("a credit code not of civil affairs", {
                let mut body = registered("乙会", "421303", &directory.id("随州市曾都区民政局"), &certificate);
                let code = social_organisation_credit_code();
                let alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
                let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
                let prefix = format!("9{}", &code[1..17]);
                let sum: usize = prefix.chars().zip(weights).map(|(c, w)| alphabet.find(c).unwrap() * w).sum();
                body["credit_code"] = json!(format!("{prefix}{}", alphabet.chars().nth((31 - sum % 31) % 31).unwrap()));
                body
            }, "credit_code_not_civil_affairs", "/credit_code"),
            ("a credit code with a wrong check character", {
                let mut body = registered("乙会", "421303", &directory.id("随州市曾都区民政局"), &certificate);
                let mut code = social_organisation_credit_code();
                let last = code.pop().unwrap();
                code.push(if last == '0' { '1' } else { '0' });
                body["credit_code"] = json!(code);
                body
            }, "credit_code_check", "/credit_code"),
            ("an organisation code with a wrong check character", {
                let mut body = registered("乙会", "421303", &directory.id("随州市曾都区民政局"), &certificate);
                body["org_code"] = json!("D2143569-1");
                body
            }, "org_code_check", "/org_code"),
            ("no certificates", {
                let mut body = registered("乙会", "421303", &directory.id("随州市曾都区民政局"), &certificate);
                body["certificates"] = json!([]);
                body
            }, "certificates_required", "/certificates"),
            ("a certificate never uploaded", {
                let mut body = registered("乙会", "421303", &directory.id("随州市曾都区民政局"), &certificate);
                body["certificates"] = json!(["0".repeat(64)]);
                body
            }, "certificate_unknown", "/certificates/0"),
            ("R12: an organ's team not named after its unit", json!({
                "name": "平安志愿队", "kind": "organ", "unit_id": null, "region": "421300",
                "contact_name": "王五", "contact_mobile": "13900003333",
                "legal_status": "unregistered", "liaison_team_id": directory.id("随州市志愿服务联合会")
            }), "policy_violation", "/name"),
        ];
        for (what, mut body, code, field) in cases {
            if body["unit_id"].is_null() && body.get("unit_id").is_some() {
                let units = node.get("/api/v1/tenants/421300/units", &office).await;
                let police = units.body["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|u| u["name"]["zh"] == "随州市公安局")
                    .expect("the police bureau is a unit")["id"]
                    .clone();
                body["unit_id"] = police;
            }
            let answer = apply(node, "421300", &applicant, body).await;
            assert_eq!(answer.assert_problem(422, code).as_deref(), Some(field), "{what}");
            if code == "policy_violation" {
                assert_eq!(answer.body["rule"], "team_name_rule", "{what}");
                assert!(answer.body["message"]["zh-CN"].as_str().unwrap().contains("随州市公安局志愿服务队"));
            }
        }
        assert_eq!(node.snapshot().await, before, "no refused application wrote anything");
    }

    async fn a_registered_team_goes_to_the_authority_of_its_region(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let directory = Directory::load(node, "421300", &office).await;
        let (_, applicant) = verified_volunteer(node, &office, "42130319900101011", "liu.yi").await;

        let not_an_image = upload(node, &applicant, b"%!PS-Adobe-3.0 not a certificate").await;
        assert_eq!(not_an_image.assert_problem(422, "file_type").as_deref(), Some("/"));
        let named_png_but_text = upload(node, &applicant, b"hello, I am a .png by name only").await;
        named_png_but_text.assert_problem(422, "file_type");
        let mut too_big = PNG.to_vec();
        too_big.resize(5 * 1024 * 1024 + 1, 0);
        upload(node, &applicant, &too_big).await.assert_problem(413, "payload_too_large");
        let png = upload(node, &applicant, PNG).await;
        assert_eq!(png.status, 201, "{:#}", png.body);
        assert_eq!(png.body["media_type"], "image/png");
        let certificate = png.body["sha256"].as_str().unwrap().to_owned();
        let again = upload(node, &applicant, PNG).await;
        assert_eq!(again.body["sha256"], certificate.as_str(), "content-addressed");
        let pdf = upload(node, &applicant, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n").await;
        assert_eq!(pdf.assert_ok()["media_type"], "application/pdf");

        let authority = directory.id("随州市曾都区民政局");
        let applied = apply(node, "421300", &applicant, registered("曾都区社工协会", "421303", &authority, &certificate)).await;
        assert_eq!(applied.status, 201, "{:#}", applied.body);
        assert_eq!(applied.body["certificates"], json!([certificate]));
        let team = applied.body["id"].as_str().unwrap().to_owned();

        let county_authority = reviewer(node, &directory, "随州市曾都区民政局", "zengdu.mz").await;
        let city_authority = reviewer(node, &directory, "随州市民政局", "city.mz").await;
        assert_eq!(queue(node, &county_authority).await, ["曾都区社工协会"]);
        assert!(queue(node, &city_authority).await.is_empty());
        decide(node, "421300", &city_authority, &team, json!({ "decision": "approve" })).await.assert_problem(403, "outside_grant_scope");
        let file = node.get(&format!("/api/v1/tenants/421300/files/{certificate}"), &county_authority).await;
        assert_eq!(file.content_type, "image/png");
        decide(node, "421300", &county_authority, &team, json!({ "decision": "approve" })).await.assert_ok();

        // A functional zone has no civil affairs bureau: its teams go to the city's.
        let zone = apply(node, "421300", &applicant, registered("高新区企业志愿者协会", "421371", &directory.id("随州市民政局"), &certificate)).await;
        assert_eq!(zone.status, 201, "{:#}", zone.body);
        assert_eq!(queue(node, &city_authority).await, ["高新区企业志愿者协会"]);
    }

    async fn a_rejected_team_corrects_and_resubmits_and_history_is_kept(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let directory = Directory::load(node, "421300", &office).await;
        let (_, applicant) = verified_volunteer(node, &office, "42130319900101011", "liu.yi").await;
        let (_, stranger) = node.apply_as_volunteer("421300", application("刘二", &resident_id("42130319900101038"), "liu.er")).await;
        let zengdu = reviewer(node, &directory, "曾都区志愿服务联合会", "zengdu.assoc").await;
        let association = directory.id("曾都区志愿服务联合会");

        let applied = apply(node, "421300", &applicant, unregistered("西城志愿队", "421303", &association)).await;
        let team = applied.body["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/tenants/421300/teams/{team}");
        let corrected = unregistered("西城社区志愿服务队", "421303", &association);
        node.call(Method::PUT, &path, Some(&applicant), Some(corrected.clone())).await.assert_problem(409, "already_decided");

        decide(node, "421300", &zengdu, &team, json!({ "decision": "reject" })).await.assert_problem(422, "reason_required");
        let rejected = decide(node, "421300", &zengdu, &team, json!({ "decision": "reject", "reason": "名称不规范" })).await;
        assert_eq!(rejected.assert_ok()["decision_reason"], "名称不规范");

        node.call(Method::PUT, &path, Some(&stranger), Some(corrected.clone())).await.assert_problem(403, "forbidden");
        let resubmitted = node.call(Method::PUT, &path, Some(&applicant), Some(corrected)).await;
        assert_eq!(resubmitted.assert_ok()["status"], "pending");
        assert_eq!(resubmitted.body["name"], "西城社区志愿服务队");
        assert!(resubmitted.body["decision_reason"].is_null());
        decide(node, "421300", &zengdu, &team, json!({ "decision": "approve" })).await.assert_ok();

        let events = node.get("/api/v1/tenants/421300/audit-events?limit=1000", &office).await;
        let history: Vec<_> = events.assert_ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["entity_id"] == team.as_str())
            .map(|e| (e["action"].as_str().unwrap().to_owned(), e.clone()))
            .collect();
        let actions: Vec<_> = history.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(actions, ["team.approve", "team.resubmit", "team.reject", "team.apply"]);
        let resubmit = &history[1].1;
        assert_eq!(resubmit["before"]["name"], "西城志愿队");
        assert_eq!(resubmit["after"]["name"], "西城社区志愿服务队");
        assert_eq!(history[2].1["reason"], "名称不规范");
        assert_eq!(history[2].1["actor_name"], "zengdu.assoc");
    }

    async fn verified_volunteers_join_teams_and_admins_manage_them(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let directory = Directory::load(node, "421300", &office).await;
        let zengdu = reviewer(node, &directory, "曾都区志愿服务联合会", "zengdu.assoc").await;
        let (_, founder) = verified_volunteer(node, &office, "42130319900101011", "founder").await;
        let applied = apply(node, "421300", &founder, unregistered("南郊志愿服务队", "421303", &directory.id("曾都区志愿服务联合会"))).await;
        let team = applied.body["id"].as_str().unwrap().to_owned();
        let base = format!("/api/v1/tenants/421300/teams/{team}");

        let (member_id, member) = verified_volunteer(node, &office, "42130319900101038", "member").await;
        node.call(Method::POST, &format!("{base}/membership"), Some(&member), None).await.assert_problem(409, "team_not_approved");
        decide(node, "421300", &zengdu, &team, json!({ "decision": "approve" })).await.assert_ok();

        let (_, unverified) = node.apply_as_volunteer("421300", application("未审", &resident_id("42130319900101054"), "unverified")).await;
        node.call(Method::POST, &format!("{base}/membership"), Some(&unverified), None)
            .await
            .assert_problem(409, "volunteer_not_verified_for_team");

        let joined = node.call(Method::POST, &format!("{base}/membership"), Some(&member), None).await;
        assert_eq!(joined.status, 201, "{:#}", joined.body);
        assert_eq!(joined.body["status"], "applied");
        node.call(Method::POST, &format!("{base}/membership"), Some(&member), None).await.assert_problem(409, "membership_exists");

        let member_decision = format!("{base}/members/{member_id}/decision");
        node.call(Method::POST, &member_decision, Some(&member), Some(json!({ "decision": "accept" })))
            .await
            .assert_problem(403, "forbidden");
        let accepted = node.call(Method::POST, &member_decision, Some(&founder), Some(json!({ "decision": "accept" }))).await;
        assert_eq!(accepted.assert_ok()["status"], "member");

        let members = node.get(&format!("{base}/members"), &founder).await;
        let listed = &members.assert_ok()["items"][0];
        assert_eq!(listed["mobile"], "13800001234", "team admins see their members' mobile numbers");
        node.get(&format!("{base}/members"), &member).await.assert_problem(403, "forbidden");

        let appointed = node
            .call(Method::POST, &format!("{base}/admins"), Some(&founder), Some(json!({ "volunteer_id": member_id })))
            .await;
        assert_eq!(appointed.assert_ok()["admins"].as_array().unwrap().len(), 2);
        node.get(&format!("{base}/members"), &member).await.assert_ok();
        let (outsider_id, _) = verified_volunteer(node, &office, "42130319900101070", "outsider").await;
        let refused = node
            .call(Method::POST, &format!("{base}/admins"), Some(&founder), Some(json!({ "volunteer_id": outsider_id })))
            .await;
        assert_eq!(refused.assert_problem(422, "not_team_member").as_deref(), Some("/volunteer_id"));

        // Leaving keeps the record; the volunteer may apply again.
        let left = node.call(Method::DELETE, &format!("{base}/membership"), Some(&member), None).await;
        assert_eq!(left.assert_ok()["status"], "left");
        let mine = node.get("/api/v1/tenants/421300/volunteers/me/teams", &member).await;
        assert_eq!(mine.assert_ok()["memberships"][0]["status"], "left");
        let again = node.call(Method::POST, &format!("{base}/membership"), Some(&member), None).await;
        assert_eq!(again.status, 201);
        node.call(Method::POST, &member_decision, Some(&founder), Some(json!({ "decision": "accept" }))).await.assert_ok();
        let removed = node.call(Method::POST, &member_decision, Some(&founder), Some(json!({ "decision": "remove" }))).await;
        assert_eq!(removed.assert_ok()["status"], "removed");
        node.call(Method::POST, &member_decision, Some(&founder), Some(json!({ "decision": "remove" })))
            .await
            .assert_problem(409, "already_decided");
    }

    async fn a_volunteer_is_offered_their_units_team_first(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let directory = Directory::load(node, "421300", &office).await;
        let units = node.get("/api/v1/tenants/421300/units", &office).await;
        let police = units.body["items"].as_array().unwrap().iter().find(|u| u["name"]["zh"] == "随州市公安局").unwrap()["id"].clone();
        let city_association = reviewer(node, &directory, "随州市志愿服务联合会", "city.assoc").await;
        let (_, founder) = verified_volunteer(node, &office, "42130319900101011", "founder").await;
        let police_team = apply(node, "421300", &founder, json!({
            "name": "随州市公安局志愿服务队", "kind": "organ", "unit_id": police, "region": "421300",
            "contact_name": "王五", "contact_mobile": "13900003333",
            "legal_status": "unregistered", "liaison_team_id": directory.id("随州市志愿服务联合会")
        }))
        .await;
        assert_eq!(police_team.status, 201, "{:#}", police_team.body);
        let id = police_team.body["id"].as_str().unwrap().to_owned();
        decide(node, "421300", &city_association, &id, json!({ "decision": "approve" })).await.assert_ok();

        let mut body = application("孙警官", &resident_id("42130019850505001"), "officer");
        body["unit_id"] = police;
        body["region"] = json!("421303");
        let (officer_id, officer) = node.apply_as_volunteer("421300", body).await;
        node.call(Method::POST, &format!("/api/v1/tenants/421300/volunteers/{officer_id}/decision"), Some(&office), Some(json!({ "decision": "approve" })))
            .await
            .assert_ok();
        let offered = node.get("/api/v1/tenants/421300/volunteers/me/teams", &officer).await;
        assert_eq!(offered.assert_ok()["suggestions"][0]["name"], "随州市公安局志愿服务队");
        assert_eq!(offered.body["suggestions"][1]["name"], "曾都区志愿服务联合会", "then the teams of their region");
    }

    async fn two_levels_up_is_refused_in_a_deeper_hierarchy(node: &TestNode) {
        // A tenant whose development zone sits under a county: city > county > zone.
        let operator = node.account_as(None, "operator", GrantKind::Operator).await;
        let tenant = json!({
            "code": "420900", "name": { "zh": "孝感市" },
            "regions": [
                { "code": "420900", "name": { "zh": "孝感市" }, "level": "city", "resident_population": 4_270_371 },
                { "code": "420902", "parent": "420900", "name": { "zh": "孝南区" }, "level": "county", "resident_population": 900_000 },
                { "code": "420971", "parent": "420902", "local": true, "name": { "zh": "孝南经济开发区" }, "level": "zone", "resident_population": 60_000 }
            ],
            "reviewing_bodies": [
                { "kind": "association", "name": { "zh": "孝感市志愿服务联合会" }, "region": "420900" },
                { "kind": "association", "name": { "zh": "孝南区志愿服务联合会" }, "region": "420902" },
                { "kind": "registration_authority", "name": { "zh": "孝感市民政局" }, "region": "420900" },
                { "kind": "registration_authority", "name": { "zh": "孝南区民政局" }, "region": "420902" }
            ]
        });
        node.call(Method::POST, "/api/v1/tenants", Some(&operator), Some(tenant)).await.assert_ok();
        let office = node.account_as(Some("420900"), "office", GrantKind::OfficeAdmin).await;
        let directory = Directory::load(node, "420900", &office).await;
        let mut volunteer = application("周周", &resident_id("42090219900101011"), "zhou");
        volunteer["region"] = json!("420971");
        let (volunteer_id, applicant) = node.apply_as_volunteer("420900", volunteer).await;
        node.call(Method::POST, &format!("/api/v1/tenants/420900/volunteers/{volunteer_id}/decision"), Some(&office), Some(json!({ "decision": "approve" })))
            .await
            .assert_ok();

        let city = apply(node, "420900", &applicant, unregistered("开发区志愿服务队", "420971", &directory.id("孝感市志愿服务联合会"))).await;
        assert_eq!(city.assert_problem(422, "liaison_skips_level").as_deref(), Some("/liaison_team_id"));
        let county = apply(node, "420900", &applicant, unregistered("开发区志愿服务队", "420971", &directory.id("孝南区志愿服务联合会"))).await;
        assert_eq!(county.status, 201, "the zone has no association: the one directly above");

        let png = node
            .call_raw(Method::POST, "/api/v1/tenants/420900/files", Some(&applicant), None, PNG.to_vec())
            .await;
        let certificate = png.body["sha256"].as_str().unwrap().to_owned();
        let far = apply(node, "420900", &applicant, registered("开发区义工协会", "420971", &directory.id("孝感市民政局"), &certificate)).await;
        assert_eq!(far.assert_problem(422, "authority_not_own_region").as_deref(), Some("/registration_authority_id"));
        let near = apply(node, "420900", &applicant, registered("开发区义工协会", "420971", &directory.id("孝南区民政局"), &certificate)).await;
        assert_eq!(near.status, 201, "{:#}", near.body);
    }
}
