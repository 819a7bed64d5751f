//! Where each tenant's keys come from, and how they are replaced.
//!
//! A tenant's data key is the one configured for it or, failing that, the file
//! `<tenant>.key` in the node's key folder, created when the tenant is (never later: a key
//! that is missing is restored from a backup, not replaced). Rotating it is done in three
//! steps, each safe to repeat after a crash: a new key is staged as `<tenant>.next.key`; the
//! store reseals the tenant's records under it and stores its check value, in one
//! transaction; then the staged file takes the place of the current one, which stays as
//! `<tenant>.retired-<check value>.key`. A node that finds the records checked against the
//! staged key finishes the last step itself.
//!
//! A tenant's signing keys are the files `<tenant>.signing-<version>.key`; the newest signs.
//! Rotating adds a version and keeps the older ones, whose public halves still verify what was
//! signed with them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use crate::{DataKeys, KeyError, KeyFiles, Secret};

/// One version of a tenant's signing key.
#[derive(Debug, Clone)]
pub struct SigningSecret {
    pub version: u32,
    pub secret: Secret,
}

/// The keys of every tenant of a node.
#[derive(Clone, Default)]
pub struct KeyRing {
    /// Shared by the ring's clones (a store is cloned freely), never copied.
    configured: Arc<HashMap<String, Secret>>,
    files: Option<Arc<KeyFiles>>,
    derived: Arc<RwLock<HashMap<String, DataKeys>>>,
}

/// Keys never print; only which tenants have one configured, and the folder.
impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("configured", &self.configured.keys().collect::<Vec<_>>())
            .field("files", &self.files)
            .finish()
    }
}

/// A tenant code as it may appear in a file name: digits and ASCII letters only, so that no
/// name leaves the folder.
fn checked(tenant: &str) -> Result<&str, KeyError> {
    if !tenant.is_empty() && tenant.len() <= 32 && tenant.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        Ok(tenant)
    } else {
        Err(KeyError::Missing(tenant.escape_debug().to_string()))
    }
}

fn current(tenant: &str) -> String {
    format!("{tenant}.key")
}

fn staged(tenant: &str) -> String {
    format!("{tenant}.next.key")
}

fn signing_prefix(tenant: &str) -> String {
    format!("{tenant}.signing-")
}

impl KeyRing {
    /// `configured` maps tenant codes to base64 data keys of 32 bytes; `key_dir` holds the
    /// files of the others, and every signing key.
    pub fn new(
        configured: &HashMap<String, String>,
        key_dir: Option<PathBuf>,
    ) -> Result<KeyRing, KeyError> {
        let mut keys = HashMap::new();
        for (tenant, encoded) in configured {
            let secret = Secret::from_base64(encoded)
                .ok_or_else(|| KeyError::BadConfiguredKey(tenant.clone()))?;
            keys.insert(tenant.clone(), secret);
        }
        Ok(KeyRing {
            configured: Arc::new(keys),
            files: key_dir.map(|dir| Arc::new(KeyFiles::new(dir))),
            derived: Arc::default(),
        })
    }

    fn files(&self, tenant: &str) -> Result<&KeyFiles, KeyError> {
        self.files
            .as_deref()
            .ok_or_else(|| KeyError::Missing(tenant.to_owned()))
    }

    /// The tenant's data keys, from its configured key or its key file; `Missing` if it has
    /// neither.
    pub fn data_keys(&self, tenant: &str) -> Result<DataKeys, KeyError> {
        self.derive(tenant, false)
    }

    /// The tenant's data keys, creating its key file if it has no key yet: for a tenant that
    /// has sealed nothing.
    pub fn create_data_keys(&self, tenant: &str) -> Result<DataKeys, KeyError> {
        self.derive(tenant, true)
    }

    fn derive(&self, tenant: &str, create: bool) -> Result<DataKeys, KeyError> {
        let tenant = checked(tenant)?;
        if let Some(keys) = self
            .derived
            .read()
            .ok()
            .and_then(|map| map.get(tenant).cloned())
        {
            return Ok(keys);
        }
        let keys = DataKeys::derive(&self.data_key(tenant, create)?);
        if let Ok(mut map) = self.derived.write() {
            map.insert(tenant.to_owned(), keys.clone());
        }
        Ok(keys)
    }

