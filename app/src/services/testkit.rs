//! Fixtures shared by the services' unit tests: a fixed clock and hashing key, people signed
//! up (each the admin of a tenant of their own) and invited into another tenant, accepting, and an app draft.
//! The databases themselves come from `store::testkit`.

use super::{
    accounts::{self, Principal, SignUp, SignedIn, principal},
    apps::AppDraft,
    invitations,
};
use crate::{
    domain::{credentials::SecretHasher, membership::Role, sealing::MasterKey},
    store::Database,
};

/// The tests' clock, for those that do not count from an earlier time of their own.
pub const NOW: i64 = 1_800_000_000;

/// The public URL the services' tests run under.
pub const PUBLIC_URL: &str = "https://id.example.com";

/// A password every sign-up and sign-in in the tests uses.
pub const PASSWORD: &str = "correct horse battery";

/// The master key the tests seal the server's keys under.
pub fn master_key() -> MasterKey {
    MasterKey::from_bytes([9u8; 32])
}

/// A secret hasher under a fixed key.
pub fn hasher() -> SecretHasher {
    SecretHasher::new([3u8; 32])
}

/// A new app's defaults (private, confidential, not a tool, hour-long tokens) with a callback
/// URL; tests change what they need with `AppDraft { field, ..draft(name) }`.
pub fn draft(name: &str) -> AppDraft {
    AppDraft {
        callback_url: Some("https://app.example.com/callback".into()),
        ..AppDraft::new(name)
    }
}

/// Signs `email` up at `now`, with [`PASSWORD`]: a new user, admin of a new tenant.
pub async fn signed_up(db: &Database, email: &str, now: i64) -> SignedIn {
    accounts::sign_up(
        db,
        &crate::services::attempts::AttemptLedger::default(),
        SignUp {
            email,
            name: "",
            password: PASSWORD,
            ip: None,
        },
        now,
    )
    .await
    .unwrap()
}

/// Signs `email` up at `now` and acts as them in their own new tenant, where they are admin.
pub async fn admin(db: &Database, email: &str, now: i64) -> Principal {
    let s = signed_up(db, email, now).await;
    principal(db, &s.user_id, &s.tenant_id)
        .await
        .unwrap()
        .unwrap()
}

/// `by` invites the user `user_id` (who signed up as `email`) to `by`'s tenant with `role`,
/// and the user accepts; the user as they act there.
pub async fn added(
    db: &Database,
    by: &Principal,
    email: &str,
    user_id: &str,
    role: Role,
    now: i64,
) -> Principal {
    invitations::invite(db, by, email, role, None, now)
        .await
        .unwrap();
    let pending = invitations::list_for_user(db, user_id, now).await.unwrap();
    let invitation = pending
        .iter()
        .find(|i| i.tenant_id == by.tenant_id)
        .expect("the invitation just made");
    invitations::accept(db, user_id, &invitation.id, None, now)
        .await
        .unwrap();
    principal(db, user_id, &by.tenant_id)
        .await
        .unwrap()
        .unwrap()
}
