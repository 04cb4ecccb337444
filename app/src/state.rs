//! What every server function and HTTP handler reaches: handed to `leptos_routes` and the
//! server-function handler as context, and to axum handlers as state.
//!
//! axum clones a handler's state, and leptos its context, for every request; so the state is
//! one `Arc` and a clone is one reference count, not a copy of the public URL, the leptos
//! options and the assets' chunk manifest per request (issue 26: 85% of a page's CPU went to
//! such copies, down to `/healthz`).

use std::{ops::Deref, sync::Arc};

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::{domain::credentials::SecretHasher, error::AppError, store::Database};

#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

/// The fields of [`AppState`], made once at start.
pub struct AppStateInner {
    pub leptos_options: LeptosOptions,
    pub db: Database,
    pub hasher: SecretHasher,
    /// This server's public base URL; each tenant's issuer is `{public_url}/t/{tenant_id}`
    /// ([`crate::domain::issuer`]).
    pub public_url: String,
    pub oauth: crate::services::oauth::OAuthService,
    /// The content-hashed paths of the portal's CSS, JS and WASM, and the lazy pages' chunks.
    pub assets: Arc<crate::model::assets::AssetUrls>,
    /// Sign-ins and sign-ups being checked now, which their limits count (SPEC §6).
    pub attempts: crate::services::attempts::AttemptLedger,
}

impl AppState {
    pub fn new(inner: AppStateInner) -> AppState {
        AppState(Arc::new(inner))
    }

    /// Whether browsers reach this server over https, so cookies it sets must be `Secure`.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

impl Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// leptos_axum's handlers take their options from the router's state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> LeptosOptions {
        state.leptos_options.clone()
    }
}

/// The state inside a server function. Missing context is a wiring bug, reported as internal.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from server function context");
        AppError::Internal
    })
}
