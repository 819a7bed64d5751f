//! Projects, needs and sign-up (R4, R7, R13-R15): a need posted and curated, a team publishing a
//! project for it, volunteers finding it by distance and signing up, a waiting list that moves
//! up, the office taking a project down; sign-ups racing for the last places; every refusal.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;
use zhiyuan_domain::{GrantKind, Scope};

use crate::support::{Answer, TestNode, approved_team, on_both_databases, resident_id, volunteers};

/// Suizhou's city centre, in WGS-84.
const CENTRE: (f64, f64) = (113.3826, 31.6900);

/// A shift on a day of December 2026, in China Standard Time.
fn shift(day: u32, from: u32, to: u32, capacity: u32) -> Value {
    json!({
        "starts_at": format!("2026-12-{day:02}T{from:02}:00:00+08:00"),
        "ends_at": format!("2026-12-{day:02}T{to:02}:00:00+08:00"),
        "capacity": capacity
    })
}

/// A project of 曾都区 in December 2026 at a point given in WGS-84.
fn project(title: &str, (longitude, latitude): (f64, f64), shifts: Vec<Value>) -> Value {
    json!({
        "title": title, "summary": "陪伴老人、打扫卫生", "description": "每周末到敬老院陪伴老人。",
        "service_categories": ["elderly_and_disabled"], "skills": ["急救"],
        "region": "421303", "address": "随州市曾都区青年路1号",
        "place": { "longitude": longitude, "latitude": latitude },
        "starts_at": "2026-12-01T00:00:00+08:00", "ends_at": "2026-12-31T23:00:00+08:00",
        "contact_name": "李四", "contact_mobile": "13900002222",
        "shifts": shifts
    })
}