    fn data_key(&self, tenant: &str, create: bool) -> Result<Secret, KeyError> {
        if let Some(secret) = self.configured.get(tenant) {
            return Ok(secret.clone());
        }
        let files = self.files(tenant)?;
        if let Some(secret) = files.read(&current(tenant))? {
            return Ok(secret);
        }
        // A rotation stopped between its two renames: the staged key is the current one.
        if files.read(&staged(tenant))?.is_some() {
            files.rename(&staged(tenant), &current(tenant))?;
            return files
                .read(&current(tenant))?
                .ok_or_else(|| KeyError::Missing(tenant.to_owned()));
        }
        if !create {
            return Err(KeyError::Missing(tenant.to_owned()));
        }
        let secret = Secret::generate();
        files.create(&current(tenant), &secret)?;
        tracing::warn!(
            tenant,
            path = %files.path(&current(tenant)).display(),
            "created a data key file; back it up: records sealed with it cannot be read without it"
        );
        Ok(secret)
    }

    /// The staged data key of a rotation under way, if there is one.
    pub fn staged_data_keys(&self, tenant: &str) -> Result<Option<DataKeys>, KeyError> {
        let tenant = checked(tenant)?;
        if self.configured.contains_key(tenant) {
            return Ok(None);
        }
        Ok(self
            .files(tenant)?
            .read(&staged(tenant))?
            .map(|secret| DataKeys::derive(&secret)))
    }

    /// Stages a new data key for the tenant (or answers the one staged already, so that a
    /// rotation that stopped half-way is taken up again rather than started over).
    pub fn stage_data_key(&self, tenant: &str) -> Result<DataKeys, KeyError> {
        let tenant = checked(tenant)?;
        if self.configured.contains_key(tenant) {
            return Err(KeyError::Configured(tenant.to_owned()));
        }
        let files = self.files(tenant)?;
        if let Some(secret) = files.read(&staged(tenant))? {
            return Ok(DataKeys::derive(&secret));
        }
        let secret = Secret::generate();
        files.create(&staged(tenant), &secret)?;
        Ok(DataKeys::derive(&secret))
    }

    /// Makes the staged key the tenant's data key, keeping the one it replaces as a retired
    /// file named by its check value.
    pub fn promote_staged_data_key(&self, tenant: &str) -> Result<(), KeyError> {
        let tenant = checked(tenant)?;
        let files = self.files(tenant)?;
        if files.read(&staged(tenant))?.is_none() {
            return Ok(());
        }
        if let Some(old) = files.read(&current(tenant))? {
            let retired = format!(
                "{tenant}.retired-{}.key",
                DataKeys::derive(&old).check_value()
            );
            files.rename(&current(tenant), &retired)?;
        }
        files.rename(&staged(tenant), &current(tenant))?;
        if let Ok(mut map) = self.derived.write() {
            map.remove(tenant);
        }
        tracing::warn!(
            tenant,
            "the data key was replaced; back up the new key file"
        );
        Ok(())
    }

