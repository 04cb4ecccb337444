//! The browser entry point: hydrates the server-rendered portal.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Asynchronously: every page but the landing page is a lazy route whose WASM chunk is
    // fetched before the page can hydrate.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document()
            .body()
            .expect("a page has a body");
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // Only now, with the page's chunk loaded and hydrated, has the WASM taken over the
        // whole page: the marker tells tests (and anyone debugging) so, and arms the boot
        // script's recovery from a failed chunk load (app/src/pages/mod.rs).
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
