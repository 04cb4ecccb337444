//! Refreshes that arrive together (on SQLite they share a commit, `store::rotation_batches`):
//! each caller gets its own sign-in's tokens, and one failing write fails only its caller.
//! On both engines, with the clock in the test's hand.

use std::sync::Arc;

use crate::{
    domain::credentials::{REFRESH_TOKEN_PREFIX, generate_opaque},
    services::oauth::Clock,
    store::{
        refresh_tokens,
        testkit::{TestDb, for_each_migrated_engine},
    },
};

use super::user_flow_tests::Fixture;

const SCOPES: [&str; 4] = [
    "orders:read",
    "openid",
    "openid email",
    "orders:read openid",
];

#[tokio::test]
async fn refreshes_arriving_together_each_get_their_own_sign_ins_tokens() {
    for_each_migrated_engine(|db| async move {
        let f = Arc::new(Fixture::new(db).await);
        let mut sign_ins = Vec::new();
        for i in 0..24 {
            let scope = SCOPES[i % SCOPES.len()];
            let token = f.signed_in(scope).await.refresh_token.unwrap();
            sign_ins.push((scope, token));
        }
        // Twice: the successors the first round handed out must have been stored.
        for round in 0..2 {
            let refreshes = sign_ins.iter().map(|(scope, token)| {
                let (f, scope, token) = (f.clone(), scope.to_string(), token.clone());
                tokio::spawn(async move { (scope, f.refresh(&token).await) })
            });
            let mut next = Vec::new();
            for refresh in futures::future::join_all(refreshes).await {
                let (scope, issued) = refresh.unwrap();
                let issued = issued.unwrap_or_else(|e| panic!("round {round}: {e:?}"));
                assert_eq!(
                    issued.scope, scope,
                    "round {round}: another sign-in's tokens"
                );
                assert_eq!(issued.id_token.is_some(), scope.contains("openid"));
                next.push((SCOPES.iter().find(|s| **s == scope).unwrap(), issued));
            }
            sign_ins = next
                .into_iter()
                .map(|(scope, issued)| (*scope, issued.refresh_token.unwrap()))
                .collect();
        }
    })
    .await;
}

#[tokio::test]
async fn a_rotation_whose_write_fails_fails_alone_and_spends_nothing() {
    for_each_migrated_engine(|db| async move {
        let f = Fixture::new(db).await;
        let hasher = &f.oauth.inner.hasher;
        let mut tokens = Vec::new();
        for _ in 0..6 {
            tokens.push(f.signed_in("orders:read").await.refresh_token.unwrap());
        }
        let fresh = || hasher.hash(&generate_opaque(REFRESH_TOKEN_PREFIX));
        // The third rotation's successor collides with a stored token: its insert fails.
        let successors: Vec<String> = (0..tokens.len())
            .map(|i| {
                if i == 2 {
                    hasher.hash(&tokens[5])
                } else {
                    fresh()
                }
            })
            .collect();
        let presented: Vec<String> = tokens.iter().map(|t| hasher.hash(t)).collect();
        // Polled together, so all are queued before the writer runs.
        let rotations = presented[..5]
            .iter()
            .zip(&successors)
            .map(|(token, successor)| {
                refresh_tokens::rotate(
                    &f.db,
                    token,
                    &f.client_id,
                    successor,
                    "jti",
                    3600,
                    f.clock.now(),
                )
            });
        let results = futures::future::join_all(rotations).await;
        for (i, result) in results.into_iter().enumerate() {
            match i {
                2 => assert!(result.unwrap_err().is_unique_violation()),
                _ => assert!(result.unwrap().is_some(), "rotation {i} was spent"),
            }
        }
        assert!(
            f.refresh(&tokens[2]).await.is_ok(),
            "the failed rotation left its token unspent"
        );
        assert!(
            f.refresh(&tokens[0]).await.is_err(),
            "the others were spent"
        );
    })
    .await;
}

/// SQLite's shared commits only: a refresh whose caller hung up before the writer reached it
/// is not made, so the token it presented still works (on PostgreSQL the one statement of a
/// rotation either ran or did not when the caller went away).
#[tokio::test]
async fn a_rotation_whose_caller_went_away_before_its_commit_spends_nothing() {
    use futures::FutureExt;

    let test_db = TestDb::sqlite().await;
    test_db.db.migrate().await.unwrap();
    let f = Fixture::new(test_db.db.clone()).await;
    let hasher = &f.oauth.inner.hasher;
    let token = f.signed_in("orders:read").await.refresh_token.unwrap();
    let successor = hasher.hash(&generate_opaque(REFRESH_TOKEN_PREFIX));
    let presented = hasher.hash(&token);
    let rotation = refresh_tokens::rotate(
        &f.db,
        &presented,
        &f.client_id,
        &successor,
        "jti",
        3600,
        f.clock.now(),
    );
    // Queued, then dropped before this single-threaded runtime lets the writer run.
    assert!(rotation.now_or_never().is_none());
    let refreshed = f.refresh(&token).await;
    assert!(refreshed.is_ok(), "{refreshed:?}");
}
