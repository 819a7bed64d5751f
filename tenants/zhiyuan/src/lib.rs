//! The Zhiyuan node: the composition root that wires storage, policy, the use cases and the HTTP
//! API together. Nothing else in the workspace reads configuration, the environment or the
//! system clock.

pub mod audit;
mod cards;
pub mod config;
mod connections;
pub mod demo;
pub mod policy;
pub mod sender;
pub mod tenants;
pub mod witness;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use hyper_util::rt::TokioTimer;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use zhiyuan_api::{ApiConfig, AppState};
use zhiyuan_app::{App, Settings};
use zhiyuan_domain::{Clock, Timestamp};
use zhiyuan_store::Store;

pub use config::{NodeConfig, Overrides};

/// The system clock: the one place where Zhiyuan asks the machine what time it is.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> Timestamp {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis())
            .unwrap_or(0);
        Timestamp::from_unix_millis(i64::try_from(millis).unwrap_or(i64::MAX))
    }
}

/// How long a client may take to send a request's headers, and how long a keep-alive
/// connection may sit idle.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens the configured database (creating the data folder for SQLite, readable by the node's
/// user only), migrates it, and chains audit events written before the trail was chained.
pub async fn open_store(config: &NodeConfig) -> anyhow::Result<Store> {
    if config.database_url.is_none() {
        create_private_dir(&config.data_dir)?;
        create_private_file(&config.data_dir.join("zhiyuan.sqlite3"))?;
    }
    let store = Store::connect(&config.database_url(), config.key_ring()?)
        .await
        .context("opening the database")?;
    store.migrate().await.context("migrating the database")?;
    store
        .verify_data_keys()
        .await
        .context("checking data keys")?;
    Ok(store)
}

/// The data folder, created readable by its owner only.
fn create_private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating data folder {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting data folder {}", dir.display()))?;
    }
    Ok(())
}

/// The SQLite file, created readable and writable by its owner only before SQLite opens it;
/// SQLite gives its WAL and shared-memory files the permissions of the database file.
fn create_private_file(path: &std::path::Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    Ok(())
}

