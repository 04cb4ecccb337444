//! What tests start from, made through the services as `keyport user create` and
//! `keyport client create` make it: tenants, users, apps and their clients.

use app::{
    domain::credentials::SecretHasher,
    model::apps::ClientType,
    services::{
        accounts::{self, Principal, SignedIn},
        apps::{self, AppDraft, CreatedApp},
        keys,
    },
    store::{Database, testkit::master_key, unix_now},
};

/// The password of every user the tests make.
pub const PASSWORD: &str = "correct horse battery";

/// A confidential client's credentials.
pub struct Client {
    pub tenant_id: String,
    pub client_id: String,
    pub secret: String,
}

/// An app as `keyport client create` makes it unless told otherwise: private, confidential,
/// not a tool client, with no callback, scopes, roles or extra audiences, and hour-long tokens.
pub fn draft(name: &str) -> AppDraftBuilder {
    AppDraftBuilder(AppDraft::new(name))
}

/// An [`AppDraft`] with what a test sets differently from [`draft`]'s.
pub struct AppDraftBuilder(AppDraft);

impl AppDraftBuilder {
    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.0.scopes = strings(scopes);
        self
    }

    pub fn roles(mut self, roles: &[&str]) -> Self {
        self.0.roles = strings(roles);
        self
    }

    /// Audiences the app may ask tokens for besides its tenant's default.
    pub fn audiences(mut self, audiences: &[&str]) -> Self {
        self.0.audiences = strings(audiences);
        self
    }

    pub fn token_lifetime_secs(mut self, secs: i64) -> Self {
        self.0.token_lifetime_secs = secs;
        self
    }

    /// A tool client: its tokens act for the tenant.
    pub fn tool(mut self) -> Self {
        self.0.tool = true;
        self
    }

    /// A public client (no secret), which needs a callback URL.
    pub fn public(mut self, callback_url: &str) -> Self {
        self.0.client_type = ClientType::Public;
        self.0.callback_url = Some(callback_url.into());
        self
    }

    /// A callback URL, so the app gets the code flow's grants too.
    pub fn callback(mut self, callback_url: &str) -> Self {
        self.0.callback_url = Some(callback_url.into());
        self
    }

    pub fn build(self) -> AppDraft {
        self.0
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The server's own secret hasher (generated and stored in the database, sealed under the
/// test database's master key, on first use), so the secrets the fixtures make are the ones
/// the running server accepts.
pub async fn hasher(db: &Database) -> SecretHasher {
    keys::secret_hasher(db, &master_key(db), None)
        .await
        .unwrap()
}

/// The id of the tenant named `name`, created when missing.
pub async fn tenant(db: &Database, name: &str) -> String {
    accounts::find_or_create_tenant(db, name, unix_now())
        .await
        .unwrap()
}

/// An app in the tenant `tenant_id`, made as `keyport client create` makes one: by no one
/// signed in.
pub async fn create_app(db: &Database, tenant_id: &str, draft: AppDraftBuilder) -> CreatedApp {
    apps::create_app_for_tenant(db, &hasher(db).await, tenant_id, draft.build(), unix_now())
        .await
        .unwrap()
}

/// A confidential client in the tenant named `tenant` (created when missing), with its first
/// secret.
pub async fn client(db: &Database, tenant: &str, draft: AppDraftBuilder) -> Client {
    let tenant_id = self::tenant(db, tenant).await;
    let created = create_app(db, &tenant_id, draft).await;
    Client {
        tenant_id,
        client_id: created.app.client_id,
        secret: created.first_secret.unwrap().plaintext,
    }
}

/// A tool client with the admin role in `tenant`: what may ask for management-API tokens.
pub async fn admin_tool(db: &Database, tenant: &str) -> Client {
    client(db, tenant, draft("deploy bot").tool().roles(&["admin"])).await
}

/// A user with [`PASSWORD`] in `tenant` (created when missing), as `keyport user create`
/// makes them.
pub async fn user(db: &Database, email: &str, tenant: &str, admin: bool) -> SignedIn {
    accounts::create_user(db, email, None, PASSWORD, Some(tenant), admin, unix_now())
        .await
        .unwrap()
}

/// An admin of `tenant`, as they act there.
pub async fn admin_of(db: &Database, tenant: &str) -> Principal {
    let created = user(db, &format!("admin@{tenant}.example"), tenant, true).await;
    accounts::principal(db, &created.user_id, &created.tenant_id)
        .await
        .unwrap()
        .unwrap()
}
