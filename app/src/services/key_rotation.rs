//! Automatic signing-key rotation: every instance checks at start and then hourly whether
//! the key is due for replacement ([`RotationPolicy::is_due`]) and, if so, rotates it as
//! `keyport keys rotate` does: the new key is published at once and signs [`LEAD_SECS`] later.
//!
//! Instances sharing a database all check; exactly one rotates. The decision is taken again
//! inside the rotation's transaction, after the change counter's row is locked (the lock
//! every key change takes, on PostgreSQL a row lock, on SQLite the write lock), so an
//! instance that waited for it sees the key the winner made and does nothing. That lock
//! rather than an advisory one: it also orders an automatic rotation after a manual
//! `keyport keys rotate` running at the same moment, which an advisory lock taken only here
//! would not.

use std::{sync::Arc, time::Duration};

use super::{
    ServiceError,
    keys::{Rotation, rotate_keys_if},
    oauth::Clock,
};
use crate::{
    domain::{jwt::Alg, key_rotation::RotationPolicy, sealing::MasterKey},
    store::{Database, signing_keys::KeyRow},
};

pub use crate::domain::key_rotation::signing_key_age;

/// Seconds between publishing a new key and signing with it: twice the JWKS cache time, so
/// relying parties have seen the key before any token it signs. `keys rotate`'s default too.
pub const LEAD_SECS: i64 = 120;

/// How often each instance asks whether a rotation is due. The answer depends on the clock,
/// not on this interval, which only bounds how late after its day a rotation happens.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(3600);

/// How often `keyport serve` rotates its signing key, and how often it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoRotation {
    pub policy: RotationPolicy,
    pub check_interval: Duration,
}

impl Default for AutoRotation {
    /// Every 90 days, checked hourly.
    fn default() -> AutoRotation {
        AutoRotation {
            policy: RotationPolicy::default(),
            check_interval: CHECK_INTERVAL,
        }
    }
}

/// Rotates the signing key if a rotation is due at `now`, sealing the new one under `master`;
/// `None` when it is not (or another instance has just done it).
pub async fn rotate_if_due(
    db: &Database,
    master: &MasterKey,
    policy: RotationPolicy,
    alg: Option<Alg>,
    now: i64,
) -> Result<Option<Rotation>, ServiceError> {
    if policy.is_off() {
        return Ok(None);
    }
    rotate_keys_if(db, master, alg, LEAD_SECS, now, |unretired: &[KeyRow]| {
        policy.is_due(unretired.iter().map(KeyRow::schedule), now)
    })
    .await
}

