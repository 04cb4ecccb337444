//! Limits that hold however many attempts arrive at once (SPEC §6): a burst of sign-ins or
//! sign-ups is throttled exactly as the same attempts one after another.

use futures::future::join_all;

use super::{
    ServiceError,
    accounts::{
        MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, MAX_SIGN_UPS_PER_ADDRESS, SignUp,
        sign_in, sign_up,
    },
    attempts::AttemptLedger,
    metrics::Metrics,
    testkit::{PASSWORD, signed_up},
};
use crate::store::{audit, testkit::for_each_migrated_engine, users};

const BURST: usize = 60;

async fn failed_sign_ins(db: &crate::store::Database, ip: &str, since: i64) -> i64 {
    audit::recent(db, "login.failed", audit::Recent::Ip(ip), since)
        .await
        .unwrap()
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_wrong_passwords_checks_no_more_than_the_limit() {
    for_each_migrated_engine(|db| async move {
        let (metrics, ledger) = (Metrics::new(), AttemptLedger::default());
        signed_up(&db, "ann@example.com", 1_000).await;
        let now = 10_000;
        let burst = (0..BURST).map(|_| {
            sign_in(
                &db,
                &metrics,
                &ledger,
                "ann@example.com",
                "wrong guess",
                Some("10.0.0.9"),
                now,
            )
        });
        let results = join_all(burst).await;
        let checked = results
            .iter()
            .filter(|r| matches!(r, Err(ServiceError::InvalidCredentials)))
            .count();
        let throttled = results
            .iter()
            .filter(|r| matches!(r, Err(ServiceError::Throttled { .. })))
            .count();
        // At most as many as may fail (fewer when the address's share of the hashing was
        // full), and every other attempt refused with a Retry-After.
        assert!(
            checked >= 1 && checked as i64 <= MAX_FAILURES_PER_ACCOUNT,
            "{checked} checked"
        );
        assert_eq!(checked + throttled, BURST);
        // One after another, the attempts stop exactly at the limit.
        for _ in 0..BURST {
            let _ = sign_in(
                &db,
                &metrics,
                &ledger,
                "ann@example.com",
                "wrong guess",
                Some("10.0.0.9"),
                now,
            )
            .await;
        }
        assert_eq!(
            failed_sign_ins(&db, "10.0.0.9", 0).await,
            MAX_FAILURES_PER_ACCOUNT
        );

        // A burst over many emails from one address stops at the address's limit, and the
        // right password from an address that has not failed still signs in meanwhile.
        let emails: Vec<String> = (0..BURST)
            .map(|i| format!("guess{i}@example.com"))
            .collect();
        let spray = emails.iter().map(|e| {
            sign_in(
                &db,
                &metrics,
                &ledger,
                e,
                "wrong guess",
                Some("10.0.0.7"),
                now,
            )
        });
        let owner = sign_in(
            &db,
            &metrics,
            &ledger,
            "ann@example.com",
            PASSWORD,
            Some("10.0.0.1"),
            now,
        );
        let (results, owner) = futures::join!(join_all(spray), owner);
        let checked = results
            .iter()
            .filter(|r| matches!(r, Err(ServiceError::InvalidCredentials)))
            .count();
        assert!(
            checked >= 1 && checked as i64 <= MAX_FAILURES_PER_ADDRESS,
            "{checked} checked"
        );
        for email in &emails {
            let _ = sign_in(
                &db,
                &metrics,
                &ledger,
                email,
                "wrong guess",
                Some("10.0.0.7"),
                now,
            )
            .await;
        }
        assert_eq!(
            failed_sign_ins(&db, "10.0.0.7", 0).await,
            MAX_FAILURES_PER_ADDRESS
        );
        owner.expect("the owner signs in from another address during the flood");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_ups_from_one_address_are_limited_even_all_at_once() {
    for_each_migrated_engine(|db| async move {
        let ledger = AttemptLedger::default();
        let emails: Vec<String> = (0..BURST / 2)
            .map(|i| format!("bot{i}@example.com"))
            .collect();
        let burst = emails.iter().map(|email| {
            let form = SignUp {
                email,
                name: "",
                password: PASSWORD,
                ip: Some("10.0.0.5"),
            };
            sign_up(&db, &ledger, form, 5_000)
        });
        let results = join_all(burst).await;
        let created = results.iter().filter(|r| r.is_ok()).count();
        let throttled = results
            .iter()
            .filter(|r| matches!(r, Err(ServiceError::Throttled { .. })))
            .count();
        assert!(
            created >= 1 && created as i64 <= MAX_SIGN_UPS_PER_ADDRESS,
            "{created} created"
        );
        assert_eq!(created + throttled, BURST / 2);
        // One after another, sign-ups stop exactly at the limit.
        for email in &emails {
            let form = SignUp {
                email: &format!("again.{email}"),
                name: "",
                password: PASSWORD,
                ip: Some("10.0.0.5"),
            };
            let _ = sign_up(&db, &ledger, form, 5_000).await;
        }
        assert_eq!(users::count(&db).await.unwrap(), MAX_SIGN_UPS_PER_ADDRESS);

        // Another address is not affected, and the first one may sign up again an hour later.
        let form = |email, ip| SignUp {
            email,
            name: "",
            password: PASSWORD,
            ip: Some(ip),
        };
        sign_up(&db, &ledger, form("kim@example.com", "10.0.0.6"), 5_000)
            .await
            .expect("another address signs up");
        sign_up(
            &db,
            &ledger,
            form("later@example.com", "10.0.0.5"),
            5_000 + 3_601,
        )
        .await
        .expect("the window has passed");
    })
    .await;
}
