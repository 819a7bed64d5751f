//! Each tenant's transparency log, as the node keeps it: entries appended in batches, one
//! writer at a time per tenant; the tree's hashes in the stored-hash layout of `tlog_tiles`
//! (an entry's leaf hash, then the hashes of the subtrees it completes); the head, the tree's
//! size and root as last appended. A proof reads the few hashes it needs by primary key. The
//! store hashes (RFC 9162) but signs nothing: checkpoints are signed above it.

use std::collections::{BTreeMap, HashMap};

use sqlx::any::AnyRow;
use tlog_tiles::HashReader;
use zhiyuan_domain::{LogEntry, TenantCode, Timestamp};

use tlog_tiles::Hash;

use crate::rows::{int, text};
use crate::{Backend, Store, StoreError};

/// Rows of one multi-row insert (SQLite allows 32,766 parameters; entries take five each).
const ROWS_PER_INSERT: usize = 1_000;

/// The height of the tiles the log is served in (C2SP tlog-tiles): 256 hashes a tile.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes, or entries, in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// A log's tree as last appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogHead {
    pub size: u64,
    /// The root hash (RFC 9162) of the tree of `size` entries.
    pub root: [u8; 32],
}

/// Stored hashes by their index, read from the database or computed while appending.
#[derive(Default)]
struct Hashes(BTreeMap<u64, Hash>);

impl HashReader for Hashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|index| {
                self.0
                    .get(index)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// A reader that answers zeros and notes what was asked: the first pass of a proof, which
/// learns the indexes it needs so that they are read in one statement.
#[derive(Default)]
struct Asked(std::cell::RefCell<Vec<u64>>);

impl HashReader for Asked {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        self.0.borrow_mut().extend_from_slice(indexes);
        Ok(vec![Hash([0; 32]); indexes.len()])
    }
}

fn hash(row: &AnyRow, column: &str) -> Result<Hash, StoreError> {
    let bytes: Vec<u8> = sqlx::Row::try_get(row, column)?;
    bytes
        .try_into()
        .map(Hash)
        .map_err(|_| StoreError::Corrupt(format!("log {column} is not 32 bytes")))
}

fn tree_error(error: tlog_tiles::Error) -> StoreError {
    StoreError::Corrupt(format!("the log's tree: {error}"))
}

impl Store {
    /// Appends entries to the tenant's log in one transaction and answers the new head. One
    /// writer at a time per tenant: the head's row is locked on PostgreSQL, and SQLite's
    /// writers take turns. The hashes the new entries need of the tree before them are the
    /// roots of its complete subtrees, read in one statement; the rest are computed here.
    pub async fn append_to_log(
        &self,
        tenant: &TenantCode,
        entries: &[LogEntry],
        at: Timestamp,
    ) -> Result<LogHead, StoreError> {
        let mut tx = self.begin_write().await?;
        let head = append_entries(&mut tx, self.backend, tenant, entries, at).await?;
        tx.commit().await?;
        Ok(head)
    }

