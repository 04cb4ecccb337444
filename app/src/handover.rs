//! Hands a new secret's plaintext from a plain (no-WASM) form post to the page it lands on.
//!
//! Leptos answers a plain form post with a redirect and drops the server function's return
//! value, so without this the secret created by that post would be lost before anyone saw it.
//! The plaintext rides in a cookie that lives two minutes, is scoped to the app's own pages,
//! is `HttpOnly` and `SameSite=Strict`, and is cleared by the first page that shows it. It only
//! ever travels to the browser, which is shown the secret anyway; the server keeps no copy (a
//! session "flash" would write it to the sessions table).

use axum::http::{
    HeaderValue,
    header::{ACCEPT, COOKIE, SET_COOKIE},
    request::Parts,
};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use crate::domain::credentials::is_well_formed_secret;

const COOKIE_NAME: &str = "keyport_new_secret";
const MAX_AGE_SECS: u32 = 120;

/// Whether the server function is answering a browser's own form post (no WASM running), as
/// opposed to a call from the hydrated portal.
pub fn is_plain_form_post() -> bool {
    use_context::<Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

fn app_path(client_id: &str) -> String {
    format!("/apps/{client_id}")
}

fn cookie(client_id: &str, value: &str, max_age: u32, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={value}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}",
        app_path(client_id)
    ))
    .ok()
}

/// After a plain form post created `plaintext` for `client_id`: sends the browser to the app's
/// OAuth tab with the secret in the hand-over cookie. A no-op for calls from the WASM, which
/// get the secret in the server function's answer.
pub fn hand_over(client_id: &str, plaintext: Option<&str>, secure: bool) {
    if !is_plain_form_post() {
        return;
    }
    if let (Some(plaintext), Some(response)) = (plaintext, use_context::<ResponseOptions>())
        && let Some(value) = cookie(client_id, plaintext, MAX_AGE_SECS, secure)
    {
        response.append_header(SET_COOKIE, value);
    }
    leptos_axum::redirect(&format!("{}?tab=oauth", app_path(client_id)));
}

/// After a plain form post changed something of `client_id`: back to the app's OAuth tab
/// rather than to the confirmation page the form was on.
pub fn back_to_app(client_id: &str) {
    if is_plain_form_post() {
        leptos_axum::redirect(&format!("{}?tab=oauth", app_path(client_id)));
    }
}

/// The secret handed over to this page for `client_id`, if any; clears the cookie so a
/// reload shows it no more.
pub fn take(client_id: &str, secure: bool) -> Option<String> {
    let parts = use_context::<Parts>()?;
    let value = parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_string())?;
    if let (Some(response), Some(clear)) = (
        use_context::<ResponseOptions>(),
        cookie(client_id, "", 0, secure),
    ) {
        response.append_header(SET_COOKIE, clear);
    }
    // Only a well-formed secret is shown: the cookie is the browser's to change.
    is_well_formed_secret(&value).then_some(value)
}
