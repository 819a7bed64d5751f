//! Time on the ground (R2, R15, R19): a volunteer signs up, is scanned in and out by the
//! team's phone, the team corrects the entry, the volunteer disputes it and the office
//! settles, a star level is reached, a certificate is issued, printed as a page and a PDF and
//! verified on its public page; scans made offline are uploaded twice and count once; and
//! every refusal, down to the database refusing to change a service record.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;
use zhiyuan_domain::{GrantKind, Timestamp};

use crate::support::{Answer, Person, TestNode, approved_team, on_both_databases, volunteers};

/// Moves the node's clock to an instant of December 2026 or before, in RFC 3339.
fn set_clock(node: &TestNode, at: &str) {
    let target = Timestamp::parse_rfc3339(at).unwrap().unix_millis();
    let now = node.app().clock.now().unix_millis();
    node.clock.advance_seconds((target - now) / 1000);
}

/// A project of the team with one shift on 5 December 2026, 9:00 to 12:00; answers (project,
/// shift).
async fn project_with_a_shift(
    node: &TestNode,
    team: &str,
    admin: &str,
    title: &str,
) -> (String, String) {
    let created = node
        .call(Method::POST, &format!("/api/v1/tenants/421300/teams/{team}/projects"), Some(admin), Some(json!({
            "title": title, "summary": "陪伴老人", "description": "到敬老院陪伴老人。",
            "service_categories": ["elderly_and_disabled"], "region": "421303", "address": "随州市曾都区青年路1号",
            "place": { "longitude": 113.3826, "latitude": 31.69 },
            "starts_at": "2026-12-01T00:00:00+08:00", "ends_at": "2026-12-31T23:00:00+08:00",
            "contact_name": "李四", "contact_mobile": "13900002222",
            "shifts": [{ "starts_at": "2026-12-05T09:00:00+08:00", "ends_at": "2026-12-05T12:00:00+08:00", "capacity": 10 }]
        })))
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
    let shift = published.assert_ok()["shifts"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, shift)
}

