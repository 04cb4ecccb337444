//! The portal: the HTML shell, the router, and one module per screen.
//!
//! **Every `Resource` of a page is made in the page's own component, before anything
//! suspends**, and handed down; never inside a `Suspend`, a `<Suspense>`'s children, or a
//! reactive closure (such as the one that picks a tab). Resources are numbered in the order
//! they are made, and the browser finds each one's server-side value by that number. On the
//! server a `<Suspense>` walks its children more than once to find what they read, and how
//! often depends on timing; a resource made inside them is made again on each walk, so its
//! number on the server drifts away from its number in the browser. The browser then finds
//! no value (or another resource's), suspends while hydrating, and the page dies with a
//! hydration panic (issue #11). (`<Suspense>`s made below a `Suspend` drift the same way; that
//! is harmless only because every resource is numbered before them.) Likewise, what a page shows never depends on the browser's
//! clock: times that decide markup (a secret's status) come from the server.

use leptos::prelude::*;
use leptos_meta::{Link, MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, LazyRoute, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
    lazy_route, path,
};

use crate::{components::layout::Layout, model::assets::AssetUrls, portal::Portal};

mod app_detail;
mod app_new;
mod app_oauth;
mod app_roles;
mod apps;
mod authorize_notice;
mod confirm;
mod connected_apps;
mod consent;
mod home;
mod invitations;
mod not_allowed;
mod not_found;
mod settings;
mod sign_in;
mod sign_up;

pub use app_detail::AppPage;
pub use app_new::NewAppPage;
pub use apps::AppsPage;
pub use authorize_notice::AuthorizeNoticePage;
pub use confirm::{AppDeletePage, SecretConfirmPage};
pub use connected_apps::{ConnectedAppsPage, RevokeConnectedAppPage};
pub use consent::ConsentPage;
pub use home::HomePage;
pub use not_allowed::NotAllowedPage;
pub use not_found::NotFoundPage;
pub use settings::SettingsPage;
pub use sign_in::SignInPage;
pub use sign_up::SignUpPage;

/// The document around every server-rendered page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::csp::set_page_policy();
    #[cfg(feature = "ssr")]
    let assets =
        with_context::<crate::state::AppState, _>(|state| state.assets.clone()).unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let assets = std::sync::Arc::new(AssetUrls::default());
    // No `leptos::WasmSplitManifest` context: leptos' response builder would link the lazy
    // pages' chunks from it after rendering, outside the request's reactive owner, so under
    // load it finds another thread's owner (or none) and links nothing. Each lazy page links
    // its own instead ([`preload_own_chunks`]).
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options/>
                <PortalAssets assets/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// A lazy page's chunk can be gone: a tab opened before the server was upgraded asks for the old
/// release's file names, gets 404, and the WASM aborts mid-navigation, leaving a page that no
/// longer answers. Only then (a `/pkg/` file failed, then the WASM aborted, after hydration)
/// the address the visitor was going to is loaded from the server, which renders it with the
/// current files: the link just followed while the address has not changed yet, else the
/// current address. Never twice for one address within a minute, so a page that keeps failing
/// cannot reload forever; any other abort is left alone (it could hold a secret shown once).
const RELOAD_WHEN_A_CHUNK_IS_GONE: &str = r#"const keyport = { target: null, from: null, chunkFailed: false };
const keyportFetch = window.fetch;
window.fetch = (input, init) => keyportFetch(input, init).then((res) => {
  if (!res.ok && new URL(res.url, location.href).pathname.startsWith('/pkg/')) keyport.chunkFailed = true;
  return res;
});
addEventListener('click', (e) => {
  const link = e.target instanceof Element && e.target.closest('a[href]');
  const plain = e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey;
  if (!link || !plain || link.origin !== location.origin || link.hasAttribute('download')) return;
  if (link.target && link.target !== '_self') return;
  keyport.target = link.href;
  keyport.from = location.href;
}, true);
addEventListener('error', (e) => {
  if (!(e.error instanceof WebAssembly.RuntimeError) || !keyport.chunkFailed) return;
  if (!document.body.dataset.hydrated) return;
  const target = keyport.from === location.href ? keyport.target : location.href;
  const key = 'keyport-reloaded:' + target;
  if (Date.now() - Number(sessionStorage.getItem(key) ?? 0) < 60000) return;
  sessionStorage.setItem(key, String(Date.now()));
  if (target.split('#')[0] === location.href.split('#')[0]) location.reload();
  else location.assign(target);
});"#;

