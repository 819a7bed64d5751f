//! A tenant's transparency log, as anyone checks it: the entries it holds, RFC 9162 Merkle
//! hashing, checkpoints as C2SP signed notes signed with the tenant's key, proofs that an entry
//! is in a tree and that a tree extends an earlier one, and the fork a witness must flag.
//!
//! The tree's arithmetic is the `tlog_tiles` crate's (a port of Go's `sumdb/tlog`, whose proofs
//! are those of Certificate Transparency) and notes are the `signed_note` crate's; this module
//! only binds them to the tenant's keys and names what failed in words an auditor reads.

use sha2::{Digest, Sha256};
use signed_note::{Note, Signer, Verifier, VerifierList};
pub use tlog_tiles::{Checkpoint, Hash, HashReader, RecordProof, TreeProof};
pub use zhiyuan_domain::LogEntry;

use crate::multikey::{SigningKey, VerifyingKey};

/// The signature type of Ed25519 in C2SP signed notes, which the key id is computed over.
const ALG_ED25519: u8 = 0x01;

/// What a check of a log refused, in the words an auditor reads.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LogError {
    #[error("the checkpoint is not a signed note: {0}")]
    MalformedNote(String),
    #[error("the checkpoint's text is not a C2SP checkpoint")]
    MalformedCheckpoint,
    #[error("the checkpoint is of the log {found:?}, not {expected:?}")]
    OtherLog { expected: String, found: String },
    #[error("the checkpoint carries no signature by a key of the log")]
    Unsigned,
    #[error("the checkpoint's signature by {0} does not verify")]
    BadSignature(String),
    #[error("entry {index} is not in the tree of {size} entries with root {root}")]
    NotIncluded { index: u64, size: u64, root: String },
    #[error(
        "the tree of {new_size} entries does not extend the tree of {old_size} the witness saw"
    )]
    Inconsistent { old_size: u64, new_size: u64 },
    #[error("the log forked: two checkpoints of {size} entries with roots {first} and {second}")]
    Forked {
        size: u64,
        first: String,
        second: String,
    },
    #[error("the log shrank from {old_size} to {new_size} entries")]
    Shrank { old_size: u64, new_size: u64 },
    #[error("the tree could not be read: {0}")]
    Unreadable(String),
    #[error("the tile {path} could not be fetched: {reason}")]
    TileMissing { path: String, reason: String },
    #[error("the entry bundle {0} is not a sequence of length-prefixed entries")]
    MalformedBundle(String),
    #[error("the tile {0} does not hash to the checkpoint's tree")]
    TileMismatch(String),
    #[error(
        "the entries of the log's tiles make the root {found}, not the checkpoint's {expected}"
    )]
    RootMismatch { expected: String, found: String },
}

/// The entry of a credential, from its id and canonical form (RFC 8785).
pub fn entry_of(credential_id: &str, canonical: &[u8]) -> LogEntry {
    LogEntry {
        credential_id: credential_id.to_owned(),
        digest: Sha256::digest(canonical).into(),
    }
}

/// An entry's leaf hash.
pub fn entry_hash(entry: &LogEntry) -> Hash {
    leaf_hash(&entry.to_bytes())
}

/// The leaf hash of an entry's bytes (RFC 9162, section 2.1.1: SHA-256 of 0x00 and the bytes).
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    tlog_tiles::record_hash(bytes)
}

/// A tenant's key as a signer of notes under the log's name (the checkpoint's origin).
pub struct NoteSigner<'a> {
    name: &'a str,
    key: &'a SigningKey,
    id: u32,
}

impl<'a> NoteSigner<'a> {
    pub fn new(name: &'a str, key: &'a SigningKey) -> NoteSigner<'a> {
        NoteSigner {
            name,
            key,
            id: key_id(name, &key.verifying_key()),
        }
    }
}

impl Signer for NoteSigner<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.key.sign(message).to_vec())
    }
}

/// A tenant's public key as a verifier of notes under the log's name.
struct NoteVerifier {
    name: String,
    key: VerifyingKey,
    id: u32,
}

impl Verifier for NoteVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        signature
            .try_into()
            .is_ok_and(|signature| self.key.verify(message, signature))
    }
}

/// The key id a note's signature line names: the first four bytes of SHA-256 over the name, a
/// newline, the signature type and the public key (C2SP signed-note).
pub fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut typed = vec![ALG_ED25519];
    typed.extend_from_slice(&key.to_bytes());
    signed_note::key_id(name, &typed)
}

/// The verifier key of a tenant's key under the log's name, as C2SP writes it
/// (`<name>+<key id>+<base64 of type and key>`), for tools such as Go's `note` package.
pub fn verifier_key(name: &str, key: &VerifyingKey) -> String {
    use base64::Engine;
    let mut typed = vec![ALG_ED25519];
    typed.extend_from_slice(&key.to_bytes());
    format!(
        "{name}+{:08x}+{}",
        key_id(name, key),
        base64::engine::general_purpose::STANDARD.encode(typed)
    )
}

