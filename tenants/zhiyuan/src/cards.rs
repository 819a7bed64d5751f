//! What the signing keys sign for core: with each tenant's, the codes of volunteer cards (the
//! port `CardSigner`, filled with federation's COSE envelope), the checkpoints of its
//! transparency log (C2SP signed notes) and its credentials (Data Integrity proofs); with the
//! operator's, the tenants' DID documents (the port `RecordSigner`). Keys are read from the key
//! ring once a signer first signs or a card is scanned, every version of them, so that cards
//! signed before a rotation still scan; the node signs with a rotated key once restarted.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use zhiyuan_domain::ports::{CardSigner, RecordSigner, Signer, SignerKeys};
use zhiyuan_domain::{CardKind, CardToken, Rule, TenantCode, Timestamp, VolunteerNumber};
use zhiyuan_federation::card::{CardCode, CardError, ScannedCard, seal};
use zhiyuan_federation::data_integrity::{ProofOptions, add_proof, canonical_text};
use zhiyuan_federation::{SigningKey, VerifyingKey};
use zhiyuan_keys::KeyRing;

/// A signer's keys: the one that signs, and every version that verifies.
struct TenantKeys {
    version: u32,
    signing: SigningKey,
    verifying: Vec<(u32, VerifyingKey)>,
}

pub struct TenantCards {
    ring: KeyRing,
    /// By realm: a tenant's code, or the node's.
    keys: RwLock<HashMap<String, Arc<TenantKeys>>>,
}

impl TenantCards {
    pub fn new(ring: KeyRing) -> TenantCards {
        TenantCards {
            ring,
            keys: RwLock::default(),
        }
    }

    fn keys(&self, tenant: &TenantCode) -> Result<Arc<TenantKeys>, String> {
        self.realm_keys(tenant.as_str())
    }

    fn realm_keys(&self, realm: &str) -> Result<Arc<TenantKeys>, String> {
        if let Some(keys) = self.keys.read().expect("not poisoned").get(realm) {
            return Ok(keys.clone());
        }
        let current = self
            .ring
            .signing_secret(realm)
            .map_err(|error| format!("signing key of {realm}: {error}"))?;
        let verifying = self
            .ring
            .signing_secrets(realm)
            .map_err(|error| format!("signing keys of {realm}: {error}"))?
            .iter()
            .map(|version| {
                (
                    version.version,
                    SigningKey::from_secret(&version.secret).verifying_key(),
                )
            })
            .collect();
        let keys = Arc::new(TenantKeys {
            version: current.version,
            signing: SigningKey::from_secret(&current.secret),
            verifying,
        });
        self.keys
            .write()
            .expect("not poisoned")
            .insert(realm.to_owned(), keys.clone());
        Ok(keys)
    }
}

impl TenantCards {
    /// Signs a request a tenant sends another node (RFC 9421), with its current key, named by
    /// its DID `did`.
    pub fn sign_request(
        &self,
        tenant: &TenantCode,
        did: &str,
        target_uri: &str,
        body: &[u8],
        created: i64,
        nonce: &str,
    ) -> Result<zhiyuan_federation::http_signature::SignedRequest, String> {
        let keys = self.keys(tenant)?;
        zhiyuan_federation::http_signature::sign_request(
            "POST",
            target_uri,
            body,
            &format!("{did}#key-{}", keys.version),
            &keys.signing,
            created,
            nonce,
        )
        .map_err(|error| error.to_string())
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
        let verifying: Vec<VerifyingKey> =
            keys.verifying.iter().map(|(_, key)| key.clone()).collect();
        let code = scanned.verify(&verifying).map_err(|error| match error {
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

impl RecordSigner for TenantCards {
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

    fn keys(&self, signer: &Signer) -> Result<SignerKeys, String> {
        let keys = self.realm_keys(signer.realm())?;
        Ok(SignerKeys {
            current: keys.version,
            versions: keys
                .verifying
                .iter()
                .map(|(version, key)| (*version, key.to_multibase()))
                .collect(),
        })
    }

    fn secure(
        &self,
        signer: &Signer,
        did: &str,
        document: &str,
        at: Timestamp,
    ) -> Result<String, String> {
        let keys = self.realm_keys(signer.realm())?;
        let document: serde_json::Value =
            serde_json::from_str(document).map_err(|error| error.to_string())?;
        let options = ProofOptions {
            created: at.to_utc_rfc3339(),
            verification_method: format!("{did}#key-{}", keys.version),
            proof_purpose: "assertionMethod".into(),
        };
        let secured =
            add_proof(&document, &options, &keys.signing).map_err(|error| error.to_string())?;
        canonical_text(&secured).map_err(|error| error.to_string())
    }
}
