//! Each tenant's transparency log as anyone reads it (federation, R6): its latest checkpoint,
//! signed with the tenant's key as a C2SP signed note, its tiles and entry bundles as C2SP
//! tlog-tiles serves them, and the proofs of inclusion and consistency (`docs/federation.md`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zhiyuan_domain::{LogEntry, TenantCode};
use zhiyuan_store::LogHead;
use zhiyuan_store::{TILE_HEIGHT, TILE_WIDTH};

use crate::views::{ConsistencyProofView, InclusionProofView, WitnessedLogView};
use crate::{App, AppError};

/// What a tile path names (C2SP tlog-tiles): hashes of the tree, or a bundle of entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileAddress {
    /// `tile/<level>/<index>[.p/<width>]`: `width` hashes of level `8 * level`.
    Hashes { level: u8, index: u64, width: u32 },
    /// `tile/entries/<index>[.p/<width>]`: entries `256 * index` to `256 * index + width`.
    Entries { index: u64, width: u32 },
}

impl TileAddress {
    /// Reads the part of a tile path after `tile/`, as C2SP tlog-tiles writes it: the level or
    /// `entries`, the index in groups of three digits (all but the last with an `x`), and
    /// `.p/<width>` for a partial tile. `None` for anything else, including a path that is not
    /// written the one way the specification allows.
    pub fn parse(path: &str) -> Option<TileAddress> {
        let (level, rest) = path.split_once('/')?;
        // Checked here, for `Tile::new` panics on them: a level beyond the 64 bits of a tree's
        // size, and a partial tile of no width.
        let level = match level {
            "entries" => "data",
            level if level.parse::<u8>().is_ok_and(|level| level < 8) => level,
            _ => return None,
        };
        if let Some((_, width)) = rest.split_once(".p/")
            && width.parse::<u32>().is_ok_and(|width| width == 0)
        {
            return None;
        }
        // The `tlog_tiles` crate reads Go's sumdb paths, which name the height as well.
        let tile =
            tlog_tiles::Tile::from_path(&format!("tile/{TILE_HEIGHT}/{level}/{rest}")).ok()?;
        if tile.is_data() {
            Some(TileAddress::Entries {
                index: tile.level_index(),
                width: tile.width(),
            })
        } else {
            Some(TileAddress::Hashes {
                level: tile.level(),
                index: tile.level_index(),
                width: tile.width(),
            })
        }
    }

    /// Whether the tile is full: a full tile is the same forever, a partial one is replaced
    /// by a wider one as the log grows (and its own bytes never change either).
    pub fn is_full(&self) -> bool {
        let (Self::Hashes { width, .. } | Self::Entries { width, .. }) = *self;
        u64::from(width) == TILE_WIDTH
    }
}

/// A tile's bytes: its hashes one after another, or its entries, each preceded by its length
/// as a big-endian 16-bit number. Not found unless the log holds all of it.
pub async fn tile(
    app: &App,
    tenant: &TenantCode,
    address: TileAddress,
) -> Result<Vec<u8>, AppError> {
    app.store.tenant(tenant).await?;
    match address {
        TileAddress::Hashes {
            level,
            index,
            width,
        } => Ok(app.store.log_tile(tenant, level, index, width).await?),
        TileAddress::Entries { index, width } => {
            let from = index.checked_mul(TILE_WIDTH).ok_or(AppError::NotFound)?;
            let to = from
                .checked_add(u64::from(width))
                .ok_or(AppError::NotFound)?;
            let mut bundle = Vec::new();
            for entry in app.store.log_entries(tenant, from, to).await? {
                let bytes = entry.to_bytes();
                let length = u16::try_from(bytes.len())
                    .map_err(|_| AppError::Internal("a log entry over 65,535 bytes".into()))?;
                bundle.extend_from_slice(&length.to_be_bytes());
                bundle.extend_from_slice(&bytes);
            }
            Ok(bundle)
        }
    }
}

/// The peers' logs this node witnesses, with the alarm of any that forked.
pub async fn witnessed_logs(app: &App) -> Result<Vec<WitnessedLogView>, AppError> {
    app.store
        .witnessed_logs()
        .await?
        .into_iter()
        .map(|log| {
            Ok(WitnessedLogView {
                did_document: serde_json::from_str(&log.did_document).map_err(|error| {
                    AppError::Internal(format!("the DID document kept for {}: {error}", log.origin))
                })?,
                origin: log.origin,
                size: log.size,
                root: log.root,
                checkpoint: log.checkpoint,
                checked_at: log.checked_at,
                alarm: log.alarm,
                evidence: log.evidence,
                alarm_at: log.alarm_at,
            })
        })
        .collect()
}

