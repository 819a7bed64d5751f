//! The node's configuration: a TOML file, then environment variables, then command-line flags,
//! each overriding the one before. Unknown keys are refused, so a misspelt setting is an error
//! rather than a silent default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Folder for the SQLite database (and, later, caches).
    pub data_dir: PathBuf,
    /// `postgres://...` to run on PostgreSQL; empty for SQLite under `data_dir`.
    pub database_url: Option<String>,
    /// Load the tenants that ship with the node (Suizhou, Ezhou) if they are not there yet.
    pub load_bundled_tenants: bool,
    /// More tenant files to load at start-up if their tenants are not there yet.
    pub tenant_files: Vec<PathBuf>,
    /// Serve HTTPS with this certificate chain and key (PEM); both or neither.
    pub tls: Option<TlsConfig>,
    /// Hours a sign-in lasts.
    pub session_hours: u32,
    /// Mark session cookies Secure (browsers then send them over HTTPS and to localhost only).
    pub secure_cookies: bool,
    /// Data keys of tenants (division code = base64 of 32 random bytes, as `zhiyuan keys
    /// generate` prints). A tenant without one gets a key file under `data_dir/keys`; nodes that
    /// share a database must share their keys, so give them here.
    pub data_keys: std::collections::HashMap<String, String>,
    pub plugins: PluginsConfig,
    /// Addresses of the reverse proxies in front of the node, whose X-Forwarded-For it
    /// believes; from anyone else the header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Serve /metrics without a session on this address too (for the operator's scraper); on
    /// the main address it takes an operator's session.
    pub metrics_listen: Option<SocketAddr>,
    /// Connections served at once; more are closed at once.
    pub max_connections: usize,
    /// Seconds a client may take to send a request's body; a slower one is answered 408.
    pub body_timeout_seconds: u64,
    /// Passwords hashed or checked at once, each with 19 MiB of Argon2 memory (default: one
    /// per core).
    pub password_workers: Option<usize>,
    /// Password checks that may wait for a worker; more are answered 503 with Retry-After.
    pub password_queue: usize,
    /// Where people reach the node (`https://zhiyuan.example.cn`), for the verification links
    /// printed on certificates; `http://<listen>` if not given.
    pub public_url: Option<String>,
    /// The CJK font certificates' PDFs embed a subset of (Debian's fonts-noto-cjk, which
    /// `scripts/ensure-tools` installs), and the face of it to use: 2 is Simplified Chinese.
    pub certificate_font: PathBuf,
    pub certificate_font_face: u32,
    /// Peer nodes whose tenants' transparency logs this node witnesses (C2SP
    /// tlog-cosignature), each with its operator's keys as this node trusts them.
    pub peers: Vec<PeerConfig>,
    /// Seconds between the witness's rounds over its peers' logs.
    pub witness_every_seconds: u64,
    /// How the node delivers its tenants' messages to other tenants (volunteers' transfers).
    pub transfers: TransfersConfig,
}

/// How messages between tenants are delivered, and how often the peers' DID documents, whose
/// keys sign them, are read again.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransfersConfig {
    /// Milliseconds between the sender's rounds over the outbox.
    pub deliver_every_ms: u64,
    /// The first wait after a failed delivery, doubled after each (with jitter).
    pub retry_base_ms: u64,
    /// The longest wait between two attempts.
    pub retry_max_seconds: u64,
    /// Attempts after which a message is dead (the operator may send it again).
    pub dead_after_attempts: u32,
    /// Seconds between readings of the peers' tenants' DID documents.
    pub peer_refresh_seconds: u64,
}

impl Default for TransfersConfig {
    fn default() -> Self {
        TransfersConfig {
            deliver_every_ms: 200,
            retry_base_ms: 1000,
            retry_max_seconds: 300,
            // About four hours of attempts at the longest wait.
            dead_after_attempts: 50,
            peer_refresh_seconds: 60,
        }
    }
}

/// A peer node whose logs this node witnesses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Where the peer is reached (`https://zhiyuan.other-city.example`).
    pub url: String,
    /// The peer operator's public keys (Multikeys, `z6Mk...`), obtained from the operator in
    /// person or over a channel of its own: the peer's tenants' DID documents must carry a
    /// proof by one of them.
    pub operator_keys: Vec<String>,
}

