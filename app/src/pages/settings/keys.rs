//! Settings → Signing keys: read-only, since the operator rotates them.

use leptos::prelude::*;

use crate::{
    components::format::{date, date_time},
    error::AppError,
    model::keys::{KeyState, SigningKeyView},
};

/// The keys that sign this server's tokens. Shared by every tenant, so read-only here.
#[component]
pub(super) fn SigningKeys(keys: Resource<Result<Vec<SigningKeyView>, AppError>>) -> impl IntoView {
    view! {
        <h2 id="keys-heading">"Signing keys"</h2>
        <p class="hint">
            "These keys sign the tokens of every tenant on this server, each under its own issuer; resource servers find them through the tenant's discovery document (Tenant, above)"
            ". The server's operator rotates them with "<code>"keyport keys rotate"</code>
            ": the new key is published first and signs after a lead time, and a retired key stays published until the tokens it signed have expired."
        </p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match keys.await {
                    Ok(list) => view! {
                        <table aria-labelledby="keys-heading">
                            <thead><tr><th>"Key id"</th><th>"Algorithm"</th><th>"State"</th><th>"Created"</th></tr></thead>
                            <tbody>{list.into_iter().map(|k| view! {
                                <tr data-kid=k.kid.clone()>
                                    <td class="mono">{k.kid.clone()}</td>
                                    <td>{k.alg.clone()}</td>
                                    <td>{key_state(&k)}</td>
                                    <td>{date(k.created_at)}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="alert alert-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn key_state(key: &SigningKeyView) -> String {
    match key.state {
        KeyState::Signing => "Signing".to_string(),
        KeyState::Next => format!("Published; signs from {}", date_time(key.active_from)),
        KeyState::Retired => match key.publish_until {
            Some(until) => format!("Retired; published until {}", date_time(until)),
            None => "Retired".to_string(),
        },
        KeyState::Standby => "Published, not signing".to_string(),
    }
}
