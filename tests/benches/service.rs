//! Load driver for time on the ground, on SQLite and on PostgreSQL, each beside a signed-in
//! health check measured in the same run (the same stack with no database read):
//!
//! - a check-in storm: 10,000 volunteers with a place at one event are scanned in, then out,
//!   through HTTP from 64 connections, each scan a new code signed with the tenant's key;
//!   every check-out must credit the shift; the node's issuer signs and logs the entries as
//!   they come, as it does on any node;
//! - a certificate: issued and rendered as a PDF with its CJK font subset, one after another,
//!   beside the same certificate rendered as a page.
//!
//! `cargo bench -p zhiyuan --bench service` (ZHIYUAN_BENCH_STORM to change the 10,000
//! volunteers, ZHIYUAN_BENCH_CERTIFICATES the 30 certificates, ZHIYUAN_BENCH_BACKEND=sqlite or
//! postgres to run on one database only).

#[path = "../it/described.rs"]
#[allow(dead_code)]
mod described;
#[allow(dead_code)]
#[path = "measure.rs"]
mod measure;
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../it/support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use measure::{backends, ms, quantile, setting};
use serde_json::json;
use support::{Backend, TestNode};
use zhiyuan_domain::{TenantCode, Timestamp, VolunteerNumber};
use zhiyuan_federation::SigningKey;
use zhiyuan_federation::card::{CardCode, seal};

fn set_clock(node: &TestNode, at: &str) {
    let target = Timestamp::parse_rfc3339(at).unwrap().unix_millis();
    node.clock
        .advance_seconds((target - node.app().clock.now().unix_millis()) / 1000);
}

