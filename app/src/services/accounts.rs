//! Sign-up, sign-in and the people in a tenant.

use serde_json::json;

use super::{
    ServiceError,
    attempts::{self, AttemptLedger, Counter, Reservation},
    metrics::{Limit, Metrics},
};
use crate::{
    domain::{
        FieldError,
        account::{DisplayName, Email},
        membership::{MemberChange, Role, check_member_change},
        password::{self, check_new_password},
    },
    model::accounts::{MemberView, TenantChoice, Viewer},
    store::{
        Database, Tx,
        audit::{self, Actor, NewEvent},
        members, new_id, tenants, users,
    },
};

/// Failed sign-ins counted per (account, address) and per address over this window.
pub const THROTTLE_WINDOW_SECS: i64 = 15 * 60;
/// Per account from one address.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
/// Accounts made from one address over [`SIGN_UP_WINDOW_SECS`]: a team signing up behind one
/// office address fits; a script making accounts and tenants by the hundred does not.
pub const MAX_SIGN_UPS_PER_ADDRESS: i64 = 10;
pub const SIGN_UP_WINDOW_SECS: i64 = 60 * 60;

/// Who is acting, as established by a session (or the CLI), or by a tool client's access token
/// at the management API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's id; for a tool client, the client id.
    pub user_id: String,
    pub tenant_id: String,
    pub role: Role,
    pub kind: PrincipalKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    /// A tool client acting for its tenant as a system user (seed 000).
    ToolClient,
}

impl Principal {
    /// A tool client with the `admin` role, acting for its tenant.
    pub fn tool_client(client_id: &str, tenant_id: &str) -> Principal {
        Principal {
            user_id: client_id.to_string(),
            tenant_id: tenant_id.to_string(),
            role: Role::Admin,
            kind: PrincipalKind::ToolClient,
        }
    }

    /// How the audit log names this principal.
    pub fn actor(&self) -> Actor<'_> {
        match self.kind {
            PrincipalKind::User => Actor::User(&self.user_id),
            PrincipalKind::ToolClient => Actor::Client(&self.user_id),
        }
    }

    /// An audit event done by this principal in their tenant.
    pub fn event<'a>(&'a self, action: &'a str, at: i64) -> NewEvent<'a> {
        NewEvent::new(Some(&self.tenant_id), self.actor(), action, at)
    }

    pub fn require_admin(&self) -> Result<(), ServiceError> {
        if self.role.can_administer_tenant() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(
                "Only tenant admins can do this.".into(),
            ))
        }
    }
}

/// A successful sign-up or sign-in: who, and the tenant they start in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user_id: String,
    pub tenant_id: String,
}

pub struct SignUp<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password: &'a str,
    pub ip: Option<&'a str>,
}

/// Creates a user and a tenant of their own, with them as its admin. Sign-ups from one address
/// are limited (reserved in `ledger` before the password is hashed, as sign-ins are).
pub async fn sign_up(
    db: &Database,
    ledger: &AttemptLedger,
    form: SignUp<'_>,
    now: i64,
) -> Result<SignedIn, ServiceError> {
    let email = Email::parse(form.email)?;
    let name = if form.name.trim().is_empty() {
        DisplayName::from_email(&email)
    } else {
        DisplayName::parse(form.name)?
    };
    check_new_password(form.password, Some(&email))?;
    let reservation = reserve_sign_up(db, ledger, form.ip, now).await?;
    let created = create_own_tenant(db, &email, &name, form.password, form.ip, now).await;
    if let Some(reservation) = reservation {
        reservation.settle().await;
    }
    created
}

