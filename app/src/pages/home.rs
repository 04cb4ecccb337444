use leptos::prelude::*;
use leptos_meta::Title;

use leptos_router::components::A;

use crate::{components::status_check::StatusCheck, portal::Portal};

/// The landing page: what Keyport is and whether this installation is healthy.
#[component]
pub fn HomePage() -> impl IntoView {
    let portal = expect_context::<Portal>();
    let call_to_action = move || {
        Suspend::new(async move {
            match portal.context.await {
                Ok(ctx) if ctx.viewer.is_some() => view! {
                    <A href="/apps" attr:class="button">"Go to your apps"</A>
                }.into_any(),
                Ok(ctx) if ctx.first_run => view! {
                    <div class="alert alert-ok first-run">
                        <p>"This Keyport is new: nobody has an account yet. The first person to sign up gets a tenant of their own and administers it."</p>
                        <A href="/signup" attr:class="button">"Create the first account"</A>
                    </div>
                }.into_any(),
                _ => view! {
                    <div class="cta">
                        <A href="/signin" attr:class="button">"Sign in"</A>
                        " "
                        <A href="/signup" attr:class="button secondary">"Create an account"</A>
                    </div>
                }.into_any(),
            }
        })
    };
    view! {
        <Title text="Developer portal and OAuth 2.0 server"/>
        <section class="hero">
            <h1>"Keyport"</h1>
            <p class="lead">
                "A self-hosted developer portal and OAuth 2.0 authorization server. "
                "Register apps, keep their secrets safe, and give your services signed access tokens fast."
            </p>
            <Suspense fallback=|| ()>{call_to_action}</Suspense>
        </section>
        <section class="features" aria-label="What Keyport does">
            <article class="card">
                <h2>"Register apps"</h2>
                <p>"Each app gets a client id that never changes and exactly one callback URL, validated before it is saved."</p>
            </article>
            <article class="card">
                <h2>"Rotate secrets safely"</h2>
                <p>"Secrets are shown once, stored only as hashes, and refreshed behind a confirm dialog, with an optional grace period for the old one."</p>
            </article>
            <article class="card">
                <h2>"Issue tokens fast"</h2>
                <p>"Services trade client credentials for short-lived JWT access tokens, signed with keys you can rotate without downtime."</p>
            </article>
        </section>
        <StatusCheck/>
    }
}