/// Signs a checkpoint of the log named `origin`: the note's text and its signature line.
pub fn sign_checkpoint(
    origin: &str,
    size: u64,
    root: Hash,
    key: &SigningKey,
) -> Result<String, LogError> {
    let checkpoint =
        Checkpoint::new(origin, size, root, "").map_err(|_| LogError::MalformedCheckpoint)?;
    let mut note = Note::new(&checkpoint.to_bytes(), &[])
        .map_err(|error| LogError::MalformedNote(error.to_string()))?;
    note.add_sigs(&[&NoteSigner::new(origin, key)])
        .map_err(|error| LogError::MalformedNote(error.to_string()))?;
    String::from_utf8(note.to_bytes()).map_err(|error| LogError::MalformedNote(error.to_string()))
}

/// Opens a signed checkpoint of the log named `origin`: it must be a well-formed note whose
/// text is a checkpoint of that log, signed by one of `keys` (the tenant's keys, current and
/// retired); signatures by other keys (witnesses') are left to their own checks.
pub fn open_checkpoint(
    note: &[u8],
    origin: &str,
    keys: &[VerifyingKey],
) -> Result<Checkpoint, LogError> {
    let note =
        Note::from_bytes(note).map_err(|error| LogError::MalformedNote(error.to_string()))?;
    let checkpoint =
        Checkpoint::from_bytes(note.text()).map_err(|_| LogError::MalformedCheckpoint)?;
    if checkpoint.origin() != origin {
        return Err(LogError::OtherLog {
            expected: origin.to_owned(),
            found: checkpoint.origin().to_owned(),
        });
    }
    let verifiers = VerifierList::new(
        keys.iter()
            .map(|key| {
                Box::new(NoteVerifier {
                    name: origin.to_owned(),
                    key: key.clone(),
                    id: key_id(origin, key),
                }) as Box<dyn Verifier>
            })
            .collect(),
    );
    match note.verify(&verifiers) {
        Ok(_) => Ok(checkpoint),
        Err(signed_note::NoteError::UnverifiedNote) => Err(LogError::Unsigned),
        Err(signed_note::NoteError::InvalidSignature { name, id }) => {
            Err(LogError::BadSignature(format!("{name}+{id:08x}")))
        }
        Err(error) => Err(LogError::MalformedNote(error.to_string())),
    }
}

/// Checks that entry `index`, of leaf hash `leaf`, is in the tree of `size` entries with
/// root `root`.
pub fn check_inclusion(
    proof: &RecordProof,
    size: u64,
    root: Hash,
    index: u64,
    leaf: Hash,
) -> Result<(), LogError> {
    tlog_tiles::check_record(proof, size, root, index, leaf).map_err(|_| LogError::NotIncluded {
        index,
        size,
        root: root.to_string(),
    })
}

/// Checks that `new` extends `old`: the tree of `old` entries is a prefix of the tree of `new`
/// entries. Two checkpoints of one size must have one root; a log never shrinks.
pub fn check_consistency(
    proof: &TreeProof,
    old: &Checkpoint,
    new: &Checkpoint,
) -> Result<(), LogError> {
    if new.size() < old.size() {
        return Err(LogError::Shrank {
            old_size: old.size(),
            new_size: new.size(),
        });
    }
    if new.size() == old.size() {
        return if new.hash() == old.hash() {
            Ok(())
        } else {
            Err(LogError::Forked {
                size: new.size(),
                first: old.hash().to_string(),
                second: new.hash().to_string(),
            })
        };
    }
    if old.size() == 0 {
        // The empty tree is a prefix of every tree, if it is the empty tree.
        return if *old.hash() == tlog_tiles::EMPTY_HASH {
            Ok(())
        } else {
            Err(LogError::Inconsistent {
                old_size: 0,
                new_size: new.size(),
            })
        };
    }
    tlog_tiles::check_tree(proof, new.size(), *new.hash(), old.size(), *old.hash()).map_err(|_| {
        LogError::Inconsistent {
            old_size: old.size(),
            new_size: new.size(),
        }
    })
}

/// A tree held in memory in the stored-hash layout of `tlog_tiles` (every leaf hash followed by
/// the subtree hashes it completes): what a verifier rebuilds from a log's entries, and what
/// the node's store keeps in rows.
#[derive(Debug, Default, Clone)]
pub struct MemoryTree {
    stored: Vec<Hash>,
    size: u64,
}

