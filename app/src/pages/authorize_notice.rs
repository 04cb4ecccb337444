//! What `/oauth/authorize` shows when it sends nobody anywhere (SPEC §3a): a request whose app
//! or callback cannot be trusted, or an error the app is owed for someone not known to trust
//! it, with one **Return to {host}** link. The authorization endpoint decides which and hands
//! it to this page, so the page is the portal's own, with its stylesheet and header.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{model::consent::AuthorizeNotice, server_fns::consent::get_authorize_notice};

#[component]
pub fn AuthorizeNoticePage() -> impl IntoView {
    let notice = Resource::new(|| (), |_| get_authorize_notice());
    view! {
        <Title text="Cannot sign you in"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match notice.await {
                    Ok(AuthorizeNotice::ReturnToApp { app_name, host, description, url }) => view! {
                        <section class="card auth authorize-notice" role="alert">
                            <h1>{format!("{app_name} could not sign you in")}</h1>
                            <p>{description}</p>
                            <p class="hint">{format!(
                                "The app asked to be answered at {host}. Go back there only if \
                                 you were using {app_name} just now."
                            )}</p>
                            <a class="button" href=url rel="external noreferrer">{format!("Return to {host}")}</a>
                        </section>
                    }.into_any(),
                    Ok(AuthorizeNotice::Refused { message }) => view! {
                        <section class="card auth authorize-notice" role="alert">
                            <h1>"Cannot sign you in to this app"</h1>
                            <p>{message}</p>
                            <p class="hint">"Tell the app's developer. You were not sent back to the \
                                app, because this server cannot be sure where it would send you."</p>
                            <p><a href="/">"Go to Keyport"</a></p>
                        </section>
                    }.into_any(),
                    Err(error) => view! {
                        <section class="card auth authorize-notice" role="alert">
                            <h1>"Cannot sign you in to this app"</h1>
                            <p>{error.to_string()}</p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
