use leptos::{html, prelude::*};
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};

use crate::{
    components::{
        format,
        forms::{FieldMessage, FormMessage, SavedMessage, invalid, last_error, last_saved},
        guard::RequireViewer,
    },
    domain::app_rules::SecretStatus,
    error::AppError,
    model::apps::{ActivityView, AppView, NewSecret, SecretView, Visibility},
    pages::{
        app_new::SecretField,
        app_roles::RolesTab,
        confirm::{
            Cancel, DeleteAppConfirm, DeleteSecretConfirm, RefreshSecretConfirm, close_dialog,
            open_dialog, secret_label,
        },
    },
    server_fns::apps::{
        AddSecret, DeleteApp, DeleteSecret, RefreshSecret, SetAppDisabled, UpdateApp, get_app,
        list_app_activity, list_secrets, take_new_secret,
    },
};

/// One app: Basic info · OAuth & access scopes · Roles · Activity.
#[component]
pub fn AppPage() -> impl IntoView {
    let page = AppPageState::new();
    view! {
        <Title text="App"/>
        <RequireViewer children=Box::new(move |viewer| {
            let admin = viewer.role.can_administer_tenant();
            view! { <AppLoader page admin/> }.into_any()
        })/>
    }
}

/// What the app page loads and changes, made once with the page (see [`crate::pages`] for
/// why no resource is made further down).
#[derive(Clone, Copy)]
struct AppPageState {
    tab: Memo<String>,
    update: ServerAction<UpdateApp>,
    add: ServerAction<AddSecret>,
    refresh: ServerAction<RefreshSecret>,
    delete: ServerAction<DeleteSecret>,
    app: Resource<Result<AppView, AppError>>,
    secrets: Resource<Result<Vec<SecretView>, AppError>>,
    /// A secret created by a plain form post (no WASM), from the hand-over cookie; read on
    /// the OAuth tab only, where the post lands, so no other tab spends it.
    handed_over: Resource<Result<Option<String>, AppError>>,
    /// Empty unless the Activity tab is open.
    activity: Resource<Result<Vec<ActivityView>, AppError>>,
}

impl AppPageState {
    fn new() -> AppPageState {
        let params = use_params_map();
        let query = use_query_map();
        let client_id = Memo::new(move |_| params.read().get("client_id").unwrap_or_default());
        let tab = Memo::new(move |_| query.read().get("tab").unwrap_or_else(|| "basic".into()));
        let on_tab = move |name: &str| tab.read().as_str() == name;
        let update = ServerAction::<UpdateApp>::new();
        let (add, refresh, delete) = (
            ServerAction::<AddSecret>::new(),
            ServerAction::<RefreshSecret>::new(),
            ServerAction::<DeleteSecret>::new(),
        );
        // Reload only after a successful save: a failed one keeps the form, and what was typed.
        let saves = RwSignal::new(0u32);
        Effect::new(move |_| {
            if matches!(update.value().get(), Some(Ok(_))) {
                saves.update(|n| *n += 1);
            }
        });
        let app = Resource::new(
            move || (client_id.get(), saves.get()),
            |(id, _)| get_app(id),
        );
        let secrets = Resource::new(
            move || {
                let changes = (
                    add.version().get(),
                    refresh.version().get(),
                    delete.version().get(),
                );
                (client_id.get(), changes)
            },
            |(id, _)| list_secrets(id),
        );
        let handed_over = Resource::new(
            move || (client_id.get(), on_tab("oauth")),
            |(id, open)| async move {
                if open {
                    take_new_secret(id).await
                } else {
                    Ok(None)
                }
            },
        );
        let activity = Resource::new(
            move || (client_id.get(), on_tab("activity")),
            |(id, open)| async move {
                if open {
                    list_app_activity(id).await
                } else {
                    Ok(Vec::new())
                }
            },
        );
        AppPageState {
            tab,
            update,
            add,
            refresh,
            delete,
            app,
            secrets,
            handed_over,
            activity,
        }
    }
}

