//! The invitations for the signed-in person's email, shown on the Apps page (where signing in
//! and signing up land) with Accept and Decline.

use leptos::prelude::*;

use crate::{
    components::{
        format,
        forms::{FormMessage, last_error, last_saved},
    },
    error::AppError,
    model::invitations::InvitationForYou,
    server_fns::invitations::{AcceptInvitation, DeclineInvitation},
};

#[component]
pub(super) fn YourInvitations(
    list: Resource<Result<Vec<InvitationForYou>, AppError>>,
    accept: ServerAction<AcceptInvitation>,
    decline: ServerAction<DeclineInvitation>,
) -> impl IntoView {
    let (accept_error, decline_error) = (last_error(accept.value()), last_error(decline.value()));
    let error = Signal::derive(move || accept_error.get().or_else(|| decline_error.get()));
    let accepted = last_saved(accept.value());
    view! {
        <FormMessage error/>
        {move || accepted.get().then(|| view! {
            <p class="alert alert-ok" role="status">"Invitation accepted. Switch to the tenant with the menu in the header."</p>
        })}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) if list.is_empty() => ().into_any(),
                    Ok(list) => view! { <InvitationList list accept decline/> }.into_any(),
                    Err(e) => view! { <p class="alert alert-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn InvitationList(
    list: Vec<InvitationForYou>,
    accept: ServerAction<AcceptInvitation>,
    decline: ServerAction<DeclineInvitation>,
) -> impl IntoView {
    view! {
        <section class="card invitations" aria-labelledby="your-invitations-heading">
            <h2 id="your-invitations-heading">"Invitations"</h2>
            <ul>
                {list.into_iter().map(|i| {
                    let who = i.invited_by.clone().unwrap_or_else(|| "An admin".into());
                    let text = format!(
                        "{who} invited you to join {} as {}.",
                        i.tenant_name,
                        i.role.label().to_lowercase()
                    );
                    let (accept_id, decline_id) = (i.id.clone(), i.id.clone());
                    let accept_label = format!("Accept the invitation to {}", i.tenant_name);
                    let decline_label = format!("Decline the invitation to {}", i.tenant_name);
                    view! {
                        <li data-invitation=i.tenant_name>
                            <p>{text}" "<span class="hint">{format!("Expires {}.", format::date(i.expires_at))}</span></p>
                            <div class="row-actions">
                                <ActionForm action=accept>
                                    <input type="hidden" name="id" value=accept_id/>
                                    <button type="submit" class="button"
                                        aria-label=accept_label>"Accept"</button>
                                </ActionForm>
                                <ActionForm action=decline>
                                    <input type="hidden" name="id" value=decline_id/>
                                    <button type="submit" class="button secondary"
                                        aria-label=decline_label>"Decline"</button>
                                </ActionForm>
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
