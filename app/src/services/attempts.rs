//! What keeps a flood of sign-ins and sign-ups from costing more than the same attempts one
//! after another (SPEC §6). Two parts:
//!
//! - [`AttemptLedger`]: the throttles count failures from the audit log, which only knows an
//!   attempt once its password was checked. 200 wrong passwords arriving at once all read "no
//!   failures yet" and all ran argon2. So each attempt is reserved here before its password is
//!   checked, and the throttle counts reservations still in flight as failures.
//! - [`hash_password`] / [`verify_password`]: argon2id needs 19 MiB for each hash. Nothing
//!   bounded how many ran at once (4 GB for 200 at once), so they run at most one per core,
//!   behind a short queue; beyond it the answer is 429.
//!
//! The ledger is per process: several instances on one PostgreSQL database each hold their own
//! in-flight reservations, so one burst spread over N instances checks at most N times the
//! limit before the audit log catches up.

use std::{
    collections::HashMap,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use tokio::sync::{Mutex, OwnedMutexGuard, Semaphore};

use super::ServiceError;
use crate::domain::password;

/// What one counter is about: a kind of attempt (sign-in, sign-up) and its subject.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Counter {
    kind: &'static str,
    subject: String,
}

impl Counter {
    pub fn new(kind: &'static str, subject: impl Into<String>) -> Counter {
        Counter {
            kind,
            subject: subject.into(),
        }
    }
}

/// Attempts reserved but not yet settled, per counter. Cheap to clone; one per application.
#[derive(Debug, Clone, Default)]
pub struct AttemptLedger {
    in_flight: Arc<Mutex<HashMap<Counter, i64>>>,
}

/// The ledger's turn: checking the committed count and reserving happen inside one turn, and
/// a reservation is settled only inside a turn too. Otherwise an attempt could read the count
/// before another's failure is committed and the ledger after that one was settled, and see
/// neither.
pub struct LedgerTurn {
    ledger: AttemptLedger,
    guard: OwnedMutexGuard<HashMap<Counter, i64>>,
}

impl AttemptLedger {
    pub async fn turn(&self) -> LedgerTurn {
        LedgerTurn {
            ledger: self.clone(),
            guard: self.in_flight.clone().lock_owned().await,
        }
    }

    #[cfg(test)]
    pub(crate) async fn in_flight(&self, counter: &Counter) -> i64 {
        self.in_flight
            .lock()
            .await
            .get(counter)
            .copied()
            .unwrap_or(0)
    }
}

/// Password checks one address may have running or queued at once. Lower than the hash pool's
/// queue, so one address's burst never fills it and other people still sign in meanwhile.
pub const MAX_IN_FLIGHT_PER_ADDRESS: i64 = 4;

impl LedgerTurn {
    /// The counter of `ip`'s attempts in flight, unless it already has as many as it may.
    pub fn in_flight_from(&self, ip: &str) -> Result<Counter, ServiceError> {
        let counter = Counter::new("in-flight", ip);
        if self.pending(&counter) >= MAX_IN_FLIGHT_PER_ADDRESS {
            return Err(ServiceError::Throttled {
                retry_after_secs: 1,
            });
        }
        Ok(counter)
    }

    /// Attempts on `counter` that are in flight now.
    pub fn pending(&self, counter: &Counter) -> i64 {
        self.guard.get(counter).copied().unwrap_or(0)
    }

    /// Reserves one attempt on each of `counters`, settled when the reservation is.
    pub fn reserve(mut self, counters: Vec<Counter>) -> Reservation {
        for counter in &counters {
            *self.guard.entry(counter.clone()).or_insert(0) += 1;
        }
        Reservation {
            ledger: self.ledger.clone(),
            counters,
        }
    }
}

/// Attempts counted as in flight until [`Reservation::settle`] (after the outcome is in the
/// audit log) or, should the request be dropped half-way, until it is dropped.
#[must_use = "a reservation counts against its address until settled"]
pub struct Reservation {
    ledger: AttemptLedger,
    counters: Vec<Counter>,
}

