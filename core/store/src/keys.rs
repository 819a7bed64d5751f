//! Tenant data keys: what protects identity numbers at rest.
//!
//! Each tenant has a 256-bit master key from the node's configuration (or, when none is
//! configured, a key file the node creates under its data folder). Two keys are derived from it
//! with HKDF-SHA256: one seals identity numbers with XChaCha20-Poly1305 (random 192-bit nonces,
//! the tenant and purpose as associated data), one computes the HMAC-SHA256 index by which a
//! number is found again without decrypting anything. A key check value stored per tenant makes
//! a node with the wrong key refuse to start instead of writing records it cannot read back.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zhiyuan_domain::TenantCode;

use crate::StoreError;

const SEALED_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// The keys of one tenant, derived from its master key.
#[derive(Clone)]
pub struct TenantKeys {
    seal: XChaCha20Poly1305,
    index: Hmac<Sha256>,
    check: String,
}

impl TenantKeys {
    pub fn derive(master: &[u8; 32]) -> TenantKeys {
        let hkdf = Hkdf::<Sha256>::new(Some(b"zhiyuan tenant data key v1"), master);
        let mut seal_key = [0u8; 32];
        let mut index_key = [0u8; 32];
        let mut check = [0u8; 32];
        // 32-byte outputs are far below HKDF-SHA256's limit of 8160 bytes.
        let _ = hkdf.expand(b"seal", &mut seal_key);
        let _ = hkdf.expand(b"index", &mut index_key);
        let _ = hkdf.expand(b"check", &mut check);
        TenantKeys {
            seal: XChaCha20Poly1305::new(&seal_key.into()),
            index: <Hmac<Sha256> as Mac>::new_from_slice(&index_key)
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length")),
            check: hex::encode(&check[..16]),
        }
    }

    /// Encrypts a personal value; `purpose` (e.g. "id_number") is bound in as associated data
    /// together with the tenant, so a sealed value cannot be moved to another column or tenant.
    pub fn seal(&self, tenant: &TenantCode, purpose: &str, plaintext: &str) -> Vec<u8> {
        // A fresh random nonce per value: 192 bits make collisions negligible. The thread-local
        // generator is a CSPRNG seeded from the OS, without a system call per value.
        let nonce = XChaCha20Poly1305::generate_nonce(&mut rand::thread_rng());
        let aad = format!("{tenant}/{purpose}");
        let ciphertext = self
            .seal
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 encrypts any message in memory"));
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(SEALED_VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    pub fn open(
        &self,
        tenant: &TenantCode,
        purpose: &str,
        sealed: &[u8],
    ) -> Result<String, StoreError> {
        let corrupt = || StoreError::Corrupt(format!("sealed {purpose} of tenant {tenant}"));
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != SEALED_VERSION {
            return Err(corrupt());
        }
        let nonce = XNonce::from_slice(&sealed[1..1 + NONCE_LEN]);
        let aad = format!("{tenant}/{purpose}");
        let plaintext = self
            .seal
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| corrupt())?;
        String::from_utf8(plaintext).map_err(|_| corrupt())
    }

    /// The keyed hash by which a value is looked up, in hex as stored; equal values give
    /// equal indexes.
    pub fn index(&self, purpose: &str, value: &str) -> String {
        hex::encode(self.index_bytes(purpose, value))
    }

    /// The same keyed hash as bytes.
    pub fn index_bytes(&self, purpose: &str, value: &str) -> [u8; 32] {
        let mut mac = self.index.clone();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A value that identifies the key without revealing it.
    pub fn check_value(&self) -> &str {
        &self.check
    }
}

/// Where tenants' master keys come from.
#[derive(Clone, Default)]
pub struct KeyRing {
    configured: HashMap<String, [u8; 32]>,
    /// Folder of key files for tenants without a configured key; keys are created there.
    key_dir: Option<PathBuf>,
    derived: Arc<RwLock<HashMap<String, TenantKeys>>>,
}

/// Keys never print; only which tenants have one configured.
impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("configured", &self.configured.keys().collect::<Vec<_>>())
            .field("key_dir", &self.key_dir)
            .finish()
    }
}

