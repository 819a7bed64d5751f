//! Load driver: an authenticated read through the whole stack (session lookup, tenant check,
//! unit lookup, JSON) on SQLite and on PostgreSQL, beside a bare axum handler measured in the
//! same run. The ratio of the node to the bare handler is the figure that matters; absolute
//! numbers depend on the machine.
//!
//! `cargo bench -p zhiyuan --bench http_read` (ZHIYUAN_BENCH_SECONDS, ZHIYUAN_BENCH_CONCURRENCY
//! to change the defaults of 10 s and 32 connections).

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

use axum::Json;
use axum::routing::get;
use measure::setting;
use serde_json::json;
use support::{Backend, TestNode};
use zhiyuan_domain::GrantKind;

struct Figures {
    requests: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// `concurrency` clients send GETs back to back for `duration`; every answer must be 200.
async fn drive(
    url: String,
    token: Option<String>,
    concurrency: usize,
    duration: Duration,
) -> Figures {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let started = Instant::now();
    let deadline = started + duration;
    let url = Arc::new(url);
    let token = Arc::new(token);
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let client = client.clone();
            let url = url.clone();
            let token = token.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let mut request = client.get(url.as_str());
                    if let Some(token) = token.as_ref() {
                        request = request.bearer_auth(token);
                    }
                    let response = request.send().await.expect("request");
                    assert_eq!(response.status(), 200);
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
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |quantile: f64| {
        latencies[((latencies.len() as f64 * quantile) as usize).min(latencies.len() - 1)]
    };
    Figures {
        requests: latencies.len(),
        elapsed,
        p50: at(0.50),
        p99: at(0.99),
    }
}

async fn bare_axum() -> String {
    let app = axum::Router::new().route(
        "/unit",
        get(|| async {
            Json(json!({
                "id": "01938a8e-0000-7000-8000-000000000000",
                "name": { "zh": "随州市公安局", "en": "Suizhou Public Security Bureau" },
                "region": "421300", "kind": "organ", "civilisation_level": "national", "staff": 1200
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/unit")
}

async fn node_read(backend: Backend) -> (TestNode, String, String) {
    let node = TestNode::spawn(backend).await;
    let token = node
        .account_as(Some("421300"), "office", GrantKind::OfficeAdmin)
        .await;
    let units = node.get("/api/v1/tenants/421300/units", &token).await;
    let id = units.body["items"][0]["id"].as_str().unwrap().to_owned();
    let url = format!("{}/api/v1/tenants/421300/units/{id}", node.base_url);
    (node, url, token)
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}

fn main() {
    let seconds = setting("ZHIYUAN_BENCH_SECONDS", 10);
    let concurrency = setting("ZHIYUAN_BENCH_CONCURRENCY", 32) as usize;
    let duration = Duration::from_secs(seconds);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let bare_url = bare_axum().await;
        // Warm up connections and caches before measuring.
        drive(bare_url.clone(), None, concurrency, Duration::from_secs(1)).await;
        let bare = drive(bare_url, None, concurrency, duration).await;
        println!("| case | requests/s | p50 | p99 | bare / case |");
        println!("|---|---:|---:|---:|---:|");
        let row = |name: &str, figures: &Figures| {
            println!(
                "| {name} | {:.0} | {:.2} ms | {:.2} ms | {:.1}x |",
                figures.per_second(),
                figures.p50.as_secs_f64() * 1e3,
                figures.p99.as_secs_f64() * 1e3,
                bare.per_second() / figures.per_second()
            );
        };
        row("bare axum handler", &bare);
        for (name, backend) in [
            ("authenticated unit read, SQLite", Backend::Sqlite),
            ("authenticated unit read, PostgreSQL", Backend::Postgres),
        ] {
            let (node, url, token) = node_read(backend).await;
            if backend == Backend::Sqlite {
                // The same stack (layers, session, permission table) with no database read:
                // what the node costs before its one query.
                let health = format!("{}/healthz", node.base_url);
                drive(
                    health.clone(),
                    Some(token.clone()),
                    concurrency,
                    Duration::from_secs(1),
                )
                .await;
                let figures = drive(health, Some(token.clone()), concurrency, duration).await;
                row("signed-in health check, no database read", &figures);
            }
            drive(
                url.clone(),
                Some(token.clone()),
                concurrency,
                Duration::from_secs(1),
            )
            .await;
            let figures = drive(url, Some(token.clone()), concurrency, duration).await;
            row(name, &figures);
            // A read that goes to the database every time: the signed-in account.
            let account = format!("{}/api/v1/session", node.base_url);
            drive(
                account.clone(),
                Some(token.clone()),
                concurrency,
                Duration::from_secs(1),
            )
            .await;
            let figures = drive(account, Some(token), concurrency, duration).await;
            row(
                &format!("signed-in account read, {}", backend_name(backend)),
                &figures,
            );
            node.stop().await;
        }
        println!(
            "\n{concurrency} connections, {seconds} s per case, client and server on one machine."
        );
    });
}