impl Reservation {
    /// Ends the reservation, inside a turn (see [`LedgerTurn`]).
    pub async fn settle(mut self) {
        let counters = std::mem::take(&mut self.counters);
        let mut in_flight = self.ledger.in_flight.lock().await;
        release(&mut in_flight, &counters);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.counters.is_empty() {
            return;
        }
        // A request dropped half-way (the client hung up): release without waiting, later
        // if the ledger is busy. Over-counting for that moment only ever refuses, never admits.
        let counters = std::mem::take(&mut self.counters);
        let in_flight = self.ledger.in_flight.clone();
        if let Ok(mut guard) = in_flight.try_lock() {
            release(&mut guard, &counters);
        } else if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { release(&mut *in_flight.lock().await, &counters) });
        }
    }
}

fn release(in_flight: &mut HashMap<Counter, i64>, counters: &[Counter]) {
    for counter in counters {
        if let Some(n) = in_flight.get_mut(counter) {
            *n -= 1;
            if *n <= 0 {
                in_flight.remove(counter);
            }
        }
    }
}

/// At most this many password hashes wait for a free core; more are refused at once.
const QUEUE_PER_CORE: usize = 4;

/// Password hashing: at most `cores` hashes at a time, a short queue behind them.
struct HashPool {
    running: Semaphore,
    /// Hashes admitted (running or waiting).
    admitted: AtomicUsize,
    limit: usize,
}

impl HashPool {
    fn new(cores: usize) -> HashPool {
        HashPool {
            running: Semaphore::new(cores),
            admitted: AtomicUsize::new(0),
            limit: cores * (1 + QUEUE_PER_CORE),
        }
    }

    /// The process's pool: hashing competes for the machine's cores, whoever asks.
    fn global() -> &'static HashPool {
        static POOL: OnceLock<HashPool> = OnceLock::new();
        POOL.get_or_init(|| {
            HashPool::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
        })
    }

    /// Runs `work` (a password hash) in the pool, off the async runtime.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        // Undoes the admission however this future ends (done, failed or dropped waiting).
        struct Admitted<'a>(&'a AtomicUsize);
        impl Drop for Admitted<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let _admitted = Admitted(&self.admitted);
        if before >= self.limit {
            return Err(ServiceError::Throttled {
                retry_after_secs: 1,
            });
        }
        let _permit = self
            .running
            .acquire()
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))
    }
}

/// A new password's PHC string, hashed in the bounded pool.
pub async fn hash_password(plain: String) -> Result<String, ServiceError> {
    HashPool::global()
        .run(move || password::hash_password(&plain))
        .await?
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Whether `plain` matches `phc`, checked in the bounded pool.
pub async fn verify_password(plain: String, phc: String) -> Result<bool, ServiceError> {
    HashPool::global()
        .run(move || password::verify_password(&plain, &phc))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reservations_count_until_settled_or_dropped() {
        let ledger = AttemptLedger::default();
        let ip = Counter::new("sign-in", "10.0.0.1");
        let both = vec![Counter::new("sign-in", "ann|10.0.0.1"), ip.clone()];
        let first = ledger.turn().await.reserve(both.clone());
        let second = ledger.turn().await.reserve(both);
        assert_eq!(ledger.turn().await.pending(&ip), 2);
        first.settle().await;
        assert_eq!(ledger.in_flight(&ip).await, 1);
        drop(second);
        assert_eq!(ledger.in_flight(&ip).await, 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_burst_of_hashes_beyond_the_queue_is_refused_not_queued_without_end() {
        // A pool of its own: filling the process's pool would refuse other tests' hashes.
        let pool: &'static HashPool = Box::leak(Box::new(HashPool::new(2)));
        let burst = (0..pool.limit * 3).map(|_| {
            tokio::spawn(
                pool.run(|| password::verify_password("not the password", password::dummy_hash())),
            )
        });
        let results = futures::future::join_all(burst).await;
        let refused = results
            .iter()
            .filter(|r| matches!(r, Ok(Err(ServiceError::Throttled { .. }))))
            .count();
        let checked = results
            .iter()
            .filter(|r| matches!(r, Ok(Ok(false))))
            .count();
        assert!(
            refused >= pool.limit,
            "{refused} of {} refused",
            pool.limit * 3
        );
        assert!(
            checked >= pool.limit,
            "{checked} checked: the queue was served"
        );
        assert_eq!(checked + refused, pool.limit * 3);
        assert_eq!(
            pool.admitted.load(Ordering::Acquire),
            0,
            "every admission undone"
        );
    }
}
