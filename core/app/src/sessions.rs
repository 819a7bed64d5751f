//! Sessions as a node reads them: each request names its session by a token, which the node
//! looks up by its SHA-256 in the database and keeps for a short while in memory, so that most
//! requests cost no database round trip for it. A sign-out or a changed grant takes effect at
//! once on the node that made it (it forgets what it kept) and, on replicas sharing the
//! database, once their copy's short life ends.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zhiyuan_domain::{Principal, Timestamp};
use zhiyuan_store::{Session, Store};

use crate::AppError;

/// Sessions kept in memory at most; beyond, the least used are dropped and read again.
const CAPACITY: u64 = 100_000;

/// A node's memory of sessions. Cheap to clone; clones share it.
#[derive(Clone)]
pub struct Sessions {
    /// By token hash: the session, or `None` for a token that signs no one in (kept too, so
    /// that guessed tokens cost the database nothing more than real ones).
    cache: moka::sync::Cache<String, Option<Arc<Session>>>,
}

impl Sessions {
    pub fn new(ttl: Duration) -> Sessions {
        Sessions {
            cache: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build(),
        }
    }

    /// The principal a token signs in, if its session is live.
    pub async fn principal(
        &self,
        store: &Store,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<Principal>, AppError> {
        let hash = token_hash(token);
        let session = match self.cache.get(&hash) {
            Some(session) => session,
            None => {
                let session = store.session(&hash, now).await?.map(Arc::new);
                self.cache.insert(hash, session.clone());
                session
            }
        };
        Ok(session
            .filter(|session| session.expires_at > now)
            .map(|session| session.principal.clone()))
    }

    /// Forgets a session at once (it was ended).
    pub fn forget_token(&self, token_hash: &str) {
        self.cache.invalidate(token_hash);
    }

    /// Forgets every session of an account (its grants or volunteer record changed, or it
    /// signed out everywhere), so that the next request reads it anew.
    pub fn forget_account(&self, account_id: Uuid) {
        // Only fails when invalidation closures are not enabled, which `new` does.
        let _ = self.cache.invalidate_entries_if(move |_, session| {
            session
                .as_ref()
                .is_some_and(|session| session.principal.account_id == account_id)
        });
    }
}

/// A new session token: 256 random bits, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Sessions are stored by the SHA-256 of their token, so a copy of the database signs no one in.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
