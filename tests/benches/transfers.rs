//! Volunteers' transfers under load, on SQLite and on PostgreSQL:
//!
//! - importing: one volunteer with 10,000 signed service records moves between two tenants of
//!   a node; the destination checks every credential (its issuer's key in its window, its
//!   inclusion in the issuer's log) and the identity sent, registers the volunteer and counts
//!   the hours (`transfers::apply`, what the inbox runs once the request's signature holds);
//!   beside it, composing the same message at the source;
//! - delivering: 50 volunteers with 100 records each move from one node to another over HTTP
//!   at once: the time from the requests until every transfer is completed (signed, posted,
//!   checked, registered, receipted, settled), as records per second; beside it, the same
//!   messages applied in one process without HTTP.
//!
//! `cargo bench -p zhiyuan --bench transfers` (ZHIYUAN_BENCH_RECORDS to change the 10,000,
//! ZHIYUAN_BENCH_BACKEND=sqlite or postgres to run on one database only,
//! ZHIYUAN_BENCH_ONLY_IMPORT=1 to leave delivery out).

#[path = "../it/described.rs"]
#[allow(dead_code)]
mod described;
#[allow(dead_code)]
#[path = "measure.rs"]
mod measure;
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../it/support.rs"]
mod support;

use std::time::{Duration, Instant};

use measure::{backends, setting};
use serde_json::json;
use support::{Backend, TestNode, approved_team, did, federation, volunteers};
use uuid::Uuid;
use zhiyuan_domain::{Minutes, RegionCode, ServiceRecordKind, TenantCode, Timestamp, TotalsScope};
use zhiyuan_store::NewTransfer;

fn suizhou() -> TenantCode {
    TenantCode::parse("421300").unwrap()
}

/// `count` records of service for a volunteer, each an hour on its own day, then everything
/// the tenant recorded signed and logged.
async fn with_records(node: &TestNode, volunteer: Uuid, team: Uuid, count: u64) {
    let first = Timestamp::parse_rfc3339("2020-01-01T09:00:00+08:00").unwrap();
    for day in 0..count {
        let started = first.plus_seconds(i64::try_from(day).unwrap() * 86_400);
        let entry = zhiyuan_store::NewServiceRecord {
            volunteer_id: volunteer,
            team_id: team,
            project_id: None,
            shift_id: None,
            region: RegionCode::parse("421303").unwrap(),
            started_at: started,
            ended_at: started.plus_seconds(3600),
            minutes: Minutes::new(60),
            content: "社区服务".into(),
            kind: ServiceRecordKind::Manual,
            card: None,
            card_serial: None,
            corrects: None,
            reason: Some("纸质签到表补录".into()),
        };
        node.store()
            .record_service(
                &suizhou(),
                &entry,
                &zhiyuan_domain::Actor::system("bench"),
                node.app().clock.now(),
            )
            .await
            .unwrap();
    }
    loop {
        let round = zhiyuan_app::credentials::issue_pending(
            node.app(),
            &suizhou(),
            Timestamp::from_unix_millis(0),
            5_000,
        )
        .await
        .unwrap();
        if round.issued == 0 {
            break;
        }
    }
}

/// A transfer asked for in the store, as the volunteer's request makes it.
async fn transfer(node: &TestNode, volunteer: Uuid, destination: &str) -> Uuid {
    let id = Uuid::now_v7();
    node.store()
        .request_transfer(
            &suizhou(),
            &NewTransfer {
                id,
                volunteer_id: volunteer,
                destination: destination.to_owned(),
                consent: zhiyuan_app::transfers::CONSENT.to_owned(),
            },
            &zhiyuan_domain::Actor::system("bench"),
            node.app().clock.now(),
        )
        .await
        .unwrap();
    id
}

