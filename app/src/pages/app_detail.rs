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
    error::AppError,
    model::apps::{ActivityView, AppView, SecretView, Visibility},
    pages::{
        app_oauth::OAuthTab,
        app_roles::RolesTab,
        confirm::{Cancel, DeleteAppConfirm, open_dialog},
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
pub(super) struct AppPageState {
    tab: Memo<String>,
    pub(super) update: ServerAction<UpdateApp>,
    pub(super) add: ServerAction<AddSecret>,
    pub(super) refresh: ServerAction<RefreshSecret>,
    pub(super) delete: ServerAction<DeleteSecret>,
    app: Resource<Result<AppView, AppError>>,
    pub(super) secrets: Resource<Result<Vec<SecretView>, AppError>>,
    /// A secret created by a plain form post (no WASM), from the hand-over cookie; read on
    /// the OAuth tab only, where the post lands, so no other tab spends it.
    pub(super) handed_over: Resource<Result<Option<String>, AppError>>,
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
    // A list, one entry per grant (see `GrantTypesField`).
    let grant_types = (!except.contains(&"grant_types")).then(|| {
        view! {
            <input type="hidden" name="grant_types[]" value=""/>
            {app.grant_types.iter().map(|g| view! {
                <input type="hidden" name="grant_types[]" value=g.clone()/>
            }).collect_view()}
        }
    });
    view! {
        <input type="hidden" name="client_id" value=app.client_id.clone()/>
        {fields.into_iter().filter(|(k, _)| !except.contains(k)).map(|(k, v)| view! {
            <input type="hidden" name=k value=v/>
        }).collect_view()}
        {grant_types}
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
                <textarea id="app-description" name="description" rows="3">{crate::components::raw_text::raw_text(app.description.clone())}</textarea>
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
