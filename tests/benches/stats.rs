//! The registration report of a city at full scale: 300,000 verified volunteers over 2,000 units
//! and a city's regions, read through the whole stack (`GET .../stats/registration`) on SQLite
//! and on PostgreSQL. Reports the median and the slowest of 40 reads after 3 of warm-up.
//!
//! `cargo bench -p zhiyuan --bench stats`

#[path = "../it/described.rs"]
#[allow(dead_code)]
mod described;
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../it/support.rs"]
mod support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection;
use support::{Backend, TestNode, resident_id};
use zhiyuan_app::imports::{ImportMode, import_volunteers};
use zhiyuan_domain::{Actor, GrantKind, TenantCode};

const UNITS: usize = 2_000;
const VOLUNTEERS: usize = 300_000;
const REGIONS: [(&str, &str, u64); 4] = [
    ("421303", "曾都区", 612_618),
    ("421321", "随县", 558_240),
    ("421381", "广水市", 746_306),
    ("421371", "随州高新区", 96_457),
];

/// A city like Suizhou with 2,000 units.
fn tenant() -> serde_json::Value {
    let mut regions = vec![
        json!({ "code": "421300", "name": { "zh": "随州市" }, "level": "city", "resident_population": 2_047_923 }),
    ];
    for (code, name, population) in REGIONS {
        regions.push(json!({ "code": code, "parent": "421300", "name": { "zh": name }, "level": "county", "resident_population": population }));
    }
    let levels = ["national", "provincial", "municipal", "other"];
    let units: Vec<_> = (0..UNITS)
        .map(|i| {
            json!({
                "name": { "zh": format!("单位{i:04}") },
                "region": REGIONS[i % REGIONS.len()].0,
                "kind": "enterprise",
                "civilisation_level": levels[i % levels.len()],
                "staff": 100 + i % 400
            })
        })
        .collect();
    // Suizhou's targets, as its tenant file binds them: every line asks the plugin.
    let plugins = json!([
        { "hook": "region-target", "plugin": "suizhou-targets" },
        { "hook": "unit-target", "plugin": "suizhou-targets" }
    ]);
    json!({ "code": "421300", "name": { "zh": "随州市" }, "regions": regions, "units": units, "plugins": plugins })
}

fn volunteer_list() -> String {
    let mut text = String::from("姓名,证件号码,手机号码,所属区划,所属单位\n");
    let base = time::Date::from_calendar_date(1950, time::Month::January, 1).unwrap();
    for i in 0..VOLUNTEERS {
        let region = REGIONS[i % REGIONS.len()].0;
        // The zone's code is local, so its people's ID numbers carry the city's.
        let area = if region == "421371" { "421300" } else { region };
        let birth = base + time::Duration::days(((i / REGIONS.len()) % 20_000) as i64);
        let sequence = (i / (REGIONS.len() * 20_000)) % 1000;
        let first17 = format!(
            "{area}{:04}{:02}{:02}{sequence:03}",
            birth.year(),
            u8::from(birth.month()),
            birth.day()
        );
        let unit = i % UNITS;
        let _ = writeln!(
            text,
            "王芳,{},138{:08},{region},单位{unit:04}",
            resident_id(&first17),
            i
        );
    }
    text
}

async fn report_times(backend: Backend) -> ((Duration, Duration), (Duration, Duration)) {
    let node = TestNode::spawn_empty(backend).await;
    let operator = node.account_as(None, "operator", GrantKind::Operator).await;
    node.call(
        reqwest::Method::POST,
        "/api/v1/tenants",
        Some(&operator),
        Some(tenant()),
    )
    .await
    .assert_ok();
    let actor = Actor::system("benchmark");
    let tenant = TenantCode::parse("421300").unwrap();
    let report = import_volunteers(
        node.app(),
        &tenant,
        volunteer_list(),
        ImportMode::AllOrNothing,
        &actor,
        "bench",
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(
        report.imported,
        VOLUNTEERS as u64,
        "{:?}",
        report.errors.first()
    );
    // Setting up: every imported volunteer verified, in one statement.
    let mut connection = node.database.connect(&node.config).await;
    sqlx::query("UPDATE volunteers SET status = 'verified', volunteer_number = id")
        .execute(&mut connection)
        .await
        .unwrap();
    if backend == Backend::Postgres {
        // What autovacuum does within a minute of a change this size; the report is measured
        // in that steady state, not in the seconds after a bulk update.
        sqlx::query("VACUUM ANALYZE volunteers")
            .execute(&mut connection)
            .await
            .unwrap();
    }
    connection.close().await.unwrap();
    let office = node
        .account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;

    let with_plugins = measure(&node, &office, "suizhou-targets").await;
    // The same report with the built-in rules compiled into the node: what the plugins cost.
    node.call(
        reqwest::Method::PUT,
        "/api/v1/tenants/421300/policy",
        Some(&office),
        Some(json!({ "bindings": [] })),
    )
    .await
    .assert_ok();
    let built_in = measure(&node, &office, "built-in").await;
    node.stop().await;
    (with_plugins, built_in)
}

/// Median and slowest of 40 reads, after 3 of warm-up.
async fn measure(node: &TestNode, office: &str, policy: &str) -> (Duration, Duration) {
    let mut times = Vec::new();
    for round in 0..43 {
        let started = Instant::now();
        let answer = node
            .get("/api/v1/tenants/421300/stats/registration", office)
            .await;
        let elapsed = started.elapsed();
        let answer = answer.assert_ok();
        assert_eq!(answer["units"].as_array().unwrap().len(), UNITS);
        let source = answer["policy"]["unit_target"].as_str().unwrap();
        assert!(source.starts_with(policy), "{source}");
        assert!(answer["regions"][0]["verified"].as_u64().is_some());
        if round >= 3 {
            times.push(elapsed);
        }
    }
    times.sort();
    (times[times.len() / 2], *times.last().unwrap())
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("| backend | volunteers | units | targets from | median | slowest of 40 |");
    println!("|---|---:|---:|---|---:|---:|");
    for (name, backend) in [
        ("SQLite", Backend::Sqlite),
        ("PostgreSQL", Backend::Postgres),
    ] {
        let (with_plugins, built_in) = runtime.block_on(report_times(backend));
        for (policy, (median, slowest)) in [("plugin", with_plugins), ("built-in", built_in)] {
            println!(
                "| {name} | {VOLUNTEERS} | {UNITS} | {policy} | {:.1} ms | {:.1} ms |",
                median.as_secs_f64() * 1e3,
                slowest.as_secs_f64() * 1e3
            );
        }
    }
}