async fn create_own_tenant(
    db: &Database,
    email: &Email,
    name: &DisplayName,
    password: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<SignedIn, ServiceError> {
    let hash = attempts::hash_password(password.to_string()).await?;
    let user_id = new_id();
    let tenant_id = new_id();
    let mut tx = db.begin().await?;
    insert_user(&mut tx, &user_id, email, name, &hash, now).await?;
    let tenant_name = format!("{}'s team", name.as_str());
    tenants::insert(&mut tx, &tenant_id, &tenant_name, now).await?;
    super::roles::seed(&mut tx, &tenant_id, now).await?;
    add_membership(
        &mut tx,
        &tenant_id,
        &user_id,
        Role::Admin,
        Actor::User(&user_id),
        ip,
        now,
    )
    .await?;
    // What the sign-up limit counts, per address.
    let signed_up = NewEvent {
        tenant_id: Some(&tenant_id),
        actor: Actor::User(&user_id),
        action: "user.signed_up",
        target_type: Some("user"),
        target_id: Some(&user_id),
        detail: None,
        ip,
        at: now,
    };
    audit::record(&mut tx, &signed_up).await?;
    tx.commit().await?;
    tracing::info!(user_id, tenant_id, "user signed up");
    Ok(SignedIn { user_id, tenant_id })
}

/// At most [`MAX_SIGN_UPS_PER_ADDRESS`] accounts from one address in [`SIGN_UP_WINDOW_SECS`],
/// counting those still being created.
async fn reserve_sign_up(
    db: &Database,
    ledger: &AttemptLedger,
    ip: Option<&str>,
    now: i64,
) -> Result<Option<Reservation>, ServiceError> {
    let Some(ip) = ip else {
        return Ok(None);
    };
    let address = Counter::new("user.signed_up", ip);
    let turn = ledger.turn().await;
    let in_flight = turn.in_flight_from(ip)?;
    let since = now - SIGN_UP_WINDOW_SECS;
    let (count, oldest) = audit::recent(db, "user.signed_up", audit::Recent::Ip(ip), since).await?;
    if count + turn.pending(&address) >= MAX_SIGN_UPS_PER_ADDRESS {
        let at = oldest.map_or(now, |t| t + SIGN_UP_WINDOW_SECS);
        return Err(ServiceError::Throttled {
            retry_after_secs: (at - now).max(1) as u64,
        });
    }
    Ok(Some(turn.reserve(vec![address, in_flight])))
}

async fn insert_user(
    tx: &mut Tx,
    id: &str,
    email: &Email,
    name: &DisplayName,
    hash: &str,
    now: i64,
) -> Result<(), ServiceError> {
    let row = users::NewUser {
        id,
        email: email.as_str(),
        email_normalized: email.normalized(),
        display_name: name.as_str(),
        password_hash: hash,
        created_at: now,
    };
    users::insert(tx, &row).await.map_err(|e| {
        if e.is_unique_violation() {
            ServiceError::Conflict(FieldError::new(
                "email",
                "An account with this email already exists. Sign in instead.",
            ))
        } else {
            e.into()
        }
    })
}

/// Makes the user a member and records it (`member.added`), inside the caller's transaction.
pub(super) async fn add_membership(
    tx: &mut Tx,
    tenant_id: &str,
    user_id: &str,
    role: Role,
    actor: Actor<'_>,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    members::insert(tx, tenant_id, user_id, role, now).await?;
    audit::record(
        tx,
        &NewEvent {
            tenant_id: Some(tenant_id),
            actor,
            action: "member.added",
            target_type: Some("user"),
            target_id: Some(user_id),
            detail: Some(json!({ "role": role.as_str() })),
            ip,
            at: now,
        },
    )
    .await?;
    Ok(())
}

/// Checks an email and password. Unknown emails cost the same time as wrong passwords, and
/// both give the same error. Failures are audited (never with the password) and throttled;
/// `metrics` counts the throttled ones. The attempt is reserved in `ledger` before its password
/// is checked, so a burst is throttled exactly as the same attempts one after another.
pub async fn sign_in(
    db: &Database,
    metrics: &Metrics,
    ledger: &AttemptLedger,
    email: &str,
    password: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<SignedIn, ServiceError> {
    // An unparseable email still counts as a failed attempt, under what was typed, cut to
    // an email's longest length so a huge one cannot grow the audit log.
    let key = Email::parse(email)
        .map(|e| e.normalized().to_string())
        .unwrap_or_else(|_| {
            email
                .trim()
                .chars()
                .take(254)
                .collect::<String>()
                .to_lowercase()
        });
    let reservation = match reserve_sign_in(db, ledger, &key, ip, now).await {
        Ok(reservation) => reservation,
        Err(refused) => {
            if matches!(refused, ServiceError::Throttled { .. }) {
                metrics.throttled(Limit::SignIn);
            }
            return Err(refused);
        }
    };
    let outcome = check_password(db, &key, password, ip, now).await;
    if let Some(reservation) = reservation {
        reservation.settle().await;
    }
    let user = outcome?;
    let memberships = members::list_for_user(db, &user.id).await?;
    let Some(first) = memberships.first() else {
        return Err(ServiceError::Forbidden(
            "Your account belongs to no tenant any more. Ask an admin to add you.".into(),
        ));
    };
    tracing::info!(user_id = user.id, "user signed in");
    Ok(SignedIn {
        user_id: user.id,
        tenant_id: first.tenant_id.clone(),
    })
}

/// The user whose password `password` is; a failure is in the audit log when this returns.
async fn check_password(
    db: &Database,
    key: &str,
    password: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<users::UserRow, ServiceError> {
    let user = users::find_by_email(db, key).await?;
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    let phc = phc.unwrap_or_else(|| password::dummy_hash().to_string());
    let matches = attempts::verify_password(password.to_string(), phc).await?;
    match user.filter(|_| matches) {
        Some(user) => Ok(user),
        None => {
            audit::record_alone(
                db,
                &NewEvent {
                    tenant_id: None,
                    actor: Actor::Anonymous,
                    action: "login.failed",
                    target_type: Some("email"),
                    target_id: Some(key),
                    detail: None,
                    ip,
                    at: now,
                },
            )
            .await?;
            Err(ServiceError::InvalidCredentials)
        }
    }
}

/// Failures count per (account, address) and per address, never per account alone: a
/// stranger's wrong passwords for someone's email lock out only the stranger's address, and
/// the owner typing the right password from an address that has not failed signs in. Attempts
/// still being checked count as failures, so only as many run at once as may still fail.
async fn reserve_sign_in(
    db: &Database,
    ledger: &AttemptLedger,
    key: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Option<Reservation>, ServiceError> {
    let Some(ip) = ip else {
        return Ok(None);
    };
    let account = Counter::new("login.failed", format!("{key}\n{ip}"));
    let address = Counter::new("login.failed", ip);
    let turn = ledger.turn().await;
    let in_flight = turn.in_flight_from(ip)?;
    let since = now - THROTTLE_WINDOW_SECS;
    let mut retry_at = None;
    let from_here = audit::Recent::TargetFrom { target: key, ip };
    let (count, oldest) = audit::recent(db, "login.failed", from_here, since).await?;
    if count + turn.pending(&account) >= MAX_FAILURES_PER_ACCOUNT {
        retry_at = Some(oldest.map_or(now, |t| t + THROTTLE_WINDOW_SECS));
    }
    let (count, oldest) = audit::recent(db, "login.failed", audit::Recent::Ip(ip), since).await?;
    if count + turn.pending(&address) >= MAX_FAILURES_PER_ADDRESS {
        retry_at = retry_at.max(Some(oldest.map_or(now, |t| t + THROTTLE_WINDOW_SECS)));
    }
    match retry_at {
        Some(at) => Err(ServiceError::Throttled {
            retry_after_secs: (at - now).max(1) as u64,
        }),
        None => Ok(Some(turn.reserve(vec![account, address, in_flight]))),
    }
}

/// The role a user holds in a tenant right now, or `None` when they are not a member.
pub async fn principal(
    db: &Database,
    user_id: &str,
    tenant_id: &str,
) -> Result<Option<Principal>, ServiceError> {
    let role = members::role_of(db, tenant_id, user_id).await?;
    Ok(role.map(|role| Principal {
        user_id: user_id.to_string(),
        tenant_id: tenant_id.to_string(),
        role,
        kind: PrincipalKind::User,
    }))
}

/// The signed-in person with their tenants, for the portal's header.
pub async fn viewer(db: &Database, p: &Principal) -> Result<Option<Viewer>, ServiceError> {
    let Some(user) = users::get(db, &p.user_id).await? else {
        return Ok(None);
    };
    let mut tenants = Vec::new();
    for m in members::list_for_user(db, &p.user_id).await? {
        tenants.push(TenantChoice {
            role: members::parse_role(&m.role)?,
            id: m.tenant_id,
            name: m.tenant_name,
        });
    }
    let Some(current) = tenants.iter().find(|t| t.id == p.tenant_id) else {
        return Ok(None);
    };
    Ok(Some(Viewer {
        user_id: user.id,
        email: user.email,
        display_name: user.display_name,
        tenant_id: current.id.clone(),
        tenant_name: current.name.clone(),
        role: p.role,
        tenants,
    }))
}

/// The members of the admin's tenant.
pub async fn list_members(db: &Database, by: &Principal) -> Result<Vec<MemberView>, ServiceError> {
    by.require_admin()?;
    members::list_for_tenant(db, &by.tenant_id)
        .await?
        .into_iter()
        .map(|m| {
            Ok(MemberView {
                is_you: m.user_id == by.user_id,
                role: members::parse_role(&m.role)?,
                user_id: m.user_id,
                email: m.email,
                display_name: m.display_name,
            })
        })
        .collect()
}

/// `keyport user create`: a user with a tenant of their own, or joining `tenant` (created when
/// missing) as admin or developer.
pub async fn create_user(
    db: &Database,
    email: &str,
    name: Option<&str>,
    password: &str,
    tenant: Option<&str>,
    admin: bool,
    now: i64,
) -> Result<SignedIn, ServiceError> {
    let Some(tenant_key) = tenant else {
        return sign_up(
            db,
            &AttemptLedger::default(),
            SignUp {
                email,
                name: name.unwrap_or(""),
                password,
                ip: None,
            },
            now,
        )
        .await;
    };
    let email = Email::parse(email)?;
    let name = match name {
        Some(n) if !n.trim().is_empty() => DisplayName::parse(n)?,
        _ => DisplayName::from_email(&email),
    };
    check_new_password(password, Some(&email))?;
    let hash = attempts::hash_password(password.to_string()).await?;
    let existing = tenant_by_id_or_name(db, tenant_key).await?;

    let user_id = new_id();
    let mut tx = db.begin().await?;
    insert_user(&mut tx, &user_id, &email, &name, &hash, now).await?;
    let tenant_id = tenant_or_new(&mut tx, existing, tenant_key, now).await?;
    let role = if admin { Role::Admin } else { Role::Developer };
    add_membership(
        &mut tx,
        &tenant_id,
        &user_id,
        role,
        Actor::System,
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(SignedIn { user_id, tenant_id })
}

/// How many tenants sharing a name the refusal to pick one lists by id; past it, it only
/// says how many.
const SHARED_NAME_IDS_SHOWN: usize = 5;

/// The tenant whose id is `key` or, failing that, the one tenant named `key` (as the CLI's
/// `--tenant` names it). A name more than one tenant has is refused, with their ids, rather
/// than one of them picked.
async fn tenant_by_id_or_name(
    db: &Database,
    key: &str,
) -> Result<Option<tenants::TenantRow>, ServiceError> {
    // Tenants are named trimmed (and ids have no spaces): " acme" is acme, not a new one.
    let key = key.trim();
    let limit = SHARED_NAME_IDS_SHOWN as i64 + 1;
    let found = tenants::find_by_id_or_name(db, key, limit).await?;
    if found.len() > 1 && found[0].id != key {
        let which = if found.len() > SHARED_NAME_IDS_SHOWN {
            format!("more than {SHARED_NAME_IDS_SHOWN} tenants have it")
        } else {
            let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
            format!("{} tenants have it: {}", found.len(), ids.join(", "))
        };
        return Err(FieldError::new(
            "tenant",
            format!("the name {key:?} is ambiguous ({which}); pass the tenant's id instead"),
        )
        .into());
    }
    Ok(found.into_iter().next())
}

/// The id of the tenant whose id or name is `key`; a typo is an error, not a new tenant.
pub async fn find_tenant(db: &Database, key: &str) -> Result<String, ServiceError> {
    match tenant_by_id_or_name(db, key).await? {
        Some(tenant) => Ok(tenant.id),
        None => Err(FieldError::new(
            "tenant",
            format!("no tenant has the id or name {key:?} (add --create-tenant to create it)"),
        )
        .into()),
    }
}

/// The tenant found by id or name, or a new one named `key` when there is none.
pub async fn find_or_create_tenant(
    db: &Database,
    key: &str,
    now: i64,
) -> Result<String, ServiceError> {
    let existing = tenant_by_id_or_name(db, key).await?;
    let mut tx = db.begin().await?;
    let id = tenant_or_new(&mut tx, existing, key, now).await?;
    tx.commit().await?;
    Ok(id)
}

async fn tenant_or_new(
    tx: &mut Tx,
    existing: Option<tenants::TenantRow>,
    key: &str,
    now: i64,
) -> Result<String, ServiceError> {
    if let Some(t) = existing {
        return Ok(t.id);
    }
    if key.trim().is_empty() || key.chars().count() > 100 {
        return Err(FieldError::new("tenant", "Tenant names are 1 to 100 characters.").into());
    }
    crate::domain::text::check_line("tenant", "Tenant names", key.trim())?;
    let id = new_id();
    tenants::insert(tx, &id, key.trim(), now).await?;
    super::roles::seed(tx, &id, now).await?;
    Ok(id)
}

/// Changes a member's role or removes them, keeping at least one admin.
pub async fn change_member(
    db: &Database,
    by: &Principal,
    user_id: &str,
    change: MemberChange,
    ip: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    by.require_admin()?;
    let mut tx = db.begin().await?;
    tenants::lock(&mut tx, &by.tenant_id).await?;
    let Some(current) = members::role_in(&mut tx, &by.tenant_id, user_id).await? else {
        return Err(ServiceError::NotFound(
            "No such member in this tenant.".into(),
        ));
    };
    let admins = members::count_admins(&mut tx, &by.tenant_id).await?;
    check_member_change(current, change, admins).map_err(|e| ServiceError::Rule(e.to_string()))?;
    let (action, detail) = match change {
        MemberChange::SetRole(role) => {
            members::set_role(&mut tx, &by.tenant_id, user_id, role).await?;
            (
                "member.role_changed",
                json!({ "from": current.as_str(), "to": role.as_str() }),
            )
        }
        MemberChange::Remove => {
            members::delete(&mut tx, &by.tenant_id, user_id).await?;
            crate::store::refresh_tokens::revoke_in_tenant(&mut tx, user_id, &by.tenant_id).await?;
            ("member.removed", json!({ "role": current.as_str() }))
        }
    };
    audit::record(
        &mut tx,
        &NewEvent {
            tenant_id: Some(&by.tenant_id),
            actor: by.actor(),
            action,
            target_type: Some("user"),
            target_id: Some(user_id),
            detail: Some(detail),
            ip,
            at: now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        services::testkit::{PASSWORD, added, signed_up},
        store::testkit::for_each_migrated_engine,
    };

    #[tokio::test]
    async fn sign_up_makes_the_user_admin_of_a_new_tenant_and_audits_it() {
        for_each_migrated_engine(|db| async move {
            let s = sign_up(
                &db,
                &AttemptLedger::default(),
                SignUp {
                    email: "Ann@Example.com",
                    name: "Ann",
                    password: PASSWORD,
                    ip: Some("10.0.0.1"),
                },
                1_000,
            )
            .await
            .unwrap();
            let p = principal(&db, &s.user_id, &s.tenant_id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(p.role, Role::Admin);
            let tenant = tenants::get(&db, &s.tenant_id).await.unwrap().unwrap();
            assert_eq!(tenant.name, "Ann's team");
            let events = audit::list_for_tenant(&db, &s.tenant_id, 10).await.unwrap();
            let mut actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
            actions.sort();
            assert_eq!(actions, ["member.added", "user.signed_up"]);
            assert!(events.iter().all(|e| e.ip.as_deref() == Some("10.0.0.1")));
        })
        .await;
    }

    #[tokio::test]
    async fn emails_are_unique_whatever_their_case() {
        for_each_migrated_engine(|db| async move {
            signed_up(&db, "ann@example.com", 1_000).await;
            let err = sign_up(
                &db,
                &AttemptLedger::default(),
                SignUp {
                    email: "ANN@example.com",
                    name: "",
                    password: PASSWORD,
                    ip: None,
                },
                2,
            )
            .await
            .unwrap_err();
            assert!(
                matches!(err, ServiceError::Conflict(ref f) if f.field == "email"),
                "{err:?}"
            );
            assert_eq!(users::count(&db).await.unwrap(), 1, "nothing half-created");
        })
        .await;
    }

    #[tokio::test]
    async fn sign_in_gives_one_answer_for_unknown_email_and_wrong_password() {
        for_each_migrated_engine(|db| async move {
            let metrics = Metrics::new();
            let ledger = AttemptLedger::default();
            let s = signed_up(&db, "ann@example.com", 1_000).await;
            let ok = sign_in(
                &db,
                &metrics,
                &ledger,
                "ANN@example.com",
                PASSWORD,
                None,
                2_000,
            )
            .await
            .unwrap();
            assert_eq!(ok.user_id, s.user_id);
            let wrong = sign_in(
                &db,
                &metrics,
                &ledger,
                "ann@example.com",
                "wrong password",
                None,
                2_000,
            )
            .await
            .unwrap_err();
            let unknown = sign_in(
                &db,
                &metrics,
                &ledger,
                "bob@example.com",
                PASSWORD,
                None,
                2_000,
            )
            .await
            .unwrap_err();
            assert_eq!(wrong.to_string(), unknown.to_string());
            assert!(matches!(wrong, ServiceError::InvalidCredentials));
            assert!(matches!(unknown, ServiceError::InvalidCredentials));
        })
        .await;
    }

    #[tokio::test]
    async fn repeated_failures_are_throttled_per_account_and_address_and_per_address() {
        for_each_migrated_engine(|db| async move {
            let metrics = Metrics::new();
            let ledger = AttemptLedger::default();
            signed_up(&db, "ann@example.com", 1_000).await;
            let now = 10_000;
            for _ in 0..MAX_FAILURES_PER_ACCOUNT {
                let e = sign_in(
                    &db,
                    &metrics,
                    &ledger,
                    "ann@example.com",
                    "nope nope",
                    Some("10.0.0.9"),
                    now,
                )
                .await
                .unwrap_err();
                assert!(matches!(e, ServiceError::InvalidCredentials));
            }
            // From the failing address even the right password waits, so guessing stops.
            let e = sign_in(
                &db,
                &metrics,
                &ledger,
                "ann@example.com",
                PASSWORD,
                Some("10.0.0.9"),
                now + 60,
            )
            .await
            .unwrap_err();
            let ServiceError::Throttled { retry_after_secs } = e else {
                panic!("{e:?}")
            };
            assert_eq!(retry_after_secs, (THROTTLE_WINDOW_SECS - 60) as u64);
            // The owner, from an address that has not failed, is not locked out.
            sign_in(
                &db,
                &metrics,
                &ledger,
                "ann@example.com",
                PASSWORD,
                Some("10.0.0.1"),
                now + 60,
            )
            .await
            .expect("a stranger's failures do not lock the owner out");
            // After the window, the failing address may try again.
            sign_in(
                &db,
                &metrics,
                &ledger,
                "ann@example.com",
                PASSWORD,
                Some("10.0.0.9"),
                now + THROTTLE_WINDOW_SECS + 1,
            )
            .await
            .unwrap();

            // Per address: many accounts from one address.
            for i in 0..MAX_FAILURES_PER_ADDRESS {
                let _ = sign_in(
                    &db,
                    &metrics,
                    &ledger,
                    &format!("u{i}@example.com"),
                    "x",
                    Some("10.9.9.9"),
                    now,
                )
                .await;
            }
            let e = sign_in(
                &db,
                &metrics,
                &ledger,
                "someone@example.com",
                "x",
                Some("10.9.9.9"),
                now,
            )
            .await
            .unwrap_err();
            assert!(matches!(e, ServiceError::Throttled { .. }), "{e:?}");
            let e = sign_in(
                &db,
                &metrics,
                &ledger,
                "someone@example.com",
                "x",
                Some("10.1.1.1"),
                now,
            )
            .await
            .unwrap_err();
            assert!(
                matches!(e, ServiceError::InvalidCredentials),
                "other addresses unaffected"
            );
            assert_eq!(
                metrics.throttled_count(Limit::SignIn),
                2,
                "each refusal counted once, the failures before them not at all"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn members_are_added_changed_and_removed_but_the_last_admin_stays() {
        for_each_migrated_engine(|db| async move {
            let ann = signed_up(&db, "ann@example.com", 1_000).await;
            let bob = signed_up(&db, "bob@example.com", 1_000).await;
            let admin = principal(&db, &ann.user_id, &ann.tenant_id)
                .await
                .unwrap()
                .unwrap();

            added(
                &db,
                &admin,
                "BOB@example.com",
                &bob.user_id,
                Role::Developer,
                1_005,
            )
            .await;
            let dev = principal(&db, &bob.user_id, &ann.tenant_id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(dev.role, Role::Developer);
            let denied = change_member(&db, &dev, &ann.user_id, MemberChange::Remove, None, 1_006)
                .await
                .unwrap_err();
            assert!(matches!(denied, ServiceError::Forbidden(_)));

            let last = change_member(
                &db,
                &admin,
                &ann.user_id,
                MemberChange::SetRole(Role::Developer),
                None,
                1_006,
            )
            .await
            .unwrap_err();
            assert!(matches!(last, ServiceError::Rule(_)), "{last:?}");

            change_member(
                &db,
                &admin,
                &bob.user_id,
                MemberChange::SetRole(Role::Admin),
                None,
                1_007,
            )
            .await
            .unwrap();
            change_member(&db, &admin, &ann.user_id, MemberChange::Remove, None, 1_008)
                .await
                .unwrap();
            assert!(
                principal(&db, &ann.user_id, &ann.tenant_id)
                    .await
                    .unwrap()
                    .is_none()
            );

            let actions: Vec<String> = audit::list_for_tenant(&db, &ann.tenant_id, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.action)
                .collect();
            assert_eq!(
                actions,
                [
                    "member.removed",
                    "member.role_changed",
                    "member.added",
                    "member.invited",
                    "user.signed_up",
                    "member.added"
                ]
            );
        })
        .await;
    }

    #[tokio::test]
    async fn cli_users_join_a_named_tenant_created_when_missing() {
        for_each_migrated_engine(|db| async move {
            let a = create_user(
                &db,
                "ops@example.com",
                None,
                PASSWORD,
                Some("acme"),
                true,
                1,
            )
            .await
            .unwrap();
            let b = create_user(
                &db,
                "dev@example.com",
                Some("Dev"),
                PASSWORD,
                Some("acme"),
                false,
                2,
            )
            .await
            .unwrap();
            assert_eq!(a.tenant_id, b.tenant_id);
            let pa = principal(&db, &a.user_id, &a.tenant_id)
                .await
                .unwrap()
                .unwrap();
            let pb = principal(&db, &b.user_id, &b.tenant_id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!((pa.role, pb.role), (Role::Admin, Role::Developer));
            let own = create_user(&db, "solo@example.com", None, PASSWORD, None, false, 3)
                .await
                .unwrap();
            assert_ne!(own.tenant_id, a.tenant_id);
            let weak = create_user(&db, "x@example.com", None, "password", None, false, 3)
                .await
                .unwrap_err();
            assert!(matches!(weak, ServiceError::Invalid(ref f) if f.field == "password"));
        })
        .await;
    }
}
