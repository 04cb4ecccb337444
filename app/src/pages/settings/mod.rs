//! Settings (admins only), one module per section; the page makes every section's state
//! (its resources) itself, before anything suspends (see `crate::pages`).

mod invitations;
mod keys;
mod members;
mod scopes;
mod tenant;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{components::guard::RequireViewer, server_fns::keys::list_signing_keys};

use invitations::{Invitations, InvitationsState};
use keys::SigningKeys;
use members::{Members, MembersState};
use scopes::{Scopes, ScopesState};
use tenant::{Tenant, TenantState};

/// Settings (admins only): members and invitations, scopes, the tenant and its signing keys.
#[component]
pub fn SettingsPage() -> impl IntoView {
    // Every section's resource is made with the page, not under the viewer's Suspense (see
    // `crate::pages`).
    let (members, invitations) = (MembersState::new(), InvitationsState::new());
    let (scopes, tenant) = (ScopesState::new(), TenantState::new());
    let keys = Resource::new(|| (), |_| list_signing_keys());
    view! {
        <Title text="Settings"/>
        <RequireViewer admin_only=true children=Box::new(move |viewer| view! {
            <Members viewer state=members/>
            <Invitations state=invitations/>
            <Scopes state=scopes/>
            <Tenant state=tenant/>
            <SigningKeys keys/>
        }.into_any())/>
    }
}
