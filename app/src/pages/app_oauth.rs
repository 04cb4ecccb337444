//! The app page's OAuth & access scopes tab: the client id, the secrets and their dialogs,
//! and the form for the app's grant types, allowed scopes and token lifetime.

use leptos::{html, prelude::*};

use crate::{
    components::{
        format,
        forms::{FieldMessage, FormMessage, SavedMessage, invalid, last_error, last_saved},
    },
    domain::{app_rules::SecretStatus, grant_types::GrantType},
    error::AppError,
    model::apps::{AppView, ClientType, NewSecret, SecretView},
    pages::{
        app_detail::{AppPageState, KeepFields},
        app_new::SecretField,
        confirm::{
            Cancel, DeleteSecretConfirm, RefreshSecretConfirm, close_dialog, open_dialog,
            secret_label,
        },
    },
    server_fns::apps::UpdateApp,
};

/// Client id and secrets, then what the app may do with them: its grant types, its allowed
/// scopes and its tokens' lifetime.
#[component]
pub(super) fn OAuthTab(app: AppView, page: AppPageState) -> impl IntoView {
    let client_id = app.client_id.clone();
    let AppPageState {
        update,
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
    let confidential = app.client_type == ClientType::Confidential;
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
        <AccessForm app update/>
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

/// Grant types, allowed scopes and token lifetime: one form, saved with the app's other
/// settings carried along unchanged.
#[component]
fn AccessForm(app: AppView, update: ServerAction<UpdateApp>) -> impl IntoView {
    let error = last_error(update.value());
    let saved = last_saved(update.value());
    view! {
        <h2 id="access-heading">"Grant types and scopes"</h2>
        <ActionForm action=update attr:class="form card" attr:novalidate=true attr:aria-labelledby="access-heading">
            <KeepFields app=app.clone() except=&["grant_types", "scopes", "token_lifetime_secs"]/>
            <FormMessage error/>
            <SavedMessage saved/>
            <GrantTypesField app=app.clone() error/>
            <div class="field">
                <label for="app-scopes">"Allowed scopes"</label>
                <input id="app-scopes" name="scopes" value=app.scopes.join(" ") aria-invalid=invalid(error, "scopes")/>
                <p class="hint">"Space-separated, from the tenant's scope catalogue; a token asks for some or, by default, all of them."</p>
                <FieldMessage error field="scopes"/>
            </div>
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

/// One checkbox per grant type. The form sends them as the list `grant_types[]`, headed by an
/// empty entry so that a form with every box cleared still says "none" rather than nothing.
/// A public client has no secret, so client credentials is offered to confidential ones only.
#[component]
fn GrantTypesField(app: AppView, error: Signal<Option<AppError>>) -> impl IntoView {
    let confidential = app.client_type == ClientType::Confidential;
    let boxes = GrantType::ALL.into_iter().map(|grant| {
        let value = grant.as_str();
        let checked = app.grant_types.iter().any(|g| g == value);
        let usable = confidential || grant != GrantType::ClientCredentials;
        view! {
            <label class="check">
                <input type="checkbox" name="grant_types[]" value=value checked=checked disabled=!usable
                    aria-invalid=invalid(error, "grant_types")/>
                " " {grant.label()}
            </label>
        }
    });
    view! {
        <fieldset class="field" aria-describedby="grant-types-hint">
            <legend>"Grant types"</legend>
            <input type="hidden" name="grant_types[]" value=""/>
            {boxes.collect_view()}
            <p class="hint" id="grant-types-hint">"How the app may get tokens. The authorization code grant needs the callback URL (Basic info); refresh tokens come with it or with the device grant."</p>
            <FieldMessage error field="grant_types"/>
        </fieldset>
    }
}