/// The use cases over an opened store, with each tenant's policy in force.
pub async fn open_app(
    config: &NodeConfig,
    store: Store,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(App, zhiyuan_plugins::WasmHost)> {
    let policies = policy::open_host(config)?;
    policy::activate_all(&store, &policies).await?;
    let defaults = Settings::default();
    let settings = Settings {
        session_ttl: Duration::from_secs(u64::from(config.session_hours) * 3600),
        password_workers: config.password_workers.unwrap_or(defaults.password_workers),
        password_queue: config.password_queue,
        public_url: config.public_url.clone().unwrap_or_else(|| {
            let scheme = if config.tls.is_some() {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{}", config.listen)
        }),
        ..defaults
    };
    let cards = Arc::new(cards::TenantCards::new(config.key_ring()?));
    let mut app = App::new(
        store,
        clock,
        Arc::new(policies.clone()),
        cards.clone(),
        cards,
        Arc::new(audit::Auditor),
        settings,
    );
    app.pdf_font = certificate_font(config);
    Ok((app, policies))
}

/// The font certificates' PDFs embed; without it the node serves certificates as pages only.
fn certificate_font(config: &NodeConfig) -> Option<zhiyuan_forms::certificate::PdfFont> {
    let path = &config.certificate_font;
    let font = std::fs::read(path).ok().and_then(|bytes| {
        zhiyuan_forms::certificate::PdfFont::new(bytes, config.certificate_font_face)
    });
    if font.is_none() {
        tracing::warn!(
            font = %path.display(),
            "no CJK font for certificates' PDFs (scripts/ensure-tools installs Debian's fonts-noto-cjk); PDFs are refused, pages still served"
        );
    }
    font
}

/// A node serving on its socket, with the background work it owns.
pub struct Node {
    pub local_addr: SocketAddr,
    /// The separate metrics listener, where configured.
    pub metrics_addr: Option<SocketAddr>,
    pub app: App,
    /// Tenants' policies, as the node runs them.
    pub policies: zhiyuan_plugins::WasmHost,
    handle: Handle,
    task: JoinHandle<std::io::Result<()>>,
    metrics: Option<(Handle, JoinHandle<std::io::Result<()>>)>,
    stop: watch::Sender<bool>,
    background: Vec<JoinHandle<()>>,
}

impl Node {
    /// Opens storage, loads the configured tenants and starts serving.
    pub async fn start(config: &NodeConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Node> {
        let store = open_store(config).await?;
        tenants::load_configured(&store, config, clock.clone()).await?;
        Node::serve(config, store, clock).await
    }

    pub fn store(&self) -> &Store {
        &self.app.store
    }

    /// Serves an opened store.
    pub async fn serve(
        config: &NodeConfig,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Node> {
        let (app, policies) = open_app(config, store, clock).await?;
        let api_config = ApiConfig {
            secure_cookies: config.secure_cookies,
            tls: config.tls.is_some(),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            body_timeout: Duration::from_secs(config.body_timeout_seconds),
        };
        let state = AppState::new(app.clone(), api_config)
            .map_err(|e| anyhow::anyhow!("starting the API: {e}"))?;
        for signer in zhiyuan_app::credentials::signers(&app).await? {
            zhiyuan_app::credentials::publish_keys(&app, &signer)
                .await
                .map_err(|error| anyhow::anyhow!("publishing the keys of {signer:?}: {error}"))?;
        }
        let (stop, stopped) = watch::channel(false);
        let mut background = vec![
            policy::keep_policies_current(app.clone(), policies.clone(), stopped.clone()),
            tokio::spawn(issue_credentials(app.clone(), stopped.clone())),
            tokio::spawn(maintain(app.clone(), stopped.clone())),
        ];
        background.push(tokio::spawn(deliver_messages(
            app.clone(),
            cards::TenantCards::new(config.key_ring()?),
            config.peers.clone(),
            config.transfers.clone(),
            stopped.clone(),
        )));
        if !config.peers.is_empty() {
            let key = zhiyuan_federation::SigningKey::from_secret(
                &config
                    .key_ring()?
                    .signing_secret(zhiyuan_store::NODE_REALM)?
                    .secret,
            );
            background.push(tokio::spawn(witness(
                app.clone(),
                config.peers.clone(),
                key,
                Duration::from_secs(config.witness_every_seconds.max(1)),
                stopped,
            )));
        }
        let metrics = match config.metrics_listen {
            Some(address) => {
                let listener = bind(address)?;
                let local = listener.local_addr()?;
                let handle = Handle::new();
                let router = zhiyuan_api::metrics_router(state.clone());
                let server = axum_server::from_tcp(listener).handle(handle.clone());
                Some((
                    local,
                    handle,
                    tokio::spawn(server.serve(router.into_make_service())),
                ))
            }
            None => None,
        };
        let service = zhiyuan_api::router(state, zhiyuan_web::pages())
            .into_make_service_with_connect_info::<SocketAddr>();

        let listener = bind(config.listen)?;
        let local_addr = listener.local_addr()?;
        let handle = Handle::new();
        let max = config.max_connections;
        let task = match &config.tls {
            None => {
                let mut server = axum_server::from_tcp(listener)
                    .map(|acceptor| connections::LimitAcceptor::new(acceptor, max, HEADER_TIMEOUT))
                    .handle(handle.clone());
                server
                    .http_builder()
                    .http1()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .max_headers(64);
                tokio::spawn(server.serve(service))
            }
            Some(tls) => {
                // ring is the one crypto provider in the build; installing it twice is harmless.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let rustls_config = RustlsConfig::from_pem_file(&tls.certificate, &tls.private_key)
                    .await
                    .with_context(|| {
                        format!(
                            "loading TLS certificate {} and key {}",
                            tls.certificate.display(),
                            tls.private_key.display()
                        )
                    })?;
                let mut server = axum_server::from_tcp_rustls(listener, rustls_config)
                    .map(|acceptor| connections::LimitAcceptor::new(acceptor, max, HEADER_TIMEOUT))
                    .handle(handle.clone());
                server
                    .http_builder()
                    .http1()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .max_headers(64);
                tokio::spawn(server.serve(service))
            }
        };
        Ok(Node {
            local_addr,
            metrics_addr: metrics.as_ref().map(|(address, _, _)| *address),
            app,
            policies,
            handle,
            task,
            metrics: metrics.map(|(_, handle, task)| (handle, task)),
            stop,
            background,
        })
    }

    /// Stops accepting connections, lets requests in flight finish (up to `grace`), stops the
    /// background work, then closes the database.
    pub async fn shutdown(self, grace: Duration) -> anyhow::Result<()> {
        self.handle.graceful_shutdown(Some(grace));
        if let Some((handle, _)) = &self.metrics {
            handle.graceful_shutdown(Some(grace));
        }
        self.task.await.context("server task")??;
        if let Some((_, task)) = self.metrics {
            task.await.context("metrics task")??;
        }
        let _ = self.stop.send(true);
        for task in self.background {
            task.await.context("background task")?;
        }
        self.app.store.close().await;
        Ok(())
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        wait_for_signal().await;
        tracing::info!("shutting down");
        self.shutdown(Duration::from_secs(10)).await
    }
}

fn bind(address: SocketAddr) -> anyhow::Result<std::net::TcpListener> {
    let listener =
        std::net::TcpListener::bind(address).with_context(|| format!("listening on {address}"))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Deletes expired sessions and spent throttle counters every few minutes, until the node
/// stops.
async fn maintain(app: App, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(Duration::from_secs(300));
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => return,
        }
        match zhiyuan_app::accounts::purge_expired(&app).await {
            Ok((sessions, counters)) if sessions + counters > 0 => {
                tracing::info!(sessions, counters, "expired sessions and counters deleted")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot delete expired sessions"),
        }
        match zhiyuan_app::service::settle_missing_check_outs(&app).await {
            Ok(settled) if settled > 0 => {
                tracing::info!(settled, "attendances without a check-out settled")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot settle attendances without a check-out"),
        }
    }
}

/// Delivers the tenants' messages, a round every `deliver_every_ms` (the first one
/// `deliver_every_ms` after the start), and reads the peers' tenants' DID documents again
/// every `peer_refresh_seconds` (the first time in the first round), until the node stops.
async fn deliver_messages(
    app: App,
    cards: cards::TenantCards,
    peers: Vec<config::PeerConfig>,
    transfers: config::TransfersConfig,
    mut stop: watch::Receiver<bool>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client with a timeout");
    let every = Duration::from_millis(transfers.deliver_every_ms.max(10));
    let mut rounds = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let refresh_every = Duration::from_secs(transfers.peer_refresh_seconds.max(1));
    let mut refreshed: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            _ = rounds.tick() => {}
            _ = stop.changed() => return,
        }
        if !peers.is_empty() && refreshed.is_none_or(|at| at.elapsed() >= refresh_every) {
            sender::refresh_peers(&app, &peers, &client).await;
            refreshed = Some(tokio::time::Instant::now());
        }
        if let Err(error) = sender::deliver_round(&app, &cards, &client, &transfers).await {
            tracing::warn!(error = %format!("{error:#}"), "cannot deliver messages");
        }
    }
}

/// Witnesses the peers' logs, a round every `every` (the first one `every` after the start),
/// until the node stops.
async fn witness(
    app: App,
    peers: Vec<config::PeerConfig>,
    key: zhiyuan_federation::SigningKey,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client with a timeout");
    let mut rounds = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = rounds.tick() => {}
            _ = stop.changed() => return,
        }
        witness::witness_round(&app, &peers, &key, &client).await;
    }
}

/// Credentials of each kind a tenant's round issues at most. A round's batch is stored in one
/// write transaction, which on SQLite holds the database's one write lock: 500 rather than 2,000
/// kept scans waiting less behind it (the check-in storm's p99 on SQLite went from 164 to 105
/// ms), and a busy tenant's backlog is taken over the next rounds.
const ISSUE_BATCH: u32 = 500;

/// Issues credentials for what each tenant decided, recorded or issued, in rounds a second
/// apart, until the node stops: each round appends at most one batch to a tenant's log, so a
/// log gains a new checkpoint at most once a second, and a round that finds a tenant busy
/// (a full batch) takes the rest in the next.
async fn issue_credentials(app: App, mut stop: watch::Receiver<bool>) {
    use zhiyuan_app::credentials::{issue_pending, publish_keys};
    use zhiyuan_domain::ports::Signer;
    let mut since: std::collections::HashMap<
        zhiyuan_domain::TenantCode,
        zhiyuan_domain::Timestamp,
    > = std::collections::HashMap::new();
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => return,
        }
        let tenants = match app.store.tenants().await {
            Ok(tenants) => tenants,
            Err(error) => {
                tracing::warn!(%error, "cannot list tenants to issue credentials");
                continue;
            }
        };
        for tenant in tenants {
            let from = match since.get(&tenant.code) {
                Some(from) => *from,
                None => {
                    // A tenant added since the node started: its keys are published first.
                    if let Err(error) =
                        publish_keys(&app, &Signer::Tenant(tenant.code.clone())).await
                    {
                        tracing::warn!(tenant = %tenant.code, %error, "cannot publish signing keys");
                        continue;
                    }
                    zhiyuan_domain::Timestamp::from_unix_millis(0)
                }
            };
            match issue_pending(&app, &tenant.code, from, ISSUE_BATCH).await {
                Ok(round) => {
                    since.insert(tenant.code.clone(), round.next_since);
                    if round.issued > 0 {
                        tracing::info!(tenant = %tenant.code, issued = round.issued, log_size = round.log_size, "credentials issued");
                    }
                }
                Err(error) => {
                    tracing::warn!(tenant = %tenant.code, %error, "cannot issue credentials")
                }
            }
        }
    }
}

async fn wait_for_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
