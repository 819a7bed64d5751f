//! Real nodes on loopback ports for the end-to-end tests, on SQLite (a fresh file per test) or
//! PostgreSQL (a fresh database per test, dropped afterwards), and an HTTP client that talks to
//! them as any client would.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, Executor};
use zhiyuan::{Node, NodeConfig};
use zhiyuan_domain::{FixedClock, Timestamp};

/// 2026-11-29T00:00:00Z: tests run at a fixed time that they move on by hand.
pub const TEST_EPOCH_MILLIS: i64 = 1_795_910_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The server PostgreSQL tests create their databases on.
#[allow(clippy::disallowed_methods)] // the harness's own setting, not the node's
pub fn postgres_admin_url() -> String {
    std::env::var("ZHIYUAN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Where a test's node keeps its data: a temporary folder of its own (keys, compiled plugins,
/// and on SQLite the database file), and on PostgreSQL a database of its own. Dropping it
/// removes both.
pub struct Database {
    _folder: tempfile::TempDir,
    /// The database's name, on PostgreSQL.
    pub postgres: Option<String>,
}

impl Database {
    pub async fn create(backend: Backend) -> (Database, NodeConfig) {
        let mut config = NodeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            secure_cookies: false,
            ..NodeConfig::default()
        };
        let folder = tempfile::tempdir().expect("temporary folder");
        config.data_dir = folder.path().to_owned();
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let name = format!("zt_{}", uuid::Uuid::now_v7().simple());
                let admin_url = postgres_admin_url();
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL at {admin_url} is needed by the tests and did not answer: {e}")
                });
                admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create test database");
                config.database_url = Some(database_url(&admin_url, &name));
                Some(name)
            }
        };
        (
            Database {
                _folder: folder,
                postgres,
            },
            config,
        )
    }

    /// A plain connection to the database, for checking what the node stored.
    pub async fn connect(&self, config: &NodeConfig) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        sqlx::AnyConnection::connect(&config.database_url())
            .await
            .expect("connect to the test database")
    }
}

fn database_url(admin_url: &str, name: &str) -> String {
    let base = admin_url
        .rsplit_once('/')
        .map(|(base, _)| base)
        .unwrap_or(admin_url);
    format!("{base}/{name}")
}

impl Drop for Database {
    fn drop(&mut self) {
        let Some(name) = self.postgres.clone() else {
            return;
        };
        // Drop runs outside any async context it could block, so the clean-up gets a thread
        // and a runtime of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                    let _ = admin
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                }
            });
        })
        .join();
    }
}

/// A node serving the bundled tenants, with an account of each kind of grant signed in where a
/// test asks for it.
pub struct TestNode {
    pub base_url: String,
    pub clock: Arc<FixedClock>,
    pub client: reqwest::Client,
    pub config: NodeConfig,
    node: Option<Node>,
    pub database: Database,
}

/// A replica started by `TestNode::start_replica`.
pub struct Replica {
    pub base_url: String,
    node: Node,
}

impl Replica {
    pub async fn stop(self) {
        self.node
            .shutdown(Duration::from_secs(5))
            .await
            .expect("the replica stops cleanly");
    }
}

/// An answer, with its status and its body as JSON (or `Null` when it has none).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    /// The body as sent, for answers that are not JSON (pages, PDFs, images).
    pub bytes: Vec<u8>,
}

