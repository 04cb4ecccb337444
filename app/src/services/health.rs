use std::time::{Duration, Instant};

use crate::store::{Database, Engine};

/// How long a readiness probe waits for the database before calling it unavailable.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct DatabaseHealth {
    pub engine: Engine,
    pub ready: bool,
    pub latency: Duration,
}

pub async fn check_database(db: &Database) -> DatabaseHealth {
    let started = Instant::now();
    let ready = match tokio::time::timeout(PING_TIMEOUT, db.ping()).await {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::warn!(%error, "database ping failed");
            false
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = PING_TIMEOUT.as_millis() as u64,
                "database ping timed out"
            );
            false
        }
    };
    DatabaseHealth {
        engine: db.engine(),
        ready,
        latency: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testkit::for_each_engine;

    #[tokio::test]
    async fn a_reachable_database_is_ready() {
        for_each_engine(|db| async move {
            assert!(check_database(&db).await.ready);
        })
        .await;
    }

    #[tokio::test]
    async fn a_closed_pool_is_not_ready() {
        for_each_engine(|db| async move {
            db.close().await;
            assert!(!check_database(&db).await.ready);
        })
        .await;
    }
}
