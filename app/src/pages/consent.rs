//! The consent page (SPEC §3a): which app asks, who registered it, what it may do, and
//! **Allow** / **Deny**. Both buttons post plain forms, so the page works the same before the
//! WASM loads and after, and the answer leaves for the app's callback as a full navigation.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;
use server_fn::ServerFn;

use crate::{
    error::AppError,
    model::consent::{ConsentStep, ConsentView},
    server_fns::consent::{DecideConsent, get_consent},
};

#[component]
pub fn ConsentPage() -> impl IntoView {
    let search = use_location().search;
    let view = Resource::new(move || search.get(), get_consent);
    view! {
        <Title text="Allow access"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let query = search.get_untracked();
                match view.await {
                    Ok(ConsentStep::Ask(question)) => view! { <Question question query/> }.into_any(),
                    Ok(ConsentStep::Refused { app_name, host, message, back_to }) => view! {
                        <section class="card auth" role="alert">
                            <h1>{format!("You cannot allow {app_name}")}</h1>
                            <p>{message}</p>
                            <p class="hint">{format!("The app asked to be answered at {host}.")}</p>
                            <a class="button secondary" href=back_to rel="external noreferrer">{format!("Return to {host}")}</a>
                        </section>
                    }.into_any(),
                    Err(AppError::Unauthorized { .. }) => {
                        let next = crate::domain::authorize::encode(&format!("/consent?{query}"));
                        view! {
                            <section class="card auth">
                                <h1>"Sign in to continue"</h1>
                                <p>"An app wants to use your Keyport account. Sign in first."</p>
                                <a class="button" href=format!("/signin?next={next}")>"Sign in"</a>
                            </section>
                        }.into_any()
                    }
                    Err(error) => view! {
                        <section class="card auth" role="alert">
                            <h1>"Cannot sign you in to this app"</h1>
                            <p>{error.to_string()}</p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Question(question: ConsentView, query: String) -> impl IntoView {
    let ConsentView {
        app_name,
        tenant_name,
        yours,
        scopes,
        redirect_host,
        acting,
    } = question;
    let owner = if yours {
        format!("Registered by {tenant_name}, an organisation you belong to.")
    } else {
        format!("Registered by {tenant_name}. You are not a member of that organisation.")
    };
    let url = DecideConsent::PATH;
    let deny_query = query.clone();
    // Only Allow sends the choice (the `form` attribute); one tenant needs no choosing, only
    // saying.
    let acting_choice = match acting.as_slice() {
        [] => None,
        [only] => Some(
            view! {
                <p class="consent-tenant">{format!("It will act in {}.", only.name)}</p>
                <input type="hidden" name="tenant" form="consent-allow" value=only.id.clone()/>
            }
            .into_any(),
        ),
        several => Some(
            view! {
                <label class="consent-tenant">
                    "Act in "
                    <select name="tenant" id="consent-tenant" form="consent-allow">
                        {several.iter().map(|t| view! {
                            <option value=t.id.clone()>{t.name.clone()}</option>
                        }).collect_view()}
                    </select>
                </label>
            }
            .into_any(),
        ),
    };
    view! {
        <section class="card consent" aria-labelledby="consent-title">
            <h1 id="consent-title">{format!("Allow {app_name} to use your account?")}</h1>
            <p class="consent-owner">{owner}</p>
            {if scopes.is_empty() {
                view! { <p>"It asks for no permissions beyond knowing that you said yes."</p> }.into_any()
            } else {
                view! {
                    <p>"It will be able to:"</p>
                    <ul class="consent-scopes">
                        {scopes.into_iter().map(|s| view! {
                            <li data-scope=s.name.clone()>
                                <code>{s.name.clone()}</code>
                                {(!s.description.is_empty()).then(|| view! { " — " {s.description} })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <p class="hint">{format!("You will be sent back to {redirect_host}. You can revoke access at any time under Connected apps.")}</p>
            {acting_choice}
            // No button has focus on arrival: a page that opens this one must not be able to
            // turn a keystroke meant for itself into an Allow.
            <div class="dialog-actions">
                <form method="post" action=url>
                    <input type="hidden" name="query" value=deny_query/>
                    <input type="hidden" name="decision" value="deny"/>
                    <button type="submit" class="button secondary">"Deny"</button>
                </form>
                <form method="post" action=url id="consent-allow">
                    <input type="hidden" name="query" value=query/>
                    <input type="hidden" name="decision" value="allow"/>
                    <button type="submit" class="button">"Allow"</button>
                </form>
            </div>
        </section>
    }
}
