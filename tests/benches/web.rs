//! The web pages' budgets, on SQLite and on PostgreSQL: each page's time on the node (a GET
//! on loopback, one at a time, so that the time is the node's: the session read, the use case,
//! the template) at the median and the 99th percentile, beside the node's health check in the
//! same run (the floor of any answer); and what a first visit transfers: the page with the
//! stylesheet and scripts it loads.
//!
//! `cargo bench -p zhiyuan --bench web` (ZHIYUAN_BENCH_REQUESTS to change the 500 requests
//! a page, ZHIYUAN_BENCH_BACKEND=sqlite or postgres to run on one database only).

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

use measure::{backends, ms, quantile, setting};
use support::{TestNode, approved_team, service_record, volunteers};

/// What a page loads beside itself on a first visit.
const ASSETS: [&str; 2] = ["/assets/site.css", "/assets/app.js"];

/// `count` GETs of `path` one after another: the latencies and the size of the body.
async fn time_page(
    client: &reqwest::Client,
    node: &TestNode,
    path: &str,
    cookie: Option<&str>,
    count: u64,
) -> (Vec<Duration>, usize) {
    let mut latencies = Vec::new();
    let mut size = 0;
    for _ in 0..count {
        let mut request = client.get(format!("{}{path}", node.base_url));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let started = Instant::now();
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        size = answer.bytes().await.unwrap().len();
        latencies.push(started.elapsed());
    }
    (latencies, size)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let requests = setting("ZHIYUAN_BENCH_REQUESTS", 500);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for backend in backends() {
        let node = TestNode::spawn(backend).await;
        let person = volunteers(&node, "421303", "19900101", 1).await.remove(0);
        let (team, founder) = approved_team(&node, "曾都区测试志愿服务队", "19800101").await;
        let volunteer = uuid::Uuid::parse_str(&person.id).unwrap();
        let team = uuid::Uuid::parse_str(&team).unwrap();
        for day in 1..=20 {
            service_record(&node, volunteer, team, day, None).await;
        }
        let cookie = format!("zhiyuan_session={}", person.token);
        let admin = format!("zhiyuan_session={}", founder.token);
        let office = node
            .account_as(
                Some("421300"),
                "office.bench",
                zhiyuan_domain::GrantKind::OfficeAdmin,
            )
            .await;
        let office = format!("zhiyuan_session={office}");
        let team_page = format!("/t/421300/teams/{team} (the team's admin: members, 20 entries)");

        let mut assets = 0;
        for asset in ASSETS {
            assets += time_page(&client, &node, asset, None, 1).await.1;
        }
        println!("\n{backend:?} ({requests} requests a page, one at a time)");
        println!("| page | median | p99 | first visit (page + stylesheet + scripts) |");
        println!("|---|---:|---:|---:|");
        let pages: [(&str, Option<&str>, usize); 14] = [
            ("/healthz (beside: the floor)", None, 0),
            ("/", None, 0),
            ("/t/421300/projects", None, 0),
            ("/signin", None, 0),
            ("/me", Some(&cookie), 0),
            (
                "/me/card",
                Some(&cookie),
                include_str!("../../core/web/assets/card.js").len(),
            ),
            ("/me/shifts", Some(&cookie), 0),
            ("/me/certificates", Some(&cookie), 0),
            ("/me/credentials", Some(&cookie), 0),
            ("/teams (the team's admin)", Some(&admin), 0),
            (&team_page, Some(&admin), 0),
            ("/review (the city office)", Some(&office), 0),
            ("/report (the city office)", Some(&office), 0),
            ("/node", None, 0),
        ];
        for (label, cookie, scripts) in pages {
            let path = label.split(' ').next().unwrap();
            time_page(&client, &node, path, cookie, 20).await;
            let (mut latencies, size) = time_page(&client, &node, path, cookie, requests).await;
            let first_visit = if path == "/healthz" {
                String::from("-")
            } else {
                format!("{:.1} KB", (size + assets + scripts) as f64 / 1024.0)
            };
            println!(
                "| {label} | {} | {} | {first_visit} |",
                ms(quantile(&mut latencies, 0.5)),
                ms(quantile(&mut latencies, 0.99)),
            );
        }
        node.stop().await;
    }
}