/// The stylesheet and the script that hydrates the page. Leptos' `HydrationScripts` would read
/// the content-hashed names from a file beside the executable on every render; this server
/// knows them from the assets it loaded at start. The inline script carries the page's CSP
/// nonce; the preloads let the browser fetch JS and WASM while it parses the page.
#[component]
fn PortalAssets(assets: std::sync::Arc<AssetUrls>) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    let stylesheet = assets
        .stylesheet
        .clone()
        .map(|href| view! { <link rel="stylesheet" href=href/> });
    let hydration = assets.script.clone().zip(assets.wasm.clone()).map(|(script, wasm)| {
        let boot = format!(
            "{RELOAD_WHEN_A_CHUNK_IS_GONE}\nimport({script:?}).then(m => m.default({{module_or_path: {wasm:?}}}).then(() => m.hydrate()));"
        );
        view! {
            <link rel="modulepreload" href=script crossorigin="anonymous"/>
            <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
            <script type="module" nonce=nonce>{boot}</script>
        }
    });
    view! { {stylesheet} {hydration} }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    Portal::provide();
    // Async: pages wait for who is signed in before the first byte, so a redirect to sign-in
    // or a 403 can still set the status. Every page but the landing page is a lazy route: its
    // code is a separate WASM chunk (`cargo leptos --split`), fetched when the page is first
    // shown, so the landing page loads only what it needs (issue #15's size budget).
    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Title formatter=|page: String| crate::components::raw_text::raw_text(format!("{page} · Keyport"))/>
        <Router>
            <Layout>
                <Routes fallback=NotFoundPage>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("signup") view={Lazy::<SignUpRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("signin") view={Lazy::<SignInRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("apps") view={Lazy::<AppsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/apps/new") view={Lazy::<NewAppRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/apps/:client_id") view={Lazy::<AppRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/apps/:client_id/delete") view={Lazy::<AppDeleteRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/apps/:client_id/secrets/:secret_id/refresh")
                        view={Lazy::<SecretRefreshRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/apps/:client_id/secrets/:secret_id/delete")
                        view={Lazy::<SecretDeleteRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("consent") view={Lazy::<ConsentRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("connected") view={Lazy::<ConnectedAppsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/connected/:client_id/revoke") view={Lazy::<RevokeConnectedAppRoute>::new()} ssr=SsrMode::Async/>
                    // Rendered only by the authorization endpoint, never listed as a page route
                    // of their own (the server's `route_list` leaves them out).
                    <Route path=path!("/oauth/authorize") view={Lazy::<AuthorizeNoticeRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/t/:tenant/oauth/authorize") view={Lazy::<AuthorizeNoticeRoute>::new()} ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// Links the WASM chunks of the lazy route `route` and their loader in the page's head, so a
/// first visit to a lazy page fetches them alongside the main bundle instead of after
/// hydration asks for them. Runs while the route renders, in its owner, so the links reach
/// this response's head and no other.
#[cfg(feature = "ssr")]
fn preload_own_chunks(route: &str) {
    let links = with_context::<crate::state::AppState, _>(|state| {
        let split = state.assets.split.as_ref()?;
        let chunks: Vec<String> = split
            .of_lazy_route(route)
            .into_iter()
            .map(|chunk| format!("/pkg/{chunk}.wasm"))
            .collect();
        Some((chunks, format!("/pkg/{}", split.loader)))
    })
    .flatten();
    let Some((chunks, loader)) = links else {
        return;
    };
    // `to_html` of a meta component hands its tag to the response's head and renders nothing
    // here.
    for href in chunks {
        let _ = view! {
            <Link rel="preload" href=href as_="fetch" type_="application/wasm" crossorigin="anonymous"/>
        }
        .to_html();
    }
    let _ = view! { <Link rel="modulepreload" href=loader crossorigin="anonymous"/> }.to_html();
}

/// A route whose page is compiled into its own WASM chunk. The page still makes its own
/// resources (see the module comment), so `data` carries nothing: on the first visit the
/// server has already rendered the page and sent its data; later navigations fetch the chunk,
/// then the data.
macro_rules! lazy_page {
    ($route:ident => $page:expr) => {
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                #[cfg(feature = "ssr")]
                preload_own_chunks(stringify!($route));
                $page.into_any()
            }
        }
    };
}

lazy_page!(SignUpRoute => view! { <SignUpPage/> });
lazy_page!(SignInRoute => view! { <SignInPage/> });
lazy_page!(AppsRoute => view! { <AppsPage/> });
lazy_page!(NewAppRoute => view! { <NewAppPage/> });
lazy_page!(AppRoute => view! { <AppPage/> });
lazy_page!(AppDeleteRoute => view! { <AppDeletePage/> });
lazy_page!(SecretRefreshRoute => view! { <SecretConfirmPage refresh=true/> });
lazy_page!(SecretDeleteRoute => view! { <SecretConfirmPage refresh=false/> });
lazy_page!(SettingsRoute => view! { <SettingsPage/> });
lazy_page!(ConsentRoute => view! { <ConsentPage/> });
lazy_page!(ConnectedAppsRoute => view! { <ConnectedAppsPage/> });
lazy_page!(RevokeConnectedAppRoute => view! { <RevokeConnectedAppPage/> });
lazy_page!(AuthorizeNoticeRoute => view! { <AuthorizeNoticePage/> });
