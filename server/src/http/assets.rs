//! The portal's files (CSS, JS, WASM, `public/`), served from memory. A release build carries
//! them inside the binary, with the brotli and gzip copies cargo-leptos made, so `keyport
//! serve` needs no files beside it; a debug build reads the same folder at start (rust-embed),
//! so `cargo leptos watch --split` keeps working. Names that carry a content hash are cached
//! for a year; every file has an ETag.

use std::{borrow::Cow, collections::HashMap, path::Path, sync::Arc};

use app::model::assets::{AssetUrls, SplitChunks};
use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

/// wasm-bindgen's TypeScript declarations (`keyport.d.ts`, `keyport_bg.wasm.d.ts`) land in
/// `pkg/` beside the bundle; no browser needs them, so they are not served.
fn is_type_declaration(name: &str) -> bool {
    let base = name
        .strip_suffix(".br")
        .or_else(|| name.strip_suffix(".gz"))
        .unwrap_or(name);
    base.ends_with(".d.ts")
}

/// `target/site` as `cargo leptos build --split` leaves it. In release builds the files are
/// compiled in; in debug builds rust-embed reads them from this folder.
#[derive(rust_embed::Embed)]
#[folder = "../target/site/"]
#[allow_missing = true]
struct BuiltSite;

#[derive(Debug, thiserror::Error)]
pub enum AssetsError {
    #[error(
        "this keyport binary carries no portal assets ({0} is missing): build it with \
         `cargo leptos build --release --split` (make build), or pass --site-root DIR"
    )]
    NotEmbedded(&'static str),
    #[error(
        "portal assets in {dir}: {what} is missing (build them with `cargo leptos build --split`)"
    )]
    MissingInDir { dir: String, what: &'static str },
    #[error("portal assets in {dir}: {source}")]
    Unreadable { dir: String, source: std::io::Error },
}

/// cargo-leptos' `output-name` (the workspace's `[[workspace.metadata.leptos]] name`).
const OUTPUT_NAME: &str = "keyport";

/// A file's bytes as the binary or the folder gave them.
type Raw = Cow<'static, [u8]>;

/// Cheap to clone per response, whether compiled in or read at start.
type Bytes = axum::body::Bytes;

fn to_bytes(raw: Raw) -> Bytes {
    match raw {
        Cow::Borrowed(slice) => Bytes::from_static(slice),
        Cow::Owned(vec) => Bytes::from(vec),
    }
}

struct Asset {
    identity: Bytes,
    brotli: Option<Bytes>,
    gzip: Option<Bytes>,
    content_type: &'static str,
    /// Of the identity bytes; each encoding gets its own suffix, since a strong ETag names
    /// one representation.
    etag: String,
    immutable: bool,
}

/// Every servable file by its path (without the leading `/`), and the shell's links.
#[derive(Clone, Default)]
pub struct PortalAssets {
    files: Arc<HashMap<String, Asset>>,
    /// Shared with [`app::state::AppState`]: this middleware's state is cloned per request.
    urls: Arc<AssetUrls>,
}

impl std::fmt::Debug for PortalAssets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalAssets")
            .field("files", &self.files.len())
            .field("urls", &self.urls)
            .finish()
    }
}

impl PortalAssets {
    /// The assets built into this binary (release) or found in `target/site` (debug).
    pub fn built_in() -> Result<PortalAssets, AssetsError> {
        let files = BuiltSite::iter().filter_map(|name| {
            let file = BuiltSite::get(&name)?;
            Some((name.into_owned(), file.data))
        });
        Self::from_files(files).map_err(AssetsError::NotEmbedded)
    }

    /// The assets in `dir` (`--site-root`), read once at start.
    pub fn from_dir(dir: &Path) -> Result<PortalAssets, AssetsError> {
        let shown = dir.display().to_string();
        let mut files = Vec::new();
        read_tree(dir, "", &mut files).map_err(|source| AssetsError::Unreadable {
            dir: shown.clone(),
            source,
        })?;
        Self::from_files(files).map_err(|what| AssetsError::MissingInDir { dir: shown, what })
    }

    /// No files at all: pages render without stylesheet or script. For tests of the API and of
    /// server-rendered markup only; `serve` never starts this way.
    pub fn none() -> PortalAssets {
        PortalAssets::default()
    }

    pub fn urls(&self) -> &Arc<AssetUrls> {
        &self.urls
    }

