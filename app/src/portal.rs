//! Portal-wide state: the actions that change who is signed in, and the resource that says
//! who is, refreshed whenever one of those actions completes.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::accounts::PortalContext;
use crate::server_fns::auth::{SignIn, SignOut, SignUp, SwitchTenant, get_portal_context};
use crate::server_fns::invitations::AcceptInvitation;

#[derive(Clone, Copy)]
pub struct Portal {
    pub sign_in: ServerAction<SignIn>,
    pub sign_up: ServerAction<SignUp>,
    pub sign_out: ServerAction<SignOut>,
    pub switch_tenant: ServerAction<SwitchTenant>,
    /// Accepting an invitation adds a tenant to the header's switcher.
    pub accept_invitation: ServerAction<AcceptInvitation>,
    pub context: Resource<Result<PortalContext, AppError>>,
}

impl Portal {
    pub fn provide() -> Portal {
        let sign_in = ServerAction::<SignIn>::new();
        let sign_up = ServerAction::<SignUp>::new();
        let sign_out = ServerAction::<SignOut>::new();
        let switch_tenant = ServerAction::<SwitchTenant>::new();
        let accept_invitation = ServerAction::<AcceptInvitation>::new();
        let context = Resource::new(
            move || {
                (
                    sign_in.version().get(),
                    sign_up.version().get(),
                    sign_out.version().get(),
                    switch_tenant.version().get(),
                    accept_invitation.version().get(),
                )
            },
            |_| get_portal_context(),
        );
        let portal = Portal {
            sign_in,
            sign_up,
            sign_out,
            switch_tenant,
            accept_invitation,
            context,
        };
        provide_context(portal);
        portal
    }
}
