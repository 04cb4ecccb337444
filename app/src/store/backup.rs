//! Copies of a live SQLite database, taken while servers keep writing to it.

use std::{path::PathBuf, str::FromStr, time::Duration};

use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqlitePoolOptions},
};

use super::StoreError;

/// The file an `sqlite:` URL names (which may not exist).
pub fn sqlite_path(url: &str) -> Result<PathBuf, StoreError> {
    Ok(SqliteConnectOptions::from_str(url)?
        .get_filename()
        .to_path_buf())
}

/// An SQLite database opened only to be copied.
pub struct SqliteSource(SqlitePool);

impl SqliteSource {
    /// Opens the existing database at `url` read-only: a backup never creates, migrates or
    /// changes what it copies.
    pub async fn open(url: &str) -> Result<SqliteSource, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(false)
            .read_only(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        Ok(SqliteSource(pool))
    }

    /// Writes a copy into `to`, which must be missing or empty. `VACUUM INTO` reads one
    /// snapshot in one read transaction, so writers (WAL) go on meanwhile and the copy holds
    /// exactly what was committed when it began. SQLite does not fsync the copy: the caller does.
    pub async fn vacuum_into(&self, to: &str) -> Result<(), StoreError> {
        sqlx::query("VACUUM INTO $1")
            .bind(to)
            .execute(&self.0)
            .await?;
        Ok(())
    }

    pub async fn close(self) {
        self.0.close().await
    }
}
