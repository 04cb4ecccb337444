//! Settings → Members: who is in the tenant, with which role.

use leptos::prelude::*;

use crate::{
    components::forms::{FormMessage, last_error},
    domain::membership::Role,
    error::AppError,
    model::accounts::{MemberView, Viewer},
    server_fns::members::{ChangeMemberRole, RemoveMember, list_members},
};

#[derive(Clone, Copy)]
pub(super) struct MembersState {
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
    list: Resource<Result<Vec<MemberView>, AppError>>,
}

impl MembersState {
    pub(super) fn new() -> MembersState {
        let change = ServerAction::<ChangeMemberRole>::new();
        let remove = ServerAction::<RemoveMember>::new();
        let list = Resource::new(
            move || (change.version().get(), remove.version().get()),
            |_| list_members(),
        );
        MembersState {
            change,
            remove,
            list,
        }
    }
}

#[component]
pub(super) fn Members(viewer: Viewer, state: MembersState) -> impl IntoView {
    let MembersState {
        change,
        remove,
        list: members,
    } = state;
    let (changed, removed) = (last_error(change.value()), last_error(remove.value()));
    let change_error = Signal::derive(move || changed.get().or_else(|| removed.get()));

    view! {
        <section>
            <h1>"Settings"</h1>
            <p class="lead">{format!("Tenant: {}", viewer.tenant_name)}</p>
            <h2 id="members-heading">"Members"</h2>
            <FormMessage error=change_error/>
            <Suspense fallback=|| view! { <p class="muted">"Loading members…"</p> }>
                {move || Suspend::new(async move {
                    match members.await {
                        Ok(list) => view! { <MemberTable list change remove/> }.into_any(),
                        Err(e) => view! { <p class="alert alert-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn MemberTable(
    list: Vec<MemberView>,
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    view! {
        <table aria-labelledby="members-heading">
            <thead>
                <tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th><span class="sr-only">"Actions"</span></th></tr>
            </thead>
            <tbody>
                {list.into_iter().map(|m| {
                    let other_role = if m.role == Role::Admin { Role::Developer } else { Role::Admin };
                    let you = if m.is_you { " (you)" } else { "" };
                    let (change_id, remove_id) = (m.user_id.clone(), m.user_id.clone());
                    view! {
                        <tr data-member=m.email.clone()>
                            <td>{m.display_name.clone()}{you}</td>
                            <td>{m.email.clone()}</td>
                            <td>{m.role.label()}</td>
                            <td class="row-actions">
                                <ActionForm action=change>
                                    <input type="hidden" name="user_id" value=change_id/>
                                    <input type="hidden" name="role" value=other_role.as_str()/>
                                    <button type="submit" class="button secondary">
                                        {format!("Make {}", other_role.label().to_lowercase())}
                                    </button>
                                </ActionForm>
                                <ActionForm action=remove>
                                    <input type="hidden" name="user_id" value=remove_id/>
                                    <button type="submit" class="button secondary">"Remove"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
