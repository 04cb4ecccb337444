//! Connected apps (SPEC §3a): the apps the signed-in person authorised, with Revoke behind a
//! confirmation (a modal dialog once the WASM runs, a page of its own before).

use leptos::{html, prelude::*};
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

use crate::{
    components::{
        format,
        forms::{FormMessage, last_error},
        guard::RequireViewer,
    },
    error::AppError,
    model::consent::ConnectedAppView,
    pages::confirm::{close_dialog, open_dialog},
    server_fns::consent::{RevokeConnectedApp, connected_apps},
};

#[component]
pub fn ConnectedAppsPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeConnectedApp>::new();
    let list = Resource::new(move || revoke.version().get(), |_| connected_apps());
    view! {
        <Title text="Connected apps"/>
        <RequireViewer children=Box::new(move |_| view! { <ConnectedApps list revoke/> }.into_any())/>
    }
}

#[component]
fn ConnectedApps(
    list: Resource<Result<Vec<ConnectedAppView>, AppError>>,
    revoke: ServerAction<RevokeConnectedApp>,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let selected = RwSignal::new(None::<ConnectedAppView>);
    Effect::new(move |_| {
        if matches!(revoke.value().get(), Some(Ok(()))) {
            close_dialog(dialog);
        }
    });
    view! {
        <section class="card" aria-labelledby="connected-title">
            <h1 id="connected-title">"Connected apps"</h1>
            <p class="hint">"Apps you allowed to use your Keyport account. Revoking one signs it out: its refresh tokens stop working at once, and it must ask you again."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(apps) if apps.is_empty() => view! { <p class="muted">"You have not connected any app."</p> }.into_any(),
                        Ok(apps) => view! { <ConnectedTable apps selected dialog/> }.into_any(),
                        Err(e) => view! { <p class="alert alert-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <dialog node_ref=dialog aria-labelledby="revoke-title">
            {move || selected.get().map(|app| view! {
                <RevokeConfirm action=revoke app cancel=Some(dialog)/>
            })}
        </dialog>
    }
}

#[component]
fn ConnectedTable(
    apps: Vec<ConnectedAppView>,
    selected: RwSignal<Option<ConnectedAppView>>,
    dialog: NodeRef<html::Dialog>,
) -> impl IntoView {
    view! {
        <table class="table">
            <thead><tr><th>"App"</th><th>"Registered by"</th><th>"Allowed"</th><th>"Since"</th><th>"Last used"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
            <tbody>
                {apps.into_iter().map(|app| {
                    let for_dialog = app.clone();
                    let label = format!("Revoke {}", app.app_name);
                    view! {
                        <tr data-client-id=app.client_id.clone()>
                            <td>{app.app_name.clone()}</td>
                            <td>{app.tenant_name.clone()}</td>
                            <td>{app.scopes.iter().map(|s| view! { <code>{s.clone()}</code>" " }).collect_view()}</td>
                            <td>{format::date(app.granted_at)}</td>
                            <td>{app.last_used_at.map(format::date).unwrap_or_else(|| "Never".into())}</td>
                            <td class="row-actions">
                                <a href=format!("/connected/{}/revoke", app.client_id) class="button secondary" aria-label=label
                                    on:click=move |ev| { ev.prevent_default(); selected.set(Some(for_dialog.clone())); open_dialog(dialog); }>"Revoke"</a>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The confirmation: in the dialog (`cancel` closes it) or on its own page (Cancel links back).
#[component]
fn RevokeConfirm(
    action: ServerAction<RevokeConnectedApp>,
    app: ConnectedAppView,
    cancel: Option<NodeRef<html::Dialog>>,
) -> impl IntoView {
    let error = last_error(action.value());
    let cancel = match cancel {
        Some(dialog) => view! {
            <button type="button" class="button secondary" on:click=move |_| close_dialog(dialog)>"Cancel"</button>
        }.into_any(),
        None => view! { <A href="/connected" attr:class="button secondary">"Cancel"</A> }.into_any(),
    };
    view! {
        <h2 id="revoke-title">{format!("Revoke {}?", app.app_name)}</h2>
        <p>{format!("{} loses access to your account at once: its refresh tokens stop working, and it must ask you again to connect.", app.app_name)}</p>
        <FormMessage error/>
        <ActionForm action>
            <input type="hidden" name="client_id" value=app.client_id.clone()/>
            <div class="dialog-actions">
                {cancel}
                <button type="submit" class="button danger">"Revoke access"</button>
            </div>
        </ActionForm>
    }
}

/// `/connected/:client_id/revoke`: the confirmation before the WASM runs.
#[component]
pub fn RevokeConnectedAppPage() -> impl IntoView {
    let params = use_params_map();
    let revoke = ServerAction::<RevokeConnectedApp>::new();
    let list = Resource::new(|| (), |_| connected_apps());
    view! {
        <Title text="Revoke access"/>
        <RequireViewer children=Box::new(move |_| view! {
            <section class="card">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let client_id = params.get_untracked().get("client_id").unwrap_or_default();
                        match list.await.map(|apps| apps.into_iter().find(|a| a.client_id == client_id)) {
                            Ok(Some(app)) => view! { <RevokeConfirm action=revoke app cancel=None/> }.into_any(),
                            Ok(None) => view! { <p>"You have not connected that app. "<A href="/connected">"Back to Connected apps"</A></p> }.into_any(),
                            Err(e) => view! { <p class="alert alert-error">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        }.into_any())/>
    }
}
