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

impl SplitChunks {
    /// The chunks the lazy route `route` (its type's name, `SignInRoute`) needs. Leptos names
    /// a route's lazy view `__{route in snake case}_view_{hash of the call site}`; the snake
    /// case here is that of plain CamelCase names (no digits or acronyms), as the routes have.
    pub fn of_lazy_route(&self, route: &str) -> Vec<&str> {
        let prefix = format!("__{}_view_", snake_case(route));
        self.chunks_by_lazy_fn
            .iter()
            .find(|(name, _)| {
                name.strip_prefix(&prefix).is_some_and(|hash| {
                    !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_digit())
                })
            })
            .map(|(_, chunks)| chunks.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

/// `SignInRoute` → `sign_in_route`, as the lazy-route macro spells it.
fn snake_case(camel: &str) -> String {
    let mut snake = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lazy_route_s_chunks_are_found_by_its_type_name_and_no_other_route_s() {
        let manifest = [
            (
                "__app_route_view_3418044119608953895",
                vec!["chunk_1.a", "split___app_route.b"],
            ),
            (
                "__app_delete_route_view_3418044119608953895",
                vec!["chunk_1.a", "chunk_2.c"],
            ),
            ("__app_route_view_extra_1", vec!["chunk_9.z"]),
        ];
        let split = SplitChunks {
            loader: "__wasm_split.x.js".into(),
            chunks_by_lazy_fn: manifest
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
                .collect(),
        };
        assert_eq!(
            split.of_lazy_route("AppRoute"),
            ["chunk_1.a", "split___app_route.b"]
        );
        assert_eq!(
            split.of_lazy_route("AppDeleteRoute"),
            ["chunk_1.a", "chunk_2.c"]
        );
        assert!(split.of_lazy_route("SignInRoute").is_empty());
    }
}
