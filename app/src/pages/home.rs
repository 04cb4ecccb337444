use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status_check::StatusCheck;

/// The landing page: what Keyport is and whether this installation is healthy.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Developer portal and OAuth 2.0 server"/>
        <section class="hero">
            <h1>"Keyport"</h1>
            <p class="lead">
                "A self-hosted developer portal and OAuth 2.0 authorization server. "
                "Register apps, keep their secrets safe, and give your services signed access tokens fast."
            </p>
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
