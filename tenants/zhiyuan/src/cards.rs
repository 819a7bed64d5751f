//! What each tenant's signing key signs for core: the codes of volunteer cards (the port
//! `CardSigner`, filled with federation's COSE envelope) and the checkpoints of its
//! transparency log (the port `LogSigner`, C2SP signed notes). Keys are read from the key ring
//! once a tenant's first card or checkpoint is signed or a card scanned, every version of them,
//! so that cards signed before a rotation still scan.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use zhiyuan_domain::ports::{CardSigner, LogSigner};
use zhiyuan_domain::{CardKind, CardToken, Rule, TenantCode, Timestamp, VolunteerNumber};
use zhiyuan_federation::card::{CardCode, CardError, ScannedCard, seal};
use zhiyuan_federation::{SigningKey, VerifyingKey};
use zhiyuan_keys::KeyRing;

/// A tenant's keys: the one that signs, and every version that verifies.
struct TenantKeys {
    signing: SigningKey,
    verifying: Vec<VerifyingKey>,
}

pub struct TenantCards {
    ring: KeyRing,
    keys: RwLock<HashMap<TenantCode, Arc<TenantKeys>>>,
}

impl TenantCards {
    pub fn new(ring: KeyRing) -> TenantCards {
        TenantCards {
            ring,
            keys: RwLock::default(),
        }
    }

    fn keys(&self, tenant: &TenantCode) -> Result<Arc<TenantKeys>, String> {
        if let Some(keys) = self.keys.read().expect("not poisoned").get(tenant) {
            return Ok(keys.clone());
        }
        let signing = SigningKey::from_secret(
            &self
                .ring
                .signing_secret(tenant.as_str())
                .map_err(|error| format!("signing key of {tenant}: {error}"))?
                .secret,
        );
        let verifying = self
            .ring
            .signing_secrets(tenant.as_str())
            .map_err(|error| format!("signing keys of {tenant}: {error}"))?
            .iter()
            .map(|version| SigningKey::from_secret(&version.secret).verifying_key())
            .collect();
        let keys = Arc::new(TenantKeys { signing, verifying });
        self.keys
            .write()
            .expect("not poisoned")
            .insert(tenant.clone(), keys.clone());
        Ok(keys)
    }
}

fn seconds(at: Timestamp) -> i64 {
    at.unix_millis().div_euclid(1000)
}

impl CardSigner for TenantCards {
    fn seal(&self, claims: &CardToken) -> Result<String, String> {
        let keys = self.keys(&claims.tenant)?;
        let (expires_at, token_id, card_serial) = match &claims.kind {
            CardKind::App {
                token_id,
                expires_at,
            } => {
                let bytes = hex::decode(token_id).map_err(|error| error.to_string())?;
                let token_id: [u8; 4] = bytes
                    .try_into()
                    .map_err(|_| "a token id is four bytes".to_owned())?;
                (Some(seconds(*expires_at)), Some(token_id), None)
            }
            CardKind::Printed { serial } => (None, None, Some(*serial)),
        };
        Ok(seal(
            &keys.signing,
            &CardCode {
                volunteer_number: claims.volunteer_number.to_string(),
                issued_at: seconds(claims.issued_at),
                expires_at,
                token_id,
                card_serial,
            },
        ))
    }

    fn open(&self, tenant: &TenantCode, code: &str) -> Result<CardToken, Rule> {
        let scanned = ScannedCard::read(code.trim()).map_err(|_| Rule::CardTokenFormat)?;
        let number = VolunteerNumber::parse(scanned.volunteer_number())
            .map_err(|_| Rule::CardTokenFormat)?;
        // The volunteer number begins with the code of the tenant that issued it.
        if !number.as_str().starts_with(tenant.as_str()) {
            return Err(Rule::CardCodeOtherTenant);
        }
        let keys = self.keys(tenant).map_err(|_| Rule::CardCodeForged)?;
        let code = scanned
            .verify(&keys.verifying)
            .map_err(|error| match error {
                CardError::Format => Rule::CardTokenFormat,
                CardError::Forged => Rule::CardCodeForged,
            })?;
        let millis = |seconds: i64| Timestamp::from_unix_millis(seconds.saturating_mul(1000));
        let kind = match (code.token_id, code.expires_at, code.card_serial) {
            (Some(token_id), Some(expires_at), None) => CardKind::App {
                token_id: hex::encode(token_id),
                expires_at: millis(expires_at),
            },
            (None, None, Some(serial)) => CardKind::Printed { serial },
            _ => return Err(Rule::CardTokenFormat),
        };
        Ok(CardToken {
            tenant: tenant.clone(),
            volunteer_number: number,
            issued_at: millis(code.issued_at),
            kind,
        })
    }
}

impl LogSigner for TenantCards {
    fn sign_checkpoint(
        &self,
        tenant: &TenantCode,
        origin: &str,
        size: u64,
        root: [u8; 32],
    ) -> Result<String, String> {
        let keys = self.keys(tenant)?;
        zhiyuan_federation::log::sign_checkpoint(
            origin,
            size,
            zhiyuan_federation::log::Hash(root),
            &keys.signing,
        )
        .map_err(|error| format!("checkpoint of {origin}: {error}"))
    }
}
