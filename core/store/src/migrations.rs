use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::Backend;

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
];

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
