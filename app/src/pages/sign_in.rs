use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    components::forms::{FieldMessage, FormMessage, invalid, last_error},
    error::AppError,
    portal::Portal,
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
    view! {
        <Title text="Sign in"/>
        <section class="auth card">
            <h1>"Sign in to Keyport"</h1>
            <ActionForm action=portal.sign_in attr:class="form" attr:novalidate=true>
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
                <button type="submit" class="button" disabled=move || portal.sign_in.pending().get()>"Sign in"</button>
                <p class="hint">"New here? " <A href="/signup">"Create an account"</A></p>
            </ActionForm>
        </section>
    }
}
