//! Storage of Zhiyuan: one `Store` over SQLite (the embedded default) or PostgreSQL.
//!
//! Both backends run the same SQL through sqlx's `Any` driver: statements use `$N` parameters,
//! which both understand, and only TEXT, BIGINT and byte columns (BLOB, BYTEA), which both decode
//! alike. Each backend
//! owns its migrations (`migrations/sqlite`, `migrations/postgres`) so the schemas can diverge
//! where a backend does better. Every write is one transaction, and its audit event is written in
//! that same transaction. Every method that reads or writes tenant data takes the tenant, and
//! every statement filters or keys on it.

mod accounts;
mod audit;
mod credentials;
mod error;
mod import;
mod keys;
mod log;
mod messages;
mod migrations;
mod nonces;
mod plugins;
mod projects;
mod rows;
mod service;
mod teams;
mod tenants;
mod transfers;
mod units;
mod volunteers;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};

pub use accounts::{Account, NewAccount, SESSIONS_PER_ACCOUNT, Session};
pub use audit::{AuditEvent, AuditRecord, ChainBreak, ChainProblem, ChainReport};
pub use credentials::{
    NewCredential, SigningKeyRecord, StoredCredential, Unissued, UnissuedRegistration,
    WitnessedLog, identity_commitment,
};
pub use error::{StoreError, UniqueField};
pub use import::{IMPORT_BATCH, ImportPreparer, PreparedVolunteer, VolunteerImport};
pub use log::{LogHead, TILE_HEIGHT, TILE_WIDTH};
pub use messages::{
    Delivery, DestinationSummary, IncomingMessage, OutgoingMessage, PendingMessage, Received,
};
pub use plugins::{NewPlugin, RevisionSummary, StoredPlugin};
pub use projects::{
    EnrollmentRecord, GeoBox, NeedRecord, ProjectFilter, ProjectRecord, ProjectSettings,
    ShiftRecord,
};
pub use service::{
    Appended, Attendance, CardHolder, CertificatesOf, Dispute, DoneScan, NewScan, NewServiceRecord,
    Notice, NoticeFor, Place, PrintedCard, RecordsOf, ScanContext, ScanRecord, ServiceCertificate,
    ServiceRecord, Settlement, Totals,
};
pub use teams::{Membership, MembershipStatus, TeamRecord};
pub use tenants::{RegionUpdate, TenantSummary};
pub use transfers::{
    NewTransfer, PeerDocument, TRANSFER_MESSAGE, TransferArrival, TransferIn, TransferOut,
};
pub use units::UnitUpdate;
pub use volunteers::{Registrant, VolunteerDecision, VolunteerFilter, VolunteerRecord};
pub use zhiyuan_keys::{DataKeys, KeyRing};

/// The parameters `$first` onwards, `count` of them, comma-separated: the list of an `IN`
/// that follows a statement's fixed parameters.
pub(crate) fn parameter_list(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|at| format!("${at}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The realm of the node's own accounts, sessions and audit events: stored where a tenant's
/// code would be, so that every such row has one. No tenant can take it: tenant codes are six
/// digits.
pub const NODE_REALM: &str = "node";

/// The value of `tenant_code` for a tenant's rows, or the node's.
pub(crate) fn realm(tenant: Option<&zhiyuan_domain::TenantCode>) -> &str {
    tenant.map_or(NODE_REALM, zhiyuan_domain::TenantCode::as_str)
}

/// Set on every SQLite connection. A 64 MiB page cache keeps the indexes of a city's
/// volunteers in memory while they are written (SQLite's default of 2 MiB makes a bulk import
/// read index pages back for every row). The file is not memory-mapped: a connection that
/// begins a read after another wrote unmaps and maps the whole file again, which under a storm
/// of scans cost more than the copies it spares (BENCHMARKS.md). Deleted content is
/// overwritten with zeros (`secure_delete`), so that what is removed, such as a voided
/// registration, does not stay readable in free pages of the file.
pub const SQLITE_CONNECTION_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
     PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; \
     PRAGMA secure_delete = ON;";

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The node's database. Cheap to clone: it is a handle on a pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    keys: KeyRing,
    /// The turn to write, on SQLite: one writer at a time, in the order they asked.
    writers: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// A transaction that writes, holding the store's turn to write where it keeps one.
pub(crate) struct WriteTransaction {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTransaction {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTransaction {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTransaction {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// How long a pooled connection may rest before it is tested on its way out of the pool.
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// Tests a connection that rested a while (the server may have dropped it) before handing it
/// out; one in steady use goes out untested, which spares every statement a round trip to
/// the database (sqlx's default tests each one).
fn ping_when_idle(
    connection: &mut sqlx::AnyConnection,
    metadata: sqlx::pool::PoolConnectionMetadata,
) -> std::pin::Pin<Box<dyn Future<Output = Result<bool, sqlx::Error>> + Send + '_>> {
    Box::pin(async move {
        if metadata.idle_for > PING_AFTER_IDLE {
            connection.ping().await?;
        }
        Ok(true)
    })
}

impl Store {
    /// Connects to `sqlite://PATH` (created if missing) or `postgres://...`; `keys` protect
    /// the tenants' personal data.
    pub async fn connect(url: &str, keys: KeyRing) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        let pool = match backend {
            Backend::Sqlite => {
                // WAL lets readers run beside the one writer; it is a property of the file, so
                // it is set once here rather than on every connection.
                let mut first = options.connect().await?;
                first.execute("PRAGMA journal_mode = WAL").await?;
                drop(first);
                AnyPoolOptions::new()
                    .max_connections(8)
                    .test_before_acquire(false)
                    .before_acquire(ping_when_idle)
                    .after_connect(|connection, _| {
                        Box::pin(async move {
                            connection.execute(SQLITE_CONNECTION_PRAGMAS).await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .test_before_acquire(false)
                    .before_acquire(ping_when_idle)
                    .connect_with(options)
                    .await?
            }
        };
        Ok(Store {
            pool,
            backend,
            keys,
            writers: std::sync::Arc::default(),
        })
    }

    /// Starts a transaction that will write. On SQLite it first takes this store's turn to
    /// write, so that its writers queue in the order they came (a fair lock) rather than
    /// retry on SQLite's busy timeout, whose growing back-off makes a burst's slowest writes
    /// wait far longer than the queue is long; then it takes SQLite's write lock at once (BEGIN
    /// IMMEDIATE), which other processes on the same file still wait for under the busy
    /// timeout.
    pub(crate) async fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.writers.clone().lock_owned().await;
                WriteTransaction {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                }
            }
            Backend::Postgres => WriteTransaction {
                tx: self.pool.begin().await?,
                _turn: None,
            },
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the migrations this backend has not run yet. Events written before the audit
    /// trail was chained are chained as the migration that numbered them is applied.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let applied = migrations::run(&self.pool, self.backend).await?;
        if applied.contains(&migrations::CHAINING) {
            self.chain_audit_trails().await?;
        }
        Ok(())
    }

    /// Answers when the database does: the readiness check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
