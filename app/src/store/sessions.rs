//! Portal sessions live in the same database as everything else, so every `keyport serve`
//! process sharing that database accepts the sessions the others started.

use async_trait::async_trait;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use sha2::{Digest, Sha256};

use super::{Database, StoreError};

/// tower-sessions' store for whichever engine the database runs on. Rows are keyed by a
/// digest of the session id, never by the id itself: the id is what a browser's cookie
/// presents, so a table of ids (or a copy of the database, a backup) would let anyone who
/// reads it sign in as everyone with a live session. A digest read from the table, presented
/// as a cookie, is digested again and finds nothing. Its writes take this process's turn
/// to write to SQLite, like every other write.
#[derive(Debug, Clone)]
pub struct SessionBackend {
    store: EngineStore,
    db: Database,
}

#[derive(Debug, Clone)]
enum EngineStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Runs `$call` on the engine's store, bound to `$store`.
macro_rules! on_store {
    ($backend:expr, $store:ident => $call:expr) => {
        match &$backend.store {
            EngineStore::Sqlite($store) => $call,
            EngineStore::Postgres($store) => $call,
        }
    };
}

impl SessionBackend {
    /// Creates the session table when missing (idempotent; sqlx-store manages its own schema).
    pub async fn for_database(db: &Database) -> Result<SessionBackend, StoreError> {
        let store = match db {
            Database::Sqlite(sqlite) => {
                let store = SqliteStore::new(sqlite.pool.clone());
                store.migrate().await?;
                EngineStore::Sqlite(store)
            }
            Database::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                store.migrate().await?;
                EngineStore::Postgres(store)
            }
        };
        Ok(SessionBackend {
            store,
            db: db.clone(),
        })
    }
}

/// The key a session's row is stored under: the first 128 bits of SHA-256 of its id. The ids
/// are 128 random bits, so the digest cannot be turned back into one.
pub fn stored_id(id: &Id) -> Id {
    let digest = Sha256::digest(id.0.to_le_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    Id(i128::from_le_bytes(first))
}

fn stored(record: &Record) -> Record {
    Record {
        id: stored_id(&record.id),
        ..record.clone()
    }
}

#[async_trait]
impl SessionStore for SessionBackend {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let _turn = self.db.write_turn().await;
        loop {
            let mut row = stored(record);
            let wanted = row.id;
            on_store!(self, s => s.create(&mut row).await)?;
            if row.id == wanted {
                return Ok(());
            }
            // The digest was taken, and the store kept the row under an id of its own
            // choosing, which no cookie could find: drop it and start from another id.
            on_store!(self, s => s.delete(&row.id).await)?;
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let _turn = self.db.write_turn().await;
        on_store!(self, s => s.save(&stored(record)).await)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row = on_store!(self, s => s.load(&stored_id(id)).await)?;
        Ok(row.map(|row| Record { id: *id, ..row }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let _turn = self.db.write_turn().await;
        on_store!(self, s => s.delete(&stored_id(id)).await)
    }
}

#[async_trait]
impl ExpiredDeletion for SessionBackend {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let _turn = self.db.write_turn().await;
        on_store!(self, s => s.delete_expired().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_id_is_a_fixed_digest_unlike_the_id() {
        let id = Id(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(stored_id(&id), stored_id(&id));
        assert_ne!(stored_id(&id), id);
        assert_ne!(stored_id(&stored_id(&id)), id);
        assert_ne!(stored_id(&Id(id.0 + 1)), stored_id(&id));
    }
}
