//! Federation: the records nodes exchange and auditors check.
//!
//! Each tenant signs what it issues with its own Ed25519 key. Keys travel as Multikeys
//! (`multikey`); signed records are W3C Verifiable Credentials secured with Data Integrity
//! proofs of the `eddsa-jcs-2022` cryptosuite (`data_integrity`): RFC 8785 canonical JSON,
//! SHA-256 and Ed25519, reproduced byte for byte against the W3C test vector kept in
//! `federation/tests/vectors`. The codes of volunteer cards are COSE_Sign1 messages with CWT
//! claims (`card`). Each tenant's transparency log is checked here (`log`): RFC 9162 Merkle
//! hashing, checkpoints as C2SP signed notes, inclusion and consistency proofs, forks. This is
//! the only crate that signs; core knows nothing of it.

pub mod audit;
pub mod card;
pub mod data_integrity;
pub mod did;
pub mod http_signature;
pub mod log;
pub mod multikey;
pub mod witness;

pub use data_integrity::{ProofError, ProofOptions, add_proof, verify_proof};
pub use multikey::{KeyError, SigningKey, VerifyingKey};
