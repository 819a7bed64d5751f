//! The `zhiyuan` binary as an operator runs it: a real process, started, probed over HTTP, and
//! stopped with SIGTERM; its command line; HTTPS.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::support::{Backend, Database, TestNode};

pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_zhiyuan");

/// A running `zhiyuan` process and what it printed so far.
pub(crate) struct Process {
    pub(crate) child: Child,
    pub(crate) base_url: String,
    printed: Vec<String>,
}

impl Process {
    fn start(dir: &Path, args: &[&str]) -> Process {
        Process::start_logging(dir, args, "warn", Stdio::inherit())
    }

    /// Starts with `RUST_LOG` set to `log` and the logs (standard error) sent to `logs`.
    pub(crate) fn start_logging(dir: &Path, args: &[&str], log: &str, logs: Stdio) -> Process {
        let mut child = Command::new(BINARY)
            .args(args)
            .current_dir(dir)
            .env("RUST_LOG", log)
            .stdout(Stdio::piped())
            .stderr(logs)
            .spawn()
            .expect("start zhiyuan");
        let stdout = child.stdout.take().unwrap();
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut printed = Vec::new();
        loop {
            let Ok(line) = received.recv_timeout(Duration::from_secs(60)) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("zhiyuan did not print where it listens; it printed {printed:?}");
            };
            if let Some(url) = line.strip_prefix("zhiyuan listening on ") {
                let base_url = url.split_whitespace().next().unwrap().to_owned();
                printed.push(line);
                return Process {
                    child,
                    base_url,
                    printed,
                };
            }
            printed.push(line);
        }
    }

    /// Sends SIGTERM and answers the exit code.
    pub(crate) fn terminate(&mut self) -> Option<i32> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("zhiyuan did not stop within 10 s of SIGTERM");
    }
}