/// A published project of the team with one shift on 20 December 2026, 7:00 to 12:00;
/// answers (project, shift).
async fn project(
    node: &TestNode,
    team: &str,
    admin: &str,
    title: &str,
    capacity: u32,
) -> (String, String) {
    let created = node
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/tenants/421300/teams/{team}/projects"),
            Some(admin),
            Some(json!({
                "title": title, "summary": "补给与引导", "service_categories": ["major_events"],
                "region": "421303", "address": "随州市曾都区", "place": { "longitude": 113.38, "latitude": 31.69 },
                "starts_at": "2026-12-01T00:00:00+08:00", "ends_at": "2026-12-31T23:00:00+08:00",
                "contact_name": "李四", "contact_mobile": "13900002222",
                "shifts": [{ "starts_at": "2026-12-20T07:00:00+08:00", "ends_at": "2026-12-20T12:00:00+08:00", "capacity": capacity }]
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let shift = created.body["shifts"][0]["id"].as_str().unwrap().to_owned();
    node.call(
        reqwest::Method::POST,
        &format!("/api/v1/tenants/421300/projects/{id}/publication"),
        Some(admin),
        None,
    )
    .await
    .assert_ok();
    (id, shift)
}

/// `count` verified volunteers holding a place in the shift, written straight into the
/// database in one transaction: the storm scans their cards, and registering them through
/// HTTP would take longer than the measurement. Each has served before (an entry of two
/// hours in November, with its totals, through the store), as a city's volunteers have: the
/// storm meets tables of the size it would meet, not empty ones.
async fn seed_enrolled(
    node: &TestNode,
    team: &str,
    project: &str,
    shift: &str,
    count: usize,
) -> Vec<String> {
    use sqlx::Connection;
    let tenant = TenantCode::parse("421300").unwrap();
    let now = node.app().clock.now().unix_millis();
    // Identity numbers sealed with the tenant's data key, as the store seals them, so that the
    // node's issuer signs these volunteers' registrations as it would a city's.
    let sealing = zhiyuan_keys::KeyRing::new(
        &node.config.data_keys,
        Some(node.config.data_dir.join("keys")),
    )
    .unwrap()
    .data_keys("421300")
    .unwrap();
    let mut connection = node.database.connect(&node.config).await;
    let mut tx = connection.begin().await.unwrap();
    let mut numbers = Vec::with_capacity(count);
    let mut ids = Vec::with_capacity(count);
    for index in 0..count {
        let id = uuid::Uuid::now_v7().to_string();
        let number = VolunteerNumber::new(&tenant, 100_000_000 + index as u32).to_string();
        sqlx::query(
            "INSERT INTO volunteers (tenant_code, id, volunteer_number, name, id_kind, \
               id_number_sealed, id_number_index, id_number_masked, mobile, region_code, skills, \
               service_categories, status, applied_at, decided_at) \
             VALUES ('421300', $1, $2, '林志愿', 'resident_id_card', $3, $4, '****************00', \
               '13800001234', '421303', '[]', '[]', 'verified', $5, $5)",
        )
        .bind(&id)
        .bind(&number)
        .bind(sealing.seal("421300", "id_number", &format!("42130319900101{index:04}")))
        .bind(format!("bench-{index}"))
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO enrollments (tenant_code, id, shift_id, project_id, volunteer_id, status, \
               enrolled_at, changed_at, changed_by) \
             VALUES ('421300', $1, $2, $3, $4, 'accepted', $5, $5, 'bench')",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(shift)
        .bind(project)
        .bind(&id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
        numbers.push(number);
        ids.push(id);
    }
    sqlx::query("UPDATE shifts SET taken = $1 WHERE tenant_code = '421300' AND id = $2")
        .bind(count as i64)
        .bind(shift)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let team: uuid::Uuid = team.parse().unwrap();
    let office = zhiyuan_domain::Actor::system("bench");
    let november = zhiyuan_domain::parse_instant("2026-11-15T09:00:00+08:00", "/").unwrap();
    futures::stream::iter(ids)
        .map(|id| {
            let entry = zhiyuan_store::NewServiceRecord {
                volunteer_id: id.parse().unwrap(),
                team_id: team,
                project_id: None,
                shift_id: None,
                region: zhiyuan_domain::RegionCode::parse("421303").unwrap(),
                started_at: november,
                ended_at: november.plus_seconds(2 * 3600),
                minutes: zhiyuan_domain::Minutes::new(120),
                content: "社区服务".to_owned(),
                kind: zhiyuan_domain::ServiceRecordKind::Manual,
                card: None,
                card_serial: None,
                corrects: None,
                reason: Some("往期服务补录".to_owned()),
            };
            let (store, office, tenant) = (node.store(), &office, &tenant);
            async move {
                store
                    .record_service(tenant, &entry, office, november)
                    .await
                    .unwrap();
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    // Statistics as PostgreSQL's autovacuum would gather them after such a load, so that the
    // planner sees the tables as they are.
    if node.store().backend() == zhiyuan_store::Backend::Postgres {
        for table in [
            "volunteers",
            "enrollments",
            "service_records",
            "service_totals",
        ] {
            node.execute(&format!("ANALYZE {table}")).await;
        }
    }
    numbers
}

/// The codes the volunteers' apps would show at the node's time now.
fn codes(node: &TestNode, key: &SigningKey, numbers: &[String], round: u8) -> Vec<String> {
    let now = node.app().clock.now().unix_millis() / 1000;
    numbers
        .iter()
        .enumerate()
        .map(|(index, number)| {
            let mut token_id = (index as u32).to_be_bytes();
            token_id[0] |= round << 7;
            seal(
                key,
                &CardCode {
                    volunteer_number: number.clone(),
                    issued_at: now,
                    expires_at: Some(now + 60),
                    token_id: Some(token_id),
                    card_serial: None,
                },
            )
        })
        .collect()
}

/// Scans every code from 64 connections; answers each scan's latency and the whole span.
async fn drive_scans(
    url: &str,
    scanner: &str,
    codes: Vec<String>,
    expected: &'static str,
) -> (Vec<Duration>, Duration) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let queue = Arc::new(std::sync::Mutex::new(codes));
    let started = Instant::now();
    let workers: Vec<_> = (0..64)
        .map(|_| {
            let (client, queue, url, scanner) = (
                client.clone(),
                queue.clone(),
                url.to_owned(),
                scanner.to_owned(),
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let Some(code) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let sent = Instant::now();
                    let response = client
                        .post(&url)
                        .bearer_auth(&scanner)
                        .json(&json!({ "scan_id": uuid::Uuid::new_v4(), "code": code }))
                        .send()
                        .await
                        .expect("request");
                    assert_eq!(response.status(), 200);
                    let body: serde_json::Value = response.json().await.expect("body");
                    assert_eq!(body["outcome"], expected, "{body}");
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    (latencies, started.elapsed())
}

async fn health(node: &TestNode, token: &str, count: usize, concurrency: usize) -> Vec<Duration> {
    let client = reqwest::Client::new();
    let queue = Arc::new(std::sync::Mutex::new(count));
    let url = format!("{}/healthz", node.base_url);
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, queue, url, token) =
                (client.clone(), queue.clone(), url.clone(), token.to_owned());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    {
                        let mut left = queue.lock().unwrap();
                        if *left == 0 {
                            break;
                        }
                        *left -= 1;
                    }
                    let sent = Instant::now();
                    let response = client.get(&url).bearer_auth(&token).send().await.unwrap();
                    assert_eq!(response.status(), 200);
                    response.bytes().await.unwrap();
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    latencies
}

async fn check_in_storm(node: &TestNode, volunteers: usize) {
    let (team, admin) = support::approved_team(node, "曾都区马拉松志愿服务队", "19800101").await;
    let (project, shift) = project(node, &team, &admin.token, "马拉松补给站", 10_000).await;
    let seeding = Instant::now();
    let numbers = seed_enrolled(node, &team, &project, &shift, volunteers).await;
    eprintln!(
        "{volunteers} volunteers with a place seeded in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let ring = zhiyuan_keys::KeyRing::new(
        &node.config.data_keys,
        Some(node.config.data_dir.join("keys")),
    )
    .unwrap();
    let key = SigningKey::from_secret(&ring.signing_secret("421300").unwrap().secret);
    let url = format!(
        "{}/api/v1/tenants/421300/projects/{project}/scans",
        node.base_url
    );

    // What the city recorded before the event is signed and logged before it, as the node's
    // issuer would have done long since; the storm's own entries are signed while it runs.
    let tenant = TenantCode::parse("421300").unwrap();
    loop {
        let round = zhiyuan_app::credentials::issue_pending(
            node.app(),
            &tenant,
            Timestamp::from_unix_millis(0),
            2_000,
        )
        .await
        .unwrap();
        if round.issued == 0 {
            break;
        }
    }
    let records_before = node.count("service_records").await;
    set_clock(node, "2026-12-20T06:45:00+08:00");
    let arrivals = codes(node, &key, &numbers, 0);
    let (mut latencies, in_span) = drive_scans(&url, &admin.token, arrivals, "checked_in").await;
    set_clock(node, "2026-12-20T12:00:00+08:00");
    let departures = codes(node, &key, &numbers, 1);
    let (out_latencies, out_span) =
        drive_scans(&url, &admin.token, departures, "checked_out").await;
    latencies.extend(out_latencies);
    let scans = latencies.len();
    let rate = scans as f64 / (in_span + out_span).as_secs_f64();
    let records_after = node.count("service_records").await;
    assert_eq!(
        records_after - records_before,
        volunteers as i64,
        "every check-out credited ({records_before} entries before, {records_after} after)"
    );
    let mut baseline = health(node, &admin.token, scans, 64).await;
    println!(
        "| check-in storm: {volunteers} volunteers in and out, {scans} scans from 64 connections, {rate:.0} scans/s (in {:.0}/s, out {:.0}/s) | {} | {} | {} | {} |",
        volunteers as f64 / in_span.as_secs_f64(),
        volunteers as f64 / out_span.as_secs_f64(),
        ms(quantile(&mut latencies, 0.5)),
        ms(quantile(&mut latencies, 0.99)),
        ms(quantile(&mut baseline, 0.5)),
        ms(quantile(&mut baseline, 0.99)),
    );
}

async fn certificates(node: &TestNode, count: usize) {
    let (team, admin) = support::approved_team(node, "曾都区证明志愿服务队", "19820303").await;
    let (project, shift) = project(node, &team, &admin.token, "敬老院陪伴", 1).await;
    let enrolled = node
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/tenants/421300/shifts/{shift}/enrollment"),
            Some(&admin.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(enrolled.status, 201, "{:#}", enrolled.body);
    // Twenty days of service in November, by hand.
    for day in 1..=20 {
        node.call(reqwest::Method::POST, &format!("/api/v1/tenants/421300/teams/{team}/service-records"), Some(&admin.token), Some(json!({
            "volunteer_id": admin.id, "project_id": project,
            "started_at": format!("2026-11-{day:02}T09:00:00+08:00"), "ended_at": format!("2026-11-{day:02}T12:00:00+08:00"),
            "content": format!("敬老院陪伴第{day}次"), "reason": "纸质签到表补录"
        }))).await.assert_ok();
    }
    let mut issued_and_rendered = Vec::with_capacity(count);
    let mut pages = Vec::with_capacity(count);
    let client = reqwest::Client::new();
    for round in 0..count + 3 {
        let requested = node
            .call(
                reqwest::Method::POST,
                "/api/v1/tenants/421300/volunteers/me/certificates",
                Some(&admin.token),
                Some(json!({ "team_id": team, "from": "2026-11-01", "to": "2026-11-30" })),
            )
            .await;
        let id = requested.assert_ok()["id"].as_str().unwrap().to_owned();
        let started = Instant::now();
        let issued = client
            .post(format!("{}/api/v1/tenants/421300/certificates/{id}/issue", node.base_url))
            .bearer_auth(&admin.token)
            .json(&json!({ "person_in_charge": "王队长", "handler": "李经办", "contact": "0722-3331234" }))
            .send()
            .await
            .unwrap();
        assert_eq!(issued.status(), 200);
        issued.bytes().await.unwrap();
        let pdf = client
            .get(format!(
                "{}/api/v1/tenants/421300/certificates/{id}/pdf",
                node.base_url
            ))
            .bearer_auth(&admin.token)
            .send()
            .await
            .unwrap();
        assert_eq!(pdf.status(), 200);
        let bytes = pdf.bytes().await.unwrap();
        let elapsed = started.elapsed();
        assert!(bytes.starts_with(b"%PDF-"));
        let started = Instant::now();
        let page = client
            .get(format!(
                "{}/api/v1/tenants/421300/certificates/{id}/page",
                node.base_url
            ))
            .bearer_auth(&admin.token)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        page.bytes().await.unwrap();
        // The first rounds warm the caches.
        if round >= 3 {
            issued_and_rendered.push(elapsed);
            pages.push(started.elapsed());
            if round == 3 {
                eprintln!("a certificate's PDF: {} bytes", bytes.len());
            }
        }
    }
    println!(
        "| certificate issued and rendered as PDF, {count} one after another (beside: its HTML page) | {} | {} | {} | {} |",
        ms(quantile(&mut issued_and_rendered, 0.5)),
        ms(quantile(&mut issued_and_rendered, 0.99)),
        ms(quantile(&mut pages, 0.5)),
        ms(quantile(&mut pages, 0.99)),
    );
}

fn main() {
    let volunteers = setting("ZHIYUAN_BENCH_STORM", 10_000) as usize;
    let certificate_count = setting("ZHIYUAN_BENCH_CERTIFICATES", 30) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("| case | p50 | p99 | beside: p50 | beside: p99 |");
        println!("|---|---:|---:|---:|---:|");
        for backend in backends() {
            println!(
                "| **{}** | | | | |",
                match backend {
                    Backend::Sqlite => "SQLite (beside the storm: a signed-in health check)",
                    Backend::Postgres => "PostgreSQL (beside the storm: a signed-in health check)",
                }
            );
            let node = TestNode::spawn(backend).await;
            set_clock(&node, "2026-12-20T06:00:00+08:00");
            certificates(&node, certificate_count).await;
            check_in_storm(&node, volunteers).await;
            node.stop().await;
        }
    });
}
