//! Server functions: the portal's calls to the server, each a thin adapter over a service.

pub mod apps;
pub mod auth;
pub mod invitations;
pub mod keys;
pub mod members;
pub mod status;
pub mod tenant;

/// Sends a plain form post (made before, or without, the WASM) back to `path` afterwards.
/// Leptos returns such posts to their `Referer`, but the portal's pages send none
/// (`Referrer-Policy: no-referrer`), so they would land on `/`. Calls from the WASM ask for
/// JSON and stay on their page: they are left alone.
#[cfg(feature = "ssr")]
pub(crate) async fn plain_form_returns_to(path: &str) {
    use axum::http::{HeaderMap, header::ACCEPT};
    let from_a_form = leptos_axum::extract::<HeaderMap>()
        .await
        .ok()
        .and_then(|h| {
            h.get(ACCEPT)?
                .to_str()
                .ok()
                .map(|a| a.contains("text/html"))
        })
        .unwrap_or(false);
    if from_a_form {
        leptos_axum::redirect(path);
    }
}
