//! Counting failed client authentications, so guessing secrets is slow and a stranger's
//! failures do not lock out the real client.

use std::{collections::HashMap, sync::Mutex};

/// Failed client authentications allowed per window: per address, and per client id from one
/// address. Counting per pair means an attacker hammering a client id from their address
/// does not lock out the real client calling from its own.
pub const FAILURES_PER_ADDRESS: u32 = 100;
pub const FAILURES_PER_CLIENT_AND_ADDRESS: u32 = 10;
pub const FAILURE_WINDOW_SECS: i64 = 60;

/// Failures counted in one fixed window.
#[derive(Default)]
struct Window {
    start: i64,
    count: u32,
}

impl Window {
    fn is_open(&self, now: i64) -> bool {
        now - self.start < FAILURE_WINDOW_SECS
    }

    /// Seconds until this window closes, if it has reached `limit`.
    fn blocked_for(&self, limit: u32, now: i64) -> Option<i64> {
        (self.is_open(now) && self.count >= limit)
            .then(|| (self.start + FAILURE_WINDOW_SECS - now).max(1))
    }

    fn count(&mut self, now: i64) {
        if !self.is_open(now) {
            *self = Window {
                start: now,
                count: 0,
            };
        }
        self.count += 1;
    }
}

/// The failures from one address: in all, and per client id it named.
#[derive(Default)]
struct AddressFailures {
    all: Window,
    per_client: HashMap<String, Window>,
}

/// Failed authentications per address and per (client id, address), in this process's
/// memory. Keyed by address first so that checking a request looks up the strings it
/// already has instead of formatting keys.
#[derive(Default)]
pub(super) struct Throttle {
    by_address: Mutex<HashMap<String, AddressFailures>>,
}

/// Addresses remembered before closed windows are swept out.
const MAX_THROTTLED_ADDRESSES: usize = 100_000;

impl Throttle {
    pub(super) fn retry_after(&self, client_id: &str, ip: &str, now: i64) -> Option<i64> {
        let by_address = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        let failures = by_address.get(ip)?;
        failures
            .all
            .blocked_for(FAILURES_PER_ADDRESS, now)
            .or_else(|| {
                failures
                    .per_client
                    .get(client_id)
                    .and_then(|w| w.blocked_for(FAILURES_PER_CLIENT_AND_ADDRESS, now))
            })
    }

    pub(super) fn fail(&self, client_id: &str, ip: &str, now: i64) {
        let mut by_address = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        if by_address.len() >= MAX_THROTTLED_ADDRESSES {
            by_address.retain(|_, f| f.all.is_open(now));
        }
        let failures = by_address.entry(ip.to_string()).or_default();
        if !failures.all.is_open(now) {
            // A new window for the address: its client windows from before are closed or
            // about to be, and dropping them keeps one address's map small.
            failures.per_client.retain(|_, w| w.is_open(now));
        }
        failures.all.count(now);
        failures
            .per_client
            .entry(client_id.to_string())
            .or_default()
            .count(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn one_client_id_is_blocked_from_the_failing_address_only() {
        let throttle = Throttle::default();
        for _ in 0..FAILURES_PER_CLIENT_AND_ADDRESS {
            assert_eq!(throttle.retry_after("app-a", "10.0.0.1", NOW), None);
            throttle.fail("app-a", "10.0.0.1", NOW);
        }
        assert_eq!(
            throttle.retry_after("app-a", "10.0.0.1", NOW + 10),
            Some(FAILURE_WINDOW_SECS - 10)
        );
        assert_eq!(throttle.retry_after("app-a", "10.0.0.2", NOW + 10), None);
        assert_eq!(throttle.retry_after("app-b", "10.0.0.1", NOW + 10), None);
        assert_eq!(
            throttle.retry_after("app-a", "10.0.0.1", NOW + FAILURE_WINDOW_SECS),
            None,
            "the window has closed"
        );
    }

    #[test]
    fn an_address_trying_many_client_ids_is_blocked_for_all_of_them() {
        let throttle = Throttle::default();
        for i in 0..FAILURES_PER_ADDRESS {
            throttle.fail(&format!("app-{i}"), "10.0.0.1", NOW);
        }
        assert_eq!(
            throttle.retry_after("never-tried", "10.0.0.1", NOW + 59),
            Some(1)
        );
        assert_eq!(throttle.retry_after("never-tried", "10.0.0.2", NOW), None);
    }

    #[test]
    fn a_new_window_forgets_the_old_client_ids_of_an_address() {
        let throttle = Throttle::default();
        for i in 0..50 {
            throttle.fail(&format!("app-{i}"), "10.0.0.1", NOW);
        }
        throttle.fail("app-late", "10.0.0.1", NOW + FAILURE_WINDOW_SECS);
        let by_address = throttle.by_address.lock().unwrap();
        assert_eq!(by_address["10.0.0.1"].per_client.len(), 1);
        assert_eq!(by_address["10.0.0.1"].all.count, 1);
    }
}
