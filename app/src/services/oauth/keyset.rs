//! The signing keys as the token endpoint uses them: parsed once, with their verifiers and
//! the JWKS document ready, and replaced whole when a key is published or retired.

use std::sync::{Arc, atomic::Ordering};

use serde_json::json;

use super::OAuthService;
use crate::{
    domain::{
        jwt::{self, Alg, KeySchedule, Signer, Verifier},
        sealing::{MasterKey, Sealed},
    },
    services::ServiceError,
    store::{
        StoreError, changes,
        signing_keys::{self, KeyRow},
    },
};

struct LoadedKey {
    signer: Arc<Signer>,
    schedule: KeySchedule,
}

#[derive(Default)]
pub(super) struct KeySet {
    keys: Vec<LoadedKey>,
    pub(super) verifiers: Vec<Verifier>,
    jwks: String,
    /// Of every published key, each once, oldest key's first.
    algorithms: Vec<Alg>,
}

impl KeySet {
    /// The key that signs at `now` ([`jwt::signing_key`]).
    pub(super) fn signer(&self, now: i64) -> Option<&Arc<Signer>> {
        jwt::signing_key(self.keys.iter().map(|k| k.schedule), now).map(|i| &self.keys[i].signer)
    }
}

impl OAuthService {
    pub(super) async fn reload_keys(&self) -> Result<(), ServiceError> {
        let local = changes::local_generation();
        let rows = signing_keys::published(&self.inner.db, self.now()).await?;
        let mut set = KeySet::default();
        let mut jwks = Vec::new();
        for row in rows {
            let signer = parse_key(&self.inner.master, &row)?;
            set.verifiers.push(signer.verifier());
            if !set.algorithms.contains(&signer.alg) {
                set.algorithms.push(signer.alg);
            }
            let jwk: serde_json::Value = serde_json::from_str(&row.public_jwk)
                .map_err(|_| StoreError::Corrupt("signing key JWK".into()))?;
            jwks.push(jwk);
            set.keys.push(LoadedKey {
                signer: Arc::new(signer),
                schedule: row.schedule(),
            });
        }
        set.jwks = json!({ "keys": jwks }).to_string();
        *self.inner.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
        self.inner.keys_local.store(local, Ordering::Release);
        Ok(())
    }

    pub(super) fn key_set(&self) -> Arc<KeySet> {
        self.inner
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The JWKS document (RFC 7517): every published public key.
    pub fn jwks(&self) -> String {
        self.key_set().jwks.clone()
    }

    /// The algorithms of the published keys: what tokens from this server are signed with,
    /// the retiring key's and the next one's included, whatever new keys will use.
    pub fn algorithms(&self) -> Vec<Alg> {
        self.key_set().algorithms.clone()
    }

    /// Seconds the key that signs now has been signing, from memory (cheap enough for every
    /// metrics scrape); `None` before any key is loaded.
    pub fn signing_key_age(&self) -> Option<i64> {
        let set = self.key_set();
        crate::domain::key_rotation::signing_key_age(
            set.keys.iter().map(|k| k.schedule),
            self.now(),
        )
    }
}

/// Opens a stored key. A row in plaintext is refused, not used: every process seals those at
/// start, so one found later was written by an earlier version still running or by someone
/// without the master key, and should not sign.
fn parse_key(master: &MasterKey, row: &KeyRow) -> Result<Signer, ServiceError> {
    let alg = Alg::parse(&row.alg)
        .ok_or_else(|| ServiceError::Store(StoreError::Corrupt("signing key algorithm".into())))?;
    let der = master.open(Sealed::SigningKey(&row.kid), &row.private_key)?;
    Signer::from_pkcs8(&row.kid, alg, &der).map_err(|e| ServiceError::Internal(e.to_string()))
}
