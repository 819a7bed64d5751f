//! The code a volunteer card's QR carries: a COSE_Sign1 message (RFC 9052) signed with the
//! tenant's Ed25519 key, its payload a CWT claims set (RFC 8392), in base45 text (RFC 9285)
//! after the prefix `ZY1:`, the way the EU Digital COVID Certificate carries its payload.
//!
//! Every byte counts: the code must fit a QR of version 7 at error correction M (178
//! characters of the alphanumeric set, which is base45's alphabet). So the message is
//! untagged, the key id is two bytes, the token id four, and the issuer is not repeated: the
//! volunteer number (`sub`) begins with the tenant's code. A code of the app carries `iat`,
//! `exp` and `cti`; a printed card `iat` and its serial, in a private claim.

use coset::cbor::value::Value;
use coset::cwt::{ClaimName, ClaimsSet, ClaimsSetBuilder, Timestamp};
use coset::{CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, iana};
use sha2::{Digest, Sha256};

use crate::{SigningKey, VerifyingKey};

/// What a card's text begins with.
pub const CARD_PREFIX: &str = "ZY1:";
/// The private claim that carries a printed card's serial.
const SERIAL_CLAIM: i64 = -65537;

/// The claims of a card's code, in whole seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardCode {
    pub volunteer_number: String,
    pub issued_at: i64,
    pub expires_at: Option<i64>,
    /// Four random bytes naming one code of the app.
    pub token_id: Option<[u8; 4]>,
    /// The serial of a printed card.
    pub card_serial: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("not the code of a volunteer card")]
    Format,
    #[error("the card's signature does not verify under any of the keys given")]
    Forged,
}

/// The two bytes that name a key in a card's header: the start of the SHA-256 of its
/// Multikey. Two keys of a tenant may share them; a code is checked against each that does.
pub fn key_id(key: &VerifyingKey) -> [u8; 2] {
    let digest = Sha256::digest(key.to_multibase().as_bytes());
    [digest[0], digest[1]]
}

/// Signs a card's code.
pub fn seal(key: &SigningKey, code: &CardCode) -> String {
    let mut claims = ClaimsSetBuilder::new()
        .subject(code.volunteer_number.clone())
        .issued_at(Timestamp::WholeSeconds(code.issued_at));
    if let Some(expires_at) = code.expires_at {
        claims = claims.expiration_time(Timestamp::WholeSeconds(expires_at));
    }
    if let Some(token_id) = code.token_id {
        claims = claims.cwt_id(token_id.to_vec());
    }
    if let Some(serial) = code.card_serial {
        claims = claims.private_claim(SERIAL_CLAIM, Value::from(serial));
    }
    let payload = claims
        .build()
        .to_vec()
        .expect("a claims set of strings and integers serializes");
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(key_id(&key.verifying_key()).to_vec())
        .build();
    let message = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(b"", |signed| key.sign(signed).to_vec())
        .build()
        .to_vec()
        .expect("a COSE_Sign1 of byte strings serializes");
    format!("{CARD_PREFIX}{}", base45::encode(message))
}

/// A card's code as scanned, read but not yet verified.
#[derive(Debug, Clone)]
pub struct ScannedCard {
    message: CoseSign1,
    code: CardCode,
}

