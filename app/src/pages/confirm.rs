//! The confirmations in front of destructive actions. Each one renders in a modal `<dialog>`
//! on the app page once the WASM runs, and on a page of its own (reached by the same button,
//! which is a link) without it: same words, same form, same server function.

use leptos::{html, prelude::*};
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
};

use crate::{
    components::{forms::FormMessage, forms::last_error, guard::RequireViewer},
    error::AppError,
    model::apps::{AppView, NewSecret, SecretView},
    pages::app_new::SecretField,
    server_fns::apps::{DeleteApp, DeleteSecret, RefreshSecret, get_app, list_secrets},
};

/// How the user backs out of a confirmation.
#[derive(Clone)]
pub enum Cancel {
    /// Close the dialog; nothing is sent.
    Dialog(NodeRef<html::Dialog>),
    /// Go back to this page.
    Link(String),
}

pub fn open_dialog(dialog: NodeRef<html::Dialog>) {
    if let Some(d) = dialog.get() {
        let _ = d.show_modal();
    }
}

pub fn close_dialog(dialog: NodeRef<html::Dialog>) {
    if let Some(d) = dialog.get() {
        d.close();
    }
}

/// Cancel and the destructive button, which says what it does.
#[component]
fn ConfirmActions(cancel: Cancel, destructive: &'static str) -> impl IntoView {
    let cancel = match cancel {
        Cancel::Dialog(dialog) => view! {
            <button type="button" class="button secondary" on:click=move |_| close_dialog(dialog)>"Cancel"</button>
        }
        .into_any(),
        Cancel::Link(href) => view! { <A href=href attr:class="button secondary">"Cancel"</A> }.into_any(),
    };
    view! {
        <div class="dialog-actions">
            {cancel}
            <button type="submit" class="button danger">{destructive}</button>
        </div>
    }
}

/// "Description (prefix…)", how a secret is named in a confirmation.
pub fn secret_label(secret: &SecretView) -> String {
    let name = if secret.description.is_empty() {
        "Secret"
    } else {
        secret.description.as_str()
    };
    format!("{name} ({}…)", secret.prefix)
}

#[component]
pub fn RefreshSecretConfirm(
    action: ServerAction<RefreshSecret>,
    client_id: String,
    #[prop(into)] secret_id: Signal<String>,
    #[prop(into)] label: Signal<String>,
    cancel: Cancel,
) -> impl IntoView {
    let error = last_error(action.value());
    view! {
        <h2 id="refresh-title">"Refresh this secret?"</h2>
        <p>{move || format!("{} will be replaced by a new secret. Services still using the old one get invalid_client once it stops working. The client id and tokens already issued keep working.", label.get())}</p>
        <FormMessage error/>
        <ActionForm action>
            <input type="hidden" name="client_id" value=client_id/>
            <input type="hidden" name="secret_id" value=secret_id/>
            <div class="field">
                <label for="grace">"The old secret stops working"</label>
                <select id="grace" name="grace_seconds">
                    <option value="0" selected>"Immediately"</option>
                    <option value="3600">"In 1 hour"</option>
                    <option value="86400">"In 24 hours"</option>
                    <option value="604800">"In 7 days"</option>
                </select>
            </div>
            <ConfirmActions cancel destructive="Refresh secret"/>
        </ActionForm>
    }
}

#[component]
pub fn DeleteSecretConfirm(
    action: ServerAction<DeleteSecret>,
    client_id: String,
    #[prop(into)] secret_id: Signal<String>,
    #[prop(into)] label: Signal<String>,
    cancel: Cancel,
) -> impl IntoView {
    let error = last_error(action.value());
    view! {
        <h2 id="delete-title">"Delete this secret?"</h2>
        <p>{move || format!("{} stops working at once: services using it get invalid_client.", label.get())}</p>
        <FormMessage error/>
        <ActionForm action>
            <input type="hidden" name="client_id" value=client_id/>
            <input type="hidden" name="secret_id" value=secret_id/>
            <ConfirmActions cancel destructive="Delete secret"/>
        </ActionForm>
    }
}

#[component]
pub fn DeleteAppConfirm(
    action: ServerAction<DeleteApp>,
    client_id: String,
    name: String,
    cancel: Cancel,
) -> impl IntoView {
    let error = last_error(action.value());
    view! {
        <h2 id="delete-app-title">{format!("Delete {name}?")}</h2>
        <p>"Services using this app's client id and secrets will get invalid_client from then on. This cannot be undone."</p>
        <FormMessage error/>
        <ActionForm action>
            <input type="hidden" name="client_id" value=client_id/>
            <ConfirmActions cancel destructive="Delete app"/>
        </ActionForm>
    }
}

