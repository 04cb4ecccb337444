//! When the server replaces its signing key by itself, and how old the key that signs is.
//!
//! A key's age counts from `active_from`, when it starts (or started) signing: a key that a
//! rotation has published but that does not sign yet is younger than nothing, so it never
//! makes another rotation due, and a rotation every N days gives each key N days of signing.

use super::jwt::{KeySchedule, signing_key};

pub const SECS_PER_DAY: i64 = 86_400;

/// How often the signing key is replaced; zero days turns automatic rotation off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    pub every_days: u32,
}

impl RotationPolicy {
    pub const DEFAULT_DAYS: u32 = 90;

    pub fn every_days(every_days: u32) -> RotationPolicy {
        RotationPolicy { every_days }
    }

    pub fn is_off(self) -> bool {
        self.every_days == 0
    }

    /// Whether a rotation is due at `now`, given the keys not yet retired: when the newest of
    /// them (the one that signs, or the one scheduled to take over) has signed for the whole
    /// period. Nothing to rotate (no key yet) is not due: the first key is made at start.
    pub fn is_due(self, unretired: impl IntoIterator<Item = KeySchedule>, now: i64) -> bool {
        if self.is_off() {
            return false;
        }
        let period = i64::from(self.every_days) * SECS_PER_DAY;
        unretired
            .into_iter()
            .map(|k| k.active_from)
            .max()
            .is_some_and(|newest| now.saturating_sub(newest) >= period)
    }
}

impl Default for RotationPolicy {
    fn default() -> RotationPolicy {
        RotationPolicy::every_days(RotationPolicy::DEFAULT_DAYS)
    }
}

/// Seconds the key that signs at `now` ([`signing_key`]) has been signing; `None` without
/// keys. Never negative: a clock behind the one that rotated sees the new key as just begun.
pub fn signing_key_age(
    published: impl Iterator<Item = KeySchedule> + Clone,
    now: i64,
) -> Option<i64> {
    let index = signing_key(published.clone(), now)?;
    let key = published.clone().nth(index)?;
    Some(now.saturating_sub(key.active_from).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = SECS_PER_DAY;

    fn key(active_from: i64, retired_at: Option<i64>) -> KeySchedule {
        KeySchedule {
            active_from,
            retired_at,
        }
    }

    #[test]
    fn due_exactly_when_the_newest_key_has_signed_for_the_period() {
        let policy = RotationPolicy::every_days(90);
        let keys = [key(1_000, None)];
        assert!(!policy.is_due(keys, 1_000 + 89 * DAY));
        assert!(!policy.is_due(keys, 1_000 + 90 * DAY - 1));
        assert!(policy.is_due(keys, 1_000 + 90 * DAY));
        assert!(policy.is_due(keys, 1_000 + 91 * DAY));
    }

    #[test]
    fn zero_days_is_never_due() {
        let policy = RotationPolicy::every_days(0);
        assert!(policy.is_off());
        assert!(!policy.is_due([key(0, None)], 10_000 * DAY));
        assert!(!policy.is_due([key(0, None)], i64::MAX));
    }

    #[test]
    fn a_key_scheduled_to_take_over_counts_as_fresh() {
        let policy = RotationPolicy::every_days(1);
        // A rotation at day 5 with a lead of 120 s: the old key, still signing, is retired at
        // the new one's start; only the new one is unretired, and it has not begun.
        let now = 5 * DAY + 60;
        let unretired = [key(5 * DAY + 120, None)];
        assert!(!policy.is_due(unretired, now));
        // Also when handed the old key beside it: the newest decides.
        assert!(!policy.is_due([key(0, None), key(5 * DAY + 120, None)], now));
        // It becomes due one period after it starts signing, not after it was published.
        assert!(!policy.is_due(unretired, 6 * DAY + 119));
        assert!(policy.is_due(unretired, 6 * DAY + 120));
    }

    #[test]
    fn no_key_is_not_due() {
        assert!(!RotationPolicy::default().is_due([], 1_000 * DAY));
        assert_eq!(RotationPolicy::default().every_days, 90);
    }

    #[test]
    fn the_age_is_that_of_the_key_that_signs_now() {
        let keys = [key(0, Some(10 * DAY)), key(10 * DAY, None)];
        assert_eq!(
            signing_key_age(keys.iter().copied(), 3 * DAY),
            Some(3 * DAY)
        );
        assert_eq!(
            signing_key_age(keys.iter().copied(), 12 * DAY),
            Some(2 * DAY)
        );
        // Before any key's time (a clock behind): the newest signs, aged zero, not negative.
        assert_eq!(signing_key_age(keys.iter().copied(), -5), Some(0));
        assert_eq!(signing_key_age(std::iter::empty(), 0), None);
    }
}
