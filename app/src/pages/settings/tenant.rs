//! Settings → Tenant: its name and the default audience of its tokens.

use leptos::prelude::*;

use crate::{
    components::forms::{FieldMessage, FormMessage, SavedMessage, invalid, last_error, last_saved},
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
                                <p class="hint">{if t.audience_is_default { "Derived from the issuer and this tenant. Set your API's identifier instead, or leave empty for the default." } else { "Leave empty to return to the derived default." }}</p>
                                <FieldMessage error field="audience"/>
                            </div>
                            <button type="submit" class="button">"Save tenant"</button>
                        </ActionForm>
                    }.into_any(),
                    Err(e) => view! { <p class="alert alert-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