/// A team's admin writes a project and publishes it; answers it as published.
async fn publish(node: &TestNode, team: &str, admin: &str, body: Value) -> Value {
    let created = node
        .call(
            Method::POST,
            &format!("/api/v1/tenants/421300/teams/{team}/projects"),
            Some(admin),
            Some(body),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let published = node
        .call(
            Method::POST,
            &format!("/api/v1/tenants/421300/projects/{id}/publication"),
            Some(admin),
            None,
        )
        .await;
    published.assert_ok().clone()
}

async fn enroll(node: &TestNode, shift: &str, token: &str) -> Answer {
    node.call(
        Method::POST,
        &format!("/api/v1/tenants/421300/shifts/{shift}/enrollment"),
        Some(token),
        Some(json!({})),
    )
    .await
}

async fn search(node: &TestNode, query: &str) -> Answer {
    node.call(
        Method::GET,
        &format!("/api/v1/tenants/421300/projects?{query}"),
        None,
        None,
    )
    .await
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A point `metres` north of the centre.
fn north_of_centre(metres: f64) -> (f64, f64) {
    (CENTRE.0, CENTRE.1 + metres / 111_195.08)
}

on_both_databases! {
    async fn a_need_is_answered_by_a_project_that_volunteers_find_and_join(node: &TestNode) {
        let office = node.account_as(Some("421300"), "city.office", GrantKind::OfficeAdmin).await;
        let (team, admin) = approved_team(node, "曾都区银杏志愿服务队", "19800101").await;

        // A community posts a need; it is public once the office has curated it.
        let resident = node.account(Some("421300"), "shequ.staff", &[]).await;
        let posted = node.call(Method::POST, "/api/v1/tenants/421300/needs", Some(&resident), Some(json!({
            "title": "敬老院周末陪伴", "description": "西城敬老院需要志愿者周末陪伴老人。",
            "service_categories": ["elderly_and_disabled"], "region": "421303", "address": "随州市曾都区西城敬老院",
            "starts_at": "2026-12-01T08:00:00+08:00", "ends_at": "2026-12-31T18:00:00+08:00",
            "people_needed": 3, "contact_name": "王五", "contact_mobile": "13700003333", "poster": "community"
        }))).await;
        assert_eq!(posted.status, 201, "{:#}", posted.body);
        assert_eq!(posted.body["status"], "submitted");
        let need = posted.body["id"].as_str().unwrap().to_owned();
        let public_needs = node.call(Method::GET, "/api/v1/tenants/421300/needs", None, None).await;
        assert!(!ids(public_needs.assert_ok()).contains(&need), "not public before curation");
        node.call(Method::POST, &format!("/api/v1/tenants/421300/needs/{need}/curation"), Some(&office),
            Some(json!({ "decision": "approve" }))).await.assert_ok();
        let public_needs = node.call(Method::GET, "/api/v1/tenants/421300/needs", None, None).await;
        let shown = public_needs.assert_ok()["items"].as_array().unwrap().iter().find(|item| item["id"] == need.as_str()).unwrap().clone();
        assert_eq!(shown["contact_mobile"], "137****3333", "the contact's number is masked to the public");

        // The team answers it with a project whose place comes from a Chinese map picker
        // (GCJ-02): two shifts, the first with two places.
        let mut body = project("西城敬老院陪伴", CENTRE, vec![shift(5, 9, 12, 2), shift(6, 9, 12, 10)]);
        body["need_id"] = json!(need);
        body["place"] = json!({ "longitude": 113.388_64, "latitude": 31.687_63, "system": "gcj02" });
        let published = publish(node, &team, &admin.token, body).await;
        assert_eq!(published["state"], "recruiting");
        assert_eq!(published["place"]["system"], "wgs84");
        let (lon, lat) = (published["place"]["longitude"].as_f64().unwrap(), published["place"]["latitude"].as_f64().unwrap());
        assert!((lon - 113.388_64).abs() + (lat - 31.687_63).abs() > 3e-3, "kept in WGS-84, hundreds of metres from the GCJ-02 point");
        let project_id = published["id"].as_str().unwrap().to_owned();
        let first_shift = published["shifts"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(published["shifts"][0]["starts_at"], "2026-12-05T09:00:00+08:00");
        let in_gcj02 = node.call(Method::GET, &format!("/api/v1/tenants/421300/projects/{project_id}?system=gcj02"), None, None).await;
        let place = &in_gcj02.assert_ok()["place"];
        assert_eq!(place["system"], "gcj02");
        assert!((place["longitude"].as_f64().unwrap() - 113.388_64).abs() < 1e-7, "read back as given: {place}");
        assert_eq!(in_gcj02.body["contact_mobile"], "139****2222");
        let answered = node.call(Method::GET, &format!("/api/v1/tenants/421300/needs/{need}"), None, None).await;
        assert_eq!(answered.assert_ok()["answered_by"][0]["project_id"], project_id.as_str());

        // Another project of the team, farther away.
        let far = publish(node, &team, &admin.token, project("白云公园环保", north_of_centre(6_000.0), vec![shift(12, 9, 12, 5)])).await;
        let far_id = far["id"].as_str().unwrap().to_owned();

        // Volunteers nearby find both, nearest first, without signing in.
        let found = search(node, &format!("longitude={}&latitude={}&radius_m=10000&category=elderly_and_disabled", CENTRE.0, CENTRE.1 - 0.01)).await;
        assert_eq!(ids(found.assert_ok()), vec![project_id.clone(), far_id.clone()]);
        let nearest = found.body["items"][0]["distance_m"].as_u64().unwrap();
        assert!((500..2_000).contains(&nearest), "{nearest} m");
        let within_three_km = search(node, &format!("longitude={}&latitude={}&radius_m=3000", CENTRE.0, CENTRE.1 - 0.01)).await;
        assert_eq!(ids(within_three_km.assert_ok()), vec![project_id.clone()]);
        let other_category = search(node, &format!("longitude={}&latitude={}&category=health", CENTRE.0, CENTRE.1)).await;
        assert!(ids(other_category.assert_ok()).is_empty());

        // Two take the places; the third waits.
        let people = volunteers(node, "421303", "19950505", 3).await;
        for person in &people[..2] {
            let signed_up = enroll(node, &first_shift, &person.token).await;
            assert_eq!(signed_up.status, 201, "{:#}", signed_up.body);
            assert_eq!(signed_up.body["status"], "accepted");
        }
        let waiting = enroll(node, &first_shift, &people[2].token).await;
        assert_eq!(waiting.status, 201);
        assert_eq!(waiting.body["status"], "waitlisted");
        assert_eq!(waiting.body["waiting_ahead"], 0);
        let shift_now = node.call(Method::GET, &format!("/api/v1/tenants/421300/projects/{project_id}"), None, None).await;
        assert_eq!(shift_now.assert_ok()["shifts"][0]["open_places"], 0);
        assert_eq!(shift_now.body["shifts"][0]["waiting"], 1);

        // One withdraws: the one waiting moves up by themselves.
        let withdrawn = node.call(Method::DELETE, &format!("/api/v1/tenants/421300/shifts/{first_shift}/enrollment"), Some(&people[0].token), None).await;
        assert_eq!(withdrawn.assert_ok()["status"], "withdrawn");
        let mine = node.get("/api/v1/tenants/421300/volunteers/me/enrollments", &people[2].token).await;
        let own = &mine.assert_ok()["items"][0];
        assert_eq!(own["status"], "accepted");
        assert_eq!(own["shift_starts_at"], "2026-12-05T09:00:00+08:00", "times in Asia/Shanghai");
        assert_eq!(own["project_title"], "西城敬老院陪伴");
        let sign_ups = node.get(&format!("/api/v1/tenants/421300/shifts/{first_shift}/enrollments"), &admin.token).await;
        let statuses: Vec<&str> = sign_ups.assert_ok()["items"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["withdrawn", "accepted", "accepted"]);
        let trail = node.get("/api/v1/tenants/421300/audit-events?limit=1000", &office).await;
        let actions: Vec<&str> = trail.assert_ok()["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        for action in ["need.post", "need.open", "project.create", "project.publish", "enrollment.create", "enrollment.withdraw", "enrollment.promote"] {
            assert!(actions.contains(&action), "{action} is audited");
        }

        // The office takes the other project down with a reason: gone from search, closed to
        // sign-ups, and it says why.
        let taken_down = node.call(Method::POST, &format!("/api/v1/tenants/421300/projects/{far_id}/take-down"), Some(&office),
            Some(json!({ "reason": "场地安全隐患未整改" }))).await;
        assert_eq!(taken_down.assert_ok()["state"], "taken_down");
        let found = search(node, &format!("longitude={}&latitude={}", CENTRE.0, CENTRE.1)).await;
        assert_eq!(ids(found.assert_ok()), vec![project_id.clone()]);
        let read = node.call(Method::GET, &format!("/api/v1/tenants/421300/projects/{far_id}"), None, None).await;
        assert_eq!(read.assert_ok()["decision_reason"], "场地安全隐患未整改");
        let far_shift = far["shifts"][0]["id"].as_str().unwrap();
        enroll(node, far_shift, &people[0].token).await.assert_problem(409, "project_not_recruiting");

        // The community closes its need as met.
        let closed = node.call(Method::POST, &format!("/api/v1/tenants/421300/needs/{need}/closure"), Some(&resident),
            Some(json!({ "outcome": "met", "note": "三名志愿者按时到岗" }))).await;
        assert_eq!(closed.assert_ok()["status"], "met");
    }

    async fn two_hundred_volunteers_race_for_twenty_places(node: &TestNode) {
        let (team, admin) = approved_team(node, "曾都区青松志愿服务队", "19810202").await;
        let published = publish(node, &team, &admin.token, project("马拉松补给站", CENTRE, vec![shift(20, 7, 12, 20)])).await;
        let shift_id = published["shifts"][0]["id"].as_str().unwrap().to_owned();
        let people = volunteers(node, "421303", "19960606", 200).await;
        let requests = people.iter().map(|person| enroll(node, &shift_id, &person.token));
        let answers = futures::future::join_all(requests).await;
        let mut statuses = std::collections::HashMap::new();
        let mut ahead = HashSet::new();
        for answer in &answers {
            assert_eq!(answer.status, 201, "{:#}", answer.body);
            *statuses.entry(answer.body["status"].as_str().unwrap().to_owned()).or_insert(0) += 1;
            if let Some(position) = answer.body["waiting_ahead"].as_u64() {
                ahead.insert(position);
            }
        }
        assert_eq!(statuses.get("accepted"), Some(&20));
        assert_eq!(statuses.get("waitlisted"), Some(&180));
        assert_eq!(ahead.len(), 180, "each on the waiting list has a place of their own in it");
        let project = node.call(Method::GET, &format!("/api/v1/tenants/421300/projects/{}", published["id"].as_str().unwrap()), None, None).await;
        assert_eq!(project.assert_ok()["shifts"][0]["taken"], 20);
        assert_eq!(project.body["shifts"][0]["waiting"], 180);
    }

    async fn paging_by_distance_neither_skips_nor_repeats_under_inserts(node: &TestNode) {
        let (team, admin) = approved_team(node, "曾都区红枫志愿服务队", "19820303").await;
        let mut expected = Vec::new();
        for step in 0..12 {
            let published = publish(node, &team, &admin.token,
                project(&format!("社区服务{step}"), north_of_centre(400.0 * f64::from(step) + 100.0), vec![shift(8, 9, 11, 5)])).await;
            expected.push(published["id"].as_str().unwrap().to_owned());
        }
        let query = format!("longitude={}&latitude={}&radius_m=20000&limit=5", CENTRE.0, CENTRE.1);
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut inserted = Vec::new();
        loop {
            let page = match &cursor {
                Some(cursor) => search(node, &format!("{query}&cursor={cursor}")).await,
                None => search(node, &query).await,
            };
            seen.extend(ids(page.assert_ok()));
            // Between pages, one project is published nearer than all and one farther.
            if inserted.len() < 4 {
                let nearer = publish(node, &team, &admin.token, project("新增近处", north_of_centre(10.0), vec![shift(8, 9, 11, 5)])).await;
                let farther = publish(node, &team, &admin.token, project("新增远处", north_of_centre(15_000.0), vec![shift(8, 9, 11, 5)])).await;
                inserted.push(nearer["id"].as_str().unwrap().to_owned());
                inserted.push(farther["id"].as_str().unwrap().to_owned());
            }
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "no project is given twice: {seen:?}");
        let originals: Vec<&String> = seen.iter().filter(|id| expected.contains(id)).collect();
        assert_eq!(originals, expected.iter().collect::<Vec<_>>(), "every project there from the start, nearest first");
        // Those published farther than the cursor were found on a later page.
        assert!(inserted.iter().skip(1).step_by(2).all(|farther| seen.contains(farther)));

        // Soonest first pages the same way.
        let by_start = search(node, "sort=start&limit=7").await;
        assert_eq!(by_start.assert_ok()["items"].as_array().unwrap().len(), 7);
        let next = by_start.body["next_cursor"].as_str().unwrap().to_owned();
        let rest = search(node, &format!("sort=start&limit=100&cursor={next}")).await;
        let mut all = ids(&by_start.body);
        all.extend(ids(rest.assert_ok()));
        assert_eq!(all.iter().collect::<HashSet<_>>().len(), all.len());
        assert_eq!(all.len(), expected.len() + inserted.len());
    }

    async fn the_team_accepts_sign_ups_and_its_lead_runs_the_project(node: &TestNode) {
        let (team, admin) = approved_team(node, "曾都区翠竹志愿服务队", "19830404").await;
        let mut body = project("社区义诊", CENTRE, vec![shift(9, 9, 12, 1)]);
        body["acceptance"] = json!("by_team");
        let published = publish(node, &team, &admin.token, body).await;
        let project_id = published["id"].as_str().unwrap().to_owned();
        let shift_id = published["shifts"][0]["id"].as_str().unwrap().to_owned();
        let people = volunteers(node, "421303", "19970707", 3).await;
        let applied = enroll(node, &shift_id, &people[0].token).await;
        assert_eq!(applied.body["status"], "applied", "holds the place until the team decides");
        assert_eq!(enroll(node, &shift_id, &people[1].token).await.body["status"], "waitlisted");

        // The lead is a member of the team, made so by its admin.
        node.call(Method::POST, &format!("/api/v1/tenants/421300/teams/{team}/membership"), Some(&people[2].token), None).await;
        node.call(Method::POST, &format!("/api/v1/tenants/421300/teams/{team}/members/{}/decision", people[2].id), Some(&admin.token),
            Some(json!({ "decision": "accept" }))).await.assert_ok();
        let granted = node.call(Method::POST, &format!("/api/v1/tenants/421300/projects/{project_id}/grants"), Some(&admin.token),
            Some(json!({ "volunteer_id": people[2].id, "kind": "project_lead" }))).await;
        assert_eq!(granted.assert_ok()["project_leads"].as_array().unwrap().len(), 1);
        let lead = &people[2].token;

        // The lead rejects the application with a reason: the place goes to the one waiting,
        // who now waits for the team's acceptance in turn.
        let first = applied.body["id"].as_str().unwrap();
        let decision = format!("/api/v1/tenants/421300/shifts/{shift_id}/enrollments/{first}/decision");
        node.call(Method::POST, &decision, Some(lead), Some(json!({ "decision": "reject" }))).await
            .assert_problem(422, "reason_required");
        let rejected = node.call(Method::POST, &decision, Some(lead), Some(json!({ "decision": "reject", "reason": "需持有医护资格" }))).await;
        assert_eq!(rejected.assert_ok()["status"], "rejected");
        let list = node.get(&format!("/api/v1/tenants/421300/shifts/{shift_id}/enrollments"), lead).await;
        let second = list.assert_ok()["items"].as_array().unwrap().iter().find(|e| e["volunteer_id"] == people[1].id.as_str()).unwrap().clone();
        assert_eq!(second["status"], "applied");
        let accepted = node.call(Method::POST, &format!("/api/v1/tenants/421300/shifts/{shift_id}/enrollments/{}/decision", second["id"].as_str().unwrap()),
            Some(lead), Some(json!({ "decision": "accept" }))).await;
        assert_eq!(accepted.assert_ok()["status"], "accepted");
        // A rejected volunteer cannot simply sign up again.
        enroll(node, &shift_id, &people[0].token).await.assert_problem(403, "enrollment_closed_by_team");

        // The lead of one project runs nothing of another.
        let other = publish(node, &team, &admin.token, project("另一个项目", CENTRE, vec![shift(10, 9, 12, 3)])).await;
        let other_shift = other["shifts"][0]["id"].as_str().unwrap();
        node.get(&format!("/api/v1/tenants/421300/shifts/{other_shift}/enrollments"), lead).await
            .assert_problem(403, "outside_grant_scope");

        // The admin removes a sign-up with a reason.
        let removed = node.call(Method::POST, &format!("/api/v1/tenants/421300/shifts/{shift_id}/enrollments/{}/decision", second["id"].as_str().unwrap()),
            Some(&admin.token), Some(json!({ "decision": "remove", "reason": "多次缺勤" }))).await;
        assert_eq!(removed.assert_ok()["status"], "removed");
        assert_eq!(removed.body["reason"], "多次缺勤");
    }

    async fn a_volunteer_is_suggested_what_fits_them_best(node: &TestNode) {
        let (team, admin) = approved_team(node, "曾都区银桂志愿服务队", "19840505").await;
        let fitting = publish(node, &team, &admin.token, project("助老服务", north_of_centre(800.0), vec![shift(14, 9, 12, 5)])).await;
        let mut body = project("环保宣传", north_of_centre(300.0), vec![shift(15, 9, 12, 5)]);
        body["service_categories"] = json!(["environment"]);
        body["skills"] = json!(["摄影"]);
        let other = publish(node, &team, &admin.token, body).await;
        let full = publish(node, &team, &admin.token, project("已满项目", north_of_centre(100.0), vec![shift(16, 9, 12, 1)])).await;
        let people = volunteers(node, "421303", "19980808", 2).await;
        enroll(node, full["shifts"][0]["id"].as_str().unwrap(), &people[1].token).await.assert_ok();
        let suggested = node.get(&format!("/api/v1/tenants/421300/volunteers/me/suggestions?longitude={}&latitude={}", CENTRE.0, CENTRE.1), &people[0].token).await;
        let items = suggested.assert_ok()["items"].as_array().unwrap().clone();
        let order: Vec<&str> = items.iter().map(|item| item["project"]["id"].as_str().unwrap()).collect();
        assert_eq!(order, [fitting["id"].as_str().unwrap(), other["id"].as_str().unwrap()], "the full one is left out; the one that fits comes first although farther");
        assert!(items[0]["score"].as_u64().unwrap() > items[1]["score"].as_u64().unwrap());
        assert_eq!(items[0]["open_shifts"], 1);
    }

    async fn the_office_approves_projects_where_the_tenant_asks(node: &TestNode) {
        // Suizhou publishes at once (above); a tenant whose file asks for approval holds each
        // project for the office. Suizhou's office switches nothing here: Ezhou's file asks.
        let office = node.account_as(Some("420700"), "ezhou.office", GrantKind::OfficeAdmin).await;
        let bodies = node.get("/api/v1/tenants/420700/reviewing-bodies", &office).await;
        let association = bodies.assert_ok()["items"].as_array().unwrap().iter()
            .find(|body| body["kind"] == "association" && body["region"] == "420704").unwrap()["id"].as_str().unwrap().to_owned();
        let reviewer = node.account(Some("420700"), "echeng.assoc",
            &[(GrantKind::Reviewer, Some(Scope::ReviewingBody(association.parse().unwrap())))]).await;
        let founder = volunteers(node, "420704", "19850606", 1).await.remove(0);
        let applied = node.call(Method::POST, "/api/v1/tenants/420700/teams", Some(&founder.token), Some(json!({
            "name": "鄂城区银杏志愿服务队", "kind": "community", "region": "420704",
            "contact_name": "张三", "contact_mobile": "13900001111",
            "legal_status": "unregistered", "liaison_team_id": association
        }))).await;
        assert_eq!(applied.status, 201, "{:#}", applied.body);
        let team = applied.body["id"].as_str().unwrap().to_owned();
        node.call(Method::POST, &format!("/api/v1/tenants/420700/teams/{team}/decision"), Some(&reviewer), Some(json!({ "decision": "approve" }))).await.assert_ok();
        let mut body = project("鄂州助老", (114.89, 30.39), vec![shift(5, 9, 12, 5)]);
        body["region"] = json!("420704");
        let created = node.call(Method::POST, &format!("/api/v1/tenants/420700/teams/{team}/projects"), Some(&founder.token), Some(body)).await;
        assert_eq!(created.status, 201, "{:#}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let submitted = node.call(Method::POST, &format!("/api/v1/tenants/420700/projects/{id}/publication"), Some(&founder.token), None).await;
        assert_eq!(submitted.assert_ok()["state"], "submitted");
        let public = node.call(Method::GET, &format!("/api/v1/tenants/420700/projects/{id}"), None, None).await;
        public.assert_problem(404, "not_found");
        let sent_back = node.call(Method::POST, &format!("/api/v1/tenants/420700/projects/{id}/decision"), Some(&office),
            Some(json!({ "decision": "reject", "reason": "请补充安全预案" }))).await;
        assert_eq!(sent_back.assert_ok()["state"], "draft");
        assert_eq!(sent_back.body["decision_reason"], "请补充安全预案");
        node.call(Method::POST, &format!("/api/v1/tenants/420700/projects/{id}/publication"), Some(&founder.token), None).await.assert_ok();
        let approved = node.call(Method::POST, &format!("/api/v1/tenants/420700/projects/{id}/decision"), Some(&office),
            Some(json!({ "decision": "approve" }))).await;
        assert_eq!(approved.assert_ok()["state"], "recruiting");
        let found = node.call(Method::GET, "/api/v1/tenants/420700/projects?longitude=114.89&latitude=30.39", None, None).await;
        assert_eq!(ids(found.assert_ok()), vec![id]);
    }

    async fn every_refusal_names_its_field_and_its_rule_and_changes_nothing(node: &TestNode) {
        let (team, admin) = approved_team(node, "曾都区白杨志愿服务队", "19860707").await;
        let (_, other_admin) = approved_team(node, "曾都区紫荆志愿服务队", "19870808").await;
        let published = publish(node, &team, &admin.token, project("周末助老", CENTRE, vec![shift(5, 9, 12, 10), shift(5, 11, 14, 10)])).await;
        let shift_id = published["shifts"][0]["id"].as_str().unwrap().to_owned();
        let overlapping = published["shifts"][1]["id"].as_str().unwrap().to_owned();
        let adult = volunteers(node, "421303", "19990909", 1).await.remove(0);
        let minor = volunteers(node, "421303", "20120303", 1).await.remove(0);
        enroll(node, &shift_id, &adult.token).await.assert_ok();
        let mut minors_welcome = project("亲子环保", CENTRE, vec![shift(6, 9, 12, 10)]);
        minors_welcome["minors"] = json!("with_guardian_consent");
        let minors_welcome = publish(node, &team, &admin.token, minors_welcome).await;
        let family_shift = minors_welcome["shifts"][0]["id"].as_str().unwrap().to_owned();
        let (_, unverified) = node
            .apply_as_volunteer("421300", crate::support::application("吴待审", &resident_id("42130319900101234"), "pending.person"))
            .await;
        let draft = node.call(Method::POST, &format!("/api/v1/tenants/421300/teams/{team}/projects"), Some(&admin.token),
            Some(project("草稿", CENTRE, vec![shift(7, 9, 12, 10)]))).await;
        let draft_id = draft.body["id"].as_str().unwrap().to_owned();

        let before = node.snapshot().await;
        let create = |body: Value| {
            let path = format!("/api/v1/tenants/421300/teams/{team}/projects");
            let token = admin.token.clone();
            async move { node.call(Method::POST, &path, Some(&token), Some(body)).await }
        };
        let with = |change: &dyn Fn(&mut Value)| {
            let mut body = project("有问题的项目", CENTRE, vec![shift(5, 9, 12, 10)]);
            change(&mut body);
            body
        };
        let cases: Vec<(Value, &str, &str)> = vec![
            (with(&|b| b["shifts"][0]["ends_at"] = json!("2026-12-05T08:00:00+08:00")), "/shifts/0/ends_at", "ends_before_start"),
            (with(&|b| b["shifts"][0] = shift(5, 9, 12, 10).as_object().unwrap().clone().into_iter().map(|(k, v)| (k.clone(), if k == "starts_at" { json!("2026-11-30T09:00:00+08:00") } else { v })).collect()), "/shifts/0/starts_at", "shift_outside_project"),
            (with(&|b| b["shifts"][0]["capacity"] = json!(0)), "/shifts/0/capacity", "shift_capacity"),
            (with(&|b| b["shifts"][0]["capacity"] = json!(1_000_000)), "/shifts/0/capacity", "shift_capacity"),
            (with(&|b| b["shifts"] = json!([])), "/shifts", "shift_count"),
            (with(&|b| b["place"] = json!({ "longitude": 2.35, "latitude": 48.85 })), "/place/longitude", "coordinates_outside_china"),
            (with(&|b| b["title"] = json!("   ")), "/title", "name_empty"),
            (with(&|b| b["skills"] = json!([" "])), "/skills/0", "tag_length"),
            (with(&|b| b["place"] = json!({ "longitude": "113.38", "latitude": 31.69 })), "/place/longitude", "coordinates_not_numbers"),
            (with(&|b| b["region"] = json!("420704")), "/region", "region_unknown"),
            (with(&|b| b["service_categories"] = json!(["other"])), "/service_categories/0", "category_not_offered"),
            (with(&|b| b["starts_at"] = json!("下周六")), "/starts_at", "time_format"),
            (with(&|b| b["need_id"] = json!(Uuid::now_v7())), "/need_id", "need_not_open"),
        ];
        for (body, field, code) in cases {
            let answer = create(body).await;
            assert_eq!(answer.assert_problem(422, code).as_deref(), Some(field), "{code}: {:#}", answer.body);
        }
        // Needs refused.
        let need = |change: &dyn Fn(&mut Value)| {
            let mut body = json!({
                "title": "助老需求", "description": "需要志愿者", "service_categories": ["elderly_and_disabled"],
                "region": "421303", "address": "曾都区西城敬老院", "starts_at": "2026-12-01T08:00:00+08:00",
                "ends_at": "2026-12-31T18:00:00+08:00", "people_needed": 3, "contact_name": "王五",
                "contact_mobile": "13700003333", "poster": "resident"
            });
            change(&mut body);
            body
        };
        for (body, field, code) in [
            (need(&|b| b["region"] = json!("420704")), "/region", "region_unknown"),
            (need(&|b| b["service_categories"] = json!(["other"])), "/service_categories/0", "category_not_offered"),
            (need(&|b| b["poster"] = json!("unit")), "/unit_id", "need_unit"),
            (need(&|b| b["unit_id"] = json!(Uuid::now_v7())), "/unit_id", "need_unit"),
            (need(&|b| b["people_needed"] = json!(0)), "/people_needed", "shift_capacity"),
            (need(&|b| b["ends_at"] = json!("2026-11-01T08:00:00+08:00")), "/ends_at", "ends_before_start"),
        ] {
            let answer = node.call(Method::POST, "/api/v1/tenants/421300/needs", Some(&adult.token), Some(body)).await;
            assert_eq!(answer.assert_problem(422, code).as_deref(), Some(field), "{code}: {:#}", answer.body);
        }
        // A project of another team: neither written for it nor published by another's admin.
        node.call(Method::POST, &format!("/api/v1/tenants/421300/teams/{team}/projects"), Some(&other_admin.token), Some(project("越权", CENTRE, vec![shift(5, 9, 12, 10)]))).await
            .assert_problem(403, "outside_grant_scope");
        node.call(Method::POST, &format!("/api/v1/tenants/421300/projects/{draft_id}/publication"), Some(&other_admin.token), None).await
            .assert_problem(403, "outside_grant_scope");
        // Sign-ups refused.
        enroll(node, &overlapping, &adult.token).await.assert_problem(403, "shift_clash");
        enroll(node, &shift_id, &adult.token).await.assert_problem(409, "enrollment_exists");
        enroll(node, &shift_id, &minor.token).await.assert_problem(403, "minors_not_allowed");
        assert_eq!(enroll(node, &family_shift, &minor.token).await.assert_problem(422, "guardian_consent_required").as_deref(), Some("/guardian_consent"));
        enroll(node, &shift_id, &unverified).await.assert_problem(403, "volunteer_not_verified");
        node.call(Method::POST, &format!("/api/v1/tenants/421300/shifts/{}/enrollment", Uuid::now_v7()), Some(&adult.token), Some(json!({}))).await
            .assert_problem(404, "not_found");
        // Searches refused, each naming its parameter.
        for (query, field, code) in [
            ("longitude=abc&latitude=31.69", "query/longitude", "coordinates_not_numbers"),
            ("longitude=113.38", "query/latitude", "point_incomplete"),
            ("longitude=13.38&latitude=31.69", "query/longitude", "coordinates_outside_china"),
            ("longitude=113.38&latitude=31.69&radius_m=900000", "query/radius_m", "radius_range"),
            ("sort=distance", "query/sort", "sort_needs_point"),
            ("cursor=bm90LWEtY3Vyc29y", "query/cursor", "cursor_invalid"),
            ("region=420704", "query/region", "region_unknown"),
            ("from=tomorrow", "query/from", "time_format"),
            ("limit=0", "query/limit", "page_size"),
            ("region=42", "query/region", "region_code_format"),
        ] {
            let answer = search(node, query).await;
            assert_eq!(answer.assert_problem(422, code).as_deref(), Some(field), "{query}");
        }
        assert_eq!(node.snapshot().await, before, "refusals change nothing");

        // Withdrawal closes two hours before the shift (09:00 on 5 December, China Standard
        // Time): at 07:30 it is closed; the shift itself has not started.
        node.clock.advance_seconds(5 * 24 * 3600 + 23 * 3600 + 1800);
        node.call(Method::DELETE, &format!("/api/v1/tenants/421300/shifts/{shift_id}/enrollment"), Some(&adult.token), None).await
            .assert_problem(403, "withdrawal_closed");
        // Once a shift has started, nobody signs up for it.
        node.clock.advance_seconds(2 * 3600);
        let late = volunteers(node, "421303", "19770707", 1).await.remove(0);
        enroll(node, &shift_id, &late.token).await.assert_problem(409, "shift_started");
    }
}
