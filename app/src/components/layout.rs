use leptos::prelude::*;
use leptos_router::components::A;

/// Header with navigation, the page's content, and a footer.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <nav aria-label="Main">
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    " Keyport"
                </A>
                <ul class="nav-links">
                    <li><A href="/">"Overview"</A></li>
                </ul>
            </nav>
        </header>
        <main id="main">{children()}</main>
        <footer class="site-footer">
            <p>"Keyport " {env!("CARGO_PKG_VERSION")}</p>
        </footer>
    }
}
