//! Where the OAuth service reads the time. Expiry, throttle windows and key schedules all
//! depend on it, so tests hand the service a clock they move instead of sleeping.

#[cfg(any(test, feature = "testkit"))]
use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

/// Seconds since the Unix epoch, as the service should see them now.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    fn now(&self) -> i64;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        crate::store::unix_now()
    }
}

/// A clock that stands still until told to move; clones share one time, so a test can keep
/// one and give another to the service (or to several instances of it). Tests only: a
/// release build cannot be handed one.
#[cfg(any(test, feature = "testkit"))]
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

#[cfg(any(test, feature = "testkit"))]
impl ManualClock {
    pub fn at(now: i64) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(now)))
    }

    /// Starts at the machine's time, for tests that also compare with real timestamps.
    pub fn at_system_time() -> ManualClock {
        ManualClock::at(crate::store::unix_now())
    }

    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }

    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

#[cfg(any(test, feature = "testkit"))]
impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_of_a_manual_clock_share_its_time() {
        let clock = ManualClock::at(100);
        let given: Arc<dyn Clock> = Arc::new(clock.clone());
        clock.advance(5);
        assert_eq!(given.now(), 105);
        clock.set(7);
        assert_eq!(given.now(), 7);
    }
}
