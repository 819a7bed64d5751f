//! The PostgreSQL schema stays ready to be distributed by tenant (Citus, with `tenant_code` as
//! the distribution column): read from the catalogue of a migrated database, every table that
//! holds a tenant's data has `tenant_code` in its primary key, in each of its unique
//! constraints and indexes, and on both sides of each foreign key to another tenant table, in
//! the same place. Tables without it are named here as node-wide.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;

use crate::support::{Backend, TestNode};

/// Tables of the node as a whole: the tenants themselves (a reference table under Citus), the
/// sign-in throttle's counters (keyed by address and name, before any tenant is known) and the
/// migrations' own bookkeeping.
const NODE_WIDE: [&str; 3] = ["_sqlx_migrations", "tenants", "throttle"];

/// Rows of a catalogue query, each a map from column name to text.
async fn rows(node: &TestNode, sql: &str) -> Vec<BTreeMap<String, String>> {
    let mut connection = node.database.connect(&node.config).await;
    sqlx::query(sql)
        .fetch_all(&mut connection)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .iter()
        .map(|row| {
            [
                "table_name",
                "name",
                "columns",
                "referenced",
                "referenced_columns",
            ]
            .iter()
            .filter_map(|column| {
                row.try_get::<String, _>(*column)
                    .ok()
                    .map(|value| ((*column).to_owned(), value))
            })
            .collect()
        })
        .collect()
}

fn columns(list: &str) -> Vec<&str> {
    list.split(',').collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tenant_table_is_keyed_by_its_tenant() {
    let node = TestNode::spawn(Backend::Postgres).await;
    let tables: BTreeSet<String> = rows(
        &node,
        "SELECT table_name::text AS table_name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .await
    .into_iter()
    .map(|row| row["table_name"].clone())
    .collect();
    let with_tenant: BTreeSet<String> = rows(
        &node,
        "SELECT table_name::text AS table_name FROM information_schema.columns \
         WHERE table_schema = 'public' AND column_name = 'tenant_code'",
    )
    .await
    .into_iter()
    .map(|row| row["table_name"].clone())
    .collect();
    let without: BTreeSet<&str> = tables
        .difference(&with_tenant)
        .map(String::as_str)
        .collect();
    assert_eq!(
        without,
        BTreeSet::from(NODE_WIDE),
        "every table holds tenant data keyed by tenant_code, or is named node-wide"
    );
    assert!(tables.len() > 15, "the schema was read: {tables:?}");

    let mut problems = Vec::new();
    // Primary keys, unique constraints and unique indexes (partial ones too).
    let unique = rows(
        &node,
        "SELECT c.relname::text AS table_name, i.relname::text AS name, \
                array_to_string(ARRAY(SELECT a.attname FROM unnest(x.indkey) AS k \
                    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k), ',') AS columns \
         FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND x.indisunique",
    )
    .await;
    let mut keyed = BTreeSet::new();
    for index in &unique {
        let table = index["table_name"].as_str();
        if NODE_WIDE.contains(&table) {
            continue;
        }
        keyed.insert(table.to_owned());
        if !columns(&index["columns"]).contains(&"tenant_code") {
            problems.push(format!(
                "{table}: unique {} ({}) lacks tenant_code",
                index["name"], index["columns"]
            ));
        }
    }
    for table in &with_tenant {
        if !keyed.contains(table) {
            problems.push(format!("{table}: no primary key"));
        }
    }
    // Foreign keys between tenant tables carry the tenant on both sides, in the same place.
    let foreign = rows(
        &node,
        "SELECT c.relname::text AS table_name, con.conname::text AS name, r.relname::text AS referenced, \
                array_to_string(ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(num, o) \
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.o), ',') AS columns, \
                array_to_string(ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(num, o) \
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.o), ',') AS referenced_columns \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_class r ON r.oid = con.confrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND con.contype = 'f'",
    )
    .await;
    assert!(
        foreign.len() > 20,
        "the foreign keys were read: {foreign:?}"
    );
    for key in &foreign {
        let (table, referenced) = (key["table_name"].as_str(), key["referenced"].as_str());
        if NODE_WIDE.contains(&referenced) {
            // A reference table: any shard may point at it.
            continue;
        }
        let here = columns(&key["columns"])
            .iter()
            .position(|c| *c == "tenant_code");
        let there = columns(&key["referenced_columns"])
            .iter()
            .position(|c| *c == "tenant_code");
        if here.is_none() || here != there {
            problems.push(format!(
                "{table}: foreign key {} ({}) to {referenced} ({}) does not pair tenant_code",
                key["name"], key["columns"], key["referenced_columns"]
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "not ready to distribute by tenant:\n{}",
        problems.join("\n")
    );
    node.stop().await;
}