/// The proof that a credential is in the tenant's log at `size` entries (the latest size when
/// none is given). A credential never appended (of a tenant the node has or not), or a size
/// the log has not reached, is not found. Two statements: the entry with the log's size, then
/// the proof's hashes.
pub async fn inclusion_proof(
    app: &App,
    tenant: &TenantCode,
    credential_id: &str,
    size: Option<u64>,
) -> Result<InclusionProofView, AppError> {
    let (index, entry, latest) = app.store.log_entry_and_size(tenant, credential_id).await?;
    let size = size.unwrap_or(latest);
    if index >= size || size > latest {
        return Err(AppError::NotFound);
    }
    let hashes = app.store.log_inclusion_proof(tenant, size, index).await?;
    Ok(inclusion_view(index, size, &entry, &hashes))
}

/// A proof of inclusion as the node serves it.
pub(crate) fn inclusion_view(
    index: u64,
    size: u64,
    entry: &LogEntry,
    hashes: &[[u8; 32]],
) -> InclusionProofView {
    InclusionProofView {
        credential_id: entry.credential_id.clone(),
        index,
        size,
        entry: STANDARD.encode(entry.to_bytes()),
        hashes: hashes.iter().map(|hash| STANDARD.encode(hash)).collect(),
    }
}

/// The proof that the tenant's log at `from` entries is a prefix of the log at `to` entries
/// (the latest size when none is given).
pub async fn consistency_proof(
    app: &App,
    tenant: &TenantCode,
    from: u64,
    to: Option<u64>,
) -> Result<ConsistencyProofView, AppError> {
    app.store.tenant(tenant).await?;
    let latest = app.store.log_head(tenant).await?.size;
    let to = to.unwrap_or(latest);
    if from > to || to > latest {
        return Err(AppError::NotFound);
    }
    let hashes = if from == to || from == 0 {
        // Every tree extends itself and the empty tree; RFC 9162's proofs of both are empty.
        Vec::new()
    } else {
        app.store.log_consistency_proof(tenant, to, from).await?
    };
    Ok(ConsistencyProofView {
        from,
        to,
        hashes: hashes.iter().map(|hash| STANDARD.encode(hash)).collect(),
    })
}

/// The log's name in its checkpoints: the node's public host, `/log/` and the tenant's code.
pub fn origin(public_url: &str, tenant: &TenantCode) -> String {
    format!("{}/log/{tenant}", host(public_url))
}

/// The node's public host (and port, where it has one), as its public URL names it.
pub fn host(public_url: &str) -> &str {
    public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .trim_end_matches('/')
}

/// The tenant's log at its latest size, as a signed checkpoint; an unknown tenant is not found.
pub async fn checkpoint(app: &App, tenant: &TenantCode) -> Result<String, AppError> {
    app.store.tenant(tenant).await?;
    let head = app.store.log_head(tenant).await?;
    sign_head(app, tenant, &head)
}

/// The signed checkpoint of the tenant's log at `head`.
pub(crate) fn sign_head(
    app: &App,
    tenant: &TenantCode,
    head: &LogHead,
) -> Result<String, AppError> {
    app.signer
        .sign_checkpoint(
            tenant,
            &origin(&app.settings.public_url, tenant),
            head.size,
            head.root,
        )
        .map_err(AppError::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_paths_are_read_the_one_way_c2sp_writes_them() {
        use TileAddress::*;
        for (path, address) in [
            (
                "0/000",
                Hashes {
                    level: 0,
                    index: 0,
                    width: 256,
                },
            ),
            (
                "0/x001/234.p/7",
                Hashes {
                    level: 0,
                    index: 1234,
                    width: 7,
                },
            ),
            (
                "2/067",
                Hashes {
                    level: 2,
                    index: 67,
                    width: 256,
                },
            ),
            ("entries/000.p/1", Entries { index: 0, width: 1 }),
            (
                "entries/x002/000",
                Entries {
                    index: 2000,
                    width: 256,
                },
            ),
        ] {
            assert_eq!(TileAddress::parse(path), Some(address), "{path}");
        }
        for path in [
            "",
            "0",
            "0/0",
            "0/1234",
            "0/001.p/256",
            "0/001.p/0",
            "0/x000/001",
            "data/000",
            "entries/000.p/",
            "64/000",
            "8/000",
            "255/000",
            "entries/000.p/0",
            "entries/000.p/00",
            "0/000/",
            "-1/000",
            "0/001.p/01",
        ] {
            assert_eq!(TileAddress::parse(path), None, "{path}");
        }
    }

    #[test]
    fn a_log_is_named_by_the_nodes_host_and_the_tenants_code() {
        let tenant = TenantCode::parse("421300").unwrap();
        for (url, name) in [
            ("https://zhiyuan.example", "zhiyuan.example/log/421300"),
            ("https://zhiyuan.example/", "zhiyuan.example/log/421300"),
            ("http://127.0.0.1:8080", "127.0.0.1:8080/log/421300"),
        ] {
            assert_eq!(origin(url, &tenant), name);
        }
    }
}