impl Answer {
    /// Asserts a problem+json answer with this status and code; answers its field.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> Option<String> {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        assert_eq!(
            self.content_type, "application/problem+json",
            "{:#}",
            self.body
        );
        assert_eq!(self.body["code"], code, "{:#}", self.body);
        assert_eq!(self.body["status"], status, "{:#}", self.body);
        assert!(
            self.body["message"]["zh-CN"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{:#}",
            self.body
        );
        assert!(
            self.body["message"]["en"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{:#}",
            self.body
        );
        self.body["field"].as_str().map(str::to_owned)
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert!(self.status.is_success(), "{} {:#}", self.status, self.body);
        &self.body
    }
}

impl TestNode {
    pub async fn spawn(backend: Backend) -> TestNode {
        TestNode::spawn_with(backend, true).await
    }

    /// A node without the bundled tenants.
    pub async fn spawn_empty(backend: Backend) -> TestNode {
        TestNode::spawn_with(backend, false).await
    }

    async fn spawn_with(backend: Backend, bundled_tenants: bool) -> TestNode {
        TestNode::spawn_configured(backend, |config| {
            config.load_bundled_tenants = bundled_tenants
        })
        .await
    }

    /// A node with the bundled tenants and the configuration `configure` makes of the default.
    pub async fn spawn_configured(
        backend: Backend,
        configure: impl FnOnce(&mut NodeConfig),
    ) -> TestNode {
        let (database, mut config) = Database::create(backend).await;
        configure(&mut config);
        let clock = Arc::new(FixedClock::new(Timestamp::from_unix_millis(
            TEST_EPOCH_MILLIS,
        )));
        let node = Node::start(&config, clock.clone())
            .await
            .expect("node starts");
        TestNode {
            base_url: format!("http://{}", node.local_addr),
            clock,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            config,
            node: Some(node),
            database,
        }
    }

    pub fn app(&self) -> &zhiyuan_app::App {
        &self.node.as_ref().expect("running").app
    }

    pub fn store(&self) -> &zhiyuan_store::Store {
        &self.app().store
    }

    /// A second node on this node's database, keys and clock, on a port of its own: a replica
    /// behind the same load balancer.
    pub async fn start_replica(&self) -> Replica {
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".parse().unwrap();
        let node = Node::start(&config, self.clock.clone())
            .await
            .expect("the replica starts");
        Replica {
            base_url: format!("http://{}", node.local_addr),
            node,
        }
    }

    /// Stops the node, keeping its database and data folder, for what is done to a node while
    /// it is stopped.
    pub async fn halt(&mut self) {
        if let Some(node) = self.node.take() {
            node.shutdown(Duration::from_secs(5))
                .await
                .expect("clean shutdown");
        }
    }

    /// Starts the node again on its database and data folder, as `config` says; answers why
    /// it would not start.
    pub async fn resume(&mut self) -> anyhow::Result<()> {
        let node = Node::start(&self.config, self.clock.clone()).await?;
        self.base_url = format!("http://{}", node.local_addr);
        self.node = Some(node);
        Ok(())
    }

    /// Runs the `zhiyuan` command line on the node's database and data folder; answers whether
    /// it succeeded, and what it printed on standard output and error.
    pub fn command(&self, args: &[&str]) -> (bool, String, String) {
        let folder = tempfile::tempdir().expect("temporary folder");
        let config = folder.path().join("node.toml");
        let mut text = format!(
            "data_dir = {:?}\n",
            self.config.data_dir.display().to_string()
        );
        if let Some(url) = &self.config.database_url {
            text.push_str(&format!("database_url = {url:?}\n"));
        }
        std::fs::write(&config, text).expect("write the configuration");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_zhiyuan"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .current_dir(folder.path())
            .env("RUST_LOG", "error")
            .output()
            .expect("run zhiyuan");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    pub async fn stop(mut self) {
        if let Some(node) = self.node.take() {
            node.shutdown(Duration::from_secs(5))
                .await
                .expect("clean shutdown");
        }
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base_url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(&method, path, request.send().await.expect("request sent")).await
    }

    /// Sends raw bytes with the given content type.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base_url))
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        answer(&method, path, request.send().await.expect("request sent")).await
    }

    /// Sends raw bytes with extra headers.
    pub async fn call_with_headers(
        &self,
        method: Method,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base_url))
            .bearer_auth(token)
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer(&method, path, request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// Signs in and answers the bearer token.
    pub async fn login(&self, tenant: Option<&str>, username: &str, password: &str) -> String {
        let mut body = json!({ "username": username, "password": password });
        if let Some(tenant) = tenant {
            body["tenant"] = json!(tenant);
        }
        let answer = self
            .call(Method::POST, "/api/v1/session", None, Some(body))
            .await;
        answer.assert_ok()["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Creates an account through the command line's path (as `zhiyuan admin create-account`
    /// does), with these grants, and signs it in.
    pub async fn account(
        &self,
        tenant: Option<&str>,
        username: &str,
        grants: &[(zhiyuan_domain::GrantKind, Option<zhiyuan_domain::Scope>)],
    ) -> String {
        let password = format!("{username}-password");
        let request = zhiyuan_app::accounts::AccountRequest {
            username: username.to_owned(),
            display_name: username.to_owned(),
            password: password.clone(),
            grants: grants
                .iter()
                .map(|(kind, scope)| zhiyuan_app::accounts::GrantRequest {
                    kind: *kind,
                    scope: *scope,
                })
                .collect(),
        };
        let tenant_code = tenant.map(|code| zhiyuan_domain::TenantCode::parse(code).unwrap());
        zhiyuan_app::accounts::create_account(
            self.app(),
            tenant_code.as_ref(),
            request,
            &zhiyuan_domain::Actor::system("test"),
        )
        .await
        .expect("account created");
        self.login(tenant, username, &password).await
    }

    /// An account holding one grant over its tenant (or the node).
    pub async fn account_as(
        &self,
        tenant: Option<&str>,
        username: &str,
        kind: zhiyuan_domain::GrantKind,
    ) -> String {
        self.account(tenant, username, &[(kind, None)]).await
    }

    /// Counts rows of a table, straight from the database.
    pub async fn count(&self, table: &str) -> i64 {
        let mut connection = self.database.connect(&self.config).await;
        let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(&mut connection)
            .await
            .expect("count");
        sqlx::Row::get::<i64, _>(&row, "n")
    }

    /// A GET of what is not JSON (a page, a PDF), with or without a session.
    pub async fn download(&self, path: &str, token: Option<&str>) -> Answer {
        self.call(Method::GET, path, token, None).await
    }

    /// Runs a statement straight on the database, answering the database's error.
    pub async fn try_execute(&self, sql: &str) -> Result<u64, String> {
        let mut connection = self.database.connect(&self.config).await;
        sqlx::query(sql)
            .execute(&mut connection)
            .await
            .map(|done| done.rows_affected())
            .map_err(|error| error.to_string())
    }

    /// Runs a statement straight on the database, behind the node's back.
    pub async fn execute(&self, sql: &str) {
        let mut connection = self.database.connect(&self.config).await;
        sqlx::query(sql)
            .execute(&mut connection)
            .await
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
    }

    /// Counts of every table, to show that a refused request changed nothing.
    pub async fn snapshot(&self) -> Vec<(&'static str, i64)> {
        let mut counts = Vec::new();
        for table in [
            "tenants",
            "regions",
            "units",
            "reviewing_bodies",
            "accounts",
            "grants",
            "volunteers",
            "tenant_data_keys",
            "teams",
            "team_members",
            "team_certificates",
            "files",
            "plugin_packages",
            "policy_revisions",
            "policy_active",
            "policy_switch_offs",
            "needs",
            "projects",
            "shifts",
            "enrollments",
            "card_credentials",
            "attendances",
            "scans",
            "service_records",
            "service_totals",
            "disputes",
            "notices",
            "certificates",
            "audit_events",
        ] {
            counts.push((table, self.count(table).await));
        }
        counts.push(("population", self.sum_population().await));
        counts
    }

    async fn sum_population(&self) -> i64 {
        let mut connection = self.database.connect(&self.config).await;
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(resident_population), 0) AS BIGINT) AS n FROM regions",
        )
        .fetch_one(&mut connection)
        .await
        .expect("sum");
        sqlx::Row::get::<i64, _>(&row, "n")
    }

    /// Where `needle` is stored in the clear: the SQLite files (database, WAL, shared memory)
    /// byte for byte, or every row of every PostgreSQL table as text.
    pub async fn scan_database_for(&self, needle: &str) -> Vec<String> {
        let mut found = Vec::new();
        match &self.database.postgres {
            None => {
                for entry in std::fs::read_dir(&self.config.data_dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_file() {
                        let bytes = std::fs::read(&path).unwrap();
                        if bytes
                            .windows(needle.len())
                            .any(|window| window == needle.as_bytes())
                        {
                            found.push(path.display().to_string());
                        }
                    }
                }
            }
            Some(_) => {
                let url = self.config.database_url();
                let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
                let tables = sqlx::query(
                    "SELECT table_name::text AS name FROM information_schema.tables \
                     WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
                )
                .fetch_all(&mut connection)
                .await
                .unwrap();
                assert!(tables.len() >= 8, "the scan sees every table");
                for table in tables {
                    let table: String = sqlx::Row::get(&table, "name");
                    let rows = sqlx::query(&format!("SELECT t::text AS row FROM \"{table}\" t"))
                        .fetch_all(&mut connection)
                        .await
                        .unwrap();
                    for row in rows {
                        let text: String = sqlx::Row::get(&row, "row");
                        if text.contains(needle) {
                            found.push(format!("{table}: {text}"));
                        }
                    }
                }
            }
        }
        found
    }

    /// Invariants that hold after any sequence of requests: every unit and every account has
    /// the audit event that created it, and every audit event names its actor.
    pub async fn verify(&self) {
        let mut connection = self.database.connect(&self.config).await;
        let rows = sqlx::query("SELECT code FROM tenants WHERE code <> 'node'")
            .fetch_all(&mut connection)
            .await
            .unwrap();
        for row in rows {
            let tenant: String = sqlx::Row::get(&row, "code");
            let scalar = |sql: &str| {
                let sql = sql.to_owned();
                let tenant = tenant.clone();
                let url = self.config.database_url();
                async move {
                    let mut connection = sqlx::AnyConnection::connect(&url).await.unwrap();
                    let row = sqlx::query(&sql)
                        .bind(tenant)
                        .fetch_one(&mut connection)
                        .await
                        .unwrap();
                    sqlx::Row::get::<i64, _>(&row, "n")
                }
            };
            // The tallies the triggers keep agree with a count of the volunteers themselves.
            let mismatched = scalar(
                "SELECT COUNT(*) AS n FROM ( \
                   SELECT COALESCE(unit_id, '') AS unit_key, region_code, COUNT(*) AS c \
                   FROM volunteers WHERE tenant_code = $1 AND status = 'verified' \
                   GROUP BY COALESCE(unit_id, ''), region_code) counted \
                 FULL OUTER JOIN (SELECT unit_key, region_code, n FROM verified_tallies \
                   WHERE tenant_code = $1 AND n > 0) kept \
                 ON counted.unit_key = kept.unit_key AND counted.region_code = kept.region_code \
                 WHERE counted.c IS NULL OR kept.n IS NULL OR counted.c <> kept.n",
            )
            .await;
            assert_eq!(
                mismatched, 0,
                "tallies of tenant {tenant} differ from a count"
            );
            let units = scalar("SELECT COUNT(*) AS n FROM units WHERE tenant_code = $1").await;
            let unit_events = scalar(
                "SELECT COUNT(*) AS n FROM audit_events WHERE tenant_code = $1 AND action = 'unit.create'",
            )
            .await;
            let created_with_tenant: i64 = {
                let row = sqlx::query(
                    "SELECT after_json FROM audit_events WHERE tenant_code = $1 AND action = 'tenant.create'",
                )
                .bind(&tenant)
                .fetch_one(&mut connection)
                .await
                .expect("every tenant has its creation event");
                let after: Value =
                    serde_json::from_str(&sqlx::Row::get::<String, _>(&row, "after_json")).unwrap();
                after["units"].as_i64().unwrap()
            };
            assert_eq!(
                units,
                created_with_tenant + unit_events,
                "units of {tenant} without their audit event"
            );
            let accounts =
                scalar("SELECT COUNT(*) AS n FROM accounts WHERE tenant_code = $1").await;
            let account_events = scalar(
                "SELECT COUNT(*) AS n FROM audit_events WHERE tenant_code = $1 AND action = 'account.create'",
            )
            .await;
            assert_eq!(
                accounts, account_events,
                "accounts of {tenant} without their audit event"
            );
            let volunteers =
                scalar("SELECT COUNT(*) AS n FROM volunteers WHERE tenant_code = $1").await;
            let volunteer_events = scalar(
                "SELECT COUNT(*) AS n FROM audit_events WHERE tenant_code = $1 \
                 AND action IN ('volunteer.register', 'volunteer.transfer_in')",
            )
            .await;
            let imported: i64 = sqlx::query(
                "SELECT after_json FROM audit_events WHERE tenant_code = $1 AND action = 'volunteer.import'",
            )
            .bind(&tenant)
            .fetch_all(&mut connection)
            .await
            .unwrap()
            .iter()
            .map(|row| {
                let after: Value = serde_json::from_str(&sqlx::Row::get::<String, _>(row, "after_json")).unwrap();
                after["imported"].as_i64().unwrap()
            })
            .sum();
            assert_eq!(
                volunteers,
                volunteer_events + imported,
                "volunteers of {tenant} without their audit event"
            );
            let numbered = scalar(
                "SELECT COUNT(*) AS n FROM volunteers WHERE tenant_code = $1 AND status = 'verified' AND volunteer_number IS NOT NULL",
            )
            .await;
            let verified =
                scalar("SELECT COUNT(*) AS n FROM volunteers WHERE tenant_code = $1 AND status = 'verified'").await;
            assert_eq!(
                numbered, verified,
                "verified volunteers of {tenant} without a number"
            );
            // The places and waiting lists shifts keep agree with a count of their sign-ups.
            let miscounted = scalar(
                "SELECT COUNT(*) AS n FROM shifts s WHERE s.tenant_code = $1 AND ( \
                   s.taken <> (SELECT COUNT(*) FROM enrollments e WHERE e.tenant_code = s.tenant_code \
                     AND e.shift_id = s.id AND e.status IN ('applied', 'accepted')) \
                   OR s.waiting <> (SELECT COUNT(*) FROM enrollments e WHERE e.tenant_code = s.tenant_code \
                     AND e.shift_id = s.id AND e.status = 'waitlisted') \
                   OR s.taken > s.capacity)",
            )
            .await;
            assert_eq!(
                miscounted, 0,
                "shifts of {tenant} whose counts differ from their sign-ups"
            );
            // The service totals agree with a recount of the entries in force: per volunteer,
            // team, project and region, minutes and entries; a volunteer's, with what their
            // transfers here brought.
            let in_force = "FROM service_records r WHERE r.tenant_code = t.tenant_code \
                AND NOT EXISTS (SELECT 1 FROM service_records c WHERE c.tenant_code = r.tenant_code AND c.corrects = r.id)";
            let brought = |column: &str| {
                format!(
                    "(SELECT COALESCE(SUM(i.{column}), 0) FROM transfers_in i \
                     WHERE i.tenant_code = t.tenant_code AND t.scope = 'volunteer' AND i.volunteer_id = t.scope_id)"
                )
            };
            let (brought_minutes, brought_records) = (brought("minutes"), brought("records"));
            let miscounted_totals = scalar(&format!(
                "SELECT COUNT(*) AS n FROM (SELECT tenant_code, scope, scope_id, SUM(minutes) AS minutes, \
                   SUM(entries) AS entries FROM service_totals WHERE tenant_code = $1 \
                   GROUP BY tenant_code, scope, scope_id) t WHERE \
                 t.minutes <> (SELECT COALESCE(SUM(r.minutes), 0) {in_force} AND ( \
                   (t.scope = 'volunteer' AND r.volunteer_id = t.scope_id) OR (t.scope = 'team' AND r.team_id = t.scope_id) \
                   OR (t.scope = 'project' AND r.project_id = t.scope_id) OR (t.scope = 'region' AND r.region_code = t.scope_id))) \
                   + {brought_minutes} \
                 OR t.entries <> (SELECT COUNT(*) {in_force} AND ( \
                   (t.scope = 'volunteer' AND r.volunteer_id = t.scope_id) OR (t.scope = 'team' AND r.team_id = t.scope_id) \
                   OR (t.scope = 'project' AND r.project_id = t.scope_id) OR (t.scope = 'region' AND r.region_code = t.scope_id))) \
                   + {brought_records}"
            ))
            .await;
            assert_eq!(
                miscounted_totals, 0,
                "service totals of {tenant} that differ from a recount"
            );
            let uncounted = scalar(
                "SELECT COUNT(*) AS n FROM service_records r WHERE r.tenant_code = $1 AND NOT EXISTS ( \
                   SELECT 1 FROM service_totals t WHERE t.tenant_code = r.tenant_code \
                     AND t.scope = 'volunteer' AND t.scope_id = r.volunteer_id)",
            )
            .await;
            assert_eq!(
                uncounted, 0,
                "service records of {tenant} that no total counts"
            );
            // A waiting list is only ever kept for a full shift.
            let waiting_beside_a_place = scalar(
                "SELECT COUNT(*) AS n FROM shifts WHERE tenant_code = $1 AND waiting > 0 AND taken < capacity",
            )
            .await;
            assert_eq!(
                waiting_beside_a_place, 0,
                "a shift of {tenant} keeps a waiting list beside a free place"
            );
            let enrollments =
                scalar("SELECT COUNT(*) AS n FROM enrollments WHERE tenant_code = $1").await;
            let enrollment_events = scalar(
                "SELECT COUNT(DISTINCT entity_id) AS n FROM audit_events WHERE tenant_code = $1 AND action = 'enrollment.create'",
            )
            .await;
            assert_eq!(
                enrollments, enrollment_events,
                "sign-ups of {tenant} without their audit event"
            );
        }
        let anonymous = sqlx::query("SELECT COUNT(*) AS n FROM audit_events WHERE actor_name = ''")
            .fetch_one(&mut connection)
            .await
            .unwrap();
        assert_eq!(sqlx::Row::get::<i64, _>(&anonymous, "n"), 0);
        // Every trail's chain holds from its first event.
        for report in self.store().check_audit_trails(None).await.unwrap() {
            assert!(
                report.first_break.is_none(),
                "audit trail {} broken: {:?}",
                report.trail,
                report.first_break
            );
        }
    }
}

/// Whether `condition` holds within five seconds, asked every tenth of a second: for what
/// another node or a background task does in its own time.
pub async fn eventually<F: std::future::Future<Output = bool>>(
    mut condition: impl FnMut() -> F,
) -> bool {
    for _ in 0..50 {
        if condition().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Completes 17 digits of a resident ID number with their GB 11643 check character.
pub fn resident_id(first17: &str) -> String {
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(weights)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{first17}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

/// A valid application for a volunteer of Suizhou's 曾都区.
pub fn application(name: &str, id_number: &str, username: &str) -> Value {
    json!({
        "name": name,
        "id_kind": "resident_id_card",
        "id_number": id_number,
        "mobile": "13800001234",
        "region": "421303",
        "skills": ["急救", "手语"],
        "service_categories": ["community", "elderly_and_disabled"],
        "availability": "周末",
        "username": username,
        "password": format!("{username}-password")
    })
}

impl TestNode {
    /// A volunteer applies; answers their id and their signed-in token.
    pub async fn apply_as_volunteer(&self, tenant: &str, body: Value) -> (String, String) {
        let username = body["username"].as_str().unwrap().to_owned();
        let password = body["password"].as_str().unwrap().to_owned();
        let answer = self
            .call(
                Method::POST,
                &format!("/api/v1/tenants/{tenant}/volunteers"),
                None,
                Some(body),
            )
            .await;
        assert_eq!(answer.status, 201, "{:#}", answer.body);
        let id = answer.body["id"].as_str().unwrap().to_owned();
        (id, self.login(Some(tenant), &username, &password).await)
    }
}

/// Reads an answer, and checks it against the OpenAPI document: its status must be one the
/// operation lists, and its body must match the schema given for that status.
async fn answer(method: &Method, path: &str, response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = response.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    crate::described::check_answer(method, path, status.as_u16(), &content_type, &body);
    Answer {
        status,
        content_type,
        headers,
        body,
        bytes: bytes.to_vec(),
    }
}

/// Runs a scenario once on SQLite and once on PostgreSQL, as two tests named after the
/// backend, then checks the invariants and shuts the node down cleanly.
macro_rules! on_both_databases {
    ($(async fn $name:ident($node:ident: &TestNode) $body:block)*) => {
        $crate::support::on_both_databases! {
            configure = |_| {};
            $(async fn $name($node: &TestNode) $body)*
        }
    };
    (configure = $configure:expr; $(async fn $name:ident($node:ident: &TestNode) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn scenario($node: &$crate::support::TestNode) $body

                async fn run(backend: $crate::support::Backend) {
                    let node =
                        $crate::support::TestNode::spawn_configured(backend, $configure).await;
                    scenario(&node).await;
                    node.verify().await;
                    node.stop().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run($crate::support::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run($crate::support::Backend::Postgres).await;
                }
            }
        )*
    };
}
pub(crate) use on_both_databases;

/// A verified volunteer with a live session.
pub struct Person {
    pub id: String,
    pub token: String,
}

/// Verified volunteers of a tenant, registered and verified straight through the store (the
/// registration itself is what `volunteers.rs` tests), each signed in with a session of its
/// own. `area` and `born` make their identity numbers: six digits of area, eight of birth date.
pub async fn volunteers(node: &TestNode, area: &str, born: &str, count: usize) -> Vec<Person> {
    let tenant = zhiyuan_domain::TenantCode::parse(&format!("{}00", &area[..4])).unwrap();
    let store = node.store();
    let actor = zhiyuan_domain::Actor::system("test");
    let now = node.app().clock.now();
    let one = |index: usize| {
        let (tenant, actor) = (tenant.clone(), actor.clone());
        async move {
            // 900 sequence numbers a birth date; past them, the days after it.
            let day: u32 = born[6..8].parse::<u32>().unwrap() + u32::try_from(index / 900).unwrap();
            assert!(day <= 28, "too many volunteers born near {born}");
            let id_number = resident_id(&format!(
                "{area}{}{day:02}{:03}",
                &born[..6],
                index % 900 + 100
            ));
            let volunteer = zhiyuan_domain::NewVolunteer {
                name: zhiyuan_domain::PersonName::parse("林志愿", "/name").unwrap(),
                id_number: zhiyuan_domain::IdNumber::parse(
                    zhiyuan_domain::IdDocumentKind::ResidentIdCard,
                    &id_number,
                    now.shanghai_date(),
                    "/id_number",
                )
                .unwrap(),
                mobile: zhiyuan_domain::MobileNumber::parse("13800001234", "/mobile").unwrap(),
                region: zhiyuan_domain::RegionCode::parse(area).unwrap(),
                unit: None,
                skills: vec!["急救".into()],
                service_categories: vec![zhiyuan_domain::ServiceCategory::ElderlyAndDisabled],
                availability: None,
            };
            let username = format!("v{}.{}.{index}", &area[..4], &born[..4]);
            let account = zhiyuan_store::NewAccount {
                tenant: Some(tenant.clone()),
                username: zhiyuan_domain::Username::parse(&username, "/username").unwrap(),
                display_name: username.clone(),
                password_hash: "signed in by session only".into(),
                grants: Vec::new(),
            };
            let record = store
                .register_volunteer(
                    &tenant,
                    &volunteer,
                    &zhiyuan_store::Registrant::NewAccount(account),
                    &actor,
                    now,
                )
                .await
                .unwrap();
            let number = zhiyuan_domain::VolunteerNumber::new(
                &tenant,
                uuid::Uuid::now_v7().as_u128() as u32,
            );
            store
                .decide_volunteer(
                    &tenant,
                    record.id,
                    &zhiyuan_store::VolunteerDecision::Verify(number),
                    &actor,
                    now,
                )
                .await
                .unwrap();
            let account = store
                .account(Some(&tenant), record.account_id.unwrap())
                .await
                .unwrap();
            let token = zhiyuan_app::sessions::new_token();
            store
                .create_session(
                    &account,
                    &zhiyuan_app::sessions::token_hash(&token),
                    now,
                    now.plus_seconds(30 * 24 * 3600),
                )
                .await
                .unwrap();
            Person {
                id: record.id.to_string(),
                token,
            }
        }
    };
    // Thirty-two at a time: PostgreSQL commits them together rather than one flush each.
    let mut people = Vec::with_capacity(count);
    for batch in (0..count).collect::<Vec<_>>().chunks(32) {
        people.extend(futures::future::join_all(batch.iter().map(|index| one(*index))).await);
    }
    people
}

/// An approved team of 曾都区 whose admin is a verified volunteer: answers (team id, admin).
pub async fn approved_team(node: &TestNode, name: &str, born: &str) -> (String, Person) {
    let year = &born[..4];
    let office = node
        .account_as(
            Some("421300"),
            &format!("office.{year}"),
            zhiyuan_domain::GrantKind::OfficeAdmin,
        )
        .await;
    let bodies = node
        .get("/api/v1/tenants/421300/reviewing-bodies", &office)
        .await;
    let association = bodies.assert_ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|body| body["name"]["zh"] == "曾都区志愿服务联合会")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reviewer = node
        .account(
            Some("421300"),
            &format!("zengdu.{year}"),
            &[(
                zhiyuan_domain::GrantKind::Reviewer,
                Some(zhiyuan_domain::Scope::ReviewingBody(
                    association.parse().unwrap(),
                )),
            )],
        )
        .await;
    let founder = volunteers(node, "421303", born, 1).await.remove(0);
    let applied = node
        .call(
            Method::POST,
            "/api/v1/tenants/421300/teams",
            Some(&founder.token),
            Some(json!({
                "name": name, "kind": "community", "region": "421303",
                "contact_name": "张三", "contact_mobile": "13900001111",
                "legal_status": "unregistered", "liaison_team_id": association
            })),
        )
        .await;
    assert_eq!(applied.status, 201, "{:#}", applied.body);
    let team = applied.body["id"].as_str().unwrap().to_owned();
    node.call(
        Method::POST,
        &format!("/api/v1/tenants/421300/teams/{team}/decision"),
        Some(&reviewer),
        Some(json!({ "decision": "approve" })),
    )
    .await
    .assert_ok();
    (team, founder)
}

/// Three hours of service of 曾都区 on day `day` of November 2026, entered by hand, or a
/// correction of `corrects` to 170 minutes.
pub async fn service_record(
    node: &TestNode,
    volunteer: uuid::Uuid,
    team: uuid::Uuid,
    day: u32,
    corrects: Option<uuid::Uuid>,
) -> uuid::Uuid {
    let started =
        zhiyuan_domain::Timestamp::parse_rfc3339(&format!("2026-11-{day:02}T09:00:00+08:00"))
            .unwrap();
    let entry = zhiyuan_store::NewServiceRecord {
        volunteer_id: volunteer,
        team_id: team,
        project_id: None,
        shift_id: None,
        region: zhiyuan_domain::RegionCode::parse("421303").unwrap(),
        started_at: started,
        ended_at: started.plus_seconds(3 * 3600),
        minutes: zhiyuan_domain::Minutes::new(if corrects.is_some() { 170 } else { 180 }),
        content: "社区敬老服务".into(),
        kind: if corrects.is_some() {
            zhiyuan_domain::ServiceRecordKind::Correction
        } else {
            zhiyuan_domain::ServiceRecordKind::Manual
        },
        card: None,
        card_serial: None,
        corrects,
        reason: Some("纸质签到表补录".into()),
    };
    node.store()
        .record_service(
            &zhiyuan_domain::TenantCode::parse("421300").unwrap(),
            &entry,
            &zhiyuan_domain::Actor::system("test"),
            node.app().clock.now(),
        )
        .await
        .unwrap()
        .record
        .id
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn ring(node: &TestNode) -> zhiyuan_keys::KeyRing {
    zhiyuan_keys::KeyRing::new(
        &node.config.data_keys,
        Some(node.config.data_dir.join("keys")),
    )
    .unwrap()
}

pub fn operator_key(node: &TestNode) -> String {
    zhiyuan_federation::SigningKey::from_secret(&ring(node).signing_secret("node").unwrap().secret)
        .verifying_key()
        .to_multibase()
}

/// Nodes that know each other: each on a port fixed before it starts (its public URL, and so
/// its tenants' DIDs, name it), each configured with the others as peers, their operators'
/// keys pinned.
pub async fn federation(backends: &[Backend]) -> Vec<TestNode> {
    let mut nodes = Vec::new();
    for backend in backends {
        let port = free_port();
        nodes.push(
            TestNode::spawn_configured(*backend, |config| {
                config.listen = format!("127.0.0.1:{port}").parse().unwrap();
                config.public_url = Some(format!("http://127.0.0.1:{port}"));
                config.transfers.deliver_every_ms = 50;
                config.transfers.peer_refresh_seconds = 1;
                config.transfers.retry_base_ms = 200;
                config.transfers.retry_max_seconds = 2;
            })
            .await,
        );
    }
    let peers: Vec<zhiyuan::config::PeerConfig> = nodes
        .iter()
        .map(|node| zhiyuan::config::PeerConfig {
            url: node.config.public_url.clone().unwrap(),
            operator_keys: vec![operator_key(node)],
        })
        .collect();
    for (index, node) in nodes.iter_mut().enumerate() {
        node.halt().await;
        node.config.peers = peers
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != index)
            .map(|(_, peer)| peer.clone())
            .collect();
        node.resume().await.unwrap();
    }
    // Each node has read its peers' DID documents.
    for node in &nodes {
        let expected = 2 * (nodes.len() - 1);
        assert!(
            eventually(|| async { node.store().peer_documents().await.unwrap().len() == expected })
                .await,
            "the peers' documents are read"
        );
    }
    nodes
}

pub fn did(node: &TestNode, tenant: &str) -> String {
    let host = zhiyuan_app::log::host(&node.app().settings.public_url).replace(':', "%3A");
    format!("did:web:{host}:tenants:{tenant}")
}
