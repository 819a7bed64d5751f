use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor, Row};

use crate::{Backend, StoreError};

/// Embedded in the binary so that a node migrates its database with nothing else on disk.
const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        "volunteers",
        include_str!("../migrations/sqlite/0002_volunteers.sql"),
    ),
    (
        3,
        "teams",
        include_str!("../migrations/sqlite/0003_teams.sql"),
    ),
    (
        4,
        "plugins",
        include_str!("../migrations/sqlite/0004_plugins.sql"),
    ),
    (
        5,
        "verified_tallies",
        include_str!("../migrations/sqlite/0005_verified_tallies.sql"),
    ),
    (
        6,
        "accounts_and_grants",
        include_str!("../migrations/sqlite/0006_accounts_and_grants.sql"),
    ),
    (
        8,
        "projects",
        include_str!("../migrations/sqlite/0008_projects.sql"),
    ),
    (
        9,
        "service",
        include_str!("../migrations/sqlite/0009_service.sql"),
    ),
    (
        10,
        "transparency_log",
        include_str!("../migrations/sqlite/0010_transparency_log.sql"),
    ),
    (
        11,
        "credentials",
        include_str!("../migrations/sqlite/0011_credentials.sql"),
    ),
    (
        12,
        "request_nonces",
        include_str!("../migrations/sqlite/0012_request_nonces.sql"),
    ),
    (
        13,
        "messages",
        include_str!("../migrations/sqlite/0013_messages.sql"),
    ),
    (
        14,
        "transfers",
        include_str!("../migrations/sqlite/0014_transfers.sql"),
    ),
];

/// SQLite migrations that build tables anew. They need foreign keys off, which SQLite allows
/// only outside a transaction, while sqlx runs every SQLite migration inside one; the store
/// applies them itself (`apply_rebuilding`).
const SQLITE_REBUILDING: &[i64] = &[6, 14];

/// Migrations that remove personal data in the clear (0006: birth dates and the old masks), after
/// which the space the data occupied is cleared (`clear_freed_space`).
const CLEARING: &[i64] = &[6];

/// The migration that numbered the audit events written before the trail was chained.
pub(crate) const CHAINING: i64 = 6;

const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "volunteers",
        include_str!("../migrations/postgres/0002_volunteers.sql"),
    ),
    (
        3,
        "teams",
        include_str!("../migrations/postgres/0003_teams.sql"),
    ),
    (
        4,
        "plugins",
        include_str!("../migrations/postgres/0004_plugins.sql"),
    ),
    (
        5,
        "verified_tallies",
        include_str!("../migrations/postgres/0005_verified_tallies.sql"),
    ),
    (
        6,
        "accounts_and_grants",
        include_str!("../migrations/postgres/0006_accounts_and_grants.sql"),
    ),
    (
        7,
        "bulk_import",
        include_str!("../migrations/postgres/0007_bulk_import.sql"),
    ),
    (
        8,
        "projects",
        include_str!("../migrations/postgres/0008_projects.sql"),
    ),
    (
        9,
        "service",
        include_str!("../migrations/postgres/0009_service.sql"),
    ),
    (
        10,
        "transparency_log",
        include_str!("../migrations/postgres/0010_transparency_log.sql"),
    ),
    (
        11,
        "credentials",
        include_str!("../migrations/postgres/0011_credentials.sql"),
    ),
    (
        12,
        "request_nonces",
        include_str!("../migrations/postgres/0012_request_nonces.sql"),
    ),
    (
        13,
        "messages",
        include_str!("../migrations/postgres/0013_messages.sql"),
    ),
    (
        14,
        "transfers",
        include_str!("../migrations/postgres/0014_transfers.sql"),
    ),
];

