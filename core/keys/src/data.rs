//! A tenant's data keys, derived from its data key: one seals identity numbers with
//! XChaCha20-Poly1305 (random 192-bit nonces, the tenant and purpose as associated data), one
//! computes the HMAC-SHA256 index by which a number is found again without decrypting
//! anything, and a check value tells keys apart without revealing them.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

use crate::Secret;

const SEALED_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// A sealed value that does not open under these keys, for this tenant and purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the value does not open with this key, tenant and purpose")]
pub struct Unsealable;

/// The keys of one tenant, derived from its data key.
#[derive(Clone)]
pub struct DataKeys {
    seal: XChaCha20Poly1305,
    index: Hmac<Sha256>,
    check: String,
}

impl DataKeys {
    pub fn derive(data_key: &Secret) -> DataKeys {
        let hkdf = Hkdf::<Sha256>::new(Some(b"zhiyuan tenant data key v1"), data_key.expose());
        let mut seal_key = [0u8; 32];
        let mut index_key = [0u8; 32];
        let mut check = [0u8; 32];
        // 32-byte outputs are far below HKDF-SHA256's limit of 8160 bytes.
        let _ = hkdf.expand(b"seal", &mut seal_key);
        let _ = hkdf.expand(b"index", &mut index_key);
        let _ = hkdf.expand(b"check", &mut check);
        let keys = DataKeys {
            seal: XChaCha20Poly1305::new(&seal_key.into()),
            index: <Hmac<Sha256> as Mac>::new_from_slice(&index_key)
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length")),
            check: hex::encode(&check[..16]),
        };
        seal_key.zeroize();
        index_key.zeroize();
        keys
    }

    /// Encrypts a personal value; `purpose` (e.g. "id_number") is bound in as associated data
    /// together with the tenant, so a sealed value cannot be moved to another column or tenant.
    pub fn seal(&self, tenant: &str, purpose: &str, plaintext: &str) -> Vec<u8> {
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

    pub fn open(&self, tenant: &str, purpose: &str, sealed: &[u8]) -> Result<String, Unsealable> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != SEALED_VERSION {
            return Err(Unsealable);
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
            .map_err(|_| Unsealable)?;
        String::from_utf8(plaintext).map_err(|_| Unsealable)
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

    /// A value that identifies the key without revealing it: stored with a tenant's records,
    /// so that a node given another key refuses to start rather than seal what no one else
    /// could open.
    pub fn check_value(&self) -> &str {
        &self.check
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> DataKeys {
        DataKeys::derive(&Secret::from_bytes([byte; 32]))
    }

    #[test]
    fn sealed_values_open_only_for_their_tenant_and_purpose() {
        let keys = key(7);
        let sealed = keys.seal("421300", "id_number", "11010519491231002X");
        assert!(!sealed.windows(18).any(|w| w == b"11010519491231002X"));
        assert_eq!(
            keys.open("421300", "id_number", &sealed).unwrap(),
            "11010519491231002X"
        );
        assert_eq!(keys.open("420700", "id_number", &sealed), Err(Unsealable));
        assert_eq!(keys.open("421300", "mobile", &sealed), Err(Unsealable));
        assert_eq!(key(8).open("421300", "id_number", &sealed), Err(Unsealable));
        assert_ne!(
            sealed,
            keys.seal("421300", "id_number", "11010519491231002X"),
            "fresh nonces"
        );
        assert_eq!(
            keys.open("421300", "id_number", &sealed[..10]),
            Err(Unsealable)
        );
    }

    #[test]
    fn indexes_are_stable_per_key_and_differ_between_keys() {
        let keys = key(7);
        assert_eq!(keys.index("id_number", "X1"), keys.index("id_number", "X1"));
        assert_ne!(keys.index("id_number", "X1"), keys.index("id_number", "X2"));
        assert_ne!(
            keys.index("id_number", "X1"),
            key(8).index("id_number", "X1")
        );
        assert_ne!(keys.index("id_number", "X1"), keys.index("card", "X1"));
    }

    #[test]
    fn check_values_tell_keys_apart_and_stay_the_same() {
        assert_eq!(key(7).check_value(), key(7).check_value());
        assert_ne!(key(7).check_value(), key(8).check_value());
        assert_eq!(key(7).check_value().len(), 32);
        // Fixed, because check values are stored with tenants' records: a change here would
        // make every node refuse its own keys.
        assert_eq!(key(0).check_value(), CHECK_OF_ZERO_KEY);
    }

    // HKDF-SHA256 (RFC 5869) of 32 zero bytes, computed apart from this code.
    const CHECK_OF_ZERO_KEY: &str = "0dc70b45928911368d2d042397b1b565";
}
