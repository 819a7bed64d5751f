//! Load driver for projects, on SQLite and on PostgreSQL, each beside a signed-in health check
//! measured in the same run (the same stack with no database read):
//!
//! - nearby search through HTTP over 50,000 recruiting projects spread over Hubei: the 20
//!   nearest within 10 km with a category filter, asked from 500 points one after another;
//! - a sign-up burst: 2,000 verified volunteers sign up for one shift of capacity 100 from 64
//!   connections at once; exactly 100 must hold a place.
//!
//! `cargo bench -p zhiyuan --bench projects` (ZHIYUAN_BENCH_PROJECTS, ZHIYUAN_BENCH_SIGN_UPS to
//! change the defaults of 50,000 projects and 2,000 sign-ups).

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

use measure::{ms, quantile, setting};
use serde_json::json;
use support::{Backend, TestNode};
use zhiyuan_domain::ServiceCategory;

/// Hubei's extent, in WGS-84 degrees.
const LONGITUDES: (f64, f64) = (108.35, 116.13);
const LATITUDES: (f64, f64) = (29.03, 33.27);

/// A small, seeded generator, so that every run places the projects alike.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn within(&mut self, (low, high): (f64, f64)) -> f64 {
        low + (high - low) * self.next()
    }
}

/// Writes `count` published projects of one team straight into the database, in batches: the
/// search reads them as the node writes them (places in 1e-7 degrees, categories as bits), and
/// seeding through HTTP would take longer than the measurement.
async fn seed_projects(node: &TestNode, team: &str, count: usize) {
    let categories: Vec<ServiceCategory> = ServiceCategory::ALL
        .into_iter()
        .filter(|category| *category != ServiceCategory::Other)
        .collect();
    let mut random = Seeded(0x5eed_1234_abcd_ef01);
    let starts = 1_796_000_000_000_i64;
    let ends = starts + 30 * 24 * 3600 * 1000;
    for batch in (0..count).collect::<Vec<_>>().chunks(500) {
        let mut values = Vec::with_capacity(batch.len());
        for index in batch {
            let category = categories[index % categories.len()];
            let longitude = (random.within(LONGITUDES) * 1e7).round() as i64;
            let latitude = (random.within(LATITUDES) * 1e7).round() as i64;
            let id = uuid::Uuid::now_v7();
            values.push(format!(
                "('421300', '{id}', '{team}', NULL, '项目{index}', '简介', '', '{categories}', {bits}, '[]', \
                 '421303', '地址', {longitude}, {latitude}, {starts}, {ends}, '李四', '13900002222', \
                 'not_allowed', 'automatic', 2, 'published', NULL, {starts}, 'bench', {starts})",
                categories = json!([category]),
                bits = category.bit(),
            ));
        }
        node.execute(&format!(
            "INSERT INTO projects (tenant_code, id, team_id, need_id, title, summary, description, \
             categories, category_bits, skills, region_code, address, longitude_e7, latitude_e7, \
             starts_at, ends_at, contact_name, contact_mobile, minors, acceptance, \
             withdrawal_cutoff_hours, status, decision_reason, created_at, created_by, changed_at) \
             VALUES {}",
            values.join(", ")
        ))
        .await;
    }
    if node.store().backend() == zhiyuan_store::Backend::Postgres {
        node.execute("ANALYZE projects").await;
    }
}