pub(crate) fn for_backend(backend: Backend) -> Migrator {
    let migrations = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    Migrator {
        migrations: Cow::Owned(
            migrations
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

/// Applies the migrations this backend has not run yet and answers their versions. On SQLite, a
/// migration that builds tables anew is applied by `apply_rebuilding` once every migration before
/// it has run.
pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<Vec<i64>, StoreError> {
    let migrator = for_backend(backend);
    let applied = applied_versions(pool, backend).await?;
    let fresh = applied.is_none();
    let applied = applied.unwrap_or_default();
    let pending: Vec<i64> = migrator
        .migrations
        .iter()
        .map(|migration| migration.version)
        .filter(|version| !applied.contains(version))
        .collect();
    if backend == Backend::Sqlite {
        for version in SQLITE_REBUILDING {
            let Some(migration) = migrator
                .migrations
                .iter()
                .find(|migration| migration.version == *version)
            else {
                continue;
            };
            if !pending.contains(version) {
                continue;
            }
            let earlier = Migrator {
                migrations: Cow::Owned(
                    migrator
                        .migrations
                        .iter()
                        .filter(|migration| migration.version < *version)
                        .cloned()
                        .collect(),
                ),
                ..Migrator::DEFAULT
            };
            earlier.run(pool).await?;
            apply_rebuilding(pool, migration).await?;
        }
    }
    migrator.run(pool).await?;
    if !fresh && CLEARING.iter().any(|version| pending.contains(version)) {
        clear_freed_space(pool, backend).await?;
    }
    Ok(pending)
}

/// Whether the database has run migrations before: a new one holds no data to clear.
async fn recorded(pool: &AnyPool, backend: Backend) -> Result<bool, StoreError> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
        }
        Backend::Postgres => {
            "SELECT 1 FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
        }
    };
    Ok(sqlx::query(sql).fetch_optional(pool).await?.is_some())
}

/// Rewrites the tables a clearing migration changed, so that what it removed (birth dates and
/// the old masks of identity numbers, which together rebuild a number) is not left in freed
/// pages or dead row versions of the database files. SQLite's WAL is emptied too; from then on
/// `secure_delete` zeroes what is deleted. Backups taken before hold the old data still.
async fn clear_freed_space(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let statements: &[&str] = match backend {
        Backend::Sqlite => &["VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"],
        Backend::Postgres => &["VACUUM FULL volunteers", "VACUUM FULL audit_events"],
    };
    for statement in statements {
        pool.execute(*statement).await?;
    }
    Ok(())
}

/// The versions this database has applied, or `None` for a database no node has migrated.
async fn applied_versions(
    pool: &AnyPool,
    backend: Backend,
) -> Result<Option<Vec<i64>>, StoreError> {
    if !recorded(pool, backend).await? {
        return Ok(None);
    }
    let rows = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success")
        .fetch_all(pool)
        .await?;
    Ok(Some(
        rows.iter()
            .map(|row| row.get::<i64, _>("version"))
            .collect(),
    ))
}

/// Runs a migration with foreign keys off, in one transaction with the row sqlx would record
/// for it, and commits only when every foreign key holds.
async fn apply_rebuilding(pool: &AnyPool, migration: &Migration) -> Result<(), StoreError> {
    let mut connection = pool.acquire().await?;
    connection.execute("PRAGMA foreign_keys = OFF").await?;
    let applied = async {
        connection.execute("BEGIN IMMEDIATE").await?;
        connection.execute(&*migration.sql).await?;
        let broken = sqlx::query("PRAGMA foreign_key_check")
            .fetch_optional(&mut *connection)
            .await?;
        if broken.is_some() {
            return Err(StoreError::Corrupt(format!(
                "migration {} leaves a foreign key broken",
                migration.version
            )));
        }
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES ($1, $2, TRUE, $3, -1)",
        )
        .bind(migration.version)
        .bind(migration.description.to_string())
        .bind(migration.checksum.to_vec())
        .execute(&mut *connection)
        .await?;
        connection.execute("COMMIT").await?;
        Ok(())
    }
    .await;
    if applied.is_err() {
        let _ = connection.execute("ROLLBACK").await;
    }
    connection.execute("PRAGMA foreign_keys = ON").await?;
    applied
}
