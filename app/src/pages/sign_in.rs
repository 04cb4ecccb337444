use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_location};
use server_fn::ServerFn;

use crate::{
    components::forms::{FieldMessage, FormMessage, invalid, last_error},
    error::AppError,
    portal::Portal,
    server_fns::auth::SignIn,
};

#[component]
pub fn SignInPage() -> impl IntoView {
    let portal = expect_context::<Portal>();
    let last = last_error(portal.sign_in.value());
    // A wrong email or password is about the password field: that is what to retype.
    let error = Signal::derive(move || {
        last.get().map(|e| match e {
            AppError::Unauthorized { message } => AppError::Invalid {
                field: Some("password".into()),
                message,
            },
            other => other,
        })
    });
    // Sent here by an app's sign-in (`/oauth/authorize`): the way back is a page the server
    // answers, not one of the portal's, so the form posts as a plain form and the browser
    // follows the server's redirect, with or without the WASM.
    // Decoded once, from the raw query: the router's query map decodes values a second time,
    // which would turn a `+` or `%2B` in the app's `state` into a space on the way back.
    let next = url::form_urlencoded::parse(use_location().search.get_untracked().as_bytes())
        .find(|(name, _)| name == "next")
        .map(|(_, value)| value.into_owned())
        .filter(|n| crate::domain::return_path::safe_return_path(n).is_some());
    let fields = move || {
        view! {
            <FormMessage error/>
            <div class="field">
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required
                    aria-invalid=invalid(error, "email")/>
                <FieldMessage error field="email"/>
            </div>
            <div class="field">
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required
                    aria-invalid=invalid(error, "password")/>
                <FieldMessage error field="password"/>
            </div>
        }
    };
    let form = match next {
        Some(next) => view! {
            <p class="hint">"An app asked you to sign in. You will be taken back to it."</p>
            <form method="post" action=SignIn::PATH class="form" novalidate=true>
                {fields()}
                <input type="hidden" name="next" value=next/>
                <button type="submit" class="button">"Sign in"</button>
            </form>
        }
        .into_any(),
        None => view! {
            <ActionForm action=portal.sign_in attr:class="form" attr:novalidate=true>
                {fields()}
                <button type="submit" class="button" disabled=move || portal.sign_in.pending().get()>"Sign in"</button>
                <p class="hint">"New here? " <A href="/signup">"Create an account"</A></p>
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <Title text="Sign in"/>
        <section class="auth card">
            <h1>"Sign in to Keyport"</h1>
            {form}
        </section>
    }
}