/// `admin`: whether the viewer administers the tenant, which decides which editors show (the
/// server decides what is allowed).
#[component]
fn AppLoader(page: AppPageState, admin: bool) -> impl IntoView {
    let app = page.app;
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the app…"</p> }>
            {move || Suspend::new(async move {
                match app.await {
                    Ok(app) => view! { <AppTabs app page admin/> }.into_any(),
                    Err(e) => view! {
                        <section class="not-found"><h1>"App not found"</h1><p>{e.to_string()}</p><p><A href="/apps">"Back to your apps"</A></p></section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AppTabs(app: AppView, page: AppPageState, admin: bool) -> impl IntoView {
    let (tab, update) = (page.tab, page.update);
    let tab = move || tab.get();
    let base = format!("/apps/{}", app.client_id);
    let link = move |key: &'static str, label: &'static str| {
        let href = format!("{base}?tab={key}");
        view! {
            <A href=href attr:class=move || if tab() == key { "tab active" } else { "tab" }
                attr:aria-current=move || (tab() == key).then_some("page")>{label}</A>
        }
    };
    let name = app.name.clone();
    let app = StoredValue::new(app);
    view! {
        <Title text=name.clone()/>
        <section>
            <h1 class="app-name">{name}</h1>
            <nav class="tabs" aria-label="App sections">
                {link("basic", "Basic info")}
                {link("oauth", "OAuth & access scopes")}
                {link("roles", "Roles")}
                {link("activity", "Activity")}
            </nav>
            {move || match tab().as_str() {
                "oauth" => view! { <OAuthTab app=app.get_value() page/> }.into_any(),
                "roles" => view! { <RolesTab app=app.get_value() update admin/> }.into_any(),
                "activity" => view! { <ActivityTab events=page.activity/> }.into_any(),
                _ => view! { <BasicTab app=app.get_value() update admin/> }.into_any(),
            }}
        </section>
    }
}

/// The hidden fields that carry every editable setting, so each tab's form saves only what
/// it shows and keeps the rest.
#[component]
pub(super) fn KeepFields(
    app: AppView,
    #[prop(optional)] except: &'static [&'static str],
) -> impl IntoView {
    let fields = [
        ("name", app.name.clone()),
        ("description", app.description.clone()),
        ("visibility", app.visibility.as_str().to_string()),
        ("callback_url", app.callback_url.clone().unwrap_or_default()),
        ("scopes", app.scopes.join(" ")),
        ("roles", app.roles.join(" ")),
        ("audiences", app.audiences.join(" ")),
        ("token_lifetime_secs", app.token_lifetime_secs.to_string()),
    ];
    view! {
        <input type="hidden" name="client_id" value=app.client_id.clone()/>
        {fields.into_iter().filter(|(k, _)| !except.contains(k)).map(|(k, v)| view! {
            <input type="hidden" name=k value=v/>
        }).collect_view()}
    }
}

#[component]
fn BasicTab(app: AppView, update: ServerAction<UpdateApp>, admin: bool) -> impl IntoView {
    let error = last_error(update.value());
    let saved = last_saved(update.value());
    let delete = ServerAction::<DeleteApp>::new();
    let dialog = NodeRef::<html::Dialog>::new();
    let private = app.visibility == Visibility::Private;
    let (client_id, name) = (app.client_id.clone(), app.name.clone());
    let for_switch = app.clone();
    view! {
        <ActionForm action=update attr:class="form card" attr:novalidate=true>
            <KeepFields app=app.clone() except=&["name", "description", "visibility", "callback_url"]/>
            <FormMessage error/>
            <SavedMessage saved/>
            <div class="field">
                <label for="app-name">"Name"</label>
                <input id="app-name" name="name" value=app.name.clone() maxlength="100" aria-invalid=invalid(error, "name")/>
                <FieldMessage error field="name"/>
            </div>
            <div class="field">
                <label for="app-description">"Description"</label>
                <textarea id="app-description" name="description" rows="3">{app.description.clone()}</textarea>
                <FieldMessage error field="description"/>
            </div>
            <fieldset class="field">
                <legend>"Who can use it"</legend>
                <label><input type="radio" name="visibility" value="private" checked=private/>" Private"</label>
                <label><input type="radio" name="visibility" value="public" checked=!private/>" Public"</label>
            </fieldset>
            <div class="field">
                <label for="callback-url">"Callback URL"</label>
                <input id="callback-url" name="callback_url" type="url" value=app.callback_url.clone().unwrap_or_default()
                    aria-invalid=invalid(error, "callback_url")/>
                <FieldMessage error field="callback_url"/>
            </div>
            <button type="submit" class="button">"Save changes"</button>
        </ActionForm>
        <SwitchOff app=for_switch admin/>
        <div class="card danger-zone">
            <h2>"Delete this app"</h2>
            <p>"Its client id and every secret stop working at once. This cannot be undone."</p>
            <a href=format!("/apps/{client_id}/delete") class="button danger" on:click=move |ev| { ev.prevent_default(); open_dialog(dialog) }>"Delete app…"</a>
        </div>
        <dialog node_ref=dialog aria-labelledby="delete-app-title">
            <DeleteAppConfirm action=delete client_id=client_id.clone() name cancel=Cancel::Dialog(dialog)/>
        </dialog>
    }
}

/// Switching an app off stops its credentials without deleting anything. What an admin
/// switched off only an admin switches back on: a developer is told so instead of a button.
#[component]
fn SwitchOff(app: AppView, admin: bool) -> impl IntoView {
    let action = ServerAction::<SetAppDisabled>::new();
    let disabled = RwSignal::new(app.disabled);
    let locked = RwSignal::new(app.disabled_by_admin && !admin);
    Effect::new(move |_| {
        if let Some(Ok(view)) = action.value().get() {
            disabled.set(view.disabled);
            locked.set(view.disabled_by_admin && !admin);
        }
    });
    let error = last_error(action.value());
    view! {
        <div class="card">
            <h2>{move || if disabled.get() { "This app is switched off" } else { "Switch off" }}</h2>
            <p>{move || if locked.get() {
                "An admin switched it off: its client id and secrets get invalid_client until a tenant admin switches it back on."
            } else if disabled.get() {
                "Its client id and secrets get invalid_client until you switch it back on."
            } else {
                "Stops its client id and secrets from getting tokens, without deleting anything."
            }}</p>
            <FormMessage error/>
            <ActionForm action attr:hidden=move || locked.get()>
                <input type="hidden" name="client_id" value=app.client_id.clone()/>
                <input type="hidden" name="disabled" value=move || (!disabled.get()).to_string()/>
                <button type="submit" class="button secondary">
                    {move || if disabled.get() { "Switch app on" } else { "Switch app off" }}
                </button>
            </ActionForm>
        </div>
    }
}

#[component]
fn OAuthTab(app: AppView, page: AppPageState) -> impl IntoView {
    let client_id = app.client_id.clone();
    let AppPageState {
        add,
        refresh,
        delete,
        secrets,
        handed_over,
        ..
    } = page;
    // The newest secret created here, shown once; it lives only in this page's memory. Only
    // answers that arrive while the tab is open count: coming back to it shows none again.
    let shown = RwSignal::new(None::<NewSecret>);
    for value in [add.value(), refresh.value()] {
        Effect::watch(
            move || value.get(),
            move |outcome, _, _| {
                if let Some(Ok(s)) = outcome {
                    shown.set(Some(s.clone()));
                }
            },
            false,
        );
    }
    let selected = RwSignal::new(None::<SecretView>);
    let refresh_dialog = NodeRef::<html::Dialog>::new();
    let delete_dialog = NodeRef::<html::Dialog>::new();
    // A failure stays in the dialog, beside the button that caused it.
    Effect::new(move |_| {
        if matches!(refresh.value().get(), Some(Ok(_))) {
            close_dialog(refresh_dialog);
        }
    });
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(()))) {
            close_dialog(delete_dialog);
        }
    });
    let add_error = last_error(add.value());
    let confidential = app.client_type == crate::model::apps::ClientType::Confidential;
    let selected_label = move || {
        selected
            .get()
            .as_ref()
            .map(secret_label)
            .unwrap_or_default()
    };
    let selected_id = move || selected.get().map(|s| s.id).unwrap_or_default();
    let (add_client_id, refresh_client_id, delete_client_id, table_client_id) = (
        client_id.clone(),
        client_id.clone(),
        client_id.clone(),
        client_id.clone(),
    );

    view! {
        <div class="card">
            <SecretField label="Client id" value=client_id.clone() testid="client-id"/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let handed_over = handed_over.await.ok().flatten();
                    move || shown.get().map(|s| s.plaintext).or_else(|| handed_over.clone()).map(|plaintext| view! {
                        <div class="new-secret">
                            <SecretField label="New client secret" value=plaintext testid="client-secret"/>
                            <p class="alert alert-warn" role="alert"><strong>"Copy the secret now. "</strong>"You will not see this secret again."</p>
                        </div>
                    })
                })}
            </Suspense>
            <p class="hint">{format!("Scopes: {}", if app.scopes.is_empty() { "none".to_string() } else { app.scopes.join(" ") })}
                {format!(" · Token lifetime: {} s", app.token_lifetime_secs)}</p>
        </div>
        {(!confidential).then(|| view! { <p class="alert alert-ok">"A public client has no secrets: it proves itself with PKCE."</p> })}
        {confidential.then(|| view! {
            <h2 id="secrets-heading">"Client secrets"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading secrets…"</p> }>
                {move || {
                    let client_id = table_client_id.clone();
                    Suspend::new(async move {
                    match secrets.await {
                        Ok(list) => view! { <SecretTable client_id list selected refresh_dialog delete_dialog/> }.into_any(),
                        Err(e) => view! { <p class="alert alert-error">{e.to_string()}</p> }.into_any(),
                    }
                })}}
            </Suspense>
            <h2>"Add a secret"</h2>
            <ActionForm action=add attr:class="form card inline-form" attr:novalidate=true>
                <input type="hidden" name="client_id" value=add_client_id.clone()/>
                <FormMessage error=add_error/>
                <div class="field">
                    <label for="secret-description">"Description"</label>
                    <input id="secret-description" name="description" maxlength="200" placeholder="Production server"/>
                    <FieldMessage error=add_error field="description"/>
                </div>
                <div class="field">
                    <label for="secret-expiry">"Expires"</label>
                    <select id="secret-expiry" name="expiry">
                        <option value="default" selected>"In one year"</option>
                        <option value="date">"On a date"</option>
                        <option value="never">"Never"</option>
                    </select>
                    <label for="secret-expires-on" class="hint">"Date (with “On a date”)"</label>
                    <input id="secret-expires-on" name="expires_on" type="date" aria-invalid=invalid(add_error, "expires_at")/>
                    <FieldMessage error=add_error field="expires_at"/>
                </div>
                <button type="submit" class="button">"Add secret"</button>
            </ActionForm>
        })}
        <dialog node_ref=refresh_dialog aria-labelledby="refresh-title">
            <RefreshSecretConfirm action=refresh client_id=refresh_client_id secret_id=Signal::derive(selected_id)
                label=Signal::derive(selected_label) cancel=Cancel::Dialog(refresh_dialog)/>
        </dialog>
        <dialog node_ref=delete_dialog aria-labelledby="delete-title">
            <DeleteSecretConfirm action=delete client_id=delete_client_id secret_id=Signal::derive(selected_id)
                label=Signal::derive(selected_label) cancel=Cancel::Dialog(delete_dialog)/>
        </dialog>
    }
}

