//! Counting failed client authentications, so guessing secrets is slow and a stranger's
//! failures cost the real client nothing: only failures are counted and only failures are
//! refused (a client presenting its right secret is never throttled, from any address), and
//! what a failure costs the audit log is bounded per address.

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

    /// Counts one failure; the count in this window so far.
    fn count(&mut self, now: i64) -> u32 {
        if !self.is_open(now) {
            *self = Window {
                start: now,
                count: 0,
            };
        }
        self.count += 1;
        self.count
    }
}

/// The failures from one address: in all, per client id it named, and those naming no client
/// at all (which only the address's aggregate audit row records).
#[derive(Default)]
struct AddressFailures {
    all: Window,
    per_client: HashMap<String, Window>,
    unknown: Window,
}

/// How a failure is written to the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FailureAudit {
    /// One row naming the client: its tenant sees that someone tried it. At most
    /// [`FAILURES_PER_CLIENT_AND_ADDRESS`] per client and address per window.
    Individual,
    /// One row for the address, saying how many unknown client ids it has tried in this
    /// window so far: written at the 1st, 10th and 100th, so a flood of random ids costs the
    /// log three rows a minute per address.
    Aggregate { failures: u32, window_secs: i64 },
    /// Nothing new to say.
    None,
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
    /// Seconds until `ip` may fail again with `client_id`, if it has failed too often. Asked
    /// only once the credentials have failed.
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

    /// Counts a failure of `client_id` from `ip` (`known`: the id names a client) and says
    /// how to audit it.
    pub(super) fn fail(&self, client_id: &str, ip: &str, known: bool, now: i64) -> FailureAudit {
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
        if !known {
            // Not kept per id: random ids would grow the map, and there is no client to lock.
            let failures = failures.unknown.count(now);
            return match failures {
                1 | 10 | FAILURES_PER_ADDRESS => FailureAudit::Aggregate {
                    failures,
                    window_secs: FAILURE_WINDOW_SECS,
                },
                _ => FailureAudit::None,
            };
        }
        failures
            .per_client
            .entry(client_id.to_string())
            .or_default()
            .count(now);
        FailureAudit::Individual
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
            throttle.fail("app-a", "10.0.0.1", true, NOW);
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
            throttle.fail(&format!("app-{i}"), "10.0.0.1", true, NOW);
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
            throttle.fail(&format!("app-{i}"), "10.0.0.1", true, NOW);
        }
        throttle.fail("app-late", "10.0.0.1", true, NOW + FAILURE_WINDOW_SECS);
        let by_address = throttle.by_address.lock().unwrap();
        assert_eq!(by_address["10.0.0.1"].per_client.len(), 1);
        assert_eq!(by_address["10.0.0.1"].all.count, 1);
    }

    #[test]
    fn unknown_ids_are_counted_per_address_and_audited_in_aggregate() {
        let throttle = Throttle::default();
        let audits: Vec<FailureAudit> = (0..FAILURES_PER_ADDRESS)
            .map(|i| throttle.fail(&format!("kpc_random{i}"), "10.0.0.1", false, NOW))
            .filter(|a| *a != FailureAudit::None)
            .collect();
        let aggregate = |failures| FailureAudit::Aggregate {
            failures,
            window_secs: FAILURE_WINDOW_SECS,
        };
        assert_eq!(audits, [aggregate(1), aggregate(10), aggregate(100)]);
        assert_eq!(throttle.retry_after("kpc_other", "10.0.0.1", NOW), Some(60));
        let by_address = throttle.by_address.lock().unwrap();
        assert!(
            by_address["10.0.0.1"].per_client.is_empty(),
            "no id is kept"
        );
    }
}
