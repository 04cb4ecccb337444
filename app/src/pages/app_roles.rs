//! The app page's Roles tab: the roles and audiences the tenant gives the app. (Its scopes and
//! token lifetime are on the OAuth & access scopes tab.)

use leptos::prelude::*;

use crate::{
    components::forms::{FieldMessage, FormMessage, SavedMessage, invalid, last_error, last_saved},
    model::apps::AppView,
    pages::app_detail::KeepFields,
    server_fns::apps::UpdateApp,
};

/// Roles and audiences are grants only admins make (the server refuses anyone else): an
/// admin gets a form for them, a developer sees them (and edits the app's other settings on
/// its other tabs, whose forms carry them unchanged).
#[component]
pub(super) fn RolesTab(
    app: AppView,
    update: ServerAction<UpdateApp>,
    admin: bool,
) -> impl IntoView {
    let (roles, audiences) = (app.roles.join(" "), app.audiences.join(" "));
    if !admin {
        let listed = |list: String| {
            if list.is_empty() {
                "None".to_string()
            } else {
                list
            }
        };
        return view! {
            <div class="card">
                <div class="field">
                    <p class="label">"Roles"</p>
                    <p class="mono" data-testid="app-roles">{listed(roles)}</p>
                    <p class="hint">"Only tenant admins give apps roles and audiences."</p>
                </div>
                <div class="field">
                    <p class="label">"Allowed audiences"</p>
                    <p class="mono" data-testid="app-audiences">{listed(audiences)}</p>
                </div>
            </div>
        }
        .into_any();
    }
    let error = last_error(update.value());
    let saved = last_saved(update.value());
    view! {
        <ActionForm action=update attr:class="form card" attr:novalidate=true>
            <KeepFields app=app.clone() except=&["roles", "audiences"]/>
            <FormMessage error/>
            <SavedMessage saved/>
            <div class="field">
                <label for="app-roles">"Roles"</label>
                <input id="app-roles" name="roles" value=roles aria-invalid=invalid(error, "roles")/>
                <p class="hint">"Space-separated, from Settings → Roles; issued in the token's roles claim. admin on a tool client opens the management API."</p>
                <FieldMessage error field="roles"/>
            </div>
            <div class="field">
                <label for="app-audiences">"Allowed audiences"</label>
                <input id="app-audiences" name="audiences" value=audiences aria-invalid=invalid(error, "audiences")/>
                <p class="hint">"Space-separated API identifiers it may ask tokens for (audience or resource), besides the tenant's default audience."</p>
                <FieldMessage error field="audiences"/>
            </div>
            <button type="submit" class="button">"Save"</button>
        </ActionForm>
    }
    .into_any()
}