impl KeyRing {
    /// `configured` maps tenant codes to base64 master keys of 32 bytes.
    pub fn new(
        configured: &HashMap<String, String>,
        key_dir: Option<PathBuf>,
    ) -> Result<KeyRing, StoreError> {
        let mut keys = HashMap::new();
        for (tenant, encoded) in configured {
            let bytes = STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| {
                    StoreError::DataKey(format!(
                        "the data key of tenant {tenant} is not 32 bytes of base64"
                    ))
                })?;
            keys.insert(tenant.clone(), bytes);
        }
        Ok(KeyRing {
            configured: keys,
            key_dir,
            derived: Arc::default(),
        })
    }

    /// A new random master key, base64, for configuration files.
    pub fn generate() -> String {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        STANDARD.encode(key)
    }

    pub fn for_tenant(&self, tenant: &TenantCode) -> Result<TenantKeys, StoreError> {
        if let Some(keys) = self
            .derived
            .read()
            .ok()
            .and_then(|map| map.get(tenant.as_str()).cloned())
        {
            return Ok(keys);
        }
        let master = match self.configured.get(tenant.as_str()) {
            Some(master) => *master,
            None => self.key_file(tenant)?,
        };
        let keys = TenantKeys::derive(&master);
        if let Ok(mut map) = self.derived.write() {
            map.insert(tenant.as_str().to_owned(), keys.clone());
        }
        Ok(keys)
    }

    fn key_file(&self, tenant: &TenantCode) -> Result<[u8; 32], StoreError> {
        let dir = self.key_dir.as_ref().ok_or_else(|| {
            StoreError::DataKey(format!("no data key is configured for tenant {tenant}"))
        })?;
        let path = dir.join(format!("{tenant}.key"));
        let read = |path: &PathBuf| -> Result<[u8; 32], StoreError> {
            let text = std::fs::read_to_string(path)
                .map_err(|e| StoreError::DataKey(format!("reading {}: {e}", path.display())))?;
            STANDARD
                .decode(text.trim())
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| {
                    StoreError::DataKey(format!("{} is not 32 bytes of base64", path.display()))
                })
        };
        if path.exists() {
            return read(&path);
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::DataKey(format!("creating {}: {e}", dir.display())))?;
        let encoded = KeyRing::generate();
        write_private(&path, &encoded)?;
        tracing::warn!(tenant = %tenant, path = %path.display(), "created a data key file; back it up, records sealed with it cannot be read without it");
        read(&path)
    }
}

#[cfg(unix)]
fn write_private(path: &PathBuf, contents: &str) -> Result<(), StoreError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| StoreError::DataKey(format!("creating {}: {e}", path.display())))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| StoreError::DataKey(format!("writing {}: {e}", path.display())))
}

#[cfg(not(unix))]
fn write_private(path: &PathBuf, contents: &str) -> Result<(), StoreError> {
    std::fs::write(path, contents)
        .map_err(|e| StoreError::DataKey(format!("writing {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(code: &str) -> TenantCode {
        TenantCode::parse(code).unwrap()
    }

    #[test]
    fn sealed_values_open_only_for_their_tenant_and_purpose() {
        let keys = TenantKeys::derive(&[7; 32]);
        let suizhou = tenant("421300");
        let sealed = keys.seal(&suizhou, "id_number", "11010519491231002X");
        assert!(!sealed.windows(18).any(|w| w == b"11010519491231002X"));
        assert_eq!(
            keys.open(&suizhou, "id_number", &sealed).unwrap(),
            "11010519491231002X"
        );
        assert!(keys.open(&tenant("420700"), "id_number", &sealed).is_err());
        assert!(keys.open(&suizhou, "mobile", &sealed).is_err());
        assert!(
            TenantKeys::derive(&[8; 32])
                .open(&suizhou, "id_number", &sealed)
                .is_err()
        );
        assert_ne!(
            sealed,
            keys.seal(&suizhou, "id_number", "11010519491231002X"),
            "fresh nonces"
        );
    }

    #[test]
    fn indexes_are_stable_per_key_and_differ_between_keys() {
        let keys = TenantKeys::derive(&[7; 32]);
        assert_eq!(keys.index("id_number", "X1"), keys.index("id_number", "X1"));
        assert_ne!(keys.index("id_number", "X1"), keys.index("id_number", "X2"));
        assert_ne!(
            keys.index("id_number", "X1"),
            TenantKeys::derive(&[8; 32]).index("id_number", "X1")
        );
    }

    #[test]
    fn key_files_are_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::new(&HashMap::new(), Some(dir.path().to_owned())).unwrap();
        let first = ring.for_tenant(&tenant("421300")).unwrap();
        let again = KeyRing::new(&HashMap::new(), Some(dir.path().to_owned())).unwrap();
        assert_eq!(
            first.check_value(),
            again.for_tenant(&tenant("421300")).unwrap().check_value()
        );
        let no_dir = KeyRing::new(&HashMap::new(), None).unwrap();
        assert!(matches!(
            no_dir.for_tenant(&tenant("421300")),
            Err(StoreError::DataKey(_))
        ));
        let bad = HashMap::from([("421300".to_owned(), "c2hvcnQ=".to_owned())]);
        assert!(matches!(
            KeyRing::new(&bad, None),
            Err(StoreError::DataKey(_))
        ));
    }
}
