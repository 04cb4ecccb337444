use leptos::prelude::*;
use leptos_router::components::A;

use crate::{model::accounts::Viewer, portal::Portal};

/// Header with navigation, the page's content, and a footer.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let portal = expect_context::<Portal>();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <nav aria-label="Main">
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    " Keyport"
                </A>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let viewer = portal.context.await.ok().and_then(|c| c.viewer);
                        view! { <NavLinks viewer/> }
                    })}
                </Transition>
            </nav>
        </header>
        <main id="main">{children()}</main>
        <footer class="site-footer">
            <p>"Keyport " {env!("CARGO_PKG_VERSION")}</p>
        </footer>
    }
}

#[component]
fn NavLinks(viewer: Option<Viewer>) -> impl IntoView {
    let portal = expect_context::<Portal>();
    let Some(viewer) = viewer else {
        return view! {
            <ul class="nav-links"><li><A href="/">"Overview"</A></li></ul>
            <div class="nav-end">
                <A href="/signin">"Sign in"</A>
                <A href="/signup" attr:class="button">"Sign up"</A>
            </div>
        }
        .into_any();
    };
    let is_admin = viewer.role.can_administer_tenant();
    let switcher = (viewer.tenants.len() > 1).then(|| {
        let current = viewer.tenant_id.clone();
        view! {
            <ActionForm action=portal.switch_tenant attr:class="tenant-switch">
                <label for="tenant-switch" class="sr-only">"Tenant"</label>
                <select id="tenant-switch" name="tenant_id">
                    {viewer.tenants.iter().map(|t| view! {
                        <option value=t.id.clone() selected=t.id == current>{t.name.clone()}</option>
                    }).collect_view()}
                </select>
                <button type="submit" class="button secondary">"Switch"</button>
            </ActionForm>
        }
    });
    view! {
        <ul class="nav-links">
            <li><A href="/apps">"Apps"</A></li>
            <li><A href="/connected">"Connected apps"</A></li>
            {is_admin.then(|| view! { <li><A href="/settings">"Settings"</A></li> })}
        </ul>
        <div class="nav-end">
            {switcher}
            <span class="muted" title=viewer.email.clone()>{viewer.display_name.clone()}</span>
            <ActionForm action=portal.sign_out>
                <button type="submit" class="button secondary">"Sign out"</button>
            </ActionForm>
        </div>
    }
    .into_any()
}
