//! The Zhiyuan node: the composition root that wires storage, policy and the HTTP API together.
//! Nothing else in the workspace reads configuration, the environment or the system clock.

pub mod config;
pub mod demo;
pub mod policy;
pub mod tenants;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use tokio::task::JoinHandle;
use zhiyuan_api::{ApiConfig, AppState};
use zhiyuan_domain::{Clock, Timestamp};
use zhiyuan_store::Store;

pub use config::{NodeConfig, Overrides};

/// The system clock: the one place where Zhiyuan asks the machine what time it is.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis())
            .unwrap_or(0);
        Timestamp::from_unix_millis(i64::try_from(millis).unwrap_or(i64::MAX))
    }
}

/// Opens the configured database (creating the data folder for SQLite) and migrates it.
pub async fn open_store(config: &NodeConfig) -> anyhow::Result<Store> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data folder {}", config.data_dir.display()))?;
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

/// A node serving on its socket.
pub struct Node {
    pub local_addr: SocketAddr,
    pub store: Store,
    /// Tenants' policies, as the node runs them.
    pub policies: zhiyuan_plugins::WasmHost,
    handle: Handle,
    task: JoinHandle<std::io::Result<()>>,
}

impl Node {
    /// Opens storage, loads the configured tenants and starts serving.
    pub async fn start(config: &NodeConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Node> {
        let store = open_store(config).await?;
        tenants::load_configured(&store, config, clock.as_ref()).await?;
        Node::serve(config, store, clock).await
    }

    /// Serves an opened store.
    pub async fn serve(
        config: &NodeConfig,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Node> {
        let api_config = ApiConfig {
            session_ttl: Duration::from_secs(u64::from(config.session_hours) * 3600),
            secure_cookies: config.secure_cookies,
        };
        let policies = policy::open_host(config)?;
        policy::activate_all(&store, &policies).await?;
        let state = AppState::new(
            store.clone(),
            clock.clone(),
            api_config,
            Arc::new(policies.clone()),
        )
        .map_err(|e| anyhow::anyhow!("compiling schemas: {e}"))?;
        policy::keep_policies_current(
            store.clone(),
            policies.clone(),
            state.policy_changes.clone(),
            clock,
        );
        let app = zhiyuan_api::router(state).into_make_service_with_connect_info::<SocketAddr>();

        let listener = std::net::TcpListener::bind(config.listen)
            .with_context(|| format!("listening on {}", config.listen))?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let handle = Handle::new();
        let task = match &config.tls {
            None => {
                let server = axum_server::from_tcp(listener).handle(handle.clone());
                tokio::spawn(server.serve(app))
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
                let server =
                    axum_server::from_tcp_rustls(listener, rustls_config).handle(handle.clone());
                tokio::spawn(server.serve(app))
            }
        };
        Ok(Node {
            local_addr,
            store,
            policies,
            handle,
            task,
        })
    }

    /// Stops accepting connections, lets requests in flight finish (up to `grace`), then closes
    /// the database.
    pub async fn shutdown(self, grace: Duration) -> anyhow::Result<()> {
        self.handle.graceful_shutdown(Some(grace));
        self.task.await.context("server task")??;
        self.store.close().await;
        Ok(())
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        wait_for_signal().await;
        tracing::info!("shutting down");
        self.shutdown(Duration::from_secs(10)).await
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
