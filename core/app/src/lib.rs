//! The use cases of Zhiyuan: one module per capability, each function one thing a person asks
//! of a node. The HTTP API, the command line, and later federation and the web pages call these
//! and nothing below them, so that every interface checks the same rules and grants.
//!
//! A use case takes the `Principal` asking (or none, for what is public), checks what the
//! scope of its grants reaches once it has loaded the resource, and answers a typed view or an
//! `AppError`. Who may ask at all is the permission table of `zhiyuan_domain::access`, which
//! the interfaces check before they read a request.

pub mod accounts;
pub mod certificates;
pub mod credentials;
pub mod directory;
pub mod enrollments;
pub mod imports;
pub mod log;
pub mod needs;
pub mod passwords;
pub mod policy;
pub mod projects;
pub mod service;
pub mod sessions;
pub mod stats;
pub mod teams;
pub mod tenants;
pub mod transfers;
pub mod views;
pub mod volunteers;

mod error;

use std::sync::Arc;
use std::time::Duration;

use zhiyuan_domain::Clock;
use zhiyuan_domain::ports::{CardSigner, IdentityCheck, PolicyHost, RecordSigner, RecordVerifier};
use zhiyuan_store::Store;

pub use directory::Directory;
pub use error::AppError;
pub use passwords::Passwords;
pub use sessions::Sessions;
pub use zhiyuan_store::UniqueField;

/// Settings of the use cases, from the node's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a sign-in lasts.
    pub session_ttl: Duration,
    /// How long a node trusts a session or a unit it has read before it reads it again: a
    /// sign-out, a changed grant or a changed unit made through another node sharing the
    /// database takes effect within this.
    pub read_cache_ttl: Duration,
    /// Argon2 hashes computed at once (each takes 19 MiB and tens of milliseconds of a core).
    pub password_workers: usize,
    /// Requests that may wait for a hashing worker before the node answers 503.
    pub password_queue: usize,
    /// Registrations accepted from one client address within `throttle_window`.
    pub registrations_per_address: u64,
    /// Files one account may upload within a day, and their total size.
    pub uploads_per_account_per_day: u64,
    pub upload_bytes_per_account_per_day: u64,
    /// Bytes of files a tenant may hold in all.
    pub upload_bytes_per_tenant: u64,
    /// Where people reach the node, for the links printed on certificates.
    pub public_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_ttl: Duration::from_secs(12 * 3600),
            read_cache_ttl: Duration::from_secs(2),
            password_workers: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2),
            password_queue: 16,
            registrations_per_address: 30,
            uploads_per_account_per_day: 30,
            upload_bytes_per_account_per_day: 50 << 20,
            upload_bytes_per_tenant: 2 << 30,
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

/// What every use case can reach. Built once by the node binary; cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// Each tenant's local rules: built-in, or its WebAssembly plugins.
    pub policies: Arc<dyn PolicyHost>,
    /// Real-name checks; the reviewer's attestation unless an identity service is wired in.
    pub identity_check: Arc<dyn IdentityCheck>,
    /// Signs and opens volunteer cards' codes with the tenants' keys.
    pub cards: Arc<dyn CardSigner>,
    /// Signs the checkpoints of each tenant's transparency log, its credentials and the DID
    /// documents of the tenants and the operator.
    pub signer: Arc<dyn RecordSigner>,
    /// Checks credentials as an auditor does, for the node's audit endpoint.
    pub verifier: Arc<dyn RecordVerifier>,
    /// The CJK font certificates' PDFs embed; none where the node has none installed.
    pub pdf_font: Option<zhiyuan_forms::certificate::PdfFont>,
    pub passwords: Passwords,
    pub sessions: Sessions,
    /// Units read lately.
    pub directory: Directory,
    pub settings: Arc<Settings>,
    /// Changes of policy go one at a time, so that what is in force is what was committed last.
    pub policy_changes: Arc<tokio::sync::Mutex<()>>,
}

impl App {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        policies: Arc<dyn PolicyHost>,
        cards: Arc<dyn CardSigner>,
        signer: Arc<dyn RecordSigner>,
        verifier: Arc<dyn RecordVerifier>,
        settings: Settings,
    ) -> App {
        App {
            passwords: Passwords::new(settings.password_workers, settings.password_queue),
            sessions: Sessions::new(settings.read_cache_ttl),
            directory: Directory::new(settings.read_cache_ttl),
            store,
            clock,
            policies,
            identity_check: Arc::new(zhiyuan_domain::ports::ReviewerAttestation),
            cards,
            signer,
            verifier,
            pdf_font: None,
            settings: Arc::new(settings),
            policy_changes: Arc::default(),
        }
    }

    /// Whether the node can serve: its database answers. Answers which database it is.
    pub async fn ready(&self) -> Result<&'static str, AppError> {
        self.store.ping().await?;
        Ok(self.store.backend().as_str())
    }
}

/// Runs CPU work (a plugin's hook, a large parse) on the blocking pool, off the threads that
/// serve requests.
/// Asks the tenant's policy about a hook: at once when the built-in rule answers it, on a
/// blocking thread when a plugin does, so that a long WebAssembly call never holds up the
/// requests sharing the runtime's threads.
pub(crate) async fn ask<T: Send + 'static>(
    policy: std::sync::Arc<dyn zhiyuan_domain::ports::Policy>,
    hook: zhiyuan_domain::ports::Hook,
    question: impl FnOnce(&dyn zhiyuan_domain::ports::Policy) -> T + Send + 'static,
) -> Result<T, AppError> {
    if policy.runs_plugin(hook) {
        blocking(move || question(policy.as_ref())).await
    } else {
        Ok(question(policy.as_ref()))
    }
}

pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| AppError::Internal(format!("blocking work stopped: {error}")))
}
