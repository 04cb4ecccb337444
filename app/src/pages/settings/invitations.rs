//! Settings → Members → Invitations: admins invite people by email and cancel what is pending.

use leptos::prelude::*;

use crate::{
    components::{
        format,
        forms::{FieldMessage, FormMessage, invalid, last_error, last_saved},
    },
    error::AppError,
    model::invitations::InvitationView,
    server_fns::invitations::{CancelInvitation, InviteMember, list_invitations},
};

/// What inviting answers, whether or not an account uses the email: it must not tell the two
/// apart (the service does the same work either way).
pub const INVITED: &str =
    "Invitation saved. They will see it when they sign in, or sign up, with this email.";

#[derive(Clone, Copy)]
pub(super) struct InvitationsState {
    invite: ServerAction<InviteMember>,
    cancel: ServerAction<CancelInvitation>,
    list: Resource<Result<Vec<InvitationView>, AppError>>,
}

impl InvitationsState {
    pub(super) fn new() -> InvitationsState {
        let invite = ServerAction::<InviteMember>::new();
        let cancel = ServerAction::<CancelInvitation>::new();
        let list = Resource::new(
            move || (invite.version().get(), cancel.version().get()),
            |_| list_invitations(),
        );
        InvitationsState {
            invite,
            cancel,
            list,
        }
    }
}

#[component]
pub(super) fn Invitations(state: InvitationsState) -> impl IntoView {
    let InvitationsState {
        invite,
        cancel,
        list,
    } = state;
    let error = last_error(invite.value());
    let invited = last_saved(invite.value());
    let cancel_error = last_error(cancel.value());
    view! {
        <h2 id="invitations-heading">"Invite a member"</h2>
        <p class="hint">"Nobody joins without accepting: the person sees the invitation when they sign in, or sign up, with this email. Invitations expire after 14 days."</p>
        <ActionForm action=invite attr:class="form card inline-form" attr:novalidate=true>
            <FormMessage error/>
            {move || invited.get().then(|| view! { <p class="alert alert-ok" role="status" id="invite-status">{INVITED}</p> })}
            <div class="field">
                <label for="invite-email">"Email"</label>
                <input id="invite-email" name="email" type="email" required aria-invalid=invalid(error, "email")/>
                <FieldMessage error field="email"/>
            </div>
            <div class="field">
                <label for="invite-role">"Role"</label>
                <select id="invite-role" name="role">
                    <option value="developer" selected>"Developer"</option>
                    <option value="admin">"Admin"</option>
                </select>
                <FieldMessage error field="role"/>
            </div>
            <button type="submit" class="button">"Invite"</button>
        </ActionForm>

        <h3 id="pending-heading">"Pending invitations"</h3>
        <FormMessage error=cancel_error/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) if list.is_empty() => view! { <p class="card">"No pending invitations."</p> }.into_any(),
                    Ok(list) => view! { <PendingTable list cancel/> }.into_any(),
                    Err(e) => view! { <p class="alert alert-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PendingTable(
    list: Vec<InvitationView>,
    cancel: ServerAction<CancelInvitation>,
) -> impl IntoView {
    view! {
        <table aria-labelledby="pending-heading">
            <thead>
                <tr><th>"Email"</th><th>"Role"</th><th>"Invited"</th><th>"Expires"</th><th><span class="sr-only">"Actions"</span></th></tr>
            </thead>
            <tbody>
                {list.into_iter().map(|i| {
                    let cancel_label = format!("Cancel the invitation of {}", i.email);
                    view! {
                    <tr data-invitation=i.email.clone()>
                        <td>{i.email.clone()}</td>
                        <td>{i.role.label()}</td>
                        <td>{format::date(i.invited_at)}</td>
                        <td>{format::date(i.expires_at)}</td>
                        <td class="row-actions">
                            <ActionForm action=cancel>
                                <input type="hidden" name="id" value=i.id.clone()/>
                                <button type="submit" class="button secondary"
                                    aria-label=cancel_label>
                                    "Cancel invitation"
                                </button>
                            </ActionForm>
                        </td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
    }
}
