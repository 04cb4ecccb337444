//! What a tenant's catalogues (scopes, roles) share: the queries that keep an app's scopes
//! and roles inside them. The role catalogue lives here whole; the scope catalogue's older
//! queries are in `scopes`.

use sqlx::FromRow;

use super::{Database, StoreError, Tx, on_pool, on_tx};

/// A tenant's list of names its apps may be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalogue {
    Scopes,
    Roles,
}

impl Catalogue {
    fn table(self) -> &'static str {
        match self {
            Catalogue::Scopes => "tenant_scopes",
            Catalogue::Roles => "tenant_roles",
        }
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct EntryRow {
    pub name: String,
    pub description: String,
    pub created_at: i64,
}

pub async fn insert(
    tx: &mut Tx,
    catalogue: Catalogue,
    tenant_id: &str,
    name: &str,
    description: &str,
    now: i64,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO {} (tenant_id, name, description, created_at) VALUES ($1, $2, $3, $4)",
        catalogue.table()
    );
    on_tx!(tx, conn => {
        sqlx::query(&sql).bind(tenant_id).bind(name).bind(description).bind(now).execute(conn).await?;
    });
    Ok(())
}

/// Adds `name` unless it is there already; whether it was added.
pub async fn ensure(
    tx: &mut Tx,
    catalogue: Catalogue,
    tenant_id: &str,
    name: &str,
    description: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let sql = format!(
        "INSERT INTO {} (tenant_id, name, description, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, name) DO NOTHING",
        catalogue.table()
    );
    let n = on_tx!(tx, conn => sqlx::query(&sql)
        .bind(tenant_id).bind(name).bind(description).bind(now).execute(conn).await?.rows_affected());
    Ok(n == 1)
}

/// Deletes `name`; whether it was there. Deleting first holds the entry's row, so a change
/// that is adding it to an app ([`hold`]) waits for this transaction and then finds it gone,
/// and a check of the apps made after it in this transaction sees every app that added it.
pub async fn delete(
    tx: &mut Tx,
    catalogue: Catalogue,
    tenant_id: &str,
    name: &str,
) -> Result<bool, StoreError> {
    let sql = format!(
        "DELETE FROM {} WHERE tenant_id = $1 AND name = $2",
        catalogue.table()
    );
    let n = on_tx!(tx, conn => sqlx::query(&sql).bind(tenant_id).bind(name).execute(conn).await?.rows_affected());
    Ok(n == 1)
}

pub async fn list(
    db: &Database,
    catalogue: Catalogue,
    tenant_id: &str,
) -> Result<Vec<EntryRow>, StoreError> {
    let sql = format!(
        "SELECT name, description, created_at FROM {} WHERE tenant_id = $1 ORDER BY name",
        catalogue.table()
    );
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(tenant_id).fetch_all(pool).await?))
}

/// The first of `names` that is not in the catalogue, holding the rows of those that are
/// until `tx` ends (portable stand-in for `SELECT … FOR SHARE`): a concurrent [`delete`] of
/// one of them then waits, and sees the app that now uses it.
pub async fn hold(
    tx: &mut Tx,
    catalogue: Catalogue,
    tenant_id: &str,
    names: &[String],
) -> Result<Option<String>, StoreError> {
    let sql = format!(
        "UPDATE {} SET name = name WHERE tenant_id = $1 AND name = $2",
        catalogue.table()
    );
    for name in names {
        let n = on_tx!(tx, conn => sqlx::query(&sql).bind(tenant_id).bind(name).execute(conn).await?.rows_affected());
        if n != 1 {
            return Ok(Some(name.clone()));
        }
    }
    Ok(None)
}

