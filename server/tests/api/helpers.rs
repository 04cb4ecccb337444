//! What every test module shares: the running application and its request helpers
//! (`test_app`), the tenants, clients, users and app drafts tests start from (`fixtures`), the
//! token endpoint's helpers (`oauth`), `/metrics` parsed (`metrics`) and the `keyport`
//! command-line runner (`cli`).

mod cli;
mod fixtures;
mod metrics;
mod oauth;
mod test_app;

pub use cli::{assert_succeeded, keyport};
pub use fixtures::{
    AppDraftBuilder, Client, PASSWORD, admin_of, admin_tool, client, create_app, draft, hasher,
    tenant, user,
};
pub use metrics::Scrape;
pub use oauth::{access_token, basic, check_as_resource_server};
pub use test_app::{
    ROTATION_CHECK_INTERVAL, TestApp, session_cookie, spawn_app, spawn_app_behind_proxy,
    spawn_app_polling_every, spawn_app_rotating_keys, spawn_app_rotating_keys_of,
    spawn_app_signing_with, spawn_app_with_assets, spawn_app_with_clock,
    spawn_app_with_metrics_listener, spawn_apps, spawn_https_app, try_spawn_on,
};