/// `concurrency` clients send GETs of `urls` one after another; every answer must be 200.
async fn drive_gets(urls: Vec<String>, token: Option<String>, concurrency: usize) -> Vec<Duration> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let queue = Arc::new(std::sync::Mutex::new(urls));
    let token = Arc::new(token);
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, queue, token) = (client.clone(), queue.clone(), token.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let Some(url) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let sent = Instant::now();
                    let mut request = client.get(&url);
                    if let Some(token) = token.as_ref() {
                        request = request.bearer_auth(token);
                    }
                    let response = request.send().await.expect("request");
                    assert_eq!(response.status(), 200, "{url}");
                    response.bytes().await.expect("body");
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

async fn nearby_search(node: &TestNode, projects: usize) {
    let (team, admin) = support::approved_team(node, "曾都区银杏志愿服务队", "19800101").await;
    let started = Instant::now();
    seed_projects(node, &team, projects).await;
    let seeded = started.elapsed();
    let mut random = Seeded(0x0dd_ba11);
    let queries: Vec<String> = (0..500)
        .map(|_| {
            format!(
                "{}/api/v1/tenants/421300/projects?longitude={:.6}&latitude={:.6}&radius_m=10000&category=elderly_and_disabled&limit=20",
                node.base_url,
                random.within(LONGITUDES),
                random.within(LATITUDES)
            )
        })
        .collect();
    // What a query finds, to show the search does work: projects within 10 km of the first.
    let first = reqwest::get(&queries[0])
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let found_first = first["items"].as_array().map_or(0, Vec::len);
    drive_gets(queries.iter().take(50).cloned().collect(), None, 1).await;
    let mut search = drive_gets(queries, None, 1).await;
    let health = vec![format!("{}/healthz", node.base_url); 500];
    drive_gets(health.clone(), Some(admin.token.clone()), 1).await;
    let mut baseline = drive_gets(health, Some(admin.token), 1).await;
    println!(
        "| nearby search, {projects} projects (seeded in {:.1} s; first query found {found_first}) | {} | {} | {} | {} |",
        seeded.as_secs_f64(),
        ms(quantile(&mut search, 0.5)),
        ms(quantile(&mut search, 0.99)),
        ms(quantile(&mut baseline, 0.5)),
        ms(quantile(&mut baseline, 0.99)),
    );
}

async fn sign_up_burst(node: &TestNode, sign_ups: usize) {
    let (team, admin) = support::approved_team(node, "曾都区青松志愿服务队", "19810202").await;
    let created = node
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/tenants/421300/teams/{team}/projects"),
            Some(&admin.token),
            Some(json!({
                "title": "马拉松补给站", "summary": "补给与引导", "service_categories": ["major_events"],
                "region": "421303", "address": "随州市曾都区", "place": { "longitude": 113.38, "latitude": 31.69 },
                "starts_at": "2026-12-01T00:00:00+08:00", "ends_at": "2026-12-31T23:00:00+08:00",
                "contact_name": "李四", "contact_mobile": "13900002222",
                "shifts": [{ "starts_at": "2026-12-20T07:00:00+08:00", "ends_at": "2026-12-20T12:00:00+08:00", "capacity": 100 }]
            })),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let shift = created.body["shifts"][0]["id"].as_str().unwrap().to_owned();
    node.call(
        reqwest::Method::POST,
        &format!("/api/v1/tenants/421300/projects/{id}/publication"),
        Some(&admin.token),
        None,
    )
    .await
    .assert_ok();
    let making = Instant::now();
    let people = support::volunteers(node, "421303", "19960606", sign_ups).await;
    eprintln!(
        "{sign_ups} verified volunteers made in {:.1} s",
        making.elapsed().as_secs_f64()
    );
    let url = format!(
        "{}/api/v1/tenants/421300/shifts/{shift}/enrollment",
        node.base_url
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let tokens = Arc::new(std::sync::Mutex::new(
        people
            .into_iter()
            .map(|person| person.token)
            .collect::<Vec<_>>(),
    ));
    let started = Instant::now();
    let workers: Vec<_> = (0..64)
        .map(|_| {
            let (client, tokens, url) = (client.clone(), tokens.clone(), url.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                loop {
                    let Some(token) = tokens.lock().unwrap().pop() else {
                        break;
                    };
                    let sent = Instant::now();
                    let response = client
                        .post(&url)
                        .bearer_auth(token)
                        .json(&json!({}))
                        .send()
                        .await
                        .expect("request");
                    assert_eq!(response.status(), 201);
                    let body: serde_json::Value = response.json().await.expect("body");
                    answers.push((
                        sent.elapsed(),
                        body["status"].as_str().unwrap_or_default().to_owned(),
                    ));
                }
                answers
            })
        })
        .collect();
    let mut answers = Vec::new();
    for worker in workers {
        answers.extend(worker.await.unwrap());
    }
    let elapsed = started.elapsed();
    let accepted = answers
        .iter()
        .filter(|(_, status)| status == "accepted")
        .count();
    let waitlisted = answers
        .iter()
        .filter(|(_, status)| status == "waitlisted")
        .count();
    assert_eq!(accepted, 100, "exactly the shift's capacity holds a place");
    assert_eq!(accepted + waitlisted, sign_ups);
    let mut latencies: Vec<Duration> = answers.into_iter().map(|(latency, _)| latency).collect();
    let health = vec![format!("{}/healthz", node.base_url); sign_ups];
    let mut baseline = drive_gets(health, Some(admin.token), 64).await;
    println!(
        "| sign-up burst, {sign_ups} from 64 connections ({accepted} accepted, {waitlisted} waitlisted, {:.0} requests/s) | {} | {} | {} | {} |",
        sign_ups as f64 / elapsed.as_secs_f64(),
        ms(quantile(&mut latencies, 0.5)),
        ms(quantile(&mut latencies, 0.99)),
        ms(quantile(&mut baseline, 0.5)),
        ms(quantile(&mut baseline, 0.99)),
    );
}

fn main() {
    let projects = setting("ZHIYUAN_BENCH_PROJECTS", 50_000) as usize;
    let sign_ups = setting("ZHIYUAN_BENCH_SIGN_UPS", 2_000) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("| case | p50 | p99 | health check p50 | health check p99 |");
        println!("|---|---:|---:|---:|---:|");
        for backend in [Backend::Sqlite, Backend::Postgres] {
            println!(
                "| **{}** | | | | |",
                match backend {
                    Backend::Sqlite => "SQLite",
                    Backend::Postgres => "PostgreSQL",
                }
            );
            let node = TestNode::spawn(backend).await;
            nearby_search(&node, projects).await;
            sign_up_burst(&node, sign_ups).await;
            node.stop().await;
        }
    });
}
