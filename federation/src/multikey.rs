//! Ed25519 keys in the Multikey encoding of the W3C Controlled Identifiers specification:
//! multibase base58btc (`z...`) of a multicodec prefix and the raw key.

use ed25519_dalek::Signer;

/// Multicodec `ed25519-pub` (0xed), as an unsigned varint.
const PUBLIC_PREFIX: [u8; 2] = [0xed, 0x01];
/// Multicodec `ed25519-priv` (0x1300), as an unsigned varint.
const SECRET_PREFIX: [u8; 2] = [0x80, 0x26];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a Multikey is base58btc multibase, beginning with z")]
    NotBase58Btc,
    #[error("the key is not valid base58")]
    Base58,
    #[error("the key does not have the multicodec prefix of an Ed25519 {0} key")]
    WrongCodec(&'static str),
    #[error("an Ed25519 key is 32 bytes")]
    Length,
    #[error("the bytes are not an Ed25519 public key")]
    NotOnCurve,
}

/// A tenant's signing key. Its Debug form shows the public half only.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

/// A public key that checks what the matching signing key signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingKey(ed25519_dalek::VerifyingKey);

fn decode(value: &str, prefix: [u8; 2], kind: &'static str) -> Result<[u8; 32], KeyError> {
    let encoded = value.strip_prefix('z').ok_or(KeyError::NotBase58Btc)?;
    let bytes = bs58::decode(encoded)
        .into_vec()
        .map_err(|_| KeyError::Base58)?;
    let key = bytes
        .strip_prefix(&prefix)
        .ok_or(KeyError::WrongCodec(kind))?;
    key.try_into().map_err(|_| KeyError::Length)
}

fn encode(prefix: [u8; 2], key: &[u8; 32]) -> String {
    let mut bytes = prefix.to_vec();
    bytes.extend_from_slice(key);
    format!("z{}", bs58::encode(bytes).into_string())
}

impl SigningKey {
    pub fn from_seed(seed: [u8; 32]) -> SigningKey {
        SigningKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// A tenant's signing key from its secret as the node keeps it (`zhiyuan_keys`).
    pub fn from_secret(secret: &zhiyuan_keys::Secret) -> SigningKey {
        SigningKey(ed25519_dalek::SigningKey::from_bytes(secret.expose()))
    }

    pub fn from_multibase(value: &str) -> Result<SigningKey, KeyError> {
        Ok(SigningKey::from_seed(decode(
            value,
            SECRET_PREFIX,
            "secret",
        )?))
    }

    pub fn to_multibase(&self) -> String {
        encode(SECRET_PREFIX, &self.0.to_bytes())
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.0.verifying_key())
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.verifying_key().to_multibase())
    }
}

impl VerifyingKey {
    pub fn from_multibase(value: &str) -> Result<VerifyingKey, KeyError> {
        let bytes = decode(value, PUBLIC_PREFIX, "public")?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(VerifyingKey)
            .map_err(|_| KeyError::NotOnCurve)
    }

    pub fn to_multibase(&self) -> String {
        encode(PUBLIC_PREFIX, self.0.as_bytes())
    }

    /// The key's 32 bytes (RFC 8032).
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Strict verification (no malleable signatures, no small-order keys or R, R written in
    /// its one canonical encoding). `verify_strict` compares R as a point, so the encoding is
    /// checked on its own: decompressed and compressed again, it must give the same bytes,
    /// which costs a fraction of the second verification it replaces.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let mut r = [0u8; 32];
        r.copy_from_slice(&signature[..32]);
        let canonical_r = curve25519_dalek::edwards::CompressedEdwardsY(r)
            .decompress()
            .is_some_and(|point| point.compress().0 == r);
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        canonical_r && self.0.verify_strict(message, &signature).is_ok()
    }