    /// The tenant's log as last appended; an empty tree before the first entry.
    pub async fn log_head(&self, tenant: &TenantCode) -> Result<LogHead, StoreError> {
        let row = sqlx::query("SELECT size, root FROM log_heads WHERE tenant_code = $1")
            .bind(tenant.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => LogHead {
                size: int(&row, "size")? as u64,
                root: hash(&row, "root")?.0,
            },
            None => LogHead {
                size: 0,
                root: tlog_tiles::EMPTY_HASH.0,
            },
        })
    }

    /// Where a credential is in the tenant's log, with its entry.
    pub async fn log_entry(
        &self,
        tenant: &TenantCode,
        credential_id: &str,
    ) -> Result<(u64, LogEntry), StoreError> {
        let row = sqlx::query(
            "SELECT position, credential_id, digest FROM log_entries \
             WHERE tenant_code = $1 AND credential_id = $2",
        )
        .bind(tenant.as_str())
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((
            int(&row, "position")? as u64,
            LogEntry {
                credential_id: text(&row, "credential_id")?,
                digest: hash(&row, "digest")?.0,
            },
        ))
    }

    /// The `width` hashes of one tile of the tree (C2SP tlog-tiles, height 8): the hashes of
    /// level `8 * level` from position `256 * index` on, 32 bytes each. Not found unless the
    /// tree as last appended holds all of them: a tile, once served, never changes.
    pub async fn log_tile(
        &self,
        tenant: &TenantCode,
        level: u8,
        index: u64,
        width: u32,
    ) -> Result<Vec<u8>, StoreError> {
        let height = level.checked_mul(TILE_HEIGHT).ok_or(StoreError::NotFound)?;
        let first = index.checked_mul(TILE_WIDTH).ok_or(StoreError::NotFound)?;
        let end = first
            .checked_add(u64::from(width))
            .ok_or(StoreError::NotFound)?;
        let covered = (u128::from(end)) << height;
        let head = self.log_head(tenant).await?;
        if width == 0 || u64::from(width) > TILE_WIDTH || covered > u128::from(head.size) {
            return Err(StoreError::NotFound);
        }
        let indexes: Vec<u64> = (first..end)
            .map(|position| tlog_tiles::stored_hash_index(height, position))
            .collect();
        let mut connection = self.pool.acquire().await?;
        let mut hashes = Hashes::default();
        for (index, value) in read_hashes(&mut connection, tenant, &indexes).await? {
            hashes.0.insert(index, value);
        }
        let tile = tlog_tiles::Tile::new(TILE_HEIGHT, level, index, width, false);
        tile.read_data(&hashes).map_err(tree_error)
    }

    /// Entries `from` to `to` (excluded) of the tenant's log, in order; not found unless the
    /// tree as last appended holds all of them.
    pub async fn log_entries(
        &self,
        tenant: &TenantCode,
        from: u64,
        to: u64,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let head = self.log_head(tenant).await?;
        if from >= to || to > head.size {
            return Err(StoreError::NotFound);
        }
        let rows = sqlx::query(
            "SELECT credential_id, digest FROM log_entries \
             WHERE tenant_code = $1 AND position >= $2 AND position < $3 ORDER BY position",
        )
        .bind(tenant.as_str())
        .bind(from as i64)
        .bind(to as i64)
        .fetch_all(&self.pool)
        .await?;
        if rows.len() as u64 != to - from {
            return Err(StoreError::Corrupt(format!(
                "the log of {tenant} is missing entries between {from} and {to}"
            )));
        }
        rows.iter()
            .map(|row| {
                Ok(LogEntry {
                    credential_id: text(row, "credential_id")?,
                    digest: hash(row, "digest")?.0,
                })
            })
            .collect()
    }

    /// Where a credential is in the tenant's log, with its entry and the log's size as last
    /// appended, read together: what a proof of its inclusion starts from.
    pub async fn log_entry_and_size(
        &self,
        tenant: &TenantCode,
        credential_id: &str,
    ) -> Result<(u64, LogEntry, u64), StoreError> {
        let row = sqlx::query(
            "SELECT e.position, e.credential_id, e.digest, h.size FROM log_entries e \
             JOIN log_heads h ON h.tenant_code = e.tenant_code \
             WHERE e.tenant_code = $1 AND e.credential_id = $2",
        )
        .bind(tenant.as_str())
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((
            int(&row, "position")? as u64,
            LogEntry {
                credential_id: text(&row, "credential_id")?,
                digest: hash(&row, "digest")?.0,
            },
            int(&row, "size")? as u64,
        ))
    }

    /// The proof that entry `position` is in the tree of `size` entries (at most the head's).
    pub async fn log_inclusion_proof(
        &self,
        tenant: &TenantCode,
        size: u64,
        position: u64,
    ) -> Result<Vec<[u8; 32]>, StoreError> {
        let mut proofs = self
            .prove(tenant, &[Proof::Inclusion { size, position }])
            .await?;
        Ok(proofs.remove(0))
    }

    /// The proofs that entries `positions` are in the tree of `size` entries (at most the
    /// head's), in their order, their hashes read together.
    pub async fn log_inclusion_proofs(
        &self,
        tenant: &TenantCode,
        size: u64,
        positions: &[u64],
    ) -> Result<Vec<Vec<[u8; 32]>>, StoreError> {
        let proofs: Vec<Proof> = positions
            .iter()
            .map(|&position| Proof::Inclusion { size, position })
            .collect();
        self.prove(tenant, &proofs).await
    }

    /// The proof that the tree of `old` entries is a prefix of the tree of `new` entries (at
    /// most the head's).
    pub async fn log_consistency_proof(
        &self,
        tenant: &TenantCode,
        new: u64,
        old: u64,
    ) -> Result<Vec<[u8; 32]>, StoreError> {
        let mut proofs = self
            .prove(tenant, &[Proof::Consistency { new, old }])
            .await?;
        Ok(proofs.remove(0))
    }

    /// The entries of the credentials named, by id, each with its position in the tenant's
    /// log; a credential not in the log is not in the answer.
    pub async fn log_entries_by_id(
        &self,
        tenant: &TenantCode,
        credential_ids: &[&str],
    ) -> Result<HashMap<String, (u64, LogEntry)>, StoreError> {
        let mut positions = HashMap::with_capacity(credential_ids.len());
        for chunk in credential_ids.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "SELECT credential_id, position, digest FROM log_entries WHERE tenant_code = $1 \
                 AND credential_id IN ({})",
                crate::parameter_list(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(tenant.as_str());
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                let entry = LogEntry {
                    credential_id: text(&row, "credential_id")?,
                    digest: hash(&row, "digest")?.0,
                };
                positions.insert(
                    entry.credential_id.clone(),
                    (int(&row, "position")? as u64, entry),
                );
            }
        }
        Ok(positions)
    }

    /// Runs proofs twice: once to learn the hashes they read, then over those hashes, read
    /// together (one statement for up to a thousand).
    async fn prove(
        &self,
        tenant: &TenantCode,
        proofs: &[Proof],
    ) -> Result<Vec<Vec<[u8; 32]>>, StoreError> {
        let asked = Asked::default();
        for proof in proofs {
            proof.run(&asked).map_err(|error| match error {
                tlog_tiles::Error::InvalidInput(_) => StoreError::NotFound,
                other => tree_error(other),
            })?;
        }
        let mut indexes = asked.0.into_inner();
        indexes.sort_unstable();
        indexes.dedup();
        let mut connection = self.pool.acquire().await?;
        let mut hashes = Hashes::default();
        for (index, value) in read_hashes(&mut connection, tenant, &indexes).await? {
            hashes.0.insert(index, value);
        }
        proofs
            .iter()
            .map(|proof| {
                let proof = proof.run(&hashes).map_err(tree_error)?;
                Ok(proof.into_iter().map(|hash| hash.0).collect())
            })
            .collect()
    }
}

