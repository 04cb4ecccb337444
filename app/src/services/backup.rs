//! `keyport backup`: a consistent copy of a SQLite database while it serves. PostgreSQL has
//! its own tools (`pg_dump`), which this does not try to replace.

use std::{
    fs::{self, File, OpenOptions},
    io,
    path::{Path, PathBuf},
};

use crate::store::{
    StoreError,
    backup::{SqliteSource, sqlite_path},
};

/// Why no backup was made. Each is one line for the command line.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "keyport backup copies SQLite databases; back up PostgreSQL with `pg_dump -Fc` \
         (see the README, Backups and restore)"
    )]
    Postgres,
    #[error("no SQLite database at {0}")]
    NoDatabase(String),
    #[error("{0} already exists; keyport backup never overwrites a file")]
    Exists(String),
    #[error("directory {0} does not exist")]
    NoDirectory(String),
    #[error("the backup path must be valid UTF-8")]
    NotUtf8,
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: io::Error },
    #[error("could not copy the database: {0}")]
    Store(#[from] StoreError),
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub to: PathBuf,
    pub bytes: u64,
}

/// Copies the SQLite database at `database_url` into the new file `to` (never overwriting
/// one), durably, and readable only by its owner, since it holds every hash and sealed key.
/// On failure nothing is left at `to`.
pub async fn backup_sqlite(database_url: &str, to: &Path) -> Result<Backup, BackupError> {
    if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        return Err(BackupError::Postgres);
    }
    let source = sqlite_path(database_url)?;
    if !source.is_file() {
        return Err(BackupError::NoDatabase(source.display().to_string()));
    }
    let dir = match to.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(BackupError::NoDirectory(dir.display().to_string()));
    }
    let target = to.to_str().ok_or(BackupError::NotUtf8)?;
    // Claiming the name first (O_EXCL) refuses a file that appears after any check, and makes
    // the file ours: removing it after a failure can never remove someone else's.
    claim(to)?;
    match copy(database_url, target, dir).await {
        Ok(bytes) => Ok(Backup {
            to: fs::canonicalize(to).unwrap_or_else(|_| to.to_path_buf()),
            bytes,
        }),
        Err(error) => {
            let _ = fs::remove_file(to);
            Err(error)
        }
    }
}

fn claim(to: &Path) -> Result<(), BackupError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(to) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(BackupError::Exists(to.display().to_string()))
        }
        Err(source) => Err(write_error(to, source)),
    }
}

async fn copy(database_url: &str, target: &str, dir: &Path) -> Result<u64, BackupError> {
    let source = SqliteSource::open(database_url).await?;
    let copied = source.vacuum_into(target).await;
    source.close().await;
    copied?;
    let path = Path::new(target);
    let file = File::open(path).map_err(|e| write_error(path, e))?;
    file.sync_all().map_err(|e| write_error(path, e))?;
    // The new name is durable only once its directory is.
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| write_error(dir, e))?;
    Ok(file.metadata().map_err(|e| write_error(path, e))?.len())
}

fn write_error(path: &Path, source: io::Error) -> BackupError {
    BackupError::Write {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Database, MIGRATOR, on_pool};

    async fn migrated(dir: &Path) -> String {
        let url = format!("sqlite://{}/keyport.db", dir.display());
        let db = Database::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        db.close().await;
        url
    }

    #[tokio::test]
    async fn copies_a_database_that_opens_as_a_keyport_database() {
        let dir = tempfile::tempdir().unwrap();
        let url = migrated(dir.path()).await;
        let to = dir.path().join("copy.db");
        let backup = backup_sqlite(&url, &to).await.unwrap();
        assert_eq!(backup.bytes, fs::metadata(&to).unwrap().len());
        assert!(backup.bytes > 0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&to).unwrap().permissions().mode();
            assert_eq!(
                mode & 0o777,
                0o600,
                "only its owner reads a copy of every hash"
            );
        }
        let copy = Database::connect(&format!("sqlite://{}", to.display()))
            .await
            .unwrap();
        let applied: i64 = on_pool!(&copy, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE"
        ).fetch_one(pool).await.unwrap());
        assert_eq!(applied as usize, MIGRATOR.iter().count());
        copy.migrate().await.expect("nothing left to apply");
    }

    #[tokio::test]
    async fn refuses_without_touching_anything_it_should_not() {
        let dir = tempfile::tempdir().unwrap();
        let url = migrated(dir.path()).await;

        let existing = dir.path().join("existing.db");
        fs::write(&existing, b"keep me").unwrap();
        let refused = backup_sqlite(&url, &existing).await.unwrap_err();
        assert!(matches!(refused, BackupError::Exists(_)), "{refused}");
        assert_eq!(fs::read(&existing).unwrap(), b"keep me");

        let nowhere = dir.path().join("missing/copy.db");
        let refused = backup_sqlite(&url, &nowhere).await.unwrap_err();
        assert!(matches!(refused, BackupError::NoDirectory(_)), "{refused}");
        assert!(!dir.path().join("missing").exists());

        let refused = backup_sqlite("postgres://kp@db/keyport", &dir.path().join("pg.db"))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("pg_dump"), "{refused}");

        // A database that is not there is not made by looking for it.
        let absent = format!("sqlite://{}/absent.db", dir.path().display());
        let refused = backup_sqlite(&absent, &dir.path().join("a.db"))
            .await
            .unwrap_err();
        assert!(matches!(refused, BackupError::NoDatabase(_)), "{refused}");
        assert!(!dir.path().join("absent.db").exists());
        assert!(!dir.path().join("a.db").exists());
    }

    #[tokio::test]
    async fn a_failed_copy_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("not-a-database.db");
        fs::write(&source, vec![7u8; 8192]).unwrap();
        let to = dir.path().join("copy.db");
        let failed = backup_sqlite(&format!("sqlite://{}", source.display()), &to)
            .await
            .unwrap_err();
        assert!(matches!(failed, BackupError::Store(_)), "{failed}");
        assert!(!to.exists(), "the partial file is removed");
    }
}
