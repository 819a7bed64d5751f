//! Volunteers: real-name registration, verification at the right level, personal data.

use reqwest::Method;
use serde_json::{Value, json};
use zhiyuan_domain::{GrantKind, Scope};

use crate::support::{TestNode, application, on_both_databases, resident_id};

async fn body_id(node: &TestNode, token: &str, kind: &str, region: &str) -> uuid::Uuid {
    let bodies = node
        .get("/api/v1/tenants/421300/reviewing-bodies", token)
        .await;
    let id = bodies.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|body| body["kind"] == kind && body["region"] == region)
        .unwrap_or_else(|| panic!("a {kind} of {region}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    id.parse().unwrap()
}

async fn decide(
    node: &TestNode,
    token: &str,
    volunteer: &str,
    body: Value,
) -> crate::support::Answer {
    node.call(
        Method::POST,
        &format!("/api/v1/tenants/421300/volunteers/{volunteer}/decision"),
        Some(token),
        Some(body),
    )
    .await
}

/// Every string in a JSON document, to look for what must not be there.
fn text_of(value: &Value) -> String {
    value.to_string()
}

on_both_databases! {
    async fn a_volunteer_applies_is_verified_and_gets_a_number_and_a_card(node: &TestNode) {
        let id_number = resident_id("42130319900307123");
        let (volunteer, token) = node
            .apply_as_volunteer("421300", application("阿卜杜勒·艾尼", &id_number, "abdul"))
            .await;
        let me = node.get("/api/v1/tenants/421300/volunteers/me", &token).await;
        let me = me.assert_ok().clone();
        assert_eq!(me["status"], "pending");
        assert_eq!(me["id_number_masked"], format!("{}{}", "*".repeat(16), &id_number[16..]));
        assert_eq!(me["mobile"], "13800001234", "the volunteer sees their own number");
        assert_eq!(me["birth_date"], "1990-03-07");
        assert_eq!(me["gender"], "male");
        assert!(me["volunteer_number"].is_null());
        node.get("/api/v1/tenants/421300/volunteers/me/card", &token)
            .await
            .assert_problem(409, "volunteer_not_verified");

        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let pending = node.get("/api/v1/tenants/421300/volunteers?status=pending", &office).await;
        let pending = pending.assert_ok()["items"].as_array().unwrap().clone();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0]["mobile"], "138****1234", "office staff see the mobile masked");
        assert!(pending[0].get("birth_date").is_none(), "and no birth date");
        assert_eq!(pending[0]["age_group"], "middle_aged", "but an age bracket");
        assert_eq!(pending[0]["same_document"], 0);

        let verified = decide(node, &office, &volunteer, json!({ "decision": "approve" })).await;
        let verified = verified.assert_ok().clone();
        assert_eq!(verified["status"], "verified");
        let number = verified["volunteer_number"].as_str().unwrap().to_owned();
        assert!(number.starts_with("421300") && number.len() == 16, "{number}");
        assert!(zhiyuan_domain::VolunteerNumber::parse(&number).is_ok());
        assert!(!number.contains(&id_number[6..14]), "the number says nothing of the ID number");

        let card = node.get("/api/v1/tenants/421300/volunteers/me/card", &token).await;
        let card = card.assert_ok();
        assert_eq!(card["volunteer_number"], number.as_str());
        assert_eq!(card["name"], "阿卜杜勒·艾尼");
        let code = card["code"].as_str().unwrap();
        assert!(code.starts_with("ZY1:") && code.len() <= 178, "{code}");
        assert_eq!(card["star_level"], 0);

        decide(node, &office, &volunteer, json!({ "decision": "reject", "reason": "重复" }))
            .await
            .assert_problem(409, "already_decided");

        let events = node.get("/api/v1/tenants/421300/audit-events", &office).await;
        let actions: Vec<_> = events.assert_ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|event| event["action"].as_str().unwrap().to_owned())
            .filter(|action| action.starts_with("volunteer."))
            .collect();
        assert_eq!(actions, ["volunteer.verify", "volunteer.reveal_id_number", "volunteer.register"]);
    }

    async fn of_two_reviewers_deciding_at_once_one_wins(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let second = node.account_as(Some("421300"), "office2", GrantKind::OfficeAdmin).await;
        for round in 0..3 {
            let (volunteer, _) = node
                .apply_as_volunteer("421300", application("并发", &resident_id(&format!("4213031990010102{round}")), &format!("racer{round}")))
                .await;
            let (first, other) = tokio::join!(
                decide(node, &office, &volunteer, json!({ "decision": "approve" })),
                decide(node, &second, &volunteer, json!({ "decision": "reject", "reason": "重复" })),
            );
            let mut statuses = [first.status.as_u16(), other.status.as_u16()];
            statuses.sort();
            assert_eq!(statuses, [200, 409], "{:#} {:#}", first.body, other.body);
        }
    }

    async fn a_rejection_needs_a_reason_and_is_kept(node: &TestNode) {
        let (volunteer, token) = node
            .apply_as_volunteer("421300", application("李四", &resident_id("42132119781111002"), "li.si"))
            .await;
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let no_reason = decide(node, &office, &volunteer, json!({ "decision": "reject" })).await;
        assert_eq!(no_reason.assert_problem(422, "reason_required").as_deref(), Some("/reason"));
        let blank = decide(node, &office, &volunteer, json!({ "decision": "reject", "reason": "  " })).await;
        blank.assert_problem(422, "reason_required");
        let rejected = decide(node, &office, &volunteer, json!({ "decision": "reject", "reason": "证件照片不清晰" })).await;
        assert_eq!(rejected.assert_ok()["status"], "rejected");
        let me = node.get("/api/v1/tenants/421300/volunteers/me", &token).await;
        assert_eq!(me.assert_ok()["decision_reason"], "证件照片不清晰");
        let events = node.get("/api/v1/tenants/421300/audit-events?limit=1", &office).await;
        assert_eq!(events.assert_ok()["items"][0]["reason"], "证件照片不清晰");
    }

    async fn a_document_registered_already_is_answered_alike_and_blocks_no_one(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let id_number = resident_id("42138119851201004");
        // A stranger registers first with someone else's document: it blocks nobody.
        let stranger = node
            .call(Method::POST, "/api/v1/tenants/421300/volunteers", None, Some(application("孙七", &id_number, "sun.qi")))
            .await;
        assert_eq!(stranger.status, 201, "{:#}", stranger.body);
        let stranger_id = stranger.body["id"].as_str().unwrap().to_owned();
        let (person, _) = node.apply_as_volunteer("421300", application("钱六", &id_number, "qian.liu")).await;
        decide(node, &office, &person, json!({ "decision": "approve" })).await.assert_ok();

        // Once it is verified, another application with it is answered exactly as a new one:
        // the public learns nothing of who is registered.
        let fresh = node
            .call(Method::POST, "/api/v1/tenants/421300/volunteers", None, Some(application("周八", &resident_id("42138119851201012"), "zhou.ba")))
            .await;
        for written in [id_number.to_lowercase(), format!(" {} ", &id_number)] {
            let again = node
                .call(Method::POST, "/api/v1/tenants/421300/volunteers", None, Some(application("孙七", &written, &format!("sun.qi.{}", written.len()))))
                .await;
            assert_eq!(again.status, fresh.status);
            let keys = |value: &Value| value.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(&again.body), keys(&fresh.body));
            assert_eq!(again.body["status"], "pending");
            let shown = text_of(&again.body);
            assert!(!shown.contains("钱六") && !shown.contains("qian.liu") && !shown.contains("verified"), "{shown}");
        }

        // The office sees the clash, cannot verify the document twice, and voids the stranger's.
        let listed = node.get(&format!("/api/v1/tenants/421300/volunteers/{stranger_id}"), &office).await;
        assert_eq!(listed.assert_ok()["same_document"], 3);
        decide(node, &office, &stranger_id, json!({ "decision": "approve" }))
            .await
            .assert_problem(409, "id_number_registered");
        let void = node
            .call(
                Method::POST,
                &format!("/api/v1/tenants/421300/volunteers/{stranger_id}/void"),
                Some(&office),
                Some(json!({ "reason": "本人持证到办公室核实,此注册非本人所为" })),
            )
            .await;
        assert_eq!(void.assert_ok()["status"], "voided");
        node.call(
            Method::POST,
            &format!("/api/v1/tenants/421300/volunteers/{stranger_id}/void"),
            Some(&office),
            Some(json!({ "reason": "again" })),
        )
        .await
        .assert_problem(409, "already_decided");
        let events = node.get("/api/v1/tenants/421300/audit-events?limit=5", &office).await;
        let void_event = events.body["items"].as_array().unwrap().iter().find(|e| e["action"] == "volunteer.void").cloned().unwrap();
        assert_eq!(void_event["reason"], "本人持证到办公室核实,此注册非本人所为");
        // The same person may register in another city's tenant.
        let mut ezhou = application("钱六", &id_number, "qian.liu");
        ezhou["region"] = json!("420704");
        node.apply_as_volunteer("420700", ezhou).await;
    }

    async fn reviewers_verify_only_at_their_own_level(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let zengdu_office = body_id(node, &office, "civilisation_office", "421303").await;
        let city_office = body_id(node, &office, "civilisation_office", "421300").await;
        let suixian_office = body_id(node, &office, "civilisation_office", "421321").await;
        let federation = body_id(node, &office, "association", "421300").await;
        let zengdu = node.account(Some("421300"), "zengdu.reviewer", &[(GrantKind::Reviewer, Some(Scope::ReviewingBody(zengdu_office)))]).await;
        let city = node.account(Some("421300"), "city.reviewer", &[(GrantKind::Reviewer, Some(Scope::ReviewingBody(city_office)))]).await;
        let suixian = node.account(Some("421300"), "suixian.reviewer", &[(GrantKind::Reviewer, Some(Scope::ReviewingBody(suixian_office)))]).await;
        let federation = node.account(Some("421300"), "fed.reviewer", &[(GrantKind::Reviewer, Some(Scope::ReviewingBody(federation)))]).await;

        let (in_zengdu, _) = node
            .apply_as_volunteer("421300", application("周一", &resident_id("42130319900101001"), "zhou.yi"))
            .await;
        let mut zone = application("吴二", &resident_id("42130319900101003"), "wu.er");
        zone["region"] = json!("421371"); // 随州高新区 has no civilisation office of its own
        let (in_zone, _) = node.apply_as_volunteer("421300", zone).await;

        // Each sees their own queue only.
        let queue = |token: &str| {
            let token = token.to_owned();
            async move {
                let answer = node.get("/api/v1/tenants/421300/volunteers?status=pending", &token).await;
                let mut ids: Vec<String> = answer.assert_ok()["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v["id"].as_str().unwrap().to_owned())
                    .collect();
                ids.sort();
                ids
            }
        };
        assert_eq!(queue(&zengdu).await, vec![in_zengdu.clone()]);
        assert_eq!(queue(&city).await, vec![in_zone.clone()]);
        assert!(queue(&suixian).await.is_empty());
        node.get("/api/v1/tenants/421300/volunteers", &federation).await.assert_problem(403, "outside_grant_scope");

        // Across levels: refused, and nothing changes.
        let before = node.snapshot().await;
        for (token, volunteer) in [(&city, &in_zengdu), (&suixian, &in_zengdu), (&zengdu, &in_zone)] {
            let answer = decide(node, token, volunteer, json!({ "decision": "approve" })).await;
            assert_eq!(answer.assert_problem(422, "outside_reviewer_level").as_deref(), Some("/decision"));
        }
        decide(node, &federation, &in_zengdu, json!({ "decision": "approve" })).await.assert_problem(403, "outside_grant_scope");
        node.get(&format!("/api/v1/tenants/421300/volunteers/{in_zengdu}"), &city)
            .await
            .assert_problem(403, "outside_grant_scope");
        assert_eq!(node.snapshot().await, before);

        decide(node, &zengdu, &in_zengdu, json!({ "decision": "approve" })).await.assert_ok();
        decide(node, &city, &in_zone, json!({ "decision": "approve" })).await.assert_ok();
    }

    async fn bad_applications_name_the_field_and_write_nothing(node: &TestNode) {
        // An account whose username an application below asks for again.
        node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let ezhou_office = node.account_as(Some("420700"), "office", GrantKind::OfficeAdmin).await;
        let ezhou_unit = node.get("/api/v1/tenants/420700/units", &ezhou_office).await.body["items"][0]["id"].clone();
        let valid = resident_id("42130319900307123");
        let before = node.snapshot().await;
        let wrong_check = {
            let mut number = valid.clone();
            let last = number.pop().unwrap();
            number.push(if last == '0' { '1' } else { '0' });
            number
        };
        let cases: Vec<(&str, Value, &str, &str)> = vec![
            ("id_number", json!(wrong_check), "resident_id_check", "/id_number"),
            ("id_number", json!(resident_id("99999919900307123")), "resident_id_area", "/id_number"),
            ("id_number", json!(resident_id("42130320990307123")), "resident_id_birth_date", "/id_number"),
            ("id_number", json!("4213031990030"), "resident_id_format", "/id_number"),
            ("name", json!("张3"), "person_name", "/name"),
            ("mobile", json!("12345"), "mobile_format", "/mobile"),
            ("region", json!("420704"), "region_unknown", "/region"),
            ("unit_id", ezhou_unit, "unit_unknown", "/unit_id"),
            ("skills", json!(["   "]), "tag_length", "/skills/0"),
            ("username", json!("office"), "username_taken", "/username"),
        ];
        for (key, value, code, field) in cases {
            let mut body = application("赵敏", &valid, "zhao.min");
            body[key] = value;
            if key == "username" {
                body["id_number"] = json!(resident_id("42130319900307145"));
            }
            let answer = node.call(Method::POST, "/api/v1/tenants/421300/volunteers", None, Some(body)).await;
            let status = if code == "username_taken" { 409 } else { 422 };
            assert_eq!(answer.assert_problem(status, code).as_deref(), Some(field), "{key}");
        }
        let mut passport = application("John Smith", "e12345678", "john");
        passport["id_kind"] = json!("passport");
        let answer = node.call(Method::POST, "/api/v1/tenants/421300/volunteers", None, Some(passport)).await;
        assert_eq!(answer.status, 201, "{:#}", answer.body);
        assert_eq!(answer.body["id_number_masked"], "*******78");
        let after = node.snapshot().await;
        let volunteers = |snapshot: &[(&str, i64)]| snapshot.iter().find(|(t, _)| *t == "volunteers").unwrap().1;
        assert_eq!(volunteers(&after), volunteers(&before) + 1);
    }

    async fn identity_numbers_are_nowhere_in_the_clear(node: &TestNode) {
        let numbers = [
            ("resident_id_card", resident_id("42130319900307123"), "421303"),
            ("resident_id_card", resident_id("11010319650412002"), "421300"),
            ("passport", "E98765432".to_owned(), "421321"),
            ("hong_kong_macao_permit", "H87654321".to_owned(), "421381"),
        ];
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let mut responses = Vec::new();
        for (index, (kind, number, region)) in numbers.iter().enumerate() {
            let mut body = application("测试人", number, &format!("person{index}"));
            body["id_kind"] = json!(kind);
            body["region"] = json!(region);
            let answer = node.call(Method::POST, "/api/v1/tenants/421300/volunteers", None, Some(body)).await;
            assert_eq!(answer.status, 201, "{:#}", answer.body);
            let id = answer.body["id"].as_str().unwrap().to_owned();
            responses.push(answer.body.clone());
            responses.push(decide(node, &office, &id, json!({ "decision": "approve" })).await.body);
            responses.push(node.get(&format!("/api/v1/tenants/421300/volunteers/{id}"), &office).await.body);
        }
        responses.push(node.get("/api/v1/tenants/421300/volunteers", &office).await.body);
        responses.push(node.get("/api/v1/tenants/421300/audit-events?limit=1000", &office).await.body);
        for response in &responses {
            let shown = text_of(response);
            for (_, number, _) in &numbers {
                assert!(!shown.contains(number.as_str()), "{number} in {shown}");
                // Nor, for a resident ID, the run of its hidden middle that could rebuild it.
                if number.len() == 18 {
                    let middle = &number[4..14];
                    assert!(!shown.contains(middle), "{middle} of {number} in {shown}");
                }
            }
        }
        for (_, number, _) in &numbers {
            let found = node.scan_database_for(number).await;
            assert!(found.is_empty(), "{number} stored in the clear: {found:?}");
        }
        // The scan itself finds what is there: the masked numbers are stored.
        let masked = zhiyuan_domain::mask(&numbers[0].1, 0, 2);
        assert!(!node.scan_database_for(&masked).await.is_empty(), "the scan sees stored text");
    }
}
