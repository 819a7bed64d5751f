//! Key material of a node, in one place: each tenant's data key, which seals identity numbers
//! and computes the indexes they are found by, and each tenant's signing keys, with which
//! federation signs what the tenant issues.
//!
//! This crate says where keys come from (the node's configuration, or files in its key
//! folder), how their files are written (created once, readable by the node's user alone), how
//! a key is told apart without being shown (its check value), and how a key is replaced
//! (rotation). It neither signs nor stores records: the store seals with [`DataKeys`], and
//! federation turns a signing [`Secret`] into an Ed25519 key.

mod data;
mod files;
mod ring;
mod secret;

pub use data::{DataKeys, Unsealable};
pub use files::KeyFiles;
pub use ring::{KeyRing, SigningSecret};
pub use secret::Secret;

/// What can go wrong with keys; each message names the tenant or the file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the data key of tenant {0} is not 32 bytes of base64")]
    BadConfiguredKey(String),
    #[error("{0} is not 32 bytes of base64")]
    BadFile(String),
    #[error("tenant {0} has no data key: neither in the configuration nor in the key folder")]
    Missing(String),
    #[error("the data key of tenant {0} is set in the configuration: rotate it there")]
    Configured(String),
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
}