    /// Whether every signature verifies, checked together: ed25519-dalek's batch verification,
    /// after the checks `verify` makes of each signature's encoding (R canonical and not of
    /// small order, s reduced, the key not weak). A batch costs about half of checking each
    /// alone; `false` does not say which failed, so a caller checks each alone to name it.
    /// Batched and alone agree but for a signature whose R its key's holder built with a
    /// small-order component, which RFC 8032's cofactored equation (5.1.7) accepts and
    /// `verify` does not; nobody without the key can make one.
    pub fn verify_all(signed: &[(&VerifyingKey, &[u8], &[u8; 64])]) -> bool {
        if let [(key, message, signature)] = signed {
            return key.verify(message, signature);
        }
        let encodings_hold = signed.iter().all(|(key, _, signature)| {
            let mut r = [0u8; 32];
            r.copy_from_slice(&signature[..32]);
            !key.0.is_weak()
                && curve25519_dalek::edwards::CompressedEdwardsY(r)
                    .decompress()
                    .is_some_and(|point| point.compress().0 == r && !point.is_small_order())
        });
        if !encodings_hold {
            return false;
        }
        let messages: Vec<&[u8]> = signed.iter().map(|(_, message, _)| *message).collect();
        let signatures: Vec<ed25519_dalek::Signature> = signed
            .iter()
            .map(|(_, _, signature)| ed25519_dalek::Signature::from_bytes(signature))
            .collect();
        let keys: Vec<ed25519_dalek::VerifyingKey> =
            signed.iter().map(|(key, _, _)| key.0).collect();
        ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vector_key_pair_round_trips() {
        let secret =
            SigningKey::from_multibase("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq").unwrap();
        assert_eq!(
            secret.to_multibase(),
            "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
        );
        assert_eq!(
            secret.verifying_key().to_multibase(),
            "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
        );
        assert!(
            format!("{secret:?}").contains("z6Mkr"),
            "Debug shows the public key only"
        );
    }

    #[test]
    fn signatures_checked_together_all_hold_or_the_batch_fails() {
        let key = SigningKey::from_seed([7; 32]);
        let public = key.verifying_key();
        let messages: Vec<Vec<u8>> = (0..16u8).map(|n| vec![n; 64]).collect();
        let signatures: Vec<[u8; 64]> = messages.iter().map(|message| key.sign(message)).collect();
        let together = |signatures: &[[u8; 64]], keys: &[&VerifyingKey]| {
            let signed: Vec<_> = messages
                .iter()
                .zip(signatures)
                .zip(keys)
                .map(|((message, signature), key)| (*key, message.as_slice(), signature))
                .collect();
            VerifyingKey::verify_all(&signed)
        };
        let same_key = vec![&public; messages.len()];
        assert!(together(&signatures, &same_key));

        let mut altered = signatures.clone();
        altered[9][40] ^= 1;
        assert!(!together(&altered, &same_key));

        // The same signature with l added to s: it verifies in equations that reduce s, and
        // neither alone nor together does it here.
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut unreduced = signatures.clone();
        let mut carry = 0u16;
        for (byte, l) in unreduced[3][32..].iter_mut().zip(L) {
            let sum = u16::from(*byte) + u16::from(l) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        assert!(!public.verify(&messages[3], &unreduced[3]));
        assert!(!together(&unreduced, &same_key));

        let other = SigningKey::from_seed([8; 32]).verifying_key();
        let mut keys = same_key.clone();
        keys[5] = &other;
        assert!(!together(&signatures, &keys));
        assert!(together(&signatures[..1], &same_key[..1]));
        assert!(!together(&altered[9..10], &same_key[..1]));
    }

    #[test]
    fn malformed_keys_say_why() {
        assert_eq!(
            VerifyingKey::from_multibase("u6MkrJ"),
            Err(KeyError::NotBase58Btc)
        );
        assert_eq!(VerifyingKey::from_multibase("z0OIl"), Err(KeyError::Base58));
        assert_eq!(
            VerifyingKey::from_multibase("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"),
            Err(KeyError::WrongCodec("public"))
        );
        assert_eq!(
            VerifyingKey::from_multibase("z6Mkr"),
            Err(KeyError::WrongCodec("public"))
        );
    }
}