fn param(name: &'static str) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get(name).unwrap_or_default()
}

/// `/apps/:client_id/secrets/:secret_id/refresh` and `/delete`.
#[component]
pub fn SecretConfirmPage(refresh: bool) -> impl IntoView {
    let title = if refresh {
        "Refresh secret"
    } else {
        "Delete secret"
    };
    // Made with the page, not under the viewer's Suspense (see `crate::pages`).
    let secrets = Resource::new(param("client_id"), list_secrets);
    view! {
        <Title text=title/>
        <RequireViewer children=Box::new(move |_| view! { <SecretConfirmLoader refresh secrets/> }.into_any())/>
    }
}

#[component]
fn SecretConfirmLoader(
    refresh: bool,
    secrets: Resource<Result<Vec<SecretView>, AppError>>,
) -> impl IntoView {
    let (client_id, secret_id) = (param("client_id"), param("secret_id"));
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let found = secrets.await.ok().and_then(|list| list.into_iter().find(|s| s.id == secret_id()));
                match found {
                    Some(secret) => view! { <SecretConfirmCard refresh client_id=client_id() secret/> }.into_any(),
                    None => view! { <ConfirmNotFound client_id=client_id() what="secret"/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SecretConfirmCard(refresh: bool, client_id: String, secret: SecretView) -> impl IntoView {
    let back = format!("/apps/{client_id}?tab=oauth");
    let label = secret_label(&secret);
    let secret_id = secret.id.clone();
    if refresh {
        let action = ServerAction::<RefreshSecret>::new();
        let created = move || action.value().get().and_then(Result::ok);
        let after = back.clone();
        view! {
            <section class="card confirm-page" role="region" aria-labelledby="refresh-title">
                <Show when=move || created().is_none() fallback=move || created().map(|s| view! { <RefreshedSecret secret=s back=after.clone()/> })>
                    <RefreshSecretConfirm action client_id=client_id.clone() secret_id=secret_id.clone() label=label.clone() cancel=Cancel::Link(back.clone())/>
                </Show>
            </section>
        }
        .into_any()
    } else {
        let action = ServerAction::<DeleteSecret>::new();
        let navigate = use_navigate();
        let after = back.clone();
        Effect::new(move |_| {
            if matches!(action.value().get(), Some(Ok(()))) {
                navigate(&after, Default::default());
            }
        });
        view! {
            <section class="card confirm-page" role="region" aria-labelledby="delete-title">
                <DeleteSecretConfirm action client_id secret_id label cancel=Cancel::Link(back)/>
            </section>
        }
        .into_any()
    }
}

/// The new secret after a refresh confirmed on its own page with the WASM running.
#[component]
pub fn RefreshedSecret(secret: NewSecret, back: String) -> impl IntoView {
    view! {
        <SecretField label="New client secret" value=secret.plaintext testid="client-secret"/>
        <p class="alert alert-warn" role="alert"><strong>"Copy the secret now. "</strong>"You will not see this secret again."</p>
        <A href=back attr:class="button">"Back to the app"</A>
    }
}

/// `/apps/:client_id/delete`.
#[component]
pub fn AppDeletePage() -> impl IntoView {
    // Made with the page, not under the viewer's Suspense (see `crate::pages`).
    let app = Resource::new(param("client_id"), get_app);
    view! {
        <Title text="Delete app"/>
        <RequireViewer children=Box::new(move |_| view! { <AppDeleteLoader app/> }.into_any())/>
    }
}

#[component]
fn AppDeleteLoader(app: Resource<Result<AppView, AppError>>) -> impl IntoView {
    let client_id = param("client_id");
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match app.await {
                    Ok(app) => {
                        let action = ServerAction::<DeleteApp>::new();
                        let back = format!("/apps/{}", app.client_id);
                        view! {
                            <section class="card confirm-page" role="region" aria-labelledby="delete-app-title">
                                <DeleteAppConfirm action client_id=app.client_id name=app.name cancel=Cancel::Link(back)/>
                            </section>
                        }.into_any()
                    }
                    Err(_) => view! { <ConfirmNotFound client_id=client_id() what="app"/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ConfirmNotFound(client_id: String, what: &'static str) -> impl IntoView {
    view! {
        <section class="not-found">
            <h1>{format!("No such {what}")}</h1>
            <p>"It may have been deleted or refreshed already."</p>
            <p>{if what == "app" {
                view! { <A href="/apps">"Back to your apps"</A> }.into_any()
            } else {
                view! { <A href=format!("/apps/{client_id}?tab=oauth")>"Back to the app"</A> }.into_any()
            }}</p>
        </section>
    }
}
