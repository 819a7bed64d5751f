//! Password hashing under a bound: Argon2id costs 19 MiB and tens of milliseconds of a core on
//! purpose, and public routes (registration, sign-in) reach it. A fixed number of workers each
//! reuse one block of memory, so that however many requests arrive at once the node hashes at
//! most that many at a time, holds at most that much memory for it, and answers the rest with
//! 503 and Retry-After once a short queue is full.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::rngs::OsRng;
use tokio::sync::Semaphore;
use zhiyuan_domain::Password;

use crate::AppError;

/// A hash of a password nobody has, checked when an account does not exist so that a sign-in
/// takes as long for an unknown username as for a wrong password.
pub const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2N0p6yNn1pWsd0B7rUoQ8kVZ6uuvQZt8G2H8sn0S7yk";

/// The node's password hashing: cheap to clone; clones share the workers.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    workers: Arc<Semaphore>,
    /// One Argon2 memory block set a worker, taken while hashing and put back after.
    memory: Mutex<Vec<Vec<Block>>>,
    /// Requests hashing or waiting to.
    in_flight: AtomicUsize,
    /// The most requests hashing or waiting at once: the workers and the queue before them.
    capacity: usize,
}

/// Counts a request in flight until it is dropped, whichever way the request ends.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Passwords {
    /// `workers` hash at once and `queue` more may wait for them. With no workers every hash
    /// is refused as busy, as a node at capacity refuses it (the node's configuration asks for
    /// at least one).
    pub fn new(workers: usize, queue: usize) -> Passwords {
        Passwords {
            inner: Arc::new(Inner {
                workers: Arc::new(Semaphore::new(workers)),
                memory: Mutex::new(Vec::with_capacity(workers)),
                in_flight: AtomicUsize::new(0),
                capacity: if workers == 0 { 0 } else { workers + queue },
            }),
        }
    }

    /// Hashes a password with Argon2id and a random salt (PHC string format).
    pub async fn hash(&self, password: &Password) -> Result<String, AppError> {
        let password = password.expose().to_owned();
        self.run(move |memory| hash_with(memory, password.as_bytes()))
            .await
    }

    /// Checks a password against a stored hash.
    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, AppError> {
        let (password, hash) = (password.to_owned(), hash.to_owned());
        self.run(move |memory| verify_with(memory, password.as_bytes(), &hash))
            .await
    }

    /// Runs `work` on the blocking pool with a worker's memory, once a worker is free; refuses
    /// at once when the queue before the workers is full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let inner = &self.inner;
        let ahead = inner.in_flight.fetch_add(1, Ordering::SeqCst);
        let _in_flight = InFlight(&inner.in_flight);
        if ahead >= inner.capacity {
            return Err(AppError::Busy {
                retry_after_seconds: 1,
            });
        }
        // The permit goes with the work: a request given up by its client does not free a
        // worker before its hash is done.
        let permit = inner
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AppError::Internal("password workers closed".into()))?;
        let shared = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut memory = shared
                .memory
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .pop()
                .unwrap_or_default();
            let result = work(&mut memory);
            shared
                .memory
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(memory);
            result
        })
        .await
        .map_err(|error| AppError::Internal(format!("password hashing stopped: {error}")))?
    }
}

fn argon2(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Grows a worker's memory to what `params` need, once; it is reused for every later hash.
fn memory_for<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    &mut memory[..blocks]
}

fn hash_with(memory: &mut Vec<Block>, password: &[u8]) -> Result<String, AppError> {
    let internal = |error: &dyn std::fmt::Display| AppError::Internal(format!("hashing: {error}"));
    let params = Params::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.decode_b64(&mut salt_bytes).map_err(|e| internal(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2(params.clone())
        .hash_password_into_with_memory(password, salt_raw, &mut out, memory_for(memory, &params))
        .map_err(|e| internal(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params).try_into().map_err(|e| internal(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| internal(&e))?),
    };
    Ok(phc.to_string())
}

fn verify_with(memory: &mut Vec<Block>, password: &[u8], stored: &str) -> Result<bool, AppError> {
    let internal = |detail: String| AppError::Internal(format!("stored hash unreadable: {detail}"));
    let phc = PasswordHash::new(stored).map_err(|e| internal(e.to_string()))?;
    let params = Params::try_from(&phc).map_err(|e| internal(e.to_string()))?;
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return Err(internal("no salt or hash".into()));
    };
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| internal(e.to_string()))?;
    let mut out = vec![0u8; expected.len()];
    argon2(params.clone())
        .hash_password_into_with_memory(password, salt_raw, &mut out, memory_for(memory, &params))
        .map_err(|e| internal(e.to_string()))?;
    let computed = Output::new(&out).map_err(|e| internal(e.to_string()))?;
    // Output compares in constant time.
    Ok(computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn hashes_verify_their_own_password_only_and_read_as_argon2() {
        let passwords = Passwords::new(1, 4);
        let password = Password::parse("correct horse battery", "/password").unwrap();
        let runtime = runtime();
        let hash = runtime.block_on(passwords.hash(&password)).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            runtime
                .block_on(passwords.verify("correct horse battery", &hash))
                .unwrap()
        );
        assert!(
            !runtime
                .block_on(passwords.verify("wrong horse battery", &hash))
                .unwrap()
        );
        // The password_hash crate reads and checks what this writes.
        use argon2::PasswordVerifier;
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
    }

    #[test]
    fn the_decoy_hash_is_a_valid_argon2_hash() {
        let runtime = runtime();
        let passwords = Passwords::new(1, 4);
        assert!(!runtime.block_on(passwords.verify("x", DECOY_HASH)).unwrap());
    }
}
