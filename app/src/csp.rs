//! The portal pages' Content-Security-Policy: scripts run only from this origin or with the
//! page's nonce (Leptos puts it on the hydration and resource scripts it writes inline), WASM
//! may be compiled, and no other site may frame the page.

use leptos::prelude::*;

/// The policy of a page rendered with `nonce`. `watch` (cargo-leptos' live reload) also lets
/// the reload script open its WebSocket.
pub fn policy(nonce: &str, watch: bool) -> String {
    let connect = if watch { "'self' ws: wss:" } else { "'self'" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src {connect}; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'"
    )
}

/// Sets the policy on the response of the page being rendered, with the nonce leptos_axum
/// made for it. Outside a page render (no nonce or no response options) it does nothing,
/// and the server's middleware still sends `frame-ancestors 'none'`.
pub fn set_page_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let watch = std::env::var_os("LEPTOS_WATCH").is_some();
    if let Ok(value) = http::HeaderValue::from_str(&policy(&nonce, watch)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_need_the_nonce_and_nobody_frames_the_page() {
        let p = policy("abc", false);
        assert!(p.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        assert!(p.contains("frame-ancestors 'none'"));
        assert!(!p.contains("unsafe-inline"));
        assert!(policy("abc", true).contains("connect-src 'self' ws: wss:"));
    }
}
