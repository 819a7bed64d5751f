//! A secret of 32 random bytes: the one form every key of the node takes at rest.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroize;

/// 32 secret bytes, wiped from memory when dropped. Never printed: its Debug form is a
/// placeholder, and what identifies it is a check value derived from it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret([u8; 32]);

impl Secret {
    /// 32 bytes from the operating system's generator.
    pub fn generate() -> Secret {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Secret(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Secret {
        Secret(bytes)
    }

    /// From its base64 text (as key files and the configuration hold it); `None` unless it is
    /// exactly 32 bytes.
    pub fn from_base64(text: &str) -> Option<Secret> {
        let mut bytes = STANDARD.decode(text.trim()).ok()?;
        let secret = <[u8; 32]>::try_from(bytes.as_slice()).ok().map(Secret);
        bytes.zeroize();
        secret
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// The bytes, for the code that turns them into a cipher or a signing key.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_round_trips_through_base64_and_never_prints() {
        let secret = Secret::generate();
        assert_eq!(
            Secret::from_base64(&secret.to_base64()),
            Some(secret.clone())
        );
        assert_eq!(format!("{secret:?}"), "Secret(..)");
        assert_eq!(Secret::from_base64("c2hvcnQ="), None, "too short");
        assert_eq!(Secret::from_base64("not base64!"), None);
        assert_ne!(Secret::generate(), secret);
    }
}