/// A test that fails half-way leaves no process behind.
impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn serves_and_stops_cleanly(backend: Backend) {
    let (database, config) = Database::create(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"];
    let url = config.database_url.clone().unwrap_or_default();
    if backend == Backend::Postgres {
        args.extend(["--database-url", url.as_str()]);
    }
    let mut process = Process::start(dir.path(), &args);
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", process.base_url)).send();

    let health = get("/healthz").await.unwrap();
    assert_eq!(health.status(), 200);
    let request_id = health.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(request_id).is_ok(), "{request_id}");
    let ready: serde_json::Value = get("/readyz").await.unwrap().json().await.unwrap();
    let expected = if backend == Backend::Sqlite {
        "sqlite"
    } else {
        "postgres"
    };
    assert_eq!(ready["database"], expected);
    let tenants: serde_json::Value = get("/api/v1/tenants").await.unwrap().json().await.unwrap();
    assert_eq!(tenants["items"].as_array().unwrap().len(), 2);
    let openapi: serde_json::Value = get("/api/openapi.json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(openapi["paths"]["/api/v1/tenants/{tenant}/units"]["post"].is_object());
    assert_eq!(
        openapi["components"]["schemas"]["TenantConfig"]["title"],
        "TenantConfig"
    );
    // Metrics take an operator's session on the main address, and none on their own.
    assert_eq!(get("/metrics").await.unwrap().status(), 401);
    let metrics_url = process
        .printed
        .iter()
        .find_map(|line| line.strip_prefix("zhiyuan metrics on "))
        .expect("the metrics address is printed")
        .to_owned();
    let metrics = client
        .get(&metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("zhiyuan_http_requests_total{"),
        "{metrics}"
    );
    assert!(metrics.contains("route=\"/api/v1/tenants\""), "{metrics}");

    assert_eq!(process.terminate(), Some(0));
    if backend == Backend::Sqlite {
        assert!(dir.path().join("data/zhiyuan.sqlite3").exists());
    }
    drop(database);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_serves_and_exits_zero_on_sigterm_sqlite() {
    serves_and_stops_cleanly(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_serves_and_exits_zero_on_sigterm_postgres() {
    serves_and_stops_cleanly(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_prints_credentials_that_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut process = Process::start(dir.path(), &["--listen", "127.0.0.1:0", "demo"]);
    let row = process
        .printed
        .iter()
        .find(|line| line.split_whitespace().take(2).eq(["421300", "office"]))
        .expect("the office account is printed");
    let password = row.split_whitespace().last().unwrap();
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/session", process.base_url))
        .json(&json!({ "tenant": "421300", "username": "office", "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    // The demo volunteer is verified and carries a card; the office sees the demo volunteers.
    let volunteer_row = process
        .printed
        .iter()
        .find(|line| line.split_whitespace().take(2).eq(["421300", "volunteer"]))
        .expect("the volunteer account is printed")
        .clone();
    let client = reqwest::Client::new();
    let sign_in = |username: &str, password: &str| {
        client
            .post(format!("{}/api/v1/session", process.base_url))
            .json(&json!({ "tenant": "421300", "username": username, "password": password }))
            .send()
    };
    let session: serde_json::Value = sign_in(
        "volunteer",
        volunteer_row.split_whitespace().last().unwrap(),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let token = session["token"].as_str().unwrap();
    let card: serde_json::Value = client
        .get(format!(
            "{}/api/v1/tenants/421300/volunteers/me/card",
            process.base_url
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        card["volunteer_number"].as_str().map(str::len),
        Some(16),
        "{card}"
    );
    let office: serde_json::Value = sign_in("office", password)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: serde_json::Value = client
        .get(format!(
            "{}/api/v1/tenants/421300/volunteers",
            process.base_url
        ))
        .bearer_auth(office["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed["items"].as_array().unwrap().len() >= 7, "{listed}");
    for capacity in [
        "operator",
        "office_admin",
        "reviewer",
        "team_admin",
        "volunteer",
        "auditor",
    ] {
        assert!(
            process.printed.iter().any(|line| line.contains(capacity)),
            "{capacity}"
        );
    }
    assert_eq!(process.terminate(), Some(0));
}

fn run(dir: &Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(BINARY)
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_bootstraps_a_node() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();

    let (ok, out, _) = run(path, &["migrate"], "");
    assert!(ok && out.contains("migrated"), "{out}");
    let (ok, _, _) = run(path, &["migrate"], "");
    assert!(ok, "migrating twice is harmless");

    let (ok, out, _) = run(
        path,
        &["tenant", "check", "../../tenants/suizhou/tenant.toml"],
        "",
    );
    assert!(!ok, "a path that does not exist is an error: {out}");
    let suizhou = concat!(env!("CARGO_MANIFEST_DIR"), "/../suizhou/tenant.toml");
    let (ok, out, err) = run(path, &["tenant", "check", suizhou], "");
    assert!(ok, "{err}");
    assert!(out.starts_with("421300 随州市: 6 regions"), "{out}");

    let broken = path.join("broken.toml");
    std::fs::write(
        &broken,
        std::fs::read_to_string(suizhou).unwrap().replacen(
            "level = \"county\"",
            "level = \"township\"",
            1,
        ),
    )
    .unwrap();
    let (ok, _, err) = run(path, &["tenant", "check", broken.to_str().unwrap()], "");
    assert!(!ok);
    assert!(
        err.contains("schema_violation at /regions/1/level"),
        "{err}"
    );

    // The first office admin of a tenant, with the password on standard input.
    let (ok, out, err) = run(
        path,
        &[
            "admin",
            "create-account",
            "--tenant",
            "421300",
            "--username",
            "first.admin",
            "--grant",
            "office_admin",
        ],
        "a-long-enough-password\n",
    );
    assert!(ok, "{err}");
    assert!(
        out.starts_with("created first.admin (office_admin=tenant)"),
        "{out}"
    );
    let (ok, _, err) = run(
        path,
        &[
            "admin",
            "create-account",
            "--tenant",
            "421300",
            "--username",
            "first.admin",
            "--grant",
            "office_admin",
        ],
        "a-long-enough-password\n",
    );
    assert!(!ok && err.contains("username_taken"), "{err}");
    let (ok, _, err) = run(
        path,
        &[
            "admin",
            "create-account",
            "--tenant",
            "421300",
            "--username",
            "x",
            "--grant",
            "office_admin",
        ],
        "a-long-enough-password\n",
    );
    assert!(!ok && err.contains("username_format"), "{err}");
    let (ok, _, err) = run(
        path,
        &[
            "admin",
            "create-account",
            "--username",
            "root.op",
            "--grant",
            "king",
        ],
        "",
    );
    assert!(!ok && err.contains("a grant kind is one of"), "{err}");

    let mut process = Process::start(path, &["--listen", "127.0.0.1:0"]);
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/session", process.base_url))
        .json(&json!({ "tenant": "421300", "username": "first.admin", "password": "a-long-enough-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(process.terminate(), Some(0));
}

#[test]
fn unknown_configuration_keys_stop_the_node_with_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\ndatabase = \"postgres://x\"\n",
    )
    .unwrap();
    let (ok, _, err) = run(
        dir.path(),
        &["--config", config.to_str().unwrap(), "migrate"],
        "",
    );
    assert!(!ok);
    assert!(err.contains("unknown field `database`"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_served_with_a_configured_certificate() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let certificate = dir.path().join("node.crt");
    let key = dir.path().join("node.key");
    std::fs::write(&certificate, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();

    let (database, mut config) = Database::create(Backend::Sqlite).await;
    config.tls = Some(zhiyuan::config::TlsConfig {
        certificate,
        private_key: key,
    });
    let clock = std::sync::Arc::new(zhiyuan_domain::FixedClock::new(
        zhiyuan_domain::Timestamp::from_unix_millis(crate::support::TEST_EPOCH_MILLIS),
    ));
    let node = zhiyuan::Node::start(&config, clock).await.unwrap();
    let port = node.local_addr.port();
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap(),
        )
        .resolve("localhost", node.local_addr)
        .build()
        .unwrap();
    let answer = client
        .get(format!("https://localhost:{port}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains",
        "served over TLS, answers tell browsers to keep to it"
    );
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(
        plain.is_err() || !plain.unwrap().status().is_success(),
        "plain HTTP is not served on the TLS port"
    );
    node.shutdown(Duration::from_secs(5)).await.unwrap();
    drop(database);
}

/// The in-process node used by the other tests stops cleanly too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_process_node_shuts_down_cleanly() {
    let node = TestNode::spawn(Backend::Sqlite).await;
    node.call(Method::GET, "/healthz", None, None)
        .await
        .assert_ok();
    node.stop().await;
}

/// Identity numbers never reach the logs, even at the most verbose level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_numbers_stay_out_of_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("node.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut process = Process::start_logging(
        dir.path(),
        &["--listen", "127.0.0.1:0"],
        "trace",
        Stdio::from(log),
    );
    let client = reqwest::Client::new();
    let id_number = crate::support::resident_id("42130319900307123");
    let bad_number = format!("{}0", &id_number[..17]);
    for number in [&id_number, &id_number, &bad_number] {
        let body = crate::support::application("王五", number, "wang.wu");
        let _ = client
            .post(format!(
                "{}/api/v1/tenants/421300/volunteers",
                process.base_url
            ))
            .json(&body)
            .send()
            .await
            .unwrap();
    }
    // Typed where the username goes on a sign-in form.
    let answer = client
        .post(format!("{}/api/v1/session", process.base_url))
        .json(&json!({ "tenant": "421300", "username": id_number, "password": "wrong-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    assert_eq!(process.terminate(), Some(0));
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("/api/v1/tenants/421300/volunteers"),
        "the requests were logged"
    );
    assert!(logs.contains("refused sign-in"), "the sign-in was logged");
    assert!(
        !logs.contains(&id_number[..17]),
        "an identity number is in the logs"
    );
}

/// Text a client chose reaches the logs escaped: a username carrying a line feed, a carriage
/// return or a Unicode line separator cannot begin a line of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_log_line_stays_inside_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("node.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut process = Process::start_logging(
        dir.path(),
        &["--listen", "127.0.0.1:0"],
        "info",
        Stdio::from(log),
    );
    // Within the 64 characters a username may have.
    let forged = "2026-11-30T08:00:00Z ERROR zhiyuan: forged";
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for separator in ["\n", "\r", "\u{2028}", "\u{85}"] {
        let answer = client
            .post(format!("{}/api/v1/session", process.base_url))
            .json(&json!({ "tenant": "421300", "username": format!("nobody{separator}{forged}"), "password": "wrong-password" }))
            .send()
            .await
            .unwrap();
        statuses.push(answer.status().as_u16());
    }
    // Line breaks are text a field may hold (multi-line reasons keep them), so these reach the
    // sign-in and its log line; NEL is a control character and refused before anything is read.
    assert_eq!(statuses, [401, 401, 401, 422]);
    assert_eq!(process.terminate(), Some(0));
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("refused sign-in"),
        "the refused sign-in was logged: {logs}"
    );
    assert!(
        logs.contains("\\u{2028}") && logs.contains("nobody\\n2026"),
        "written escaped: {logs}"
    );
    for line in logs.lines() {
        assert!(!line.starts_with(forged), "a forged line: {line}");
    }
    assert!(
        !logs.contains('\u{2028}'),
        "no raw line separator reaches the logs"
    );
}

#[test]
fn an_operator_signs_verifies_and_inspects_a_plugin_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let plugin = path.join("suizhou-targets.wasm");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../plugins/dist/suizhou-targets.wasm"
        ),
        &plugin,
    )
    .unwrap();
    let plugin = plugin.to_str().unwrap();

    let (ok, public, err) = run(path, &["plugin", "keygen", "--out", "operator.key"], "");
    assert!(ok, "{err}");
    let public = public.trim().to_owned();
    assert!(public.starts_with("z6Mk"), "{public}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path.join("operator.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the secret key is its owner's alone");
    }
    let (ok, _, _) = run(path, &["plugin", "keygen", "--out", "operator.key"], "");
    assert!(!ok, "an existing key is never overwritten");

    let (ok, signature, err) = run(
        path,
        &["plugin", "sign", "--key", "operator.key", plugin],
        "",
    );
    assert!(ok, "{err}");
    assert_eq!(
        std::fs::read_to_string(format!("{plugin}.sig"))
            .unwrap()
            .trim(),
        signature.trim()
    );

    let (ok, out, err) = run(
        path,
        &["plugin", "verify", "--trusted-key", &public, plugin],
        "",
    );
    assert!(
        ok && out.contains(&format!("good signature by {public}")),
        "{out}{err}"
    );

    // Another key, or other bytes, and the signature does not hold.
    let (_, stranger, _) = run(path, &["plugin", "keygen", "--out", "stranger.key"], "");
    let (ok, _, err) = run(
        path,
        &["plugin", "verify", "--trusted-key", stranger.trim(), plugin],
        "",
    );
    assert!(!ok && err.contains("signature"), "{err}");
    let tampered = path.join("tampered.wasm");
    let mut bytes = std::fs::read(plugin).unwrap();
    bytes.push(0);
    std::fs::write(&tampered, bytes).unwrap();
    let tampered = tampered.to_str().unwrap();
    std::fs::copy(format!("{plugin}.sig"), format!("{tampered}.sig")).unwrap();
    let (ok, _, err) = run(
        path,
        &["plugin", "verify", "--trusted-key", &public, tampered],
        "",
    );
    assert!(!ok, "{err}");

    // Without a key of its own, the node operator's signing key signs, and the node trusts it
    // without being told.
    let (ok, signature, err) = run(path, &["plugin", "sign", plugin], "");
    assert!(ok && signature.starts_with('z'), "{err}");
    let (ok, shown, err) = run(path, &["keys", "show"], "");
    assert!(ok, "{err}");
    let operator = shown
        .lines()
        .find_map(|line| line.strip_prefix("node (operator): signing key version 1 "))
        .unwrap_or_else(|| panic!("{shown}"))
        .to_owned();
    let (ok, out, err) = run(path, &["plugin", "verify", plugin], "");
    assert!(
        ok && out.contains(&format!("good signature by {operator}")),
        "{out}{err}"
    );

    let (ok, out, err) = run(path, &["plugin", "inspect", plugin], "");
    assert!(ok, "{err}");
    assert!(out.contains("zhiyuan:policy@0.1.0"), "{out}");
    assert!(out.contains("region-target, unit-target"), "{out}");
    assert!(out.contains("conformance  passed"), "{out}");
    let (ok, _, err) = run(path, &["plugin", "inspect", tampered], "");
    assert!(!ok, "trailing bytes make it no component: {err}");
}
