//! What every server function and HTTP handler reaches: handed to `leptos_routes` and the
//! server-function handler as context, and to axum handlers as state.

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::{domain::credentials::SecretHasher, error::AppError, store::Database};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Database,
    pub hasher: SecretHasher,
    /// This server's public base URL; each tenant's issuer is `{public_url}/t/{tenant_id}`
    /// ([`crate::domain::issuer`]).
    pub public_url: String,
    pub oauth: crate::services::oauth::OAuthService,
    /// The content-hashed paths of the portal's CSS, JS and WASM.
    pub assets: crate::model::assets::AssetUrls,
    /// Sign-ins and sign-ups being checked now, which their limits count (SPEC §6).
    pub attempts: crate::services::attempts::AttemptLedger,
}

impl AppState {
    /// Whether browsers reach this server over https, so cookies it sets must be `Secure`.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The state inside a server function. Missing context is a wiring bug, reported as internal.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from server function context");
        AppError::Internal
    })
}
