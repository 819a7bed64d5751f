//! Attacks on a running node, made again: each found a hole once, and each must fail now.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use zhiyuan_domain::{GrantKind, Scope};

use crate::support::{Backend, TestNode, application, on_both_databases, resident_id};

/// The smallest valid PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

fn check_character(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    b"10X98765432"[(sum % 11) as usize]
}

/// The attack on a stored or shown volunteer: every resident ID number that fits what is seen
/// (the masked number, and for the area the codes of the public GB/T 2260 table, narrowed to the
/// volunteer's own region, the attacker's best guess), with birth dates from `born_from` to
/// `born_to`. Answers how many fit, and whether the true number is among them (so the attack is
/// a real one).
fn candidates(
    masked: &str,
    region: &str,
    born_from: time::Date,
    born_to: time::Date,
    truth: &str,
) -> (u64, bool) {
    let shown: Vec<char> = masked.chars().collect();
    assert_eq!(shown.len(), 18, "{masked}");
    assert!(
        zhiyuan_domain::is_known_area_code(region),
        "{region} is an area of the GB/T 2260 table"
    );
    let known: Vec<Option<u8>> = shown
        .iter()
        .map(|c| (*c != '*').then_some(*c as u8))
        .collect();
    let mut count = 0;
    let mut found = false;
    let mut date = born_from;
    while date <= born_to {
        let mut first17 = [0u8; 17];
        first17[..6].copy_from_slice(region.as_bytes());
        let written = format!(
            "{:04}{:02}{:02}",
            date.year(),
            date.month() as u8,
            date.day()
        );
        first17[6..14].copy_from_slice(written.as_bytes());
        let fits_date = (6..14).all(|i| known[i].is_none_or(|k| k == first17[i]));
        if fits_date {
            for sequence in 0..1000u32 {
                let digits = format!("{sequence:03}");
                first17[14..17].copy_from_slice(digits.as_bytes());
                if !(14..17).all(|i| known[i].is_none_or(|k| k == first17[i])) {
                    continue;
                }
                let check = check_character(&first17);
                if known[17].is_none_or(|k| k == check) {
                    count += 1;
                    let mut number = first17.to_vec();
                    number.push(check);
                    found |= number == truth.as_bytes();
                }
            }
        }
        date = date.next_day().unwrap();
    }
    (count, found)
}

fn date(year: i32, month: u8, day: u8) -> time::Date {
    time::Date::from_calendar_date(year, time::Month::try_from(month).unwrap(), day).unwrap()
}

/// The birth dates an age group allows on the tests' date (2026-11-29).
fn born_within(group: &str) -> (time::Date, time::Date) {
    let today = date(2026, 11, 29);
    let years_ago = |years: i32| date(today.year() - years, 11, 29);
    match group {
        "minor" => (years_ago(18).next_day().unwrap(), today),
        "youth" => (years_ago(36).next_day().unwrap(), years_ago(18)),
        "middle_aged" => (years_ago(60).next_day().unwrap(), years_ago(36)),
        _ => (date(1900, 1, 1), years_ago(60)),
    }
}