/// Checks at once, then every `check_interval`, until the task is dropped; new keys are of
/// `alg`, or of the current key's algorithm when `None`. A failed check is logged and tried
/// again at the next one: the current key goes on
/// signing meanwhile.
pub async fn run(
    db: Database,
    master: MasterKey,
    rotation: AutoRotation,
    alg: Option<Alg>,
    clock: Arc<dyn Clock>,
) {
    if rotation.policy.is_off() {
        return;
    }
    let mut checks = tokio::time::interval(rotation.check_interval);
    checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        checks.tick().await;
        match rotate_if_due(&db, &master, rotation.policy, alg, clock.now()).await {
            Ok(Some(done)) => tracing::info!(
                kid = %done.new_kid,
                alg = done.alg.as_str(),
                signs_from = done.signs_from,
                every_days = rotation.policy.every_days,
                "signing key rotated: the new key is published and signs from signs_from"
            ),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "could not check or rotate the signing key"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        services::{
            keys::ensure_signing_key,
            testkit::{NOW, master_key},
        },
        store::{
            on_pool,
            signing_keys::{self},
            testkit::{TestDb, for_each_migrated_engine},
        },
    };

    const DAY: i64 = crate::domain::key_rotation::SECS_PER_DAY;

    #[tokio::test]
    async fn rotates_once_the_key_has_signed_for_the_period_and_publishes_before_signing() {
        for_each_migrated_engine(|db| async move {
            ensure_signing_key(&db, &master_key(), Alg::Es256, NOW)
                .await
                .unwrap();
            let policy = RotationPolicy::every_days(90);
            let master = master_key();
            let rotate = |now| rotate_if_due(&db, &master, policy, Some(Alg::EdDsa), now);

            assert!(rotate(NOW + 89 * DAY).await.unwrap().is_none());
            assert_eq!(signing_keys::published(&db, NOW).await.unwrap().len(), 1);

            let at = NOW + 91 * DAY;
            let done = rotate(at).await.unwrap().expect("due after 91 days");
            assert_eq!(done.signs_from, at + LEAD_SECS);
            let keys = signing_keys::published(&db, at).await.unwrap();
            assert_eq!(
                keys.len(),
                2,
                "published at once, beside the one that signs"
            );
            let new = keys.iter().find(|k| k.kid == done.new_kid).unwrap();
            assert_eq!((new.alg.as_str(), new.created_at), ("EdDSA", at));
            assert_eq!(
                signing_key_age(keys.iter().map(KeyRow::schedule), at + 1),
                Some(91 * DAY + 1),
                "the old key signs until the lead time has passed"
            );
            assert_eq!(
                signing_key_age(keys.iter().map(KeyRow::schedule), at + LEAD_SECS),
                Some(0)
            );

            // The new key is fresh, scheduled or signing, until its own period has passed.
            assert!(rotate(at + 60).await.unwrap().is_none());
            assert!(rotate(at + LEAD_SECS + 89 * DAY).await.unwrap().is_none());
            assert!(rotate(at + LEAD_SECS + 90 * DAY).await.unwrap().is_some());

            let actors: Vec<String> = on_pool!(&db, pool => sqlx::query_scalar(
                "SELECT actor_type FROM audit_events WHERE action = 'key.rotated'"
            ).fetch_all(pool).await.unwrap());
            assert_eq!(actors, ["system", "system"], "audited as the system's");
        })
        .await;
    }

    #[tokio::test]
    async fn zero_days_never_rotates() {
        for_each_migrated_engine(|db| async move {
            ensure_signing_key(&db, &master_key(), Alg::Es256, NOW)
                .await
                .unwrap();
            let off = RotationPolicy::every_days(0);
            for days in [1, 90, 365, 10_000] {
                let now = NOW + days * DAY;
                assert!(
                    rotate_if_due(&db, &master_key(), off, None, now)
                        .await
                        .unwrap()
                        .is_none()
                );
            }
            assert_eq!(signing_keys::published(&db, NOW).await.unwrap().len(), 1);
        })
        .await;
    }

    /// Instances sharing a database, each with its own pool, all find the rotation due at the
    /// same moment: exactly one makes a key.
    #[tokio::test]
    async fn of_instances_checking_at_once_exactly_one_rotates() {
        for test_db in TestDb::all().await {
            let db = &test_db.db;
            db.migrate().await.unwrap();
            ensure_signing_key(db, &master_key(), Alg::Es256, NOW)
                .await
                .unwrap();
            let mut instances = Vec::new();
            for _ in 0..6 {
                instances.push(Database::connect(&test_db.url).await.unwrap());
            }
            let now = NOW + 91 * DAY;
            let policy = RotationPolicy::default();
            let master = master_key();
            let outcomes = futures::future::join_all(
                instances
                    .iter()
                    .map(|db| rotate_if_due(db, &master, policy, None, now)),
            )
            .await;
            let rotated = outcomes
                .into_iter()
                .map(|o| o.unwrap())
                .filter(Option::is_some)
                .count();
            assert_eq!(rotated, 1, "on {:?}", db.engine());
            assert_eq!(
                signing_keys::published(db, now).await.unwrap().len(),
                2,
                "on {:?}",
                db.engine()
            );
            for instance in instances {
                instance.close().await;
            }
        }
    }
}