async fn importing(backend: Backend, records: u64) {
    // The node's own sender is kept out of the way: the bench applies the message itself.
    let node = TestNode::spawn_configured(backend, |config| {
        config.transfers.deliver_every_ms = 3_600_000;
    })
    .await;
    let (team, _) = approved_team(&node, "转移测试志愿服务队", "19880101").await;
    let person = &volunteers(&node, "421303", "19900101", 1).await[0];
    let volunteer = Uuid::parse_str(&person.id).unwrap();
    with_records(&node, volunteer, Uuid::parse_str(&team).unwrap(), records).await;
    let destination = did(&node, "420700");
    let id = transfer(&node, volunteer, &destination).await;

    let started = Instant::now();
    let body = zhiyuan_app::transfers::compose(node.app(), &suizhou(), id)
        .await
        .unwrap()
        .expect("every record signed");
    let composing = started.elapsed();
    let message: zhiyuan_app::transfers::TransferMessage = serde_json::from_str(&body).unwrap();

    let started = Instant::now();
    let answer = zhiyuan_app::transfers::apply(
        node.app(),
        &TenantCode::parse("420700").unwrap(),
        &did(&node, "421300"),
        message,
    )
    .await
    .unwrap();
    let applying = started.elapsed();
    assert_eq!(
        answer["receipt"]["credentialSubject"]["records"],
        json!(records)
    );
    println!(
        "| a bundle of {records} signed records verified and imported ({} MB): {:.3} s (beside: composed at the source, {:.3} s) |",
        body.len() / 1_000_000,
        applying.as_secs_f64(),
        composing.as_secs_f64()
    );
    node.stop().await;
}

async fn delivering(backend: Backend, people: usize, each: u64) {
    let nodes = federation(&[backend, backend]).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (team, _) = approved_team(a, "转移测试志愿服务队", "19880101").await;
    let team = Uuid::parse_str(&team).unwrap();
    let moving = volunteers(a, "421303", "19900101", people).await;
    for person in &moving {
        with_records(a, Uuid::parse_str(&person.id).unwrap(), team, each).await;
    }
    let destination = did(b, "420700");

    let started = Instant::now();
    for person in &moving {
        transfer(a, Uuid::parse_str(&person.id).unwrap(), &destination).await;
    }
    let total = people as u64 * each;
    loop {
        let completed = a.count("transfers_out WHERE status = 'completed'").await;
        if completed == people as i64 {
            break;
        }
        assert!(
            a.count("transfers_out WHERE status = 'refused'").await == 0,
            "a transfer was refused"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivering = started.elapsed();
    let arrived = b.count("transfers_in").await;
    assert_eq!(arrived, people as i64);

    // Beside it: the same kind of messages applied in one process, without HTTP or signatures
    // of requests (the source composes, a tenant of the same node applies).
    let local = TenantCode::parse("421300").unwrap();
    let mut applying = Duration::ZERO;
    let here = did(b, "421300");
    let again = volunteers(a, "421303", "19910101", 5).await;
    for person in &again {
        with_records(a, Uuid::parse_str(&person.id).unwrap(), team, each).await;
        let id = transfer(a, Uuid::parse_str(&person.id).unwrap(), &here).await;
        let body = zhiyuan_app::transfers::compose(a.app(), &suizhou(), id)
            .await
            .unwrap()
            .unwrap();
        let message = serde_json::from_str(&body).unwrap();
        let started = Instant::now();
        zhiyuan_app::transfers::apply(b.app(), &local, &did(a, "421300"), message)
            .await
            .unwrap();
        applying += started.elapsed();
    }
    let per_second_local = (5 * each) as f64 / applying.as_secs_f64();
    let sample = b
        .store()
        .service_totals(
            &TenantCode::parse("420700").unwrap(),
            TotalsScope::Volunteer,
            &arrived_volunteer(b).await.to_string(),
        )
        .await
        .unwrap();
    assert_eq!(sample.minutes.get(), each * 60);
    println!(
        "| delivering {people} transfers of {each} records between two nodes over HTTP: {:.0} records/s (beside: applied in one process, {:.0} records/s) | {:.2} s |",
        total as f64 / delivering.as_secs_f64(),
        per_second_local,
        delivering.as_secs_f64()
    );
    for node in nodes {
        node.stop().await;
    }
}

/// A volunteer who arrived at Ezhou.
async fn arrived_volunteer(node: &TestNode) -> Uuid {
    node.store()
        .volunteers(
            &TenantCode::parse("420700").unwrap(),
            &zhiyuan_store::VolunteerFilter {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap()[0]
        .id
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let records = setting("ZHIYUAN_BENCH_RECORDS", 10_000);
    for backend in backends() {
        println!("\n{backend:?}");
        importing(backend, records).await;
        if setting("ZHIYUAN_BENCH_ONLY_IMPORT", 0) == 0 {
            delivering(backend, 50, 100).await;
        }
    }
}