    fn from_files(
        files: impl IntoIterator<Item = (String, Raw)>,
    ) -> Result<PortalAssets, &'static str> {
        let mut raw: HashMap<String, Bytes> = files
            .into_iter()
            .filter(|(name, _)| !is_type_declaration(name))
            .map(|(name, bytes)| (name, to_bytes(bytes)))
            .collect();
        let names: Vec<String> = raw
            .keys()
            .filter(|n| !n.ends_with(".br") && !n.ends_with(".gz"))
            .cloned()
            .collect();
        let mut files = HashMap::new();
        for name in names {
            let brotli = raw.remove(&format!("{name}.br"));
            let gzip = raw.remove(&format!("{name}.gz"));
            let identity = raw.remove(&name).unwrap_or_default();
            let etag = format!("\"{}\"", hex_prefix(&Sha256::digest(&identity)));
            files.insert(
                name.clone(),
                Asset {
                    content_type: content_type(&name),
                    immutable: is_content_hashed(&name),
                    identity,
                    brotli,
                    gzip,
                    etag,
                },
            );
        }
        // The bundle's own files are `pkg/keyport.<hash>.<ext>`; the lazy pages' chunks, their
        // loader and the manifest that maps pages to chunks sit beside them. Every page but the
        // landing page is lazy, so a bundle built without `--split` cannot hydrate: refused.
        let exactly_one = |prefix: &str, ext: &str, what: &'static str| {
            let mut found = files
                .keys()
                .filter(|n| n.starts_with(prefix) && n.ends_with(ext));
            match (found.next(), found.next()) {
                (Some(one), None) => Ok(one.clone()),
                _ => Err(what),
            }
        };
        let main_prefix = format!("pkg/{OUTPUT_NAME}.");
        let manifest = exactly_one(
            "pkg/__wasm_split_manifest.",
            ".json",
            "pkg/__wasm_split_manifest.*.json (build with `cargo leptos build --split`)",
        )?;
        let chunks_by_lazy_fn = serde_json::from_slice(&files[&manifest].identity)
            .map_err(|_| "a readable pkg/__wasm_split_manifest.*.json")?;
        let loader = exactly_one(
            "pkg/__wasm_split.",
            ".js",
            "pkg/__wasm_split.*.js (the lazy pages' loader)",
        )?;
        let urls = AssetUrls {
            stylesheet: Some(format!(
                "/{}",
                exactly_one(&main_prefix, ".css", "pkg/keyport.*.css (the stylesheet)")?
            )),
            script: Some(format!(
                "/{}",
                exactly_one(
                    &main_prefix,
                    ".js",
                    "pkg/keyport.*.js (the hydration script)"
                )?
            )),
            wasm: Some(format!(
                "/{}",
                exactly_one(
                    &main_prefix,
                    ".wasm",
                    "pkg/keyport.*.wasm (the portal's WASM)"
                )?
            )),
            split: Some(SplitChunks {
                loader: loader.trim_start_matches("pkg/").to_string(),
                chunks_by_lazy_fn,
            }),
        };
        Ok(PortalAssets {
            files: Arc::new(files),
            urls: Arc::new(urls),
        })
    }
}

fn read_tree(dir: &Path, prefix: &str, out: &mut Vec<(String, Raw)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type()?.is_dir() {
            read_tree(&entry.path(), &format!("{name}/"), out)?;
        } else {
            out.push((name, Cow::Owned(std::fs::read(entry.path())?)));
        }
    }
    Ok(())
}

