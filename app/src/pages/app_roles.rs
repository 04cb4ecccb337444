//! The app page's Roles tab: roles, allowed scopes, audiences and token lifetime.

use leptos::prelude::*;

use crate::{
    components::forms::{FieldMessage, FormMessage, SavedMessage, invalid, last_error, last_saved},
    model::apps::AppView,
    pages::app_detail::KeepFields,
    server_fns::apps::UpdateApp,
};

/// Roles and audiences are grants only admins make (the server refuses anyone else): an
/// admin gets editors for them, a developer sees them, and the form carries them unchanged.
#[component]
pub(super) fn RolesTab(
    app: AppView,
    update: ServerAction<UpdateApp>,
    admin: bool,
) -> impl IntoView {
    let error = last_error(update.value());
    let saved = last_saved(update.value());
    let edited: &'static [&'static str] = if admin {
        &["roles", "scopes", "audiences", "token_lifetime_secs"]
    } else {
        &["scopes", "token_lifetime_secs"]
    };
    let (roles, audiences) = (app.roles.join(" "), app.audiences.join(" "));
    let listed = |list: &str| {
        if list.is_empty() {
            "None".to_string()
        } else {
            list.to_string()
        }
    };
    view! {
        <ActionForm action=update attr:class="form card" attr:novalidate=true>
            <KeepFields app=app.clone() except=edited/>
            <FormMessage error/>
            <SavedMessage saved/>
            {if admin {
                view! {
                    <div class="field">
                        <label for="app-roles">"Roles"</label>
                        <input id="app-roles" name="roles" value=roles aria-invalid=invalid(error, "roles")/>
                        <p class="hint">"Space-separated, from Settings → Roles; issued in the token's roles claim. admin on a tool client opens the management API."</p>
                        <FieldMessage error field="roles"/>
                    </div>
                }.into_any()
            } else {
                view! {
                    <div class="field">
                        <p class="label">"Roles"</p>
                        <p class="mono" data-testid="app-roles">{listed(&roles)}</p>
                        <p class="hint">"Only tenant admins give apps roles and audiences."</p>
                        <FieldMessage error field="roles"/>
                    </div>
                }.into_any()
            }}
            <div class="field">
                <label for="app-scopes">"Allowed scopes"</label>
                <input id="app-scopes" name="scopes" value=app.scopes.join(" ") aria-invalid=invalid(error, "scopes")/>
                <FieldMessage error field="scopes"/>
            </div>
            {if admin {
                view! {
                    <div class="field">
                        <label for="app-audiences">"Allowed audiences"</label>
                        <input id="app-audiences" name="audiences" value=audiences aria-invalid=invalid(error, "audiences")/>
                        <p class="hint">"Space-separated API identifiers it may ask tokens for (audience or resource), besides the tenant's default audience."</p>
                        <FieldMessage error field="audiences"/>
                    </div>
                }.into_any()
            } else {
                view! {
                    <div class="field">
                        <p class="label">"Allowed audiences"</p>
                        <p class="mono" data-testid="app-audiences">{listed(&audiences)}</p>
                        <FieldMessage error field="audiences"/>
                    </div>
                }.into_any()
            }}
            <div class="field">
                <label for="app-lifetime">"Access-token lifetime (seconds)"</label>
                <input id="app-lifetime" name="token_lifetime_secs" type="number" min="60" max="3600" value=app.token_lifetime_secs.to_string()
                    aria-invalid=invalid(error, "token_lifetime_secs")/>
                <FieldMessage error field="token_lifetime_secs"/>
            </div>
            <button type="submit" class="button">"Save"</button>
        </ActionForm>
    }
}
