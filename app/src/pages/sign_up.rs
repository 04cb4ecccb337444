use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    components::forms::{FieldMessage, FormMessage, invalid, last_error},
    domain::password::MIN_LENGTH,
    portal::Portal,
};

#[component]
pub fn SignUpPage() -> impl IntoView {
    let portal = expect_context::<Portal>();
    let error = last_error(portal.sign_up.value());
    view! {
        <Title text="Sign up"/>
        <section class="auth card">
            <h1>"Create your account"</h1>
            <p class="hint">"You get a tenant of your own, with you as its admin."</p>
            <p class="hint">"Invited to a team? Sign up with the email you were invited at: the invitation waits on the next page."</p>
            <ActionForm action=portal.sign_up attr:class="form" attr:novalidate=true>
                <FormMessage error/>
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="email" required
                        aria-invalid=invalid(error, "email")/>
                    <FieldMessage error field="email"/>
                </div>
                <div class="field">
                    <label for="name">"Your name"</label>
                    <input id="name" name="name" type="text" autocomplete="name" maxlength="100"
                        aria-invalid=invalid(error, "name")/>
                    <FieldMessage error field="name"/>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="new-password" required
                        minlength=MIN_LENGTH.to_string() aria-invalid=invalid(error, "password")
                        aria-describedby="password-hint"/>
                    <p class="hint" id="password-hint">{format!("At least {MIN_LENGTH} characters. A phrase of a few words works well.")}</p>
                    <FieldMessage error field="password"/>
                </div>
                <button type="submit" class="button" disabled=move || portal.sign_up.pending().get()>"Create account"</button>
                <p class="hint">"Already have an account? " <A href="/signin">"Sign in"</A></p>
            </ActionForm>
        </section>
    }
}