on_both_databases! {
    async fn identity_numbers_cannot_be_rebuilt_from_what_is_stored_or_shown(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let people = [
            ("42130319900307123", "421303"),
            ("42138120010915002", "421381"),
            ("42132119580101004", "421321"),
        ];
        let mut registered = Vec::new();
        for (index, (first17, region)) in people.iter().enumerate() {
            let number = resident_id(first17);
            let mut body = application("测试", &number, &format!("person{index}"));
            body["region"] = json!(region);
            let (id, _) = node.apply_as_volunteer("421300", body).await;
            node.call(Method::POST, &format!("/api/v1/tenants/421300/volunteers/{id}/decision"), Some(&office), Some(json!({ "decision": "approve" })))
                .await
                .assert_ok();
            registered.push((id, number));
        }

        // The database is its owner's alone.
        if node.database.postgres.is_none() {
            use std::os::unix::fs::PermissionsExt;
            for file in ["zhiyuan.sqlite3", "zhiyuan.sqlite3-wal"] {
                let mode = std::fs::metadata(node.config.data_dir.join(file)).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{file}");
            }
        }

        // From the database, with no key: every column kept in the clear.
        let mut connection = node.database.connect(&node.config).await;
        for (id, number) in &registered {
            let row = sqlx::query("SELECT * FROM volunteers WHERE id = $1")
                .bind(id)
                .fetch_one(&mut connection)
                .await
                .unwrap();
            let masked: String = sqlx::Row::get(&row, "id_number_masked");
            let region: String = sqlx::Row::get(&row, "region_code");
            let (count, found) = candidates(&masked, &region, date(1900, 1, 1), date(2026, 11, 29), number);
            assert!(found, "the attack rebuilds the candidates of {masked}");
            assert!(count >= 100_000, "{count} candidates for {masked} from the database");
        }

        // Through the API, as office staff see a volunteer: the masked number, the region and
        // the age group.
        for (id, number) in &registered {
            let shown = node.get(&format!("/api/v1/tenants/421300/volunteers/{id}"), &office).await;
            let shown = shown.assert_ok();
            assert!(shown.get("birth_date").is_none());
            let (from, to) = born_within(shown["age_group"].as_str().unwrap());
            let (count, found) = candidates(
                shown["id_number_masked"].as_str().unwrap(),
                shown["region"].as_str().unwrap(),
                from,
                to,
                number,
            );
            assert!(found, "the attack rebuilds the candidates of {number}");
            assert!(count >= 10_000, "{count} candidates for {number} through the API");
        }
    }

    async fn an_identity_number_typed_as_a_username_is_kept_nowhere(node: &TestNode) {
        let number = resident_id("42130319900307123");
        let mobile = "13912345678";
        // Typed where the username goes, as people do on a sign-in form.
        for typed in [number.as_str(), mobile] {
            for tenant in [Some("421300"), Some("429999"), None] {
                let mut body = json!({ "username": typed, "password": "wrong-password" });
                if let Some(tenant) = tenant {
                    body["tenant"] = json!(tenant);
                }
                let answer = node.call(Method::POST, "/api/v1/session", None, Some(body)).await;
                assert_eq!(answer.status, 401, "{:#}", answer.body);
            }
        }
        // Nor can it become a username, so nothing is lost by never keeping one.
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let as_account = json!({ "username": mobile, "display_name": "张三", "password": "long-enough-password" });
        let refused = node.call(Method::POST, "/api/v1/tenants/421300/accounts", Some(&office), Some(as_account)).await;
        assert_eq!(refused.assert_problem(422, "username_holds_number").as_deref(), Some("/username"));
        let application = application("张三", &resident_id("42130319900101011"), &format!("zs{number}"));
        let refused = node.call(Method::POST, "/api/v1/tenants/421300/volunteers", None, Some(application)).await;
        assert_eq!(refused.assert_problem(422, "username_holds_number").as_deref(), Some("/username"));

        for typed in [number.as_str(), mobile] {
            let found = node.scan_database_for(typed).await;
            assert!(found.is_empty(), "{typed} stored: {found:?}");
        }
        // The refused sign-ins are on the trail, with what was typed redacted.
        let trail = node.get("/api/v1/tenants/421300/audit-events?limit=1000", &office).await;
        let trail = trail.assert_ok().to_string();
        assert!(trail.contains("sign_in_refused"), "{trail}");
        assert!(!trail.contains(mobile) && !trail.contains(&number), "{trail}");
    }

    async fn a_pending_volunteer_uploads_nothing_and_uploads_are_capped_and_served_as_attachments(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let (volunteer, pending) = node.apply_as_volunteer("421300", application("未审", &resident_id("42130319900101011"), "pending.one")).await;
        let upload = |token: String, bytes: Vec<u8>| {
            let node = &node;
            async move {
                node.call_raw(Method::POST, "/api/v1/tenants/421300/files", Some(&token), Some("application/octet-stream"), bytes).await
            }
        };
        let before = node.count("files").await;
        upload(pending.clone(), PNG.to_vec()).await.assert_problem(403, "volunteer_not_verified");
        assert_eq!(node.count("files").await, before);

        // Verified, the volunteer may upload, within a daily quota.
        node.call(Method::POST, &format!("/api/v1/tenants/421300/volunteers/{volunteer}/decision"), Some(&office), Some(json!({ "decision": "approve" })))
            .await
            .assert_ok();
        let verified = node.login(Some("421300"), "pending.one", "pending.one-password").await;
        for index in 0..30u8 {
            let mut png = PNG.to_vec();
            png.push(index);
            assert_eq!(upload(verified.clone(), png).await.status, 201);
        }
        upload(verified.clone(), PNG.to_vec()).await.assert_problem(403, "upload_quota");
        node.clock.advance_seconds(24 * 3600 + 1);
        let next_day = node.login(Some("421300"), "pending.one", "pending.one-password").await;
        assert_eq!(upload(next_day, PNG.to_vec()).await.status, 201, "a new day, a new quota");
        let office = node.login(Some("421300"), "office", "office-password").await;

        // A PDF that is also HTML is served as a download, never rendered in the node's origin.
        let polyglot = b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>\n%%EOF\n".to_vec();
        let stored = upload(office.clone(), polyglot).await;
        let sha256 = stored.assert_ok()["sha256"].as_str().unwrap().to_owned();
        let served = node.get(&format!("/api/v1/tenants/421300/files/{sha256}"), &office).await;
        assert_eq!(served.content_type, "application/pdf");
        assert!(served.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
        assert_eq!(served.headers["x-content-type-options"], "nosniff");
    }

    async fn nobody_decides_their_own_application_on_any_decision_route(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let bodies = node.get("/api/v1/tenants/421300/reviewing-bodies", &office).await;
        let zengdu_office: uuid::Uuid = bodies.body["items"].as_array().unwrap().iter()
            .find(|b| b["kind"] == "civilisation_office" && b["region"] == "421303").unwrap()["id"]
            .as_str().unwrap().parse().unwrap();
        // A reviewer of the Zengdu civilisation office applies to be a volunteer of Zengdu.
        let reviewer = node.account(Some("421300"), "zengdu.reviewer", &[(GrantKind::Reviewer, Some(Scope::ReviewingBody(zengdu_office)))]).await;
        let mut body = application("自审", &resident_id("42130319900101011"), "unused");
        body.as_object_mut().unwrap().remove("username");
        body.as_object_mut().unwrap().remove("password");
        let own = node.call(Method::POST, "/api/v1/tenants/421300/volunteers", Some(&reviewer), Some(body)).await;
        assert_eq!(own.status, 201, "{:#}", own.body);
        let own_id = own.body["id"].as_str().unwrap().to_owned();
        let before = node.snapshot().await;
        node.call(Method::POST, &format!("/api/v1/tenants/421300/volunteers/{own_id}/decision"), Some(&reviewer), Some(json!({ "decision": "approve" })))
            .await
            .assert_problem(403, "own_application");
        assert_eq!(node.snapshot().await, before);
        node.call(Method::POST, &format!("/api/v1/tenants/421300/volunteers/{own_id}/decision"), Some(&office), Some(json!({ "decision": "approve" })))
            .await
            .assert_ok();

        // As admin of a team, the same person applies to join it: another admin decides.
        let association = bodies.body["items"].as_array().unwrap().iter()
            .find(|b| b["kind"] == "association" && b["region"] == "421303").unwrap()["id"].as_str().unwrap().to_owned();
        let reviewer = node.login(Some("421300"), "zengdu.reviewer", "zengdu.reviewer-password").await;
        let team = node.call(Method::POST, "/api/v1/tenants/421300/teams", Some(&reviewer), Some(json!({
            "name": "自审志愿服务队", "kind": "community", "region": "421303",
            "contact_name": "自审", "contact_mobile": "13900001111",
            "legal_status": "unregistered", "liaison_team_id": association
        }))).await;
        let team_id = team.assert_ok()["id"].as_str().unwrap().to_owned();
        let association_reviewer = node.account(Some("421300"), "association.reviewer", &[(GrantKind::Reviewer, Some(Scope::ReviewingBody(association.parse().unwrap())))]).await;
        node.call(Method::POST, &format!("/api/v1/tenants/421300/teams/{team_id}/decision"), Some(&association_reviewer), Some(json!({ "decision": "approve" })))
            .await
            .assert_ok();
        let reviewer = node.login(Some("421300"), "zengdu.reviewer", "zengdu.reviewer-password").await;
        node.call(Method::POST, &format!("/api/v1/tenants/421300/teams/{team_id}/membership"), Some(&reviewer), None).await.assert_ok();
        node.call(Method::POST, &format!("/api/v1/tenants/421300/teams/{team_id}/members/{own_id}/decision"), Some(&reviewer), Some(json!({ "decision": "accept" })))
            .await
            .assert_problem(403, "own_application");
    }

    async fn control_characters_and_repeated_keys_are_refused_before_storage(node: &TestNode) {
        let office = node.account_as(Some("421300"), "office", GrantKind::OfficeAdmin).await;
        let before = node.snapshot().await;
        for (name, pointer) in [("测试\u{0}单位", "/name/zh"), ("测试\u{1b}[2J", "/name/zh")] {
            let answer = node.call(Method::POST, "/api/v1/tenants/421300/units", Some(&office), Some(json!({
                "name": { "zh": name }, "region": "421300", "kind": "other", "civilisation_level": "other", "staff": 1
            }))).await;
            assert_eq!(answer.assert_problem(422, "control_character").as_deref(), Some(pointer));
        }
        let repeated = node
            .call_raw(Method::PATCH, "/api/v1/tenants/421300/regions/421321", Some(&office), Some("application/json"),
                br#"{"resident_population": 1, "resident_population": 2}"#.to_vec())
            .await;
        assert_eq!(repeated.assert_problem(400, "duplicate_key").as_deref(), Some("/resident_population"));
        assert_eq!(node.snapshot().await, before);
    }

    async fn a_caller_without_the_right_is_refused_before_its_body_is_read(node: &TestNode) {
        let plain = node.account(Some("421300"), "plain", &[]).await;
        let huge = format!("{{\"padding\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
        let answer = node
            .call_raw(Method::POST, "/api/v1/tenants/421300/units", Some(&plain), Some("application/json"), huge.into_bytes())
            .await;
        answer.assert_problem(403, "forbidden");
        let answer = node
            .call_raw(Method::POST, "/api/v1/tenants", Some(&plain), Some("application/json"), b"{ not json".to_vec())
            .await;
        answer.assert_problem(403, "forbidden");
    }

    async fn answers_carry_security_headers(node: &TestNode) {
        for path in ["/healthz", "/api/v1/tenants", "/api/v1/no-such-route"] {
            let answer = node.call(Method::GET, path, None, None).await;
            assert_eq!(answer.headers["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(answer.headers["cache-control"], "no-store", "{path}");
            assert_eq!(answer.headers["referrer-policy"], "no-referrer", "{path}");
            let policy = answer.headers["content-security-policy"].to_str().unwrap();
            assert!(policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'none'"), "{policy}");
            assert!(answer.headers.get("strict-transport-security").is_none(), "plain HTTP sets no HSTS");
        }
    }
}

/// Metrics label only what the node knows: invented methods and paths make no new series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_stay_bounded_whatever_clients_invent() {
    let node = TestNode::spawn(Backend::Sqlite).await;
    let operator = node.account_as(None, "operator", GrantKind::Operator).await;
    let size = || async {
        node.get("/metrics", &operator)
            .await
            .body
            .as_str()
            .map(str::len)
            .unwrap_or(0)
    };
    let before = size().await;
    for index in 0..300 {
        let method = Method::from_bytes(format!("INVENTED{index}").as_bytes()).unwrap();
        let _ = node
            .client
            .request(method, format!("{}/api/v1/tenants/{index}", node.base_url))
            .send()
            .await
            .unwrap();
    }
    let after = size().await;
    assert!(
        after < before + 8_000,
        "metrics grew from {before} to {after} bytes"
    );
    let plain = node.account(Some("421300"), "plain", &[]).await;
    node.get("/metrics", &plain)
        .await
        .assert_problem(403, "forbidden");
    node.stop().await;
}

/// Slow clients are cut off: one that sends its headers a byte at a time, one that sends
/// nothing, and connections beyond the node's limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_cut_off() {
    let node = TestNode::spawn_configured(Backend::Sqlite, |config| {
        config.max_connections = 4;
        config.body_timeout_seconds = 1;
    })
    .await;
    let address = node.base_url.trim_start_matches("http://").to_owned();
    // How long until the node closes a connection (a read answers end of file or an error).
    let closed_within = |mut stream: TcpStream, trickle: bool| {
        std::thread::spawn(move || {
            stream
                .set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let started = Instant::now();
            let mut buffer = [0u8; 1024];
            while started.elapsed() < Duration::from_secs(60) {
                if trickle {
                    let _ = stream.write_all(b"X");
                }
                match stream.read(&mut buffer) {
                    Ok(0) => return Some(started.elapsed()),
                    Ok(_) => {}
                    Err(error)
                        if error.kind() == std::io::ErrorKind::WouldBlock
                            || error.kind() == std::io::ErrorKind::TimedOut => {}
                    Err(_) => return Some(started.elapsed()),
                }
            }
            None
        })
    };
    let mut trickling = TcpStream::connect(&address).unwrap();
    trickling
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let silent = TcpStream::connect(&address).unwrap();
    let watchers = [closed_within(trickling, true), closed_within(silent, false)];
    for watcher in watchers {
        let closed = watcher.join().unwrap();
        assert!(
            closed.is_some(),
            "a slow client held its connection for a minute"
        );
    }

    // A body sent a byte at a time is answered 408 once the node's body timeout (one second
    // here) has passed, and the connection is let go.
    let mut slow_body = TcpStream::connect(&address).unwrap();
    slow_body
        .write_all(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        .unwrap();
    slow_body
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    while started.elapsed() < Duration::from_secs(60) {
        let _ = slow_body.write_all(b" ");
        let mut buffer = [0u8; 512];
        match slow_body.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => answer.extend_from_slice(&buffer[..read]),
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "a trickled body was answered: {answer:?}"
    );
    // And the connection is closed after the answer, its place given back.
    slow_body
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut rest = Vec::new();
    let ended = slow_body.read_to_end(&mut rest);
    assert!(
        !matches!(&ended, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "the connection stayed open after its 408: {ended:?}"
    );

    // Four connections hold every place (each has been answered once, so the node has taken
    // it, and is kept alive); a fifth is closed at once.
    let held: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut stream = TcpStream::connect(&address).unwrap();
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let mut answer = [0u8; 12];
            stream.read_exact(&mut answer).unwrap();
            assert_eq!(&answer, b"HTTP/1.1 200");
            stream
        })
        .collect();
    // Closed, not left waiting: the read ends at once with end of file or a reset, long
    // before the backstop of 30 seconds.
    let mut fifth = TcpStream::connect(&address).unwrap();
    fifth
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let _ = fifth.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut buffer = [0u8; 64];
    let read = fifth.read(&mut buffer);
    assert!(
        match &read {
            Ok(0) => true,
            Ok(_) => false,
            Err(error) => matches!(
                error.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
            ),
        },
        "the fifth connection was not closed: {read:?}"
    );
    drop(held);
    node.stop().await;
}

/// 250 registrations at once: password hashing runs a few at a time, the rest are told to come
/// back, and the node's memory comes back to where it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_registrations_leaves_memory_bounded() {
    /// The node's process, killed however the test ends (a failed assertion too).
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Running(
        std::process::Command::new(env!("CARGO_BIN_EXE_zhiyuan"))
            .args(["--listen", "127.0.0.1:0"])
            .current_dir(dir.path())
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut reader = std::io::BufReader::new(stdout);
    let base_url = loop {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        if let Some(rest) = line.strip_prefix("zhiyuan listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let rss = || -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.0.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.split_whitespace().next()?.parse().ok())
            .unwrap()
    };
    let client = reqwest::Client::new();
    let register = |index: usize| {
        let client = client.clone();
        let url = format!("{base_url}/api/v1/tenants/421300/volunteers");
        tokio::spawn(async move {
            let body = application(
                "并发",
                &resident_id(&format!("42130319900115{:03}", index % 1000)),
                &format!("burst{index}"),
            );
            let answer = client.post(url).json(&body).send().await.unwrap();
            let retry = answer.headers().contains_key("retry-after");
            (answer.status().as_u16(), retry)
        })
    };
    // A few registrations first, so that the baseline includes what any registration costs.
    for index in 0..3 {
        register(index).await.unwrap();
    }
    let baseline = rss();
    let burst: Vec<_> = (3..253).map(register).collect();
    let mut statuses = std::collections::BTreeMap::new();
    for answer in burst {
        let (status, retry) = answer.await.unwrap();
        assert!(matches!(status, 201 | 409 | 429 | 503), "{status}");
        if status == 503 || status == 429 {
            assert!(retry, "a refusal for load says when to come back");
        }
        *statuses.entry(status).or_insert(0) += 1;
    }
    let peak_after = rss();
    assert!(statuses.get(&201).copied().unwrap_or(0) > 0, "{statuses:?}");
    // The hashing workers (one per core, as the node sizes them) keep one block of Argon2
    // memory each (19 MiB) and reuse it; beyond that, a fixed allowance for the allocator's
    // arenas and buffers. Nothing grows with the number of requests: unbounded, 250 hashes at
    // once took 3.5 GB.
    let workers = std::thread::available_parallelism().map_or(2, usize::from) as u64;
    let bound = workers * 20 * 1024 + 160 * 1024;
    let grown = peak_after.saturating_sub(baseline);
    assert!(
        grown < bound,
        "memory grew by {grown} KiB over a burst ({statuses:?}), more than {bound} KiB for {workers} workers; baseline {baseline} KiB"
    );
    assert!(
        statuses.contains_key(&429),
        "public registrations are limited per address: {statuses:?}"
    );
    drop(child);
}
