//! Settings (admins only), one module per section; the page makes every section's state
//! (its resources) itself, before anything suspends (see `crate::pages`).

mod invitations;
mod keys;
mod members;
mod roles;
mod scopes;
mod tenant;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    components::guard::RequireViewer, error::AppError, server_fns::keys::list_signing_keys,
};

use invitations::{Invitations, InvitationsState};
use keys::SigningKeys;
use members::{Members, MembersState};
use roles::{Roles, RolesState};
use scopes::{Scopes, ScopesState};
use tenant::{Tenant, TenantState};

/// Settings (admins only): members and invitations, scopes, roles, the tenant and its signing
/// keys.
#[component]
pub fn SettingsPage() -> impl IntoView {
    // Every section's resource is made with the page, not under the viewer's Suspense (see
    // `crate::pages`).
    let (members, invitations) = (MembersState::new(), InvitationsState::new());
    let (scopes, roles, tenant) = (ScopesState::new(), RolesState::new(), TenantState::new());
    let keys = Resource::new(|| (), |_| list_signing_keys());
    view! {
        <Title text="Settings"/>
        <RequireViewer admin_only=true children=Box::new(move |viewer| view! {
            <Members viewer state=members/>
            <Invitations state=invitations/>
            <Scopes state=scopes/>
            <Roles state=roles/>
            <Tenant state=tenant/>
            <SigningKeys keys/>
        }.into_any())/>
    }
}

/// The name of the catalogue entry whose Remove was pressed last, kept after the answer
/// comes (an action forgets its input then), so a refusal (a scope or role still given to
/// apps) shows beside that entry. `removing` is the entry being removed, while it is.
fn last_removed(removing: Signal<Option<String>>) -> RwSignal<Option<String>> {
    let last = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(name) = removing.get() {
            last.set(Some(name));
        }
    });
    last
}

/// The refusal to remove `name`, beside it, when it was the entry last removed.
#[component]
fn RefusalBeside(
    name: String,
    removing: RwSignal<Option<String>>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    move || {
        let refused = removing.read().as_deref() == Some(name.as_str());
        refused.then(|| error.get()).flatten().map(|e| {
            view! { <p class="field-error" role="alert">{e.to_string()}</p> }
        })
    }
}

/// A refusal no entry can be found for: after a plain form post (no WASM) the page does
/// not know which Remove was pressed; the message names the entry.
#[component]
fn UnplacedRefusal(
    removing: RwSignal<Option<String>>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    move || {
        removing
            .read()
            .is_none()
            .then(|| error.get())
            .flatten()
            .map(|e| {
                view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }
            })
    }
}
