//! The portal's files: the page links the content-hashed names, each is served in the best
//! encoding the browser accepts, cached for a year, and revalidated by ETag. The release
//! binary carrying them itself is checked end to end in end2end/release.

use std::path::Path;

use server::http::assets::PortalAssets;

use crate::helpers::{TestApp, spawn_app_with_assets};

/// A site as `cargo leptos build --release --precompress --split` lays it out, with
/// recognisable bytes.
fn built_site(dir: &Path) {
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    for (name, body) in [
        ("keyport.h4sh1.css", "body{}"),
        ("keyport.h4sh2.js", "export default function(){}"),
        ("keyport.h4sh3.wasm", "\0asm-identity"),
        ("__wasm_split.h4sh4.js", "export function load(){}"),
        (
            "__wasm_split_manifest.h4sh5.json",
            r#"{"__sign_in_route_view_1": ["chunk_1.h4sh6"]}"#,
        ),
        ("chunk_1.h4sh6.wasm", "\0asm-chunk"),
        ("keyport.d.ts", "export function hydrate(): void;"),
        (
            "keyport_bg.wasm.d.ts",
            "export const memory: WebAssembly.Memory;",
        ),
    ] {
        std::fs::write(pkg.join(name), body).unwrap();
        std::fs::write(pkg.join(format!("{name}.br")), format!("br:{body}")).unwrap();
        std::fs::write(pkg.join(format!("{name}.gz")), format!("gz:{body}")).unwrap();
    }
    std::fs::write(dir.join("favicon.svg"), "<svg/>").unwrap();
}

/// The application serving [`built_site`], which it reads at start.
async fn spawn_app_with_built_site() -> TestApp {
    let site = tempfile::tempdir().unwrap();
    built_site(site.path());
    spawn_app_with_assets(PortalAssets::from_dir(site.path()).unwrap()).await
}

#[tokio::test]
async fn pages_link_hashed_assets_served_compressed_cacheable_and_revalidated() {
    let app = spawn_app_with_built_site().await;

    let page = app.get("/").await.text().await.unwrap();
    for linked in [
        r#"<link rel="stylesheet" href="/pkg/keyport.h4sh1.css""#,
        r#"<link rel="modulepreload" href="/pkg/keyport.h4sh2.js""#,
        r#"<link rel="preload" href="/pkg/keyport.h4sh3.wasm""#,
        r#"import("/pkg/keyport.h4sh2.js")"#,
        r#"module_or_path: "/pkg/keyport.h4sh3.wasm""#,
    ] {
        assert!(
            page.contains(linked),
            "{linked} missing from the page:\n{page}"
        );
    }

    let get = |path: &'static str, accept: &'static str| {
        app.client
            .get(app.url(path))
            .header("accept-encoding", accept)
    };
    let wasm = get("/pkg/keyport.h4sh3.wasm", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), 200);
    let headers = wasm.headers().clone();
    assert_eq!(headers["content-type"], "application/wasm");
    assert_eq!(headers["content-encoding"], "br");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers["vary"], "accept-encoding");
    assert_eq!(wasm.bytes().await.unwrap(), "br:\0asm-identity".as_bytes());
    let etag = headers["etag"].to_str().unwrap().to_string();

    let again = get("/pkg/keyport.h4sh3.wasm", "br")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    let gzip = get("/pkg/keyport.h4sh1.css", "gzip").send().await.unwrap();
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert_eq!(gzip.headers()["content-type"], "text/css; charset=utf-8");
    let gzip_etag = gzip.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(gzip.text().await.unwrap(), "gz:body{}");

    // Another representation has another ETag, so a cache cannot mix them up.
    let plain = get("/pkg/keyport.h4sh1.css", "identity")
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_ne!(plain.headers()["etag"].to_str().unwrap(), gzip_etag);
    assert_eq!(plain.text().await.unwrap(), "body{}");

    // Unhashed names are revalidated rather than kept for a year.
    let icon = get("/favicon.svg", "br").send().await.unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert_eq!(icon.headers()["cache-control"], "public, max-age=3600");
    assert!(icon.headers().contains_key("etag"));
}

#[tokio::test]
async fn nothing_outside_the_site_is_served_and_unknown_files_are_the_404_page() {
    let app = spawn_app_with_built_site().await;

    for path in [
        "/pkg/keyport.css",
        "/pkg/keyport.d.ts",
        "/pkg/keyport_bg.wasm.d.ts",
        "/pkg/keyport_bg.wasm.d.ts.br",
        "/pkg/../Cargo.toml",
        "/Cargo.toml",
        "/target/site/favicon.svg",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
    }
    let post = app
        .client
        .post(app.url("/pkg/keyport.h4sh1.css"))
        .send()
        .await
        .unwrap();
    assert_ne!(post.status(), 200);
}

#[test]
fn a_site_folder_without_its_wasm_is_an_error_naming_what_is_missing() {
    let site = tempfile::tempdir().unwrap();
    built_site(site.path());
    std::fs::remove_file(site.path().join("pkg/keyport.h4sh3.wasm")).unwrap();
    let error = PortalAssets::from_dir(site.path()).unwrap_err().to_string();
    assert!(error.contains("pkg/keyport.*.wasm"), "{error}");

    let missing = PortalAssets::from_dir(&site.path().join("nowhere"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("nowhere"), "{missing}");
}

/// A lazy page links its own chunks and their loader in its head, so a first visit fetches
/// them with the main bundle; the landing page, not lazy, links none. (That every render does,
/// many at once on many threads, is checked against the release binary in end2end/release:
/// leptos' own linking ran outside the request's owner and under load linked nothing.)
#[tokio::test]
async fn a_lazy_page_preloads_its_own_chunks_and_their_loader() {
    let app = spawn_app_with_built_site().await;

    let page = app.get("/signin").await.text().await.unwrap();
    let head = page.split("</head>").next().unwrap();
    for href in [
        r#"href="/pkg/chunk_1.h4sh6.wasm""#,
        r#"href="/pkg/__wasm_split.h4sh4.js""#,
    ] {
        assert_eq!(head.matches(href).count(), 1, "{href} once in:\n{head}");
    }
    let landing = app.get("/").await.text().await.unwrap();
    assert!(!landing.contains("chunk_1"), "the landing page is not lazy");
}
