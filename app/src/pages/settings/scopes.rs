//! Settings → Scopes: the tenant's scope catalogue.

use leptos::prelude::*;

use super::{RefusalBeside, UnplacedRefusal, last_removed};
use crate::{
    components::forms::{FieldMessage, FormMessage, invalid, last_error},
    error::AppError,
    model::tenant::ScopeView,
    server_fns::tenant::{AddScope, DeleteScope, list_scopes},
};

#[derive(Clone, Copy)]
pub(super) struct ScopesState {
    add: ServerAction<AddScope>,
    delete: ServerAction<DeleteScope>,
    list: Resource<Result<Vec<ScopeView>, AppError>>,
}

impl ScopesState {
    pub(super) fn new() -> ScopesState {
        let add = ServerAction::<AddScope>::new();
        let delete = ServerAction::<DeleteScope>::new();
        let list = Resource::new(
            move || (add.version().get(), delete.version().get()),
            |_| list_scopes(),
        );
        ScopesState { add, delete, list }
    }
}

/// The tenant's scope catalogue: what apps may be allowed to request.
#[component]
pub(super) fn Scopes(state: ScopesState) -> impl IntoView {
    let ScopesState {
        add,
        delete,
        list: scopes,
    } = state;
    let error = last_error(add.value());
    let removing = last_removed(Signal::derive(move || delete.input().get().map(|d| d.name)));
    let remove_error = last_error(delete.value());
    view! {
        <h2 id="scopes-heading">"Scopes"</h2>
        <p class="hint">"The scopes apps of this tenant may be allowed, such as orders:read."</p>
        <UnplacedRefusal removing error=remove_error/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match scopes.await {
                    Ok(list) if list.is_empty() => view! { <p class="card">"No scopes yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table aria-labelledby="scopes-heading">
                            <thead><tr><th>"Scope"</th><th>"Description"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>{list.into_iter().map(|s| { let refused_name = s.name.clone(); view! {
                                <tr>
                                    <td class="mono">{s.name.clone()}</td>
                                    <td>{s.description.clone()}</td>
                                    <td class="row-actions">
                                        <ActionForm action=delete>
                                            <input type="hidden" name="name" value=s.name.clone()/>
                                            <button type="submit" class="button secondary">"Remove"</button>
                                        </ActionForm>
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
                <label for="scope-name">"Scope"</label>
                <input id="scope-name" name="name" placeholder="orders:read" aria-invalid=invalid(error, "name")/>
                <FieldMessage error field="name"/>
            </div>
            <div class="field">
                <label for="scope-description">"Description"</label>
                <input id="scope-description" name="description" maxlength="200"/>
                <FieldMessage error field="description"/>
            </div>
            <button type="submit" class="button">"Add scope"</button>
        </ActionForm>
    }
}