fn hex_prefix(digest: &[u8]) -> String {
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// `pkg/keyport.<hash>.wasm`: cargo-leptos (`hash-files`) puts a hash of the content in the
/// name, so a new build gets new names and a cached copy can never be stale.
fn is_content_hashed(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    name.starts_with("pkg/") && file.split('.').count() >= 3
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "wasm" => "application/wasm",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "json" => "application/json",
        "html" => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// The best encoding the client accepts among those we have: brotli, then gzip, else the
/// plain bytes (RFC 9110 §12.5.3; a coding with `q=0` is refused, `*` stands for the rest).
fn negotiate(accept_encoding: Option<&str>, have_brotli: bool, have_gzip: bool) -> Encoding {
    let Some(header) = accept_encoding else {
        return Encoding::Identity;
    };
    let accepts = |coding: &str| {
        let mut wildcard = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            if name.eq_ignore_ascii_case(coding) {
                return q > 0.0;
            }
            if name == "*" {
                wildcard = Some(q > 0.0);
            }
        }
        wildcard.unwrap_or(false)
    };
    if have_brotli && accepts("br") {
        Encoding::Brotli
    } else if have_gzip && accepts("gzip") {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// Answers GET and HEAD for a known file; everything else goes on to the portal.
pub async fn serve(State(assets): State<PortalAssets>, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let Some(asset) = assets.files.get(req.uri().path().trim_start_matches('/')) else {
        return next.run(req).await;
    };
    respond(asset, req.headers(), *req.method() == Method::HEAD)
}

fn respond(asset: &Asset, request: &HeaderMap, head: bool) -> Response {
    let accept = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let encoding = negotiate(accept, asset.brotli.is_some(), asset.gzip.is_some());
    let (body, coding, etag) = match (encoding, &asset.brotli, &asset.gzip) {
        (Encoding::Brotli, Some(br), _) => (br, Some("br"), etag_with(&asset.etag, "br")),
        (Encoding::Gzip, _, Some(gz)) => (gz, Some("gzip"), etag_with(&asset.etag, "gz")),
        _ => (&asset.identity, None, asset.etag.clone()),
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if asset.immutable {
            "public, max-age=31536000, immutable"
        } else {
            // Unhashed names (the favicon) may change with a release: revalidate after an hour.
            "public, max-age=3600"
        }),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if asset.brotli.is_some() || asset.gzip.is_some() {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if if_none_match(request, &etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    if let Some(coding) = coding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    if head {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        return (StatusCode::OK, headers).into_response();
    }
    (StatusCode::OK, headers, body.clone()).into_response()
}

fn etag_with(etag: &str, suffix: &str) -> String {
    format!("{}-{suffix}\"", etag.trim_end_matches('"'))
}

fn if_none_match(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brotli_first_then_gzip_and_q_zero_refuses() {
        use Encoding::*;
        assert_eq!(
            negotiate(Some("gzip, deflate, br, zstd"), true, true),
            Brotli
        );
        assert_eq!(negotiate(Some("gzip, br;q=0"), true, true), Gzip);
        assert_eq!(negotiate(Some("br"), false, true), Identity);
        assert_eq!(negotiate(Some("*"), true, true), Brotli);
        assert_eq!(negotiate(Some("*, br;q=0, gzip;q=0"), true, true), Identity);
        assert_eq!(negotiate(Some("GZIP;q=0.5"), true, true), Gzip);
        assert_eq!(negotiate(None, true, true), Identity);
        assert_eq!(negotiate(Some("identity"), true, true), Identity);
    }

    #[test]
    fn only_hashed_package_files_are_immutable() {
        assert!(is_content_hashed("pkg/keyport.Ab-9_x.wasm"));
        assert!(!is_content_hashed("pkg/keyport.wasm"));
        assert!(!is_content_hashed("favicon.svg"));
        assert!(!is_content_hashed("docs/a.b.png"));
    }

    #[test]
    fn a_site_without_its_wasm_is_refused_by_name() {
        let files = [
            file("pkg/keyport.a1.css", b"x"),
            file("pkg/keyport.a1.js", b"x"),
            file("pkg/__wasm_split.d4.js", b"x"),
            file("pkg/__wasm_split_manifest.g7.json", b"{}"),
        ];
        let missing = PortalAssets::from_files(files).err().unwrap();
        assert!(missing.contains("wasm"), "{missing}");
    }

    fn file(name: &str, bytes: &'static [u8]) -> (String, Raw) {
        (name.to_string(), Cow::Borrowed(bytes))
    }

    #[test]
    fn a_split_bundle_links_its_main_files_and_knows_each_pages_chunks() {
        let files = [
            file("pkg/keyport.a1.css", b"x"),
            file("pkg/keyport.b2.js", b"x"),
            file("pkg/keyport.c3.wasm", b"x"),
            file("pkg/__wasm_split.d4.js", b"x"),
            file("pkg/chunk_1.e5.wasm", b"x"),
            file("pkg/split___sign_in_route_view_1.f6.wasm", b"x"),
            file(
                "pkg/__wasm_split_manifest.g7.json",
                br#"{"__sign_in_route_view_1": ["chunk_1.e5", "split___sign_in_route_view_1.f6"]}"#,
            ),
        ];
        let urls = PortalAssets::from_files(files).unwrap().urls;
        assert_eq!(urls.script.as_deref(), Some("/pkg/keyport.b2.js"));
        assert_eq!(urls.wasm.as_deref(), Some("/pkg/keyport.c3.wasm"));
        let split = urls.split.clone().unwrap();
        assert_eq!(split.loader, "__wasm_split.d4.js");
        assert_eq!(
            split.chunks_by_lazy_fn["__sign_in_route_view_1"],
            ["chunk_1.e5", "split___sign_in_route_view_1.f6"]
        );
    }

    #[test]
    fn a_bundle_built_without_split_or_with_a_broken_manifest_or_no_loader_is_refused() {
        let main = || {
            [
                file("pkg/keyport.a1.css", b"x"),
                file("pkg/keyport.b2.js", b"x"),
                file("pkg/keyport.c3.wasm", b"x"),
            ]
        };
        let unsplit = PortalAssets::from_files(main()).err().unwrap();
        assert!(unsplit.contains("--split"), "{unsplit}");
        let manifest = file(
            "pkg/__wasm_split_manifest.g7.json",
            br#"{"f": ["chunk_1"]}"#,
        );
        let no_loader = PortalAssets::from_files(main().into_iter().chain([manifest]));
        assert!(no_loader.err().unwrap().contains("loader"));
        let broken = file("pkg/__wasm_split_manifest.g7.json", b"{not json");
        let loader = file("pkg/__wasm_split.d4.js", b"x");
        let unreadable = PortalAssets::from_files(main().into_iter().chain([broken, loader]));
        assert!(unreadable.err().unwrap().contains("readable"));
    }
}
