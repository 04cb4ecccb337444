use leptos::prelude::*;
use leptos_meta::Title;

/// What a signed-in person sees on a page their role does not open.
#[component]
pub fn NotAllowedPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <Title text="Not allowed"/>
        <section class="not-found">
            <h1>"Not allowed"</h1>
            <p>"Only tenant admins can open this page. Ask an admin of your tenant if you need access."</p>
            <p><a href="/apps">"Back to your apps"</a></p>
        </section>
    }
}