#[component]
fn SecretTable(
    client_id: String,
    list: Vec<SecretView>,
    selected: RwSignal<Option<SecretView>>,
    refresh_dialog: NodeRef<html::Dialog>,
    delete_dialog: NodeRef<html::Dialog>,
) -> impl IntoView {
    let base = format!("/apps/{client_id}/secrets");
    if list.is_empty() {
        return view! { <p class="card">"No secrets. Add one to authenticate this app."</p> }
            .into_any();
    }
    view! {
        <table aria-labelledby="secrets-heading" class="secrets">
            <thead><tr><th>"Description"</th><th>"Prefix"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th>"Status"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
            <tbody>
                {list.into_iter().map(|s| {
                    let status = match s.status {
                        SecretStatus::Active => "Active".to_string(),
                        SecretStatus::ExpiresSoon => "Expires soon".to_string(),
                        SecretStatus::Grace { until } => format!("Old, works until {}", format::date(until)),
                        SecretStatus::Replaced => "Replaced".to_string(),
                        SecretStatus::Revoked => "Revoked".to_string(),
                        SecretStatus::Expired => "Expired".to_string(),
                    };
                    let expiring = s.status == SecretStatus::ExpiresSoon;
                    let (for_refresh, for_delete) = (s.clone(), s.clone());
                    let can_refresh = s.status.can_refresh();
                    view! {
                        <tr data-secret=s.prefix.clone()>
                            <td>{if s.description.is_empty() { "—".to_string() } else { s.description.clone() }}</td>
                            <td class="mono">{format!("{}…", s.prefix)}</td>
                            <td>{format::date(s.created_at)}</td>
                            <td class:expiry-warning=expiring>{format::optional_date(s.expires_at, "Never")}</td>
                            <td>{format::optional_date(s.last_used_at, "Never")}</td>
                            <td>{status}</td>
                            <td class="row-actions">
                                {can_refresh.then(|| view! {
                                    <a href=format!("{base}/{}/refresh", s.id) class="button secondary"
                                        on:click=move |ev| { ev.prevent_default(); selected.set(Some(for_refresh.clone())); open_dialog(refresh_dialog); }>"Refresh"</a>
                                })}
                                <a href=format!("{base}/{}/delete", s.id) class="button secondary"
                                    on:click=move |ev| { ev.prevent_default(); selected.set(Some(for_delete.clone())); open_dialog(delete_dialog); }>"Delete"</a>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}

#[component]
fn ActivityTab(events: Resource<Result<Vec<ActivityView>, AppError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading activity…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(list) => view! {
                        <table class="activity">
                            <thead><tr><th>"When"</th><th>"What"</th><th>"Who"</th></tr></thead>
                            <tbody>{list.into_iter().map(|e| view! {
                                <tr><td>{format::date(e.at)}</td><td>{e.action}</td><td>{e.actor}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="alert alert-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
