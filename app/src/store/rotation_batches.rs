//! Group commit of refresh-token rotations on SQLite. Each rotation is a durable write, and
//! SQLite commits one transaction at a time, each waiting for an fsync of its log; one
//! rotation per transaction leaves the refresh grant as fast as the disk flushes. Here the
//! rotations that arrive while a commit is in flight wait for the next one and share it: one
//! writer task takes everything queued (up to [`MOST_PER_COMMIT`]), spends and replaces each
//! token in arrival order inside one transaction, commits once, and only then answers each
//! caller. Nobody hears of a successor token that is not on disk, and a lone request waits
//! for nobody. Two rotations of the same token in one batch behave as they would one after
//! the other: the first spends it, the second finds it spent. A rotation whose caller has
//! gone by the time the writer reaches it is left out, so its token stays unspent.

use std::sync::Arc;

use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{
    StoreError,
    refresh_tokens::{Family, spend_on, store_successor_on},
};

/// Enough to absorb a burst from every connection a busy app keeps open, small enough that
/// one commit never holds the write lock for long.
const MOST_PER_COMMIT: usize = 64;

/// One rotation: spend `presented` for `client_id` and store `successor` in its place.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub presented: String,
    pub client_id: String,
    pub successor: String,
    /// The access token issued with `successor`.
    pub access_jti: String,
    pub idle_secs: i64,
    pub now: i64,
}

struct Job {
    rotation: Rotation,
    answer: oneshot::Sender<Result<Option<Family>, StoreError>>,
}

/// The queue in front of the writer task; cheap to clone.
#[derive(Debug, Clone)]
pub struct RotationBatches {
    queue: mpsc::UnboundedSender<Job>,
}

impl RotationBatches {
    /// Starts the writer task on the current runtime. It writes under `writer_turn`, the turn
    /// every write transaction of this process takes, and ends when the last queue handle is
    /// dropped (or with its runtime: then [`Self::is_stopped`]).
    pub fn start(pool: SqlitePool, writer_turn: Arc<Mutex<()>>) -> Self {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(pool, writer_turn, jobs));
        RotationBatches { queue }
    }

    pub fn is_stopped(&self) -> bool {
        self.queue.is_closed()
    }

    /// Spends and replaces the token; `None` when it cannot be spent. Resolves once the
    /// successor is committed.
    pub async fn rotate(&self, rotation: Rotation) -> Result<Option<Family>, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Job { rotation, answer })
            .map_err(|_| StoreError::WriterStopped)?;
        answered.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn write_batches(
    pool: SqlitePool,
    writer_turn: Arc<Mutex<()>>,
    mut jobs: mpsc::UnboundedReceiver<Job>,
) {
    let mut batch = Vec::with_capacity(MOST_PER_COMMIT);
    while jobs.recv_many(&mut batch, MOST_PER_COMMIT).await > 0 {
        // A caller that went away (its client hung up) must not have its token spent: it
        // would never see the successor, and its retry with the old token would look like a
        // replay and end the whole sign-in.
        batch.retain(|job| !job.answer.is_closed());
        if batch.is_empty() {
            continue;
        }
        let rotations: Vec<&Rotation> = batch.iter().map(|job| &job.rotation).collect();
        match commit_together(&pool, &writer_turn, &rotations).await {
            Ok(families) => {
                for (job, family) in batch.drain(..).zip(families) {
                    let _ = job.answer.send(Ok(family));
                }
            }
            // Nothing of the batch was committed. A constraint one rotation broke is that
            // rotation's alone: each gets its own transaction, so only its caller fails.
            Err(e) if is_constraint(&e) => {
                for job in batch.drain(..) {
                    if job.answer.is_closed() {
                        continue;
                    }
                    let alone = commit_together(&pool, &writer_turn, &[&job.rotation]).await;
                    let _ = job.answer.send(alone.map(|mut one| one.pop().flatten()));
                }
            }
            // Anything else (the disk, the lock held by another process) would fail each of
            // them again, one after another: every caller hears of it now.
            Err(e) => {
                let message = e.to_string();
                for job in batch.drain(..) {
                    let _ = job
                        .answer
                        .send(Err(StoreError::SharedCommit(message.clone())));
                }
            }
        }
    }
}

fn is_constraint(error: &StoreError) -> bool {
    matches!(error, StoreError::Sqlx(sqlx::Error::Database(e))
        if e.kind() != sqlx::error::ErrorKind::Other)
}

async fn commit_together(
    pool: &SqlitePool,
    writer_turn: &Arc<Mutex<()>>,
    rotations: &[&Rotation],
) -> Result<Vec<Option<Family>>, StoreError> {
    let _turn = writer_turn.lock().await;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    match write_all(&mut tx, rotations).await {
        Ok(families) => {
            tx.commit().await?;
            Ok(families)
        }
        Err(e) => {
            // Rolled back before the turn passes on: a dropped transaction's rollback is only
            // queued, and the next writer would find the lock still held.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

async fn write_all(
    conn: &mut SqliteConnection,
    rotations: &[&Rotation],
) -> Result<Vec<Option<Family>>, StoreError> {
    let mut families = Vec::with_capacity(rotations.len());
    for r in rotations {
        let spent = spend_on(conn, &r.presented, &r.client_id, r.now).await?;
        if let Some(family) = &spent {
            store_successor_on(
                conn,
                &r.successor,
                &r.client_id,
                family,
                &r.access_jti,
                r.idle_secs,
                r.now,
            )
            .await?;
        }
        families.push(spent);
    }
    Ok(families)
}
