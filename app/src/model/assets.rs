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
}