    /// Every version of the tenant's signing key, oldest first.
    pub fn signing_secrets(&self, tenant: &str) -> Result<Vec<SigningSecret>, KeyError> {
        let tenant = checked(tenant)?;
        let files = self.files(tenant)?;
        let prefix = signing_prefix(tenant);
        let mut versions = Vec::new();
        for name in files.names(&prefix)? {
            let Some(version) = name
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(".key"))
                .and_then(|number| number.parse::<u32>().ok())
            else {
                continue;
            };
            let secret = files
                .read(&name)?
                .ok_or_else(|| KeyError::BadFile(files.path(&name).display().to_string()))?;
            versions.push(SigningSecret { version, secret });
        }
        versions.sort_by_key(|signing| signing.version);
        Ok(versions)
    }

    /// The signing key in use: the newest version, the first one created if there is none.
    pub fn signing_secret(&self, tenant: &str) -> Result<SigningSecret, KeyError> {
        match self.signing_secrets(tenant)?.pop() {
            Some(newest) => Ok(newest),
            None => self.rotate_signing_secret(tenant),
        }
    }

    /// Adds a version of the tenant's signing key, which signs from now on.
    pub fn rotate_signing_secret(&self, tenant: &str) -> Result<SigningSecret, KeyError> {
        let version = self
            .signing_secrets(tenant)?
            .last()
            .map_or(1, |newest| newest.version + 1);
        let secret = Secret::generate();
        let files = self.files(tenant)?;
        files.create(&format!("{}{version}.key", signing_prefix(tenant)), &secret)?;
        Ok(SigningSecret { version, secret })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(dir: &tempfile::TempDir) -> KeyRing {
        KeyRing::new(&HashMap::new(), Some(dir.path().to_owned())).unwrap()
    }

    #[test]
    fn key_files_are_created_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            matches!(ring(&dir).data_keys("421300"), Err(KeyError::Missing(_))),
            "not created by a reading"
        );
        let first = ring(&dir).create_data_keys("421300").unwrap();
        let again = ring(&dir).data_keys("421300").unwrap();
        let once = ring(&dir).create_data_keys("421300").unwrap();
        assert_eq!(first.check_value(), once.check_value(), "created once");
        assert_eq!(first.check_value(), again.check_value());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |path: PathBuf| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(dir.path().join("421300.key")), 0o600);
        }
        let no_folder = KeyRing::new(&HashMap::new(), None).unwrap();
        assert!(matches!(
            no_folder.create_data_keys("421300"),
            Err(KeyError::Missing(_))
        ));
        let bad = HashMap::from([("421300".to_owned(), "c2hvcnQ=".to_owned())]);
        assert!(matches!(
            KeyRing::new(&bad, None),
            Err(KeyError::BadConfiguredKey(_))
        ));
    }

    #[test]
    fn a_configured_key_wins_and_is_rotated_in_the_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let secret = Secret::from_bytes([3; 32]);
        let configured = HashMap::from([("421300".to_owned(), secret.to_base64())]);
        let ring = KeyRing::new(&configured, Some(dir.path().to_owned())).unwrap();
        assert_eq!(
            ring.data_keys("421300").unwrap().check_value(),
            DataKeys::derive(&secret).check_value()
        );
        assert!(!dir.path().join("421300.key").exists());
        assert!(matches!(
            ring.stage_data_key("421300"),
            Err(KeyError::Configured(_))
        ));
    }

    #[test]
    fn names_that_would_leave_the_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for tenant in ["../etc", "", "a/b", "421300.next"] {
            assert!(ring(&dir).create_data_keys(tenant).is_err(), "{tenant}");
        }
    }

    #[test]
    fn a_data_key_rotation_stages_promotes_and_retires() {
        let dir = tempfile::tempdir().unwrap();
        let ring = ring(&dir);
        let old = ring.create_data_keys("421300").unwrap();
        assert!(ring.staged_data_keys("421300").unwrap().is_none());
        let new = ring.stage_data_key("421300").unwrap();
        assert_ne!(old.check_value(), new.check_value());
        // Staging again takes up the same key.
        assert_eq!(
            ring.stage_data_key("421300").unwrap().check_value(),
            new.check_value()
        );
        assert_eq!(
            ring.data_keys("421300").unwrap().check_value(),
            old.check_value(),
            "not before promotion"
        );
        ring.promote_staged_data_key("421300").unwrap();
        assert_eq!(
            ring.data_keys("421300").unwrap().check_value(),
            new.check_value()
        );
        assert!(ring.staged_data_keys("421300").unwrap().is_none());
        let retired = dir
            .path()
            .join(format!("421300.retired-{}.key", old.check_value()));
        assert!(
            retired.exists(),
            "the old key is kept, named by its check value"
        );
    }

    #[test]
    fn a_rotation_stopped_between_its_renames_is_finished() {
        let dir = tempfile::tempdir().unwrap();
        let ring = ring(&dir);
        ring.create_data_keys("421300").unwrap();
        let new = ring.stage_data_key("421300").unwrap();
        // The current file was retired, then the node stopped.
        std::fs::rename(
            dir.path().join("421300.key"),
            dir.path().join("421300.retired-x.key"),
        )
        .unwrap();
        let fresh = KeyRing::new(&HashMap::new(), Some(dir.path().to_owned())).unwrap();
        assert_eq!(
            fresh.data_keys("421300").unwrap().check_value(),
            new.check_value()
        );
    }

    #[test]
    fn signing_keys_rotate_and_keep_their_older_versions() {
        let dir = tempfile::tempdir().unwrap();
        let ring = ring(&dir);
        let first = ring.signing_secret("421300").unwrap();
        assert_eq!(first.version, 1);
        assert_eq!(
            ring.signing_secret("421300").unwrap().secret,
            first.secret,
            "created once"
        );
        let second = ring.rotate_signing_secret("421300").unwrap();
        assert_eq!(second.version, 2);
        assert_ne!(second.secret, first.secret);
        assert_eq!(
            ring.signing_secret("421300").unwrap().version,
            2,
            "the newest signs"
        );
        let versions: Vec<u32> = ring
            .signing_secrets("421300")
            .unwrap()
            .iter()
            .map(|s| s.version)
            .collect();
        assert_eq!(versions, [1, 2]);
        assert!(
            ring.signing_secrets("420700").unwrap().is_empty(),
            "per tenant"
        );
    }
}
