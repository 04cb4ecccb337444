use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::{model::accounts::Viewer, pages::NotAllowedPage, portal::Portal};

/// Shows `children` to a signed-in viewer (an admin when `admin_only`); sends anyone else to
/// sign in, and shows a developer "not allowed" (403). The server enforces the same rules on
/// every server function; this only decides what to render. `children` may run several times
/// on the server, so it must not make resources: the page makes them first (see
/// [`crate::pages`]).
#[component]
pub fn RequireViewer(
    children: Box<dyn Fn(Viewer) -> AnyView + Send + Sync>,
    #[prop(optional)] admin_only: bool,
) -> impl IntoView {
    let portal = expect_context::<Portal>();
    let children = std::sync::Arc::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match portal.context.await {
                        Ok(ctx) => match ctx.viewer {
                            Some(viewer) if admin_only && !viewer.role.can_administer_tenant() => {
                                view! { <NotAllowedPage/> }.into_any()
                            }
                            Some(viewer) => children(viewer),
                            None => view! { <Redirect path="/signin"/> }.into_any(),
                        },
                        Err(error) => {
                            view! { <p class="alert alert-error">{error.to_string()}</p> }.into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}
