//! The browser entry point: hydrates the server-rendered portal.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy: every page but the landing page is its own WASM chunk, fetched before that page
    // hydrates.
    leptos::mount::hydrate_lazy(app::App);
}
