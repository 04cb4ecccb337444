//! The audit log's append-only writer and its readers. There is deliberately no update or
//! delete here.

use serde::Serialize;
use sqlx::FromRow;

use super::{Database, StoreError, Tx, new_id, on_pool, on_tx};

/// Who did something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    User(&'a str),
    Client(&'a str),
    /// An unauthenticated party, such as someone failing to sign in.
    Anonymous,
    /// The command line or the server itself.
    System,
}

impl Actor<'_> {
    fn parts(&self) -> (&'static str, Option<&str>) {
        match self {
            Actor::User(id) => ("user", Some(id)),
            Actor::Client(id) => ("client", Some(id)),
            Actor::Anonymous => ("anonymous", None),
            Actor::System => ("system", None),
        }
    }
}

pub struct NewEvent<'a> {
    pub tenant_id: Option<&'a str>,
    pub actor: Actor<'a>,
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<&'a str>,
    /// Free-form JSON for humans; must never hold a secret or password.
    pub detail: Option<serde_json::Value>,
    pub ip: Option<&'a str>,
    pub at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct EventRow {
    pub id: String,
    pub tenant_id: Option<String>,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
}

const INSERT: &str = "INSERT INTO audit_events \
    (id, tenant_id, actor_type, actor_id, action, target_type, target_id, detail, ip, created_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

macro_rules! bind_event {
    ($event:expr) => {{
        let (actor_type, actor_id) = $event.actor.parts();
        sqlx::query(INSERT)
            .bind(new_id())
            .bind($event.tenant_id)
            .bind(actor_type)
            .bind(actor_id)
            .bind($event.action)
            .bind($event.target_type)
            .bind($event.target_id)
            .bind($event.detail.as_ref().map(|d| d.to_string()))
            .bind($event.ip)
            .bind($event.at)
    }};
}

/// Records an event as part of the change it describes: both commit or neither does.
pub async fn record(tx: &mut Tx, event: &NewEvent<'_>) -> Result<(), StoreError> {
    on_tx!(tx, conn => { bind_event!(event).execute(conn).await?; });
    Ok(())
}

/// Records an event that belongs to no other change (a failed sign-in).
pub async fn record_alone(db: &Database, event: &NewEvent<'_>) -> Result<(), StoreError> {
    let _turn = db.write_turn().await;
    on_pool!(db, pool => { bind_event!(event).execute(pool).await?; });
    Ok(())
}

/// Which events [`recent`] counts: those about one target from one address, or all those
/// from one address.
#[derive(Debug, Clone, Copy)]
pub enum Recent<'a> {
    TargetFrom { target: &'a str, ip: &'a str },
    Ip(&'a str),
}

/// How many `action` events matched `which` since `since`, and the oldest of them.
pub async fn recent(
    db: &Database,
    action: &str,
    which: Recent<'_>,
    since: i64,
) -> Result<(i64, Option<i64>), StoreError> {
    // Both texts are constants (and both indexed); the address is bound last in both.
    let (sql, target, ip) = match which {
        Recent::TargetFrom { target, ip } => (
            "SELECT COUNT(*), MIN(created_at) FROM audit_events \
             WHERE action = $1 AND created_at >= $2 AND target_id = $3 AND ip = $4",
            Some(target),
            ip,
        ),
        Recent::Ip(ip) => (
            "SELECT COUNT(*), MIN(created_at) FROM audit_events \
             WHERE action = $1 AND created_at >= $2 AND ip = $3",
            None,
            ip,
        ),
    };
    Ok(on_pool!(db, pool => {
        let query = sqlx::query_as(sql).bind(action).bind(since);
        let query = match target {
            Some(target) => query.bind(target),
            None => query,
        };
        query.bind(ip).fetch_one(pool).await?
    }))
}

/// A tenant's events, newest first.
pub async fn list_for_tenant(
    db: &Database,
    tenant_id: &str,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT id, tenant_id, actor_type, actor_id, action, target_type, target_id, detail, ip, created_at \
         FROM audit_events WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    ).bind(tenant_id).bind(limit).fetch_all(pool).await?))
}

/// The events about one object of a tenant, newest first.
pub async fn list_for_target(
    db: &Database,
    tenant_id: &str,
    target_id: &str,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT id, tenant_id, actor_type, actor_id, action, target_type, target_id, detail, ip, created_at \
         FROM audit_events WHERE tenant_id = $1 AND target_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3"
    ).bind(tenant_id).bind(target_id).bind(limit).fetch_all(pool).await?))
}

impl<'a> NewEvent<'a> {
    /// An event with no target, detail or address yet; add them with the methods below.
    pub fn new(
        tenant_id: Option<&'a str>,
        actor: Actor<'a>,
        action: &'a str,
        at: i64,
    ) -> NewEvent<'a> {
        NewEvent {
            tenant_id,
            actor,
            action,
            target_type: None,
            target_id: None,
            detail: None,
            ip: None,
            at,
        }
    }

    pub fn target(mut self, kind: &'a str, id: &'a str) -> NewEvent<'a> {
        self.target_type = Some(kind);
        self.target_id = Some(id);
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> NewEvent<'a> {
        self.detail = Some(detail);
        self
    }

    pub fn ip(mut self, ip: Option<&'a str>) -> NewEvent<'a> {
        self.ip = ip;
        self
    }
}
