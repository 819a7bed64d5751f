//! Key files: one secret per file, base64 on one line, in a folder only the node's user may
//! enter. A file is created once and never written over; replacing a key is a new file and a
//! rename (see rotation in `ring`).

use std::path::{Path, PathBuf};

use crate::{KeyError, Secret};

/// The node's key folder.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |error| KeyError::Io {
        path: path.display().to_string(),
        error,
    }
}

impl KeyFiles {
    pub fn new(dir: PathBuf) -> KeyFiles {
        KeyFiles { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The secret in a file of the folder, if there is one.
    pub fn read(&self, name: &str) -> Result<Option<Secret>, KeyError> {
        let path = self.path(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Secret::from_base64(&text)
                .map(Some)
                .ok_or_else(|| KeyError::BadFile(path.display().to_string())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io(&path)(error)),
        }
    }

    /// Writes a new file (never over an existing one), readable by the node's user alone, and
    /// flushed to the disk before it counts.
    pub fn create(&self, name: &str, secret: &Secret) -> Result<(), KeyError> {
        use std::io::Write;
        create_private_dir(&self.dir)?;
        let path = self.path(name);
        let mut file = open_private(&path).map_err(io(&path))?;
        file.write_all(secret.to_base64().as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all())
            .map_err(io(&path))?;
        Ok(())
    }

    /// Renames a file within the folder (atomic on one file system).
    pub fn rename(&self, from: &str, to: &str) -> Result<(), KeyError> {
        let (from, to) = (self.path(from), self.path(to));
        std::fs::rename(&from, &to).map_err(io(&from))
    }

    /// The names of the folder's files that begin with `prefix`, in order.
    pub fn names(&self, prefix: &str) -> Result<Vec<String>, KeyError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io(&self.dir)(error)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let name = entry.map_err(io(&self.dir))?.file_name();
            if let Some(name) = name.to_str().filter(|name| name.starts_with(prefix)) {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => Ok(()),
        Err(error) => Err(io(dir)(error)),
    }
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    std::fs::create_dir_all(dir).map_err(io(dir))
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}