/// The names of the tenant's apps given `name` from `catalogue`, oldest first. The lists are
/// split here rather than matched with `LIKE`, where `_` and `%` in a name would be wildcards.
pub async fn apps_using(
    tx: &mut Tx,
    catalogue: Catalogue,
    tenant_id: &str,
    name: &str,
) -> Result<Vec<String>, StoreError> {
    let column = match catalogue {
        Catalogue::Scopes => "scopes",
        Catalogue::Roles => "roles",
    };
    let sql = format!(
        "SELECT name, {column} FROM apps WHERE tenant_id = $1 ORDER BY created_at, client_id"
    );
    let rows: Vec<(String, String)> =
        on_tx!(tx, conn => sqlx::query_as(&sql).bind(tenant_id).fetch_all(conn).await?);
    Ok(rows
        .into_iter()
        .filter(|(_, list)| list.split_whitespace().any(|n| n == name))
        .map(|(app, _)| app)
        .collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use sqlx::migrate::Migrator;

    use super::*;
    use crate::store::testkit::{for_each_engine, for_each_migrated_engine};

    /// The first migration of the role catalogue.
    const ROLES_MIGRATION: i64 = 20261203000005;

    /// Runs the migrations before the role catalogue's, as a database made by an older
    /// Keyport has them.
    async fn migrate_to_before_roles(db: &Database) {
        let dir = tempfile::tempdir().unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        for entry in std::fs::read_dir(source).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let version: i64 = name.split('_').next().unwrap().parse().unwrap();
            if version < ROLES_MIGRATION {
                std::fs::copy(&path, dir.path().join(&name)).unwrap();
            }
        }
        let older = Migrator::new(dir.path()).await.unwrap();
        on_pool!(db, pool => older.run(pool).await.unwrap());
    }

    async fn exec(db: &Database, sql: &str) {
        on_pool!(db, pool => { sqlx::query(sql).execute(pool).await.unwrap(); });
    }

    async fn names(db: &Database, catalogue: Catalogue, tenant_id: &str) -> Vec<String> {
        list(db, catalogue, tenant_id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect()
    }

    #[tokio::test]
    async fn the_migration_lists_what_apps_already_have_and_admin_everywhere() {
        for_each_engine(|db| async move {
            migrate_to_before_roles(&db).await;
            exec(&db, "INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'One', 10), ('t2', 'Two', 20)").await;
            exec(&db, "INSERT INTO tenant_scopes (tenant_id, name, created_at) VALUES ('t1', 'kept', 1)").await;
            exec(
                &db,
                "INSERT INTO apps (client_id, tenant_id, name, visibility, client_type, scopes, roles, \
                 token_lifetime_secs, created_at, updated_at, disabled_at) VALUES \
                 ('a', 't1', 'A', 'private', 'confidential', 'kept orders:read', 'reader admin billing:superuser', 60, 1, 1, NULL), \
                 ('b', 't1', 'B', 'private', 'confidential', '', 'reader', 60, 1, 1, 5), \
                 ('c', 't2', 'C', 'private', 'confidential', 'y', '', 60, 1, 1, NULL)",
            )
            .await;

            db.migrate().await.unwrap();

            assert_eq!(
                names(&db, Catalogue::Roles, "t1").await,
                ["admin", "billing:superuser", "reader"]
            );
            assert_eq!(names(&db, Catalogue::Roles, "t2").await, ["admin"]);
            assert_eq!(
                names(&db, Catalogue::Scopes, "t1").await,
                ["kept", "orders:read"],
                "a scope deleted under its apps is listed again"
            );
            assert_eq!(names(&db, Catalogue::Scopes, "t2").await, ["y"]);
            let switched_off: Vec<(String, bool)> = on_pool!(&db, pool => sqlx::query_as(
                "SELECT client_id, disabled_by_admin FROM apps ORDER BY client_id"
            ).fetch_all(pool).await.unwrap());
            assert_eq!(
                switched_off,
                [
                    ("a".to_string(), false),
                    ("b".to_string(), true),
                    ("c".to_string(), false)
                ],
                "who switched an app off before it was recorded is taken to be an admin"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn apps_using_matches_whole_names_only() {
        for_each_migrated_engine(|db| async move {
            exec(&db, "INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'One', 10)").await;
            exec(
                &db,
                "INSERT INTO apps (client_id, tenant_id, name, visibility, client_type, scopes, roles, \
                 token_lifetime_secs, created_at, updated_at) VALUES \
                 ('a', 't1', 'A', 'private', 'confidential', 'orders:read', 'a_b', 60, 1, 1), \
                 ('b', 't1', 'B', 'private', 'confidential', 'orders:readx', 'axb', 60, 2, 2)",
            )
            .await;
            let mut tx = db.begin().await.unwrap();
            let scopes = apps_using(&mut tx, Catalogue::Scopes, "t1", "orders:read").await;
            assert_eq!(scopes.unwrap(), ["A"]);
            let roles = apps_using(&mut tx, Catalogue::Roles, "t1", "a_b").await;
            assert_eq!(roles.unwrap(), ["A"], "_ is no wildcard");
            let prefix = apps_using(&mut tx, Catalogue::Roles, "t1", "a").await;
            assert!(prefix.unwrap().is_empty());
        })
        .await;
    }
}
