//! Settings → Roles: the tenant's role catalogue (seed 004's tenant roles).

use leptos::prelude::*;

use super::{RefusalBeside, UnplacedRefusal, last_removed};
use crate::{
    components::forms::{FieldMessage, FormMessage, invalid, last_error},
    domain::roles::ADMIN,
    error::AppError,
    model::tenant::RoleView,
    server_fns::roles::{AddRole, DeleteRole, list_roles},
};

#[derive(Clone, Copy)]
pub(super) struct RolesState {
    add: ServerAction<AddRole>,
    delete: ServerAction<DeleteRole>,
    list: Resource<Result<Vec<RoleView>, AppError>>,
}

impl RolesState {
    pub(super) fn new() -> RolesState {
        let add = ServerAction::<AddRole>::new();
        let delete = ServerAction::<DeleteRole>::new();
        let list = Resource::new(
            move || (add.version().get(), delete.version().get()),
            |_| list_roles(),
        );
        RolesState { add, delete, list }
    }
}

/// The tenant's role catalogue: the roles admins may give apps, issued in their tokens.
#[component]
pub(super) fn Roles(state: RolesState) -> impl IntoView {
    let RolesState {
        add,
        delete,
        list: roles,
    } = state;
    let error = last_error(add.value());
    let removing = last_removed(Signal::derive(move || delete.input().get().map(|d| d.name)));
    let remove_error = last_error(delete.value());
    view! {
        <h2 id="roles-heading">"Roles"</h2>
        <p class="hint">"The roles admins may give this tenant's apps, issued in their tokens' roles claim. admin, built in, opens the management API to a tool client."</p>
        <UnplacedRefusal removing error=remove_error/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match roles.await {
                    Ok(list) if list.is_empty() => view! { <p class="card">"No roles yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table aria-labelledby="roles-heading">
                            <thead><tr><th>"Role"</th><th>"Description"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>{list.into_iter().map(|s| { let refused_name = s.name.clone(); view! {
                                <tr>
                                    <td class="mono">{s.name.clone()}</td>
                                    <td>{s.description.clone()}</td>
                                    <td class="row-actions">
                                        {if s.name == ADMIN {
                                            view! { <span class="muted">"Built in"</span> }.into_any()
                                        } else {
                                            view! {
                                                <ActionForm action=delete>
                                                    <input type="hidden" name="name" value=s.name.clone()/>
                                                    <button type="submit" class="button secondary">"Remove"</button>
                                                </ActionForm>
                                            }.into_any()
                                        }}
                                        <RefusalBeside name=refused_name removing error=remove_error/>
                                    </td>
                                </tr>
                            }}).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="alert alert-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
        <ActionForm action=add attr:class="form card inline-form" attr:novalidate=true>
            <FormMessage error/>
            <div class="field">
                <label for="role-name">"Role"</label>
                <input id="role-name" name="name" placeholder="billing:reader" aria-invalid=invalid(error, "name")/>
                <FieldMessage error field="name"/>
            </div>
            <div class="field">
                <label for="role-description">"Description"</label>
                <input id="role-description" name="description" maxlength="200"/>
                <FieldMessage error field="description"/>
            </div>
            <button type="submit" class="button">"Add role"</button>
        </ActionForm>
    }
}
