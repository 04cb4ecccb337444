//! Settings → Tenant: its name and the default audience of its tokens.

use leptos::prelude::*;

use crate::{
    components::{
        copy::CopyButton,
        forms::{FieldMessage, FormMessage, SavedMessage, invalid, last_error, last_saved},
    },
    error::AppError,
    model::tenant::TenantView,
    server_fns::tenant::{UpdateTenant, get_tenant},
};

#[derive(Clone, Copy)]
pub(super) struct TenantState {
    update: ServerAction<UpdateTenant>,
    tenant: Resource<Result<TenantView, AppError>>,
}

impl TenantState {
    pub(super) fn new() -> TenantState {
        let update = ServerAction::<UpdateTenant>::new();
        let tenant = Resource::new(move || update.version().get(), |_| get_tenant());
        TenantState { update, tenant }
    }
}

/// The tenant's name and the default audience of its tokens.
#[component]
pub(super) fn Tenant(state: TenantState) -> impl IntoView {
    let TenantState { update, tenant } = state;
    let error = last_error(update.value());
    let saved = last_saved(update.value());
    view! {
        <h2>"Tenant"</h2>
        <SavedMessage saved/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match tenant.await {
                    Ok(t) => view! {
                        <ActionForm action=update attr:class="form card" attr:novalidate=true>
                            <FormMessage error/>
                            <div class="field">
                                <label for="tenant-name">"Name"</label>
                                <input id="tenant-name" name="name" value=t.name.clone() aria-invalid=invalid(error, "name")/>
                                <FieldMessage error field="name"/>
                            </div>
                            <div class="field">
                                <label for="tenant-audience">"Default audience"</label>
                                <input id="tenant-audience" name="audience" value=t.audience.clone() class="mono" aria-invalid=invalid(error, "audience")/>
                                <p class="hint">{if t.audience_is_default { "Derived from the public URL and this tenant. Set your API's identifier instead, or leave empty for the default." } else { "Leave empty to return to the derived default." }}</p>
                                <FieldMessage error field="audience"/>
                            </div>
                            <button type="submit" class="button">"Save tenant"</button>
                        </ActionForm>
                        <Issuer issuer=t.issuer discovery_url=t.discovery_url/>
                    }.into_any(),
                    Err(e) => view! { <p class="alert alert-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What a resource server of this tenant is configured with: tokens whose `iss` is anything
/// else are not this tenant's, and the discovery document leads to the keys.
#[component]
fn Issuer(issuer: String, discovery_url: String) -> impl IntoView {
    view! {
        <div class="card" role="group" aria-labelledby="issuer-heading">
            <h3 id="issuer-heading">"Issuer"</h3>
            <p class="hint">
                "Configure your APIs with these: accept a token only if its "<code>"iss"</code>
                " is this issuer, its signature checks against the keys the discovery document lists, and its "
                <code>"aud"</code>" is your API's audience."
            </p>
            <CopyField id="tenant-issuer" label="Issuer" value=issuer copy_label="Copy issuer"/>
            <CopyField id="tenant-discovery" label="Discovery URL" value=discovery_url copy_label="Copy discovery URL"/>
        </div>
    }
}

/// A read-only value with its label and a copy button.
#[component]
fn CopyField(
    id: &'static str,
    label: &'static str,
    value: String,
    copy_label: &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <div class="copy-row">
                <input id=id readonly value=value.clone() class="mono"/>
                <CopyButton value label=copy_label/>
            </div>
        </div>
    }
}