impl ScannedCard {
    /// Reads a scanned text: the prefix, base45, the COSE message and its claims. Refuses
    /// anything but EdDSA, and a code without a subject or an issue time.
    pub fn read(text: &str) -> Result<ScannedCard, CardError> {
        let encoded = text.strip_prefix(CARD_PREFIX).ok_or(CardError::Format)?;
        let bytes = base45::decode(encoded).map_err(|_| CardError::Format)?;
        let message = CoseSign1::from_slice(&bytes).map_err(|_| CardError::Format)?;
        if message.protected.header.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA))
            || message.protected.header.key_id.len() != 2
        {
            return Err(CardError::Format);
        }
        let payload = message.payload.as_deref().ok_or(CardError::Format)?;
        let claims = ClaimsSet::from_slice(payload).map_err(|_| CardError::Format)?;
        let seconds = |timestamp: Option<Timestamp>| match timestamp {
            Some(Timestamp::WholeSeconds(seconds)) => Ok(Some(seconds)),
            None => Ok(None),
            Some(Timestamp::FractionalSeconds(_)) => Err(CardError::Format),
        };
        let token_id = match claims.cwt_id {
            Some(id) => Some(<[u8; 4]>::try_from(id.as_slice()).map_err(|_| CardError::Format)?),
            None => None,
        };
        let mut card_serial = None;
        for (name, value) in &claims.rest {
            match (name, value) {
                (ClaimName::PrivateUse(SERIAL_CLAIM), Value::Integer(serial)) => {
                    card_serial = Some(u64::try_from(*serial).map_err(|_| CardError::Format)?);
                }
                _ => return Err(CardError::Format),
            }
        }
        let code = CardCode {
            volunteer_number: claims.subject.ok_or(CardError::Format)?,
            issued_at: seconds(claims.issued_at)?.ok_or(CardError::Format)?,
            expires_at: seconds(claims.expiration_time)?,
            token_id,
            card_serial,
        };
        Ok(ScannedCard { message, code })
    }

    /// Who the code names, before its signature is checked: to find the tenant's keys.
    pub fn volunteer_number(&self) -> &str {
        &self.code.volunteer_number
    }

    /// The claims, if one of `keys` whose key id matches signed them.
    pub fn verify(self, keys: &[VerifyingKey]) -> Result<CardCode, CardError> {
        let key_id = &self.message.protected.header.key_id;
        let signature: [u8; 64] = self
            .message
            .signature
            .as_slice()
            .try_into()
            .map_err(|_| CardError::Forged)?;
        let signed_by = |key: &VerifyingKey| {
            key_id.as_slice() == self::key_id(key)
                && self
                    .message
                    .verify_signature(b"", |_, signed| {
                        key.verify(signed, &signature).then_some(()).ok_or(())
                    })
                    .is_ok()
        };
        if keys.iter().any(signed_by) {
            Ok(self.code)
        } else {
            Err(CardError::Forged)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app_code() -> CardCode {
        CardCode {
            volunteer_number: "4213001234567890".into(),
            issued_at: 1_796_000_000,
            expires_at: Some(1_796_000_060),
            token_id: Some([1, 2, 3, 4]),
            card_serial: None,
        }
    }

    #[test]
    fn a_sealed_code_reads_back_under_its_key_only() {
        let key = SigningKey::from_seed([7; 32]);
        let other = SigningKey::from_seed([8; 32]);
        let text = seal(&key, &app_code());
        assert!(text.starts_with(CARD_PREFIX));
        let scanned = ScannedCard::read(&text).unwrap();
        assert_eq!(scanned.volunteer_number(), "4213001234567890");
        assert_eq!(
            scanned.clone().verify(&[other.verifying_key()]),
            Err(CardError::Forged)
        );
        assert_eq!(
            scanned.verify(&[other.verifying_key(), key.verifying_key()]),
            Ok(app_code())
        );
        let printed = CardCode {
            expires_at: None,
            token_id: None,
            card_serial: Some(70_000),
            ..app_code()
        };
        let text = seal(&key, &printed);
        assert_eq!(
            ScannedCard::read(&text)
                .unwrap()
                .verify(&[key.verifying_key()]),
            Ok(printed)
        );
    }

    #[test]
    fn an_altered_code_does_not_verify() {
        let key = SigningKey::from_seed([7; 32]);
        let text = seal(&key, &app_code());
        let mut bytes = base45::decode(&text[CARD_PREFIX.len()..]).unwrap();
        // Every byte of the message flipped in turn: either it no longer reads or it no
        // longer verifies.
        for at in 0..bytes.len() {
            bytes[at] ^= 0x01;
            let altered = format!("{CARD_PREFIX}{}", base45::encode(&bytes));
            let outcome =
                ScannedCard::read(&altered).and_then(|card| card.verify(&[key.verifying_key()]));
            assert!(outcome.is_err(), "byte {at} altered and still accepted");
            bytes[at] ^= 0x01;
        }
    }

    #[test]
    fn other_texts_are_not_codes() {
        for text in [
            "",
            "ZY1:",
            "ZY1:%%%%",
            "ZYC1:421300:4213001234567890:1:00",
            "ZY1:0123",
        ] {
            assert_eq!(
                ScannedCard::read(text).err(),
                Some(CardError::Format),
                "{text}"
            );
        }
    }

    #[test]
    fn a_code_of_the_app_fits_178_characters() {
        let key = SigningKey::from_seed([7; 32]);
        let text = seal(
            &key,
            &CardCode {
                volunteer_number: "421300123456789X".into(),
                issued_at: 4_000_000_000,
                expires_at: Some(4_000_000_060),
                ..app_code()
            },
        );
        assert!(text.len() <= 178, "{} characters", text.len());
    }
}