/// How the node runs tenants' policy plugins.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// Multikeys (`z6Mk...`) of the operators whose signatures on plugin packages the node accepts.
    pub trusted_keys: Vec<String>,
    /// Refuse unsigned plugins. On unless the node runs the demo.
    pub require_signatures: bool,
    /// Where compiled plugins are kept between runs (default: `<data_dir>/plugin-cache`).
    pub cache_dir: Option<PathBuf>,
    /// CPU time a hook call may take.
    pub deadline_ms: u64,
    /// Memory a hook call may use.
    pub memory_cap_mib: u64,
    /// Failures in a row after which a tenant's bound hook is switched off.
    pub failure_threshold: u32,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig {
            trusted_keys: Vec::new(),
            require_signatures: true,
            cache_dir: None,
            deadline_ms: 10,
            memory_cap_mib: 16,
            failure_threshold: 5,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub certificate: PathBuf,
    pub private_key: PathBuf,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            load_bundled_tenants: true,
            tenant_files: Vec::new(),
            tls: None,
            session_hours: 12,
            secure_cookies: true,
            data_keys: std::collections::HashMap::new(),
            plugins: PluginsConfig::default(),
            trusted_proxies: Vec::new(),
            metrics_listen: None,
            max_connections: 1024,
            body_timeout_seconds: 30,
            password_workers: None,
            password_queue: 16,
            public_url: None,
            certificate_font: PathBuf::from(
                "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
            ),
            certificate_font_face: 2,
            peers: Vec::new(),
            witness_every_seconds: 60,
            transfers: TransfersConfig::default(),
        }
    }
}

/// Settings given on the command line or in the environment (`ZHIYUAN_*`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Overrides {
    /// Node configuration file (TOML).
    #[arg(long, env = "ZHIYUAN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "ZHIYUAN_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Folder for the SQLite database [default: ./data].
    #[arg(long, env = "ZHIYUAN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://...); SQLite under the data folder when absent.
    #[arg(long, env = "ZHIYUAN_DATABASE_URL")]
    pub database_url: Option<String>,
    /// PEM certificate chain for HTTPS (with --tls-key).
    #[arg(long, env = "ZHIYUAN_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS (with --tls-cert).
    #[arg(long, env = "ZHIYUAN_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve /metrics without a session on this address too, for the operator's scraper.
    #[arg(long, env = "ZHIYUAN_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

impl NodeConfig {
    pub fn load(overrides: &Overrides) -> anyhow::Result<NodeConfig> {
        let mut config = match &overrides.config {
            Some(path) => NodeConfig::from_file(path)?,
            None => NodeConfig::default(),
        };
        if let Some(listen) = overrides.listen {
            config.listen = listen;
        }
        if let Some(metrics_listen) = overrides.metrics_listen {
            config.metrics_listen = Some(metrics_listen);
        }
        if let Some(data_dir) = &overrides.data_dir {
            config.data_dir = data_dir.clone();
        }
        if let Some(url) = &overrides.database_url {
            config.database_url = Some(url.clone()).filter(|url| !url.is_empty());
        }
        if let (Some(certificate), Some(private_key)) = (&overrides.tls_cert, &overrides.tls_key) {
            config.tls = Some(TlsConfig {
                certificate: certificate.clone(),
                private_key: private_key.clone(),
            });
        }
        if config.session_hours == 0 {
            bail!("session_hours must be at least 1");
        }
        if !(1..=10_000).contains(&config.plugins.deadline_ms) {
            bail!("plugins.deadline_ms must be from 1 to 10000");
        }
        if !(1..=4096).contains(&config.plugins.memory_cap_mib) {
            bail!("plugins.memory_cap_mib must be from 1 to 4096");
        }
        if config.plugins.failure_threshold == 0 {
            bail!("plugins.failure_threshold must be at least 1");
        }
        if config.max_connections == 0 {
            bail!("max_connections must be at least 1");
        }
        if config.body_timeout_seconds == 0 {
            bail!("body_timeout_seconds must be at least 1");
        }
        if config.password_workers == Some(0) {
            bail!("password_workers must be at least 1");
        }
        Ok(config)
    }

    pub fn from_file(path: &Path) -> anyhow::Result<NodeConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading node configuration {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("in node configuration {}", path.display()))
    }

    /// Where tenants' data keys come from.
    pub fn key_ring(&self) -> anyhow::Result<zhiyuan_keys::KeyRing> {
        Ok(zhiyuan_keys::KeyRing::new(
            &self.data_keys,
            Some(self.data_dir.join("keys")),
        )?)
    }

    /// The database to open: the PostgreSQL URL if one is set, else SQLite under the data
    /// folder.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("zhiyuan.sqlite3").display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let error = toml::from_str::<NodeConfig>("listen = \"127.0.0.1:9000\"\nlisten_port = 1\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `listen_port`"), "{error}");
    }

    #[test]
    fn a_file_overrides_defaults_and_flags_override_the_file() {
        let file: NodeConfig =
            toml::from_str("listen = \"127.0.0.1:9000\"\nsession_hours = 2\n").unwrap();
        assert_eq!(file.listen.port(), 9000);
        assert_eq!(file.session_hours, 2);
        assert!(file.load_bundled_tenants);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\n").unwrap();
        let overrides = Overrides {
            config: Some(path),
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..Overrides::default()
        };
        assert_eq!(NodeConfig::load(&overrides).unwrap().listen.port(), 9100);
    }
}
