//! Where the page shell finds the portal's stylesheet, script and WASM. Their names carry a
//! content hash (so browsers may cache them forever), known only once the server has loaded
//! its assets, hence a value handed to the shell rather than fixed paths.

/// Absolute paths of the assets every page links to; `None` when this server was started
/// without portal assets (API-only tests), so pages render without them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetUrls {
    pub stylesheet: Option<String>,
    /// The wasm-bindgen JavaScript module that loads `wasm` and exports `hydrate`.
    pub script: Option<String>,
    pub wasm: Option<String>,
    /// The lazy pages' WASM chunks, when the bundle was split (`cargo leptos --split`).
    pub split: Option<SplitChunks>,
}

/// What cargo-leptos' `__wasm_split_manifest.json` says: which chunks (file stems under
/// `/pkg/`) each lazy function needs. The server links those of the page it renders so the
/// browser fetches them alongside the main bundle instead of after hydration starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitChunks {
    /// The loader module's file name under `/pkg/`.
    pub loader: String,
    pub chunks_by_lazy_fn: std::collections::HashMap<String, Vec<String>>,
}
