//! Where the master key comes from, and the database opened with it: every command that uses
//! the server's keys goes through [`open_database`], so each one checks the key against what
//! the database holds and seals what an earlier version left in plaintext.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use app::{
    domain::sealing::{MasterKey, SealError},
    services::{ServiceError, sealing},
    store::{Database, StoreError, master_key_beside, unix_now},
};

/// How a master key was configured.
#[derive(Clone)]
pub enum MasterKeySource {
    /// `--master-key-file` / `KEYPORT_MASTER_KEY_FILE`.
    File(PathBuf),
    /// `--master-key` / `KEYPORT_MASTER_KEY`: the key's base64 text.
    Value(String),
    /// Neither: a file beside an SQLite database, generated on first start. PostgreSQL refuses.
    Default,
}

impl std::fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MasterKeySource::File(path) => write!(f, "File({})", path.display()),
            MasterKeySource::Value(_) => f.write_str("Value(…)"),
            MasterKeySource::Default => f.write_str("Default"),
        }
    }
}

impl MasterKeySource {
    /// Whether this source can give a key for `database_url` at all: PostgreSQL needs one
    /// configured. Checked with the other settings, before anything starts.
    pub fn check(&self, database_url: &str) -> Result<(), MasterKeyError> {
        let postgres =
            database_url.starts_with("postgres:") || database_url.starts_with("postgresql:");
        if postgres && matches!(self, MasterKeySource::Default) {
            Err(MasterKeyError::Required)
        } else {
            Ok(())
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error(
        "PostgreSQL needs a master key: set KEYPORT_MASTER_KEY_FILE (or KEYPORT_MASTER_KEY) to \
         the same key on every instance, kept outside the database, e.g. `head -c32 \
         /dev/urandom | base64 > master.key; chmod 600 master.key`"
    )]
    Required,
    #[error(
        "no master key is configured and {path} does not exist, but the database's keys are \
         sealed under master key {ids}: restore that key's file there or set \
         KEYPORT_MASTER_KEY_FILE"
    )]
    Missing { path: String, ids: String },
    #[error("master key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("master key file {path}: {source}")]
    BadFile { path: String, source: SealError },
    #[error("KEYPORT_MASTER_KEY (--master-key): {0}")]
    BadValue(SealError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Sealed(#[from] ServiceError),
}

/// Connects to and migrates the database, finds the master key, checks that the database's
/// keys open under it, and seals any an earlier version stored in plaintext.
pub async fn open_database(
    database_url: &str,
    source: &MasterKeySource,
) -> Result<(Database, MasterKey), MasterKeyError> {
    // Refused before the database is touched: nothing to migrate for a process that cannot run.
    source.check(database_url)?;
    let beside = master_key_beside(database_url);
    let db = Database::connect(database_url).await?;
    db.migrate().await?;
    let master = match (source, beside) {
        (MasterKeySource::File(path), _) => read_file(path)?,
        (MasterKeySource::Value(text), _) => {
            MasterKey::parse(text).map_err(MasterKeyError::BadValue)?
        }
        (MasterKeySource::Default, Some(path)) => default_file(&db, &path).await?,
        // An in-memory database ends with the process, and so may its key.
        (MasterKeySource::Default, None) => {
            MasterKey::generate().map_err(MasterKeyError::BadValue)?
        }
    };
    let sealed = sealing::check_and_seal(&db, &master, unix_now()).await?;
    if sealed > 0 {
        tracing::info!(
            sealed,
            master_key = master.id(),
            "sealed keys an earlier version stored in plaintext"
        );
    }
    Ok((db, master))
}

/// The key in the file beside an SQLite database, generated on the first start. Not when the
/// database already holds keys sealed under some key: a new one could not open them.
async fn default_file(db: &Database, path: &Path) -> Result<MasterKey, MasterKeyError> {
    if path.exists() {
        return read_file(path);
    }
    let ids = sealing::master_key_ids(db).await?;
    if !ids.is_empty() {
        return Err(MasterKeyError::Missing {
            path: path.display().to_string(),
            ids: ids.join(", "),
        });
    }
    let (key, created) = read_or_create(path)?;
    if created {
        tracing::info!(
            path = %path.display(),
            master_key = key.id(),
            "generated the master key beside the database; back it up apart from the database"
        );
    }
    Ok(key)
}

/// The key in `path`, warning when other users may read the file.
pub fn read_file(path: &Path) -> Result<MasterKey, MasterKeyError> {
    let io = |source| MasterKeyError::Io {
        path: path.display().to_string(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(io)?;
    warn_if_shared(path, &std::fs::metadata(path).map_err(io)?);
    MasterKey::parse(&text).map_err(|source| MasterKeyError::BadFile {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(unix)]
fn warn_if_shared(path: &Path, metadata: &std::fs::Metadata) {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{mode:o}"),
            "the master key file is open to other users; `chmod 600` it"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_: &Path, _: &std::fs::Metadata) {}

/// The key in `path`, or a new one written there (mode 0600) when there is no file; whether it
/// was made now. Two processes doing this at once end up with the same key: the new key is
/// written whole to a file of its own (`create_new`, 0600) and then linked to `path`, which
/// fails for all but the first, who read the winner's file instead, never a half-written one.
pub fn read_or_create(path: &Path) -> Result<(MasterKey, bool), MasterKeyError> {
    if path.exists() {
        return Ok((read_file(path)?, false));
    }
    let io = |source| MasterKeyError::Io {
        path: path.display().to_string(),
        source,
    };
    let key = MasterKey::generate().map_err(MasterKeyError::BadValue)?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let staged = dir.join(format!(
        ".{}.{}-{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id(),
        key.id()
    ));
    let written = write_new(&staged, &key);
    let linked = written.and_then(|()| std::fs::hard_link(&staged, path));
    let _ = std::fs::remove_file(&staged);
    match linked {
        Ok(()) => {
            // The link itself must survive a crash, or the next start would make another key.
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
            Ok((key, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok((read_file(path)?, false)),
        Err(e) => Err(io(e)),
    }
}

fn write_new(path: &Path, key: &MasterKey) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(format!("{}\n", key.to_base64()).as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_file_is_private_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (made, created) = read_or_create(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, created) = read_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(again, made);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no staging file left behind");
    }

    #[test]
    fn processes_creating_the_key_at_once_share_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let keys: Vec<MasterKey> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| read_or_create(&path).unwrap().0))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| *k == keys[0]));
        assert_eq!(read_file(&path).unwrap(), keys[0]);
    }

    #[test]
    fn a_bad_key_file_says_which_file_and_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        std::fs::write(&path, "too short").unwrap();
        let message = read_file(&path).unwrap_err().to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("base64 of 32 bytes"), "{message}");
        assert!(read_file(&dir.path().join("absent")).is_err());
    }
}
