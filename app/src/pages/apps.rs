use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    components::{format, guard::RequireViewer},
    error::AppError,
    model::apps::{AppSummary, ClientType, Visibility},
    portal::Portal,
    server_fns::{
        apps::list_apps,
        invitations::{DeclineInvitation, my_invitations},
    },
};

use super::invitations::YourInvitations;

/// The tenant's apps (a developer's own; an admin's all), and above them the invitations for
/// the viewer's email: signing in and signing up land here.
#[component]
pub fn AppsPage() -> impl IntoView {
    // Made with the page, not under the viewer's Suspense (see `crate::pages`). Switching
    // tenant lands on this same page, which the router keeps: reload for the new tenant.
    let switched = expect_context::<Portal>().switch_tenant;
    let apps = Resource::new(move || switched.version().get(), |_| list_apps());
    let accept = expect_context::<Portal>().accept_invitation;
    let decline = ServerAction::<DeclineInvitation>::new();
    let invitations = Resource::new(
        move || (accept.version().get(), decline.version().get()),
        |_| my_invitations(),
    );
    view! {
        <Title text="Apps"/>
        <RequireViewer children=Box::new(move |viewer| view! {
            <section>
                <div class="page-head">
                    <div>
                        <h1>"Apps"</h1>
                        <p class="lead">{format!("Apps registered in {}.", viewer.tenant_name)}</p>
                    </div>
                    <A href="/apps/new" attr:class="button">"Create an app"</A>
                </div>
                <YourInvitations list=invitations accept decline/>
                <AppList apps/>
            </section>
        }.into_any())/>
    }
}

#[component]
fn AppList(apps: Resource<Result<Vec<AppSummary>, AppError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading apps…"</p> }>
            {move || Suspend::new(async move {
                match apps.await {
                    Ok(list) if list.is_empty() => view! {
                        <div class="card empty-state"><p>"This tenant has no apps yet. Create one to get a client id and secret."</p></div>
                    }.into_any(),
                    Ok(list) => view! { <AppTable list/> }.into_any(),
                    Err(e) => view! { <p class="alert alert-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AppTable(list: Vec<AppSummary>) -> impl IntoView {
    view! {
        <table class="apps">
            <thead><tr><th>"Name"</th><th>"Client type"</th><th>"Visibility"</th><th>"Secrets"</th><th>"Soonest expiry"</th><th>"People"</th></tr></thead>
            <tbody>
                {list.into_iter().map(|s| {
                    let warn = s.expiring_soon;
                    let href = format!("/apps/{}", s.app.client_id);
                    let client_type = match s.app.client_type { ClientType::Confidential => "Confidential", ClientType::Public => "Public (PKCE)" };
                    let visibility = match s.app.visibility { Visibility::Private => "Private", Visibility::Public => "Public" };
                    view! {
                        <tr>
                            <td><A href=href>{s.app.name.clone()}</A></td>
                            <td>{client_type}</td>
                            <td>{visibility}</td>
                            <td>{s.active_secrets}</td>
                            <td class:expiry-warning=warn>
                                {format::optional_date(s.soonest_expiry, "—")}
                                {warn.then(|| view! { <span class="badge warn">" expires soon"</span> })}
                            </td>
                            <td title="People who authorised this app">{s.authorised_by}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