impl HashReader for MemoryTree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|index| {
                usize::try_from(*index)
                    .ok()
                    .and_then(|index| self.stored.get(index).copied())
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl MemoryTree {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends an entry by its leaf hash; answers its index.
    pub fn append(&mut self, leaf: Hash) -> Result<u64, LogError> {
        let index = self.size;
        let hashes = tlog_tiles::stored_hashes_for_record_hash(index, leaf, self)
            .map_err(|error| LogError::Unreadable(error.to_string()))?;
        self.stored.extend(hashes);
        self.size += 1;
        Ok(index)
    }

    /// The root of the tree of its first `size` entries.
    pub fn root(&self, size: u64) -> Result<Hash, LogError> {
        tlog_tiles::tree_hash(size, self).map_err(|error| LogError::Unreadable(error.to_string()))
    }

    /// The proof that entry `index` is in the tree of `size` entries.
    pub fn prove_inclusion(&self, size: u64, index: u64) -> Result<RecordProof, LogError> {
        tlog_tiles::prove_record(size, index, self)
            .map_err(|error| LogError::Unreadable(error.to_string()))
    }

    /// The proof that the tree of `old` entries is a prefix of the tree of `new` entries.
    pub fn prove_consistency(&self, new: u64, old: u64) -> Result<TreeProof, LogError> {
        tlog_tiles::prove_tree(new, old, self)
            .map_err(|error| LogError::Unreadable(error.to_string()))
    }
}

/// The height of a log's tiles (C2SP tlog-tiles): 256 hashes, or entries, a tile.
pub const TILE_HEIGHT: u8 = 8;
const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// The path of a tile under the log's URL prefix, as C2SP tlog-tiles writes it:
/// `tile/<L>/<N>[.p/<W>]`, or `tile/entries/<N>[.p/<W>]` for an entry bundle.
pub fn tile_path(tile: &tlog_tiles::Tile) -> String {
    // The crate writes Go's sumdb paths, which name the height and call bundles `data`.
    let sumdb = tile.path();
    let rest = sumdb
        .strip_prefix(&format!("tile/{}/", tile.height()))
        .unwrap_or(&sumdb);
    match rest.strip_prefix("data/") {
        Some(index) => format!("tile/entries/{index}"),
        None => format!("tile/{rest}"),
    }
}

/// Every tile of the tree of `size` entries, by its path: the entry bundles, then the hash
/// tiles of each level (partial tiles where the tree ends).
pub fn tile_paths(size: u64) -> Vec<String> {
    let bundles = (0..size.div_ceil(TILE_WIDTH)).map(|index| {
        let width = (size - index * TILE_WIDTH).min(TILE_WIDTH);
        tlog_tiles::Tile::new(TILE_HEIGHT, 0, index, width as u32, true)
    });
    bundles
        .chain(tlog_tiles::Tile::new_tiles(TILE_HEIGHT, 0, size))
        .map(|tile| tile_path(&tile))
        .collect()
}

/// The entries of an entry bundle: each a big-endian 16-bit length and that many bytes.
pub fn read_entry_bundle(path: &str, mut bundle: &[u8]) -> Result<Vec<Vec<u8>>, LogError> {
    let mut entries = Vec::new();
    while !bundle.is_empty() {
        let malformed = || LogError::MalformedBundle(path.to_owned());
        let (length, rest) = bundle.split_first_chunk::<2>().ok_or_else(malformed)?;
        let length = usize::from(u16::from_be_bytes(*length));
        if rest.len() < length {
            return Err(malformed());
        }
        entries.push(rest[..length].to_vec());
        bundle = &rest[length..];
    }
    Ok(entries)
}

/// Checks a log's tiles against its checkpoint, as an auditor who trusts nothing the node says:
/// every entry bundle of the tree is fetched and its entries hashed into a tree of one's own,
/// whose root must be the checkpoint's; then every hash tile of that tree is fetched and must
/// hold the hashes of the tree rebuilt. `fetch` reads a path under the log's prefix. Answers
/// the entries, in order.
pub fn check_tiles(
    checkpoint: &Checkpoint,
    mut fetch: impl FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<Vec<Vec<u8>>, LogError> {
    let size = checkpoint.size();
    let mut get = |tile: &tlog_tiles::Tile| {
        let path = tile_path(tile);
        fetch(&path)
            .map(|bytes| (path.clone(), bytes))
            .map_err(|reason| LogError::TileMissing { path, reason })
    };
    let mut tree = MemoryTree::default();
    let mut entries = Vec::new();
    for index in 0..size.div_ceil(TILE_WIDTH) {
        let width = (size - index * TILE_WIDTH).min(TILE_WIDTH);
        let bundle = tlog_tiles::Tile::new(TILE_HEIGHT, 0, index, width as u32, true);
        let (path, bytes) = get(&bundle)?;
        let bundle_entries = read_entry_bundle(&path, &bytes)?;
        if bundle_entries.len() as u64 != width {
            return Err(LogError::MalformedBundle(path));
        }
        for entry in bundle_entries {
            tree.append(leaf_hash(&entry))?;
            entries.push(entry);
        }
    }
    let root = tree.root(size)?;
    if root != *checkpoint.hash() {
        return Err(LogError::RootMismatch {
            expected: checkpoint.hash().to_string(),
            found: root.to_string(),
        });
    }
    for tile in tlog_tiles::Tile::new_tiles(TILE_HEIGHT, 0, size) {
        let (path, bytes) = get(&tile)?;
        let expected = tile
            .read_data(&tree)
            .map_err(|error| LogError::Unreadable(error.to_string()))?;
        if bytes != expected {
            return Err(LogError::TileMismatch(path));
        }
    }
    Ok(entries)
}