async fn enroll(node: &TestNode, shift: &str, person: &Person) {
    let enrolled = node
        .call(
            Method::POST,
            &format!("/api/v1/tenants/421300/shifts/{shift}/enrollment"),
            Some(&person.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(enrolled.status, 201, "{:#}", enrolled.body);
}

async fn card_code(node: &TestNode, person: &Person) -> String {
    let card = node
        .get("/api/v1/tenants/421300/volunteers/me/card", &person.token)
        .await;
    card.assert_ok()["code"].as_str().unwrap().to_owned()
}

async fn scan(
    node: &TestNode,
    project: &str,
    scanner: &str,
    code: &str,
    direction: Option<&str>,
) -> Answer {
    let mut body = json!({ "scan_id": Uuid::new_v4(), "code": code });
    if let Some(direction) = direction {
        body["direction"] = json!(direction);
    }
    node.call(
        Method::POST,
        &format!("/api/v1/tenants/421300/projects/{project}/scans"),
        Some(scanner),
        Some(body),
    )
    .await
}

async fn history(node: &TestNode, person: &Person) -> Value {
    node.get(
        "/api/v1/tenants/421300/volunteers/me/service-records",
        &person.token,
    )
    .await
    .assert_ok()
    .clone()
}

/// The entry in force of a volunteer's history.
fn in_force(history: &Value) -> Vec<Value> {
    history["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["in_force"] == true)
        .cloned()
        .collect()
}

/// Text of a PDF, read by poppler's pdftotext.
fn pdf_text(pdf: &[u8]) -> String {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("certificate.pdf");
    std::fs::write(&path, pdf).unwrap();
    let output = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs (scripts/ensure-tools installs poppler-utils)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

on_both_databases! {
    async fn a_volunteer_is_scanned_in_and_out_corrected_disputed_starred_and_certified(node: &TestNode) {
        set_clock(node, "2026-12-05T08:30:00+08:00");
        let office = node.account_as(Some("421300"), "service.office", GrantKind::OfficeAdmin).await;
        let (team, admin) = approved_team(node, "曾都区时光志愿服务队", "19800101").await;
        let (project, shift) = project_with_a_shift(node, &team, &admin.token, "西城敬老院陪伴").await;
        let people = volunteers(node, "421303", "19900101", 2).await;
        let (volunteer, neighbour) = (&people[0], &people[1]);
        enroll(node, &shift, volunteer).await;
        enroll(node, &shift, neighbour).await;

        // Scanned in ten minutes before the shift, within its window.
        set_clock(node, "2026-12-05T08:50:00+08:00");
        let code = card_code(node, volunteer).await;
        assert!(code.starts_with("ZY1:") && code.len() <= 178, "fits a QR of version 7 at M: {code}");
        let checked_in = scan(node, &project, &admin.token, &code, None).await;
        assert_eq!(checked_in.assert_ok()["outcome"], "checked_in");
        assert_eq!(checked_in.body["volunteer"]["name"], "林志愿");
        // The same code again, as a photo of the screen would: refused.
        scan(node, &project, &admin.token, &code, None).await.assert_problem(422, "card_code_replayed");

        // Scanned out at 11:50: the server counts the time within the shift, 9:00 to 11:50.
        set_clock(node, "2026-12-05T11:50:00+08:00");
        let code = card_code(node, volunteer).await;
        let checked_out = scan(node, &project, &admin.token, &code, None).await;
        assert_eq!(checked_out.assert_ok()["outcome"], "checked_out");
        assert_eq!(checked_out.body["credited_minutes"], 170);
        let entries = in_force(&history(node, volunteer).await);
        assert_eq!(entries.len(), 1);
        assert_eq!((entries[0]["kind"].as_str(), entries[0]["card"].as_str()), (Some("scan"), Some("app")));
        let scanned_entry = entries[0]["id"].as_str().unwrap().to_owned();
        let team_totals = node.get(&format!("/api/v1/tenants/421300/service-totals?scope=team&id={team}"), &office).await;
        assert_eq!(team_totals.assert_ok()["minutes"], 170);

        // The team corrects it after the shift: the volunteer stayed to the end.
        set_clock(node, "2026-12-05T12:05:00+08:00");
        let corrected = node.call(Method::POST, &format!("/api/v1/tenants/421300/service-records/{scanned_entry}/correction"), Some(&admin.token),
            Some(json!({ "ended_at": "2026-12-05T12:00:00+08:00", "minutes": 180, "reason": "签退时扫码失败,实际服务至12点" }))).await;
        assert_eq!(corrected.status, 201, "{:#}", corrected.body);
        let correction = corrected.body["id"].as_str().unwrap().to_owned();
        assert_eq!(corrected.body["corrects"], scanned_entry.as_str());
        let after = history(node, volunteer).await;
        assert_eq!((after["minutes"].as_u64(), after["records"].as_array().unwrap().len()), (Some(180), 2));
        // Correcting the replaced entry again is refused: the newest is the one to correct.
        node.call(Method::POST, &format!("/api/v1/tenants/421300/service-records/{scanned_entry}/correction"), Some(&admin.token),
            Some(json!({ "minutes": 10, "reason": "再改" }))).await.assert_problem(409, "already_corrected");

        // The volunteer disputes the correction; until it is settled, no certificate.
        let disputed = node.call(Method::POST, &format!("/api/v1/tenants/421300/service-records/{correction}/dispute"), Some(&volunteer.token),
            Some(json!({ "claim": "我服务到12点10分,另有整理物资", "claimed_minutes": 190 }))).await;
        assert_eq!(disputed.status, 201, "{:#}", disputed.body);
        let dispute = disputed.body["id"].as_str().unwrap().to_owned();
        node.call(Method::POST, "/api/v1/tenants/421300/volunteers/me/certificates", Some(&volunteer.token),
            Some(json!({ "team_id": team, "from": "2026-11-01", "to": "2026-12-31" }))).await
            .assert_problem(409, "hours_not_confirmed");
        node.call(Method::POST, &format!("/api/v1/tenants/421300/disputes/{dispute}/answer"), Some(&admin.token),
            Some(json!({ "answer": "经核实,志愿者确实协助整理物资" }))).await.assert_ok();
        let settled = node.call(Method::POST, &format!("/api/v1/tenants/421300/disputes/{dispute}/settlement"), Some(&office),
            Some(json!({ "decision": "uphold", "reason": "队伍确认,按180分钟计", "minutes": 180 }))).await;
        assert_eq!(settled.assert_ok()["status"], "upheld");
        let after = history(node, volunteer).await;
        assert_eq!(after["minutes"], 180);
        assert_eq!(in_force(&after)[0]["kind"], "settlement");

        // A hundred hours entered by hand over five days in November: the first star.
        for day in 20..25 {
            let entered = node.call(Method::POST, &format!("/api/v1/tenants/421300/teams/{team}/service-records"), Some(&admin.token), Some(json!({
                "volunteer_id": volunteer.id, "project_id": project,
                "started_at": format!("2026-11-{day}T02:00:00+08:00"), "ended_at": format!("2026-11-{day}T22:00:00+08:00"),
                "content": "防疫物资分发", "reason": "纸质签到表补录"
            }))).await;
            assert_eq!(entered.status, 201, "{:#}", entered.body);
        }
        let after = history(node, volunteer).await;
        assert_eq!((after["hours"].as_u64(), after["star_level"].as_u64()), (Some(103), Some(1)));
        let notices = node.get("/api/v1/tenants/421300/volunteers/me/notices", &volunteer.token).await;
        assert!(notices.assert_ok()["items"].as_array().unwrap().iter().any(|notice| notice["kind"] == "star_level" && notice["detail"]["star_level"] == 1),
            "the volunteer is told: {:#}", notices.body);
        assert_eq!(node.get("/api/v1/tenants/421300/volunteers/me/card", &volunteer.token).await.assert_ok()["star_level"], 1);

        // The certificate: asked for, issued by the team, printed, verified, revoked.
        let requested = node.call(Method::POST, "/api/v1/tenants/421300/volunteers/me/certificates", Some(&volunteer.token),
            Some(json!({ "team_id": team, "from": "2026-11-01", "to": "2026-12-31", "purpose": "升学" }))).await;
        assert_eq!(requested.status, 201, "{:#}", requested.body);
        let certificate = requested.body["id"].as_str().unwrap().to_owned();
        let issued = node.call(Method::POST, &format!("/api/v1/tenants/421300/certificates/{certificate}/issue"), Some(&admin.token),
            Some(json!({ "person_in_charge": "王队长", "handler": "李经办", "contact": "0722-3331234" }))).await;
        let issued = issued.assert_ok().clone();
        let number = issued["number"].as_str().unwrap().to_owned();
        assert!(number.starts_with("421300-2026-"), "{number}");
        assert_eq!(issued["facts"]["total_minutes"], 100 * 60 + 180);
        assert_eq!(issued["facts"]["id_number_masked"].as_str().unwrap().chars().filter(|c| *c == '*').count(), 16);
        let page = node.download(&format!("/api/v1/tenants/421300/certificates/{certificate}/page"), Some(&volunteer.token)).await;
        assert_eq!(page.status, 200);
        let page = String::from_utf8(page.bytes.clone()).unwrap();
        for expected in ["志愿服务记录证明", "林志愿", "103.0", &number, "王队长", "李经办", "0722-3331234", "曾都区时光志愿服务队"] {
            assert!(page.contains(expected), "the page shows {expected}");
        }
        let pdf = node.download(&format!("/api/v1/tenants/421300/certificates/{certificate}/pdf"), Some(&volunteer.token)).await;
        assert_eq!(pdf.status, 200);
        assert!(pdf.bytes.starts_with(b"%PDF-"));
        let text = pdf_text(&pdf.bytes);
        for expected in ["林志愿", "103.0", number.as_str(), "王队长"] {
            assert!(text.contains(expected), "the PDF's text holds {expected}: {text}");
        }
        let verified = node.download(&format!("/verify/{number}"), None).await;
        assert_eq!(verified.status, 200);
        let verified = String::from_utf8(verified.bytes.clone()).unwrap();
        assert!(verified.contains("本证明有效") && verified.contains("林**") && !verified.contains("林志愿"), "{verified}");
        node.call(Method::POST, &format!("/api/v1/tenants/421300/certificates/{certificate}/revocation"), Some(&admin.token),
            Some(json!({ "reason": "信息有误,重新出具" }))).await.assert_ok();
        let verified = node.download(&format!("/verify/{number}"), None).await;
        assert!(String::from_utf8(verified.bytes.clone()).unwrap().contains("已撤销"));
        let register = node.get("/api/v1/tenants/421300/certificates", &office).await;
        assert_eq!(register.assert_ok()["items"][0]["status"], "revoked");

        // Everything the tenant recorded of the volunteer is issued as a credential: the
        // certificate states what it stated, and every entry of service has one of its own.
        let tenant = zhiyuan_domain::TenantCode::parse("421300").unwrap();
        zhiyuan_app::credentials::issue_pending(node.app(), &tenant, Timestamp::from_unix_millis(0), 1000).await.unwrap();
        let credentials = node.get("/api/v1/tenants/421300/volunteers/me/credentials", &volunteer.token).await;
        let items = credentials.assert_ok()["items"].as_array().unwrap().clone();
        let of_kind = |kind: &str| items.iter().filter(|item| item["kind"] == kind).cloned().collect::<Vec<_>>();
        let certificates = of_kind("certificate");
        assert_eq!(certificates.len(), 1, "{items:#?}");
        let subject = &certificates[0]["credential"]["credentialSubject"];
        assert_eq!(subject["certificateNumber"], number.as_str());
        assert_eq!(subject["totalMinutes"], 100 * 60 + 180);
        assert_eq!(subject["name"], "林志愿");
        assert!(!certificates[0]["credential"].to_string().contains("id_number"), "no identity number, not even masked");
        let entries = history(node, volunteer).await["records"].as_array().unwrap().len();
        assert_eq!(of_kind("service_record").len(), entries);
        assert_eq!(of_kind("registration").len(), 1);

        // The neighbour checks in but never out: once the window closes, nothing is credited
        // (the built-in rule) and the team is told.
        set_clock(node, "2026-12-05T11:55:00+08:00");
        let code = card_code(node, neighbour).await;
        scan(node, &project, &admin.token, &code, None).await.assert_ok();
        set_clock(node, "2026-12-05T13:00:00+08:00");
        assert_eq!(zhiyuan_app::service::settle_missing_check_outs(node.app()).await.unwrap(), 1);
        let notices = node.get(&format!("/api/v1/tenants/421300/teams/{team}/notices"), &admin.token).await;
        assert_eq!(notices.assert_ok()["items"][0]["kind"], "missing_check_out");
        assert_eq!(notices.body["items"][0]["detail"]["credited_minutes"], Value::Null);
        assert_eq!(history(node, neighbour).await["minutes"], 0);
    }

    async fn scans_made_offline_count_once_however_often_they_are_uploaded(node: &TestNode) {
        set_clock(node, "2026-12-05T08:30:00+08:00");
        let office = node.account_as(Some("421300"), "offline.office", GrantKind::OfficeAdmin).await;
        let (team, admin) = approved_team(node, "曾都区离线志愿服务队", "19810101").await;
        let (project, shift) = project_with_a_shift(node, &team, &admin.token, "山区助学").await;
        let people = volunteers(node, "421303", "19910101", 1).await;
        let elder = &people[0];
        enroll(node, &shift, elder).await;
        // A volunteer without a phone carries a printed card.
        let printed = node.call(Method::POST, &format!("/api/v1/tenants/421300/volunteers/{}/printed-card", elder.id), Some(&office), None).await;
        assert_eq!(printed.status, 201, "{:#}", printed.body);
        let code = printed.body["code"].as_str().unwrap().to_owned();
        assert!(printed.body["qr_svg"].as_str().unwrap().contains("<svg"));

        // The team's phone had no signal: both scans are uploaded in the evening.
        set_clock(node, "2026-12-05T20:00:00+08:00");
        let batch = json!({ "scans": [
            { "scan_id": Uuid::new_v4(), "code": code, "scanned_at": "2026-12-05T08:55:00+08:00" },
            { "scan_id": Uuid::new_v4(), "code": code, "scanned_at": "2026-12-05T12:05:00+08:00" },
        ]});
        let path = format!("/api/v1/tenants/421300/projects/{project}/scans/batch");
        let first = node.call(Method::POST, &path, Some(&admin.token), Some(batch.clone())).await;
        assert_eq!((first.assert_ok()["counted"].as_u64(), first.body["duplicates"].as_u64()), (Some(2), Some(0)), "{:#}", first.body);
        let before = node.snapshot().await;
        let again = node.call(Method::POST, &path, Some(&admin.token), Some(batch)).await;
        assert_eq!((again.assert_ok()["counted"].as_u64(), again.body["duplicates"].as_u64()), (Some(0), Some(2)), "{:#}", again.body);
        assert_eq!(node.snapshot().await, before, "the second upload wrote nothing");
        let records = node.get(&format!("/api/v1/tenants/421300/volunteers/{}/service-records", elder.id), &office).await;
        let records = records.assert_ok()["records"].as_array().unwrap().clone();
        assert_eq!(records.len(), 1);
        assert_eq!((records[0]["minutes"].as_u64(), records[0]["card"].as_str()), (Some(180), Some("printed")));

        // The card is lost: the office revokes it, and a scan of it is refused.
        let serial = printed.body["serial"].as_u64().unwrap();
        node.call(Method::POST, &format!("/api/v1/tenants/421300/printed-cards/{serial}/revocation"), Some(&office),
            Some(json!({ "reason": "卡片遗失" }))).await;
        let late = node.call(Method::POST, &path, Some(&admin.token), Some(json!({ "scans": [
            { "scan_id": Uuid::new_v4(), "code": code, "scanned_at": "2026-12-05T19:00:00+08:00" },
            { "scan_id": Uuid::new_v4(), "code": "ZY1:NOT A CARD", "scanned_at": "2026-12-05T19:00:00+08:00" },
            { "scan_id": Uuid::new_v4(), "code": code, "scanned_at": "2026-11-20T19:00:00+08:00" },
        ]}))).await;
        let results = late.assert_ok()["results"].as_array().unwrap().clone();
        let codes: Vec<&str> = results.iter().map(|result| result["problem"]["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["card_revoked", "card_token_format", "scan_time"], "each refusal by its scan: {:#}", late.body);
    }

    async fn every_bad_scan_and_entry_is_refused_and_writes_nothing(node: &TestNode) {
        set_clock(node, "2026-12-05T08:30:00+08:00");
        let (team, admin) = approved_team(node, "曾都区拒绝志愿服务队", "19820101").await;
        let (other_team, other_admin) = approved_team(node, "曾都区隔壁志愿服务队", "19830101").await;
        let (project, shift) = project_with_a_shift(node, &team, &admin.token, "社区清扫").await;
        let people = volunteers(node, "421303", "19920101", 3).await;
        let (enrolled, stranger, late) = (&people[0], &people[1], &people[2]);
        enroll(node, &shift, enrolled).await;
        enroll(node, &shift, late).await;
        let ezhou = volunteers(node, "420704", "19920101", 1).await;
        set_clock(node, "2026-12-05T09:00:00+08:00");
        let ezhou_card = node.get("/api/v1/tenants/420700/volunteers/me/card", &ezhou[0].token).await.assert_ok()["code"].as_str().unwrap().to_owned();

        let before = node.snapshot().await;
        let code = card_code(node, enrolled).await;
        // A forged or altered code: one character changed, or signed by another key.
        let mut altered = code.clone().into_bytes();
        let at = altered.len() - 5;
        altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        let refused = scan(node, &project, &admin.token, &altered, None).await;
        assert!(refused.status == 422 && ["card_code_forged", "card_token_format"].contains(&refused.body["code"].as_str().unwrap()), "{:#}", refused.body);
        let forged = zhiyuan_federation::card::seal(&zhiyuan_federation::SigningKey::from_seed([9; 32]), &zhiyuan_federation::card::CardCode {
            volunteer_number: zhiyuan_federation::card::ScannedCard::read(&code).unwrap().volunteer_number().to_owned(),
            issued_at: node.app().clock.now().unix_millis() / 1000, expires_at: Some(node.app().clock.now().unix_millis() / 1000 + 60),
            token_id: Some([1, 2, 3, 4]), card_serial: None,
        });
        scan(node, &project, &admin.token, &forged, None).await.assert_problem(422, "card_code_forged");
        // A card of another tenant.
        scan(node, &project, &admin.token, &ezhou_card, None).await.assert_problem(422, "card_code_other_tenant");
        // An expired code: four minutes old, past its minute and the two of skew.
        set_clock(node, "2026-12-05T09:04:00+08:00");
        scan(node, &project, &admin.token, &code, None).await.assert_problem(422, "card_code_expired");
        // A volunteer who holds no place.
        let stranger_code = card_code(node, stranger).await;
        scan(node, &project, &admin.token, &stranger_code, None).await.assert_problem(409, "not_enrolled");
        // A check-out before any check-in.
        let late_code = card_code(node, late).await;
        scan(node, &project, &admin.token, &late_code, Some("out")).await.assert_problem(409, "check_out_without_check_in");
        // Outside the window: it closed at 12:30.
        set_clock(node, "2026-12-05T13:00:00+08:00");
        let late_code = card_code(node, late).await;
        scan(node, &project, &admin.token, &late_code, None).await.assert_problem(409, "scan_outside_window");
        // Someone who neither runs nor scans the project.
        scan(node, &project, &other_admin.token, &late_code, None).await.assert_problem(403, "outside_grant_scope");
        assert_eq!(node.snapshot().await, before, "no refused scan wrote anything");

        // An entry and its refusals: no reason; overlapping; the correction of another team's.
        let entry = |reason: &str, from: &str, to: &str| json!({
            "volunteer_id": enrolled.id, "project_id": project,
            "started_at": from, "ended_at": to, "content": "社区清扫", "reason": reason
        });
        let path = format!("/api/v1/tenants/421300/teams/{team}/service-records");
        let no_reason = node.call(Method::POST, &path, Some(&admin.token), Some(entry("  ", "2026-12-05T09:00:00+08:00", "2026-12-05T11:00:00+08:00"))).await;
        assert_eq!((no_reason.status.as_u16(), no_reason.body["field"].as_str()), (422, Some("/reason")), "{:#}", no_reason.body);
        let made = node.call(Method::POST, &path, Some(&admin.token), Some(entry("纸质签到", "2026-12-05T09:00:00+08:00", "2026-12-05T11:00:00+08:00"))).await;
        assert_eq!(made.status, 201, "{:#}", made.body);
        let made = made.body["id"].as_str().unwrap().to_owned();
        node.call(Method::POST, &path, Some(&admin.token), Some(entry("重复登记", "2026-12-05T10:00:00+08:00", "2026-12-05T12:00:00+08:00"))).await
            .assert_problem(403, "service_overlaps");
        node.call(Method::POST, &format!("/api/v1/tenants/421300/service-records/{made}/correction"), Some(&other_admin.token),
            Some(json!({ "minutes": 60, "reason": "越权" }))).await.assert_problem(403, "correction_other_team");
        node.call(Method::POST, &format!("/api/v1/tenants/421300/teams/{other_team}/service-records"), Some(&other_admin.token),
            Some(entry("非本队成员", "2026-12-04T09:00:00+08:00", "2026-12-04T10:00:00+08:00"))).await
            .assert_problem(422, "grant_target_unknown");
        node.call(Method::POST, &path, Some(&admin.token), Some(entry("将来", "2026-12-06T09:00:00+08:00", "2026-12-06T10:00:00+08:00"))).await
            .assert_problem(422, "service_in_future");
        // A certificate for hours under dispute.
        let disputed = node.call(Method::POST, &format!("/api/v1/tenants/421300/service-records/{made}/dispute"), Some(&enrolled.token),
            Some(json!({ "claim": "时长不对" }))).await;
        assert_eq!(disputed.status, 201);
        let before = node.snapshot().await;
        node.call(Method::POST, "/api/v1/tenants/421300/volunteers/me/certificates", Some(&enrolled.token),
            Some(json!({ "from": "2026-12-01", "to": "2026-12-31" }))).await.assert_problem(409, "hours_not_confirmed");
        node.call(Method::POST, &format!("/api/v1/tenants/421300/service-records/{made}/dispute"), Some(&late.token),
            Some(json!({ "claim": "不是我的" }))).await.assert_problem(403, "not_own_record");
        node.call(Method::POST, &format!("/api/v1/tenants/421300/service-records/{made}/dispute"), Some(&enrolled.token),
            Some(json!({ "claim": "再次申诉" }))).await.assert_problem(403, "dispute_exists");
        assert_eq!(node.snapshot().await, before, "no refused entry wrote anything");

        // The database itself refuses to change or remove a service record, on either backend.
        for statement in [
            format!("UPDATE service_records SET minutes = 6000 WHERE id = '{made}'"),
            format!("DELETE FROM service_records WHERE id = '{made}'"),
        ] {
            let error = node.try_execute(&statement).await.expect_err("the database refuses it");
            assert!(error.contains("append-only"), "{statement}: {error}");
        }
    }
}
