use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    components::{
        format::{date, date_time},
        forms::{FieldMessage, FormMessage, SavedMessage, invalid, last_error, last_saved},
        guard::RequireViewer,
    },
    domain::membership::Role,
    error::AppError,
    model::{
        accounts::{MemberView, Viewer},
        keys::{KeyState, SigningKeyView},
        tenant::{ScopeView, TenantView},
    },
    server_fns::{
        keys::list_signing_keys,
        members::{AddMember, ChangeMemberRole, RemoveMember, list_members},
        tenant::{AddScope, DeleteScope, UpdateTenant, get_tenant, list_scopes},
    },
};

/// Settings (admins only): the tenant's members and their roles.
#[component]
pub fn SettingsPage() -> impl IntoView {
    // Every section's resource is made with the page, not under the viewer's Suspense (see
    // `crate::pages`).
    let (members, scopes, tenant) = (MembersState::new(), ScopesState::new(), TenantState::new());
    let keys = Resource::new(|| (), |_| list_signing_keys());
    view! {
        <Title text="Settings"/>
        <RequireViewer admin_only=true children=Box::new(move |viewer| view! {
            <Members viewer state=members/>
            <Scopes state=scopes/>
            <Tenant state=tenant/>
            <SigningKeys keys/>
        }.into_any())/>
    }
}

#[derive(Clone, Copy)]
struct MembersState {
    add: ServerAction<AddMember>,
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
    list: Resource<Result<Vec<MemberView>, AppError>>,
}

impl MembersState {
    fn new() -> MembersState {
        let add = ServerAction::<AddMember>::new();
        let change = ServerAction::<ChangeMemberRole>::new();
        let remove = ServerAction::<RemoveMember>::new();
        let list = Resource::new(
            move || {
                (
                    add.version().get(),
                    change.version().get(),
                    remove.version().get(),
                )
            },
            |_| list_members(),
        );
        MembersState {
            add,
            change,
            remove,
            list,
        }
    }
}

#[component]
fn Members(viewer: Viewer, state: MembersState) -> impl IntoView {
    let MembersState {
        add,
        change,
        remove,
        list: members,
    } = state;
    let add_error = last_error(add.value());
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

            <h2>"Add a member"</h2>
            <p class="hint">"They need a Keyport account first; add them by the email they signed up with."</p>
            <ActionForm action=add attr:class="form inline-form" attr:novalidate=true>
                <FormMessage error=add_error/>
                <div class="field">
                    <label for="member-email">"Email"</label>
                    <input id="member-email" name="email" type="email" required aria-invalid=invalid(add_error, "email")/>
                    <FieldMessage error=add_error field="email"/>
                </div>
                <div class="field">
                    <label for="member-role">"Role"</label>
                    <select id="member-role" name="role">
                        <option value="developer" selected>"Developer"</option>
                        <option value="admin">"Admin"</option>
                    </select>
                    <FieldMessage error=add_error field="role"/>
                </div>
                <button type="submit" class="button">"Add member"</button>
            </ActionForm>
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

#[derive(Clone, Copy)]
struct ScopesState {
    add: ServerAction<AddScope>,
    delete: ServerAction<DeleteScope>,
    list: Resource<Result<Vec<ScopeView>, AppError>>,
}

impl ScopesState {
    fn new() -> ScopesState {
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
fn Scopes(state: ScopesState) -> impl IntoView {
    let ScopesState {
        add,
        delete,
        list: scopes,
    } = state;
    let error = last_error(add.value());
    view! {
        <h2 id="scopes-heading">"Scopes"</h2>
        <p class="hint">"The scopes apps of this tenant may be allowed, such as orders:read."</p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match scopes.await {
                    Ok(list) if list.is_empty() => view! { <p class="card">"No scopes yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table aria-labelledby="scopes-heading">
                            <thead><tr><th>"Scope"</th><th>"Description"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>{list.into_iter().map(|s| view! {
                                <tr>
                                    <td class="mono">{s.name.clone()}</td>
                                    <td>{s.description.clone()}</td>
                                    <td class="row-actions">
                                        <ActionForm action=delete>
                                            <input type="hidden" name="name" value=s.name.clone()/>
                                            <button type="submit" class="button secondary">"Remove"</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }).collect_view()}</tbody>
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

#[derive(Clone, Copy)]
struct TenantState {
    update: ServerAction<UpdateTenant>,
    tenant: Resource<Result<TenantView, AppError>>,
}

impl TenantState {
    fn new() -> TenantState {
        let update = ServerAction::<UpdateTenant>::new();
        let tenant = Resource::new(move || update.version().get(), |_| get_tenant());
        TenantState { update, tenant }
    }
}

/// The tenant's name and the default audience of its tokens.
#[component]
fn Tenant(state: TenantState) -> impl IntoView {
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

/// The keys that sign this server's tokens. Shared by every tenant, so read-only here.
#[component]
fn SigningKeys(keys: Resource<Result<Vec<SigningKeyView>, AppError>>) -> impl IntoView {
    view! {
        <h2 id="keys-heading">"Signing keys"</h2>
        <p class="hint">
            "Every tenant on this server shares these keys; resource servers find them at "
            <a href="/.well-known/jwks.json" class="mono">"/.well-known/jwks.json"</a>
            ". The server's operator rotates them with "<code>"keyport keys rotate"</code>
            ": the new key is published first and signs after a lead time, and a retired key stays published until the tokens it signed have expired."
        </p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match keys.await {
                    Ok(list) => view! {
                        <table aria-labelledby="keys-heading">
                            <thead><tr><th>"Key id"</th><th>"Algorithm"</th><th>"State"</th><th>"Created"</th></tr></thead>
                            <tbody>{list.into_iter().map(|k| view! {
                                <tr data-kid=k.kid.clone()>
                                    <td class="mono">{k.kid.clone()}</td>
                                    <td>{k.alg.clone()}</td>
                                    <td>{key_state(&k)}</td>
                                    <td>{date(k.created_at)}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="alert alert-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn key_state(key: &SigningKeyView) -> String {
    match key.state {
        KeyState::Signing => "Signing".to_string(),
        KeyState::Next => format!("Published; signs from {}", date_time(key.active_from)),
        KeyState::Retired => match key.publish_until {
            Some(until) => format!("Retired; published until {}", date_time(until)),
            None => "Retired".to_string(),
        },
        KeyState::Standby => "Published, not signing".to_string(),
    }
}
