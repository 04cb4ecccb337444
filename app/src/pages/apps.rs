use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::guard::RequireViewer;

/// The tenant's apps.
#[component]
pub fn AppsPage() -> impl IntoView {
    view! {
        <Title text="Apps"/>
        <RequireViewer children=Box::new(|viewer| view! {
            <section>
                <h1>"Apps"</h1>
                <p class="lead">{format!("Apps registered in {}.", viewer.tenant_name)}</p>
                <div class="card empty-state">
                    <p>"This tenant has no apps yet."</p>
                </div>
            </section>
        }.into_any())/>
    }
}