/// Takes the tenant's log for this transaction (its head's row, made at the first append, is
/// locked on PostgreSQL; SQLite's writers take turns) and answers its size.
pub(crate) async fn lock_head(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    tenant: &TenantCode,
    at: Timestamp,
) -> Result<u64, StoreError> {
    sqlx::query(
        "INSERT INTO log_heads (tenant_code, size, root, updated_at) VALUES ($1, 0, $2, $3) \
         ON CONFLICT (tenant_code) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(tlog_tiles::EMPTY_HASH.0.to_vec())
    .bind(at.unix_millis())
    .execute(&mut *tx)
    .await?;
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let head = sqlx::query(&format!(
        "SELECT size FROM log_heads WHERE tenant_code = $1{lock}"
    ))
    .bind(tenant.as_str())
    .fetch_one(&mut *tx)
    .await?;
    Ok(int(&head, "size")? as u64)
}

/// Appends entries to the tenant's log within a write transaction and answers the new head.
/// The log is taken first (`lock_head`); a caller that must read before it appends takes it
/// itself beforehand, which this repeats harmlessly.
pub(crate) async fn append_entries(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    tenant: &TenantCode,
    entries: &[LogEntry],
    at: Timestamp,
) -> Result<LogHead, StoreError> {
    let before = lock_head(tx, backend, tenant, at).await?;
    let mut hashes = Hashes::default();
    let frontier = tlog_tiles::sub_tree_index(0, before, vec![]);
    for (index, value) in read_hashes(tx, tenant, &frontier).await? {
        hashes.0.insert(index, value);
    }
    let mut written = Vec::new();
    let mut size = before;
    for entry in entries {
        let leaf = tlog_tiles::record_hash(&entry.to_bytes());
        let stored =
            tlog_tiles::stored_hashes_for_record_hash(size, leaf, &hashes).map_err(tree_error)?;
        let first = tlog_tiles::stored_hash_index(0, size);
        for (offset, value) in stored.into_iter().enumerate() {
            hashes.0.insert(first + offset as u64, value);
            written.push((first + offset as u64, value));
        }
        size += 1;
    }
    let root = tlog_tiles::tree_hash(size, &hashes).map_err(tree_error)?;
    for (chunk_at, chunk) in entries.chunks(ROWS_PER_INSERT).enumerate() {
        let values: Vec<String> = (0..chunk.len())
            .map(|row| {
                let base = 3 + 3 * row;
                format!("($1, ${base}, ${}, ${}, $2)", base + 1, base + 2)
            })
            .collect();
        let sql = format!(
            "INSERT INTO log_entries (tenant_code, position, credential_id, digest, \
             appended_at) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(at.unix_millis());
        for (row, entry) in chunk.iter().enumerate() {
            let position = before + (chunk_at * ROWS_PER_INSERT + row) as u64;
            query = query
                .bind(position as i64)
                .bind(entry.credential_id.as_str())
                .bind(entry.digest.to_vec());
        }
        query.execute(&mut *tx).await?;
    }
    for chunk in written.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|row| format!("($1, ${}, ${})", 2 + 2 * row, 3 + 2 * row))
            .collect();
        let sql = format!(
            "INSERT INTO log_hashes (tenant_code, stored_index, hash) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(tenant.as_str());
        for (index, value) in chunk {
            query = query.bind(*index as i64).bind(value.0.to_vec());
        }
        query.execute(&mut *tx).await?;
    }
    sqlx::query(
        "UPDATE log_heads SET size = $2, root = $3, updated_at = $4 WHERE tenant_code = $1",
    )
    .bind(tenant.as_str())
    .bind(size as i64)
    .bind(root.0.to_vec())
    .bind(at.unix_millis())
    .execute(&mut *tx)
    .await?;
    Ok(LogHead { size, root: root.0 })
}

/// A proof the log serves.
#[derive(Clone, Copy)]
enum Proof {
    Inclusion { size: u64, position: u64 },
    Consistency { new: u64, old: u64 },
}

impl Proof {
    fn run<R: HashReader>(self, reader: &R) -> Result<Vec<Hash>, tlog_tiles::Error> {
        match self {
            Proof::Inclusion { size, position } => tlog_tiles::prove_record(size, position, reader),
            Proof::Consistency { new, old } => tlog_tiles::prove_tree(new, old, reader),
        }
    }
}

/// The stored hashes of these indexes, in one statement per thousand.
async fn read_hashes(
    connection: &mut sqlx::AnyConnection,
    tenant: &TenantCode,
    indexes: &[u64],
) -> Result<Vec<(u64, Hash)>, StoreError> {
    let mut found = Vec::with_capacity(indexes.len());
    for chunk in indexes.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "SELECT stored_index, hash FROM log_hashes WHERE tenant_code = $1 \
             AND stored_index IN ({})",
            crate::parameter_list(2, chunk.len())
        );
        let mut query = sqlx::query(&sql).bind(tenant.as_str());
        for index in chunk {
            query = query.bind(*index as i64);
        }
        for row in query.fetch_all(&mut *connection).await? {
            found.push((int(&row, "stored_index")? as u64, hash(&row, "hash")?));
        }
    }
    Ok(found)
}
