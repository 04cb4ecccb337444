use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    components::{
        copy::CopyButton,
        forms::{FieldMessage, FormMessage, invalid, last_error},
        guard::RequireViewer,
    },
    model::apps::NewSecret,
    server_fns::apps::CreateApp,
};

/// Create an app: Basic info → Save → the OAuth & access scopes view with the client id and
/// the first secret, shown this once.
#[component]
pub fn NewAppPage() -> impl IntoView {
    view! {
        <Title text="Create an app"/>
        <RequireViewer children=Box::new(|viewer| {
            let may_create_tools = viewer.role.can_create_tool_clients();
            view! { <CreateAppWizard may_create_tools/> }.into_any()
        })/>
    }
}

/// `may_create_tools`: whether to offer the tool-client box (admins only; the server checks).
#[component]
fn CreateAppWizard(may_create_tools: bool) -> impl IntoView {
    let create = ServerAction::<CreateApp>::new();
    let error = last_error(create.value());
    let created = move || create.value().get().and_then(Result::ok);
    view! {
        <section>
            <h1>"Create an app"</h1>
            <Show when=move || created().is_none() fallback=move || created().map(|c| view! {
                <CreatedPanel client_id=c.app.client_id.clone() name=c.app.name.clone() secret=c.first_secret.clone()/>
            })>
                <nav class="tabs" aria-label="Steps"><span class="tab active">"Basic info"</span><span class="tab">"OAuth & access scopes"</span></nav>
                <ActionForm action=create attr:class="form card" attr:novalidate=true>
                    <FormMessage error/>
                    <div class="field">
                        <label for="app-name">"Name"</label>
                        <input id="app-name" name="name" required maxlength="100" aria-invalid=invalid(error, "name")/>
                        <FieldMessage error field="name"/>
                    </div>
                    <fieldset class="field">
                        <legend>"Who can use it"</legend>
                        <label><input type="radio" name="visibility" value="private" checked/>" Private: only members of this tenant"</label>
                        <label><input type="radio" name="visibility" value="public"/>" Public: users of any tenant"</label>
                    </fieldset>
                    <fieldset class="field">
                        <legend>"Client type"</legend>
                        <label><input type="radio" name="client_type" value="confidential" checked/>" Confidential: a server that can keep a secret"</label>
                        <label><input type="radio" name="client_type" value="public"/>" Public: a browser or mobile app (PKCE, no secret)"</label>
                        <FieldMessage error field="client_type"/>
                    </fieldset>
                    {may_create_tools.then(|| view! {
                        <label class="check"><input type="checkbox" name="tool"/>" Tool client: its tokens act for the tenant"</label>
                        <FieldMessage error field="tool"/>
                    })}
                    <div class="field">
                        <label for="callback-url">"Callback URL"</label>
                        <input id="callback-url" name="callback_url" type="url" placeholder="https://app.example.com/callback"
                            aria-invalid=invalid(error, "callback_url") aria-describedby="callback-hint"/>
                        <p class="hint" id="callback-hint">"Exactly one. https, or http for localhost. Optional for apps that only use client credentials."</p>
                        <FieldMessage error field="callback_url"/>
                    </div>
                    <button type="submit" class="button" disabled=move || create.pending().get()>"Save"</button>
                </ActionForm>
            </Show>
        </section>
    }
}

#[component]
fn CreatedPanel(client_id: String, name: String, secret: Option<NewSecret>) -> impl IntoView {
    let href = format!("/apps/{client_id}?tab=oauth");
    view! {
        <nav class="tabs" aria-label="Steps"><span class="tab">"Basic info"</span><span class="tab active">"OAuth & access scopes"</span></nav>
        <div class="card">
            <p class="alert alert-ok">{format!("{name} is registered.")}</p>
            <SecretField label="Client id" value=client_id.clone() testid="client-id"/>
            {secret.map(|s| view! {
                <SecretField label="Client secret" value=s.plaintext.clone() testid="client-secret"/>
                <p class="alert alert-warn" role="alert"><strong>"Copy the secret now. "</strong>"You will not see this secret again: Keyport keeps only a hash of it."</p>
            })}
            <A href=href attr:class="button">"Go to the app"</A>
        </div>
    }
}

/// A read-only value with a copy button.
#[component]
pub fn SecretField(label: &'static str, value: String, testid: &'static str) -> impl IntoView {
    let id = format!("field-{testid}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <div class="copy-row">
                <input id=id readonly value=value.clone() class="mono" data-testid=testid/>
                <CopyButton value label=if testid == "client-id" { "Copy client id" } else { "Copy client secret" }/>
            </div>
        </div>
    }
}
