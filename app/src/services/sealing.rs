//! The server's keys at rest: every command that uses them first checks that they open under
//! the configured master key and seals what an earlier version stored in plaintext
//! ([`check_and_seal`]); `keyport keys rewrap` moves them all to another master key
//! ([`rewrap`]). The sealing rules themselves are in [`crate::domain::sealing`].

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::json;

use super::{ServiceError, keys::SETTING};
use crate::{
    domain::sealing::{MasterKey, Sealed, is_sealed, sealed_under},
    store::{Database, StoreError, Tx, audit, changes, settings, signing_keys},
};

/// One stored key: where it lives and what it is.
struct StoredKey {
    kid: Option<String>,
    stored: String,
}

impl StoredKey {
    fn what(&self) -> Sealed<'_> {
        match &self.kid {
            Some(kid) => Sealed::SigningKey(kid),
            None => Sealed::SecretHashKey,
        }
    }

    /// Writes `to` in place of what was read, if nobody changed it meanwhile.
    async fn replace(&self, tx: &mut Tx, to: &str, now: i64) -> Result<bool, StoreError> {
        match &self.kid {
            Some(kid) => signing_keys::replace_private_key(tx, kid, &self.stored, to).await,
            None => settings::replace_in(tx, SETTING, &self.stored, to, now).await,
        }
    }
}

async fn stored_keys(tx: &mut Tx) -> Result<Vec<StoredKey>, StoreError> {
    let mut keys: Vec<StoredKey> = signing_keys::private_keys_in(tx)
        .await?
        .into_iter()
        .map(|(kid, stored)| StoredKey {
            kid: Some(kid),
            stored,
        })
        .collect();
    if let Some(stored) = settings::get_in(tx, SETTING).await? {
        keys.push(StoredKey { kid: None, stored });
    }
    Ok(keys)
}

/// The ids of the master keys the stored keys are sealed under (none on a fresh database),
/// so a process without a master key can tell that generating one would not help.
pub async fn master_key_ids(db: &Database) -> Result<Vec<String>, ServiceError> {
    let mut tx = db.begin().await?;
    let mut ids: Vec<String> = stored_keys(&mut tx)
        .await?
        .iter()
        .filter_map(|k| sealed_under(&k.stored).map(str::to_string))
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Checks that every stored key opens under `master` (so a wrong master key stops a process
/// at start, with both key ids, rather than at its first token), and seals the keys an earlier
/// version stored in plaintext. Safe when several instances start at once: each plaintext row
/// is replaced only while it still holds the plaintext. Returns how many it sealed.
pub async fn check_and_seal(
    db: &Database,
    master: &MasterKey,
    now: i64,
) -> Result<usize, ServiceError> {
    let mut tx = db.begin().await?;
    let mut sealed = 0;
    for key in stored_keys(&mut tx).await? {
        let what = key.what();
        if is_sealed(&key.stored) {
            master.open(what, &key.stored)?;
            continue;
        }
        let plaintext = STANDARD
            .decode(key.stored.trim())
            .map_err(|_| StoreError::Corrupt(format!("{what} is neither sealed nor base64")))?;
        if key
            .replace(&mut tx, &master.seal(what, &plaintext)?, now)
            .await?
        {
            sealed += 1;
        }
    }
    tx.commit().await?;
    Ok(sealed)
}

/// What `keyport keys rewrap` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrapped {
    /// How many stored keys now open under the new master key.
    pub values: usize,
    pub from: String,
    pub to: String,
}

/// Opens every stored key with `current` and seals it under `new`, in one transaction: a key
/// that does not open under `current` aborts it all, and nothing changes. The transaction
/// moves the change counter, which serialises it with key rotations and makes the running
/// instances reload their keys, which fails loudly (naming both key ids) in every instance
/// still started with `current`.
pub async fn rewrap(
    db: &Database,
    current: &MasterKey,
    new: &MasterKey,
    now: i64,
) -> Result<Rewrapped, ServiceError> {
    if current == new {
        return Err(ServiceError::Rule(format!(
            "the new master key is the one in use ({})",
            new.id()
        )));
    }
    let mut tx = db.begin().await?;
    changes::bump(&mut tx).await?;
    let keys = stored_keys(&mut tx).await?;
    for key in &keys {
        let what = key.what();
        let plaintext = current.open(what, &key.stored)?;
        if !key
            .replace(&mut tx, &new.seal(what, &plaintext)?, now)
            .await?
        {
            return Err(ServiceError::Internal(format!(
                "{what} changed during the rewrap"
            )));
        }
    }
    let event = audit::NewEvent::new(None, audit::Actor::System, "master_key.rewrapped", now)
        .target("master_key", new.id())
        .detail(json!({ "from": current.id(), "to": new.id(), "values": keys.len() }));
    audit::record(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(Rewrapped {
        values: keys.len(),
        from: current.id().to_string(),
        to: new.id().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::{
            credentials::SecretHasher,
            jwt::{Alg, Signer},
            sealing::SealError,
        },
        services::{
            apps,
            keys::{ensure_signing_key, secret_hasher},
            testkit::{NOW, PUBLIC_URL, admin, draft, master_key},
        },
        store::{secrets, testkit::for_each_migrated_engine, unix_now},
    };

    fn other_key() -> MasterKey {
        MasterKey::from_bytes([77u8; 32])
    }

    /// A database as the server leaves it: a signing key, the generated secret-hash key and an
    /// app whose secret is hashed with it. Returns the secret and its stored hash.
    async fn served(db: &Database) -> (String, String) {
        ensure_signing_key(db, &master_key(), Alg::Es256, NOW)
            .await
            .unwrap();
        let hasher = secret_hasher(db, &master_key(), None).await.unwrap();
        let by = admin(db, "ann@example.com", NOW).await;
        let created = apps::create_app(db, &hasher, PUBLIC_URL, &by, draft("Orders"), None, NOW)
            .await
            .unwrap();
        let stored = secrets::list(db, &created.app.client_id).await.unwrap();
        (
            created.first_secret.unwrap().plaintext,
            stored[0].hash.clone(),
        )
    }

    async fn rows(db: &Database) -> Vec<(Option<String>, String)> {
        let mut tx = db.begin().await.unwrap();
        stored_keys(&mut tx)
            .await
            .unwrap()
            .into_iter()
            .map(|k| (k.kid, k.stored))
            .collect()
    }

    /// What someone holding only the rows could try: the stored text, or its base64 decoding,
    /// as the key material it used to be.
    fn usable_without_master_key(rows: &[(Option<String>, String)], secret: &str, hash: &str) {
        for (kid, stored) in rows {
            let candidates = [
                stored.as_bytes().to_vec(),
                STANDARD.decode(stored).unwrap_or_default(),
            ];
            for bytes in candidates {
                match kid {
                    Some(kid) => assert!(
                        Signer::from_pkcs8(kid, Alg::Es256, &bytes).is_err(),
                        "signing key {kid} parses from its row"
                    ),
                    None => {
                        if let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) {
                            assert!(!SecretHasher::new(key).verify(secret, hash));
                        }
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn the_stored_rows_alone_neither_sign_nor_reproduce_secret_hashes() {
        for_each_migrated_engine(|db| async move {
            let (secret, hash) = served(&db).await;
            let rows = rows(&db).await;
            assert_eq!(rows.len(), 2, "a signing key and the secret-hash key");
            usable_without_master_key(&rows, &secret, &hash);

            // Another master key gets nothing out of them, and says which key they need.
            let refused = secret_hasher(&db, &other_key(), None).await.unwrap_err();
            assert!(matches!(
                refused,
                ServiceError::Sealing(SealError::WrongKey { .. })
            ));
            let refused = check_and_seal(&db, &other_key(), NOW).await.unwrap_err();
            let message = refused.to_string();
            assert!(
                message.contains(master_key().id()) && message.contains(other_key().id()),
                "{message}"
            );
            // The right one gets the same hasher back.
            let hasher = secret_hasher(&db, &master_key(), None).await.unwrap();
            assert!(hasher.verify(&secret, &hash));
        })
        .await;
    }

    #[tokio::test]
    async fn plaintext_keys_of_an_earlier_version_are_sealed_once_and_keep_working() {
        for_each_migrated_engine(|db| async move {
            let (secret, hash) = served(&db).await;
            // Undo the sealing, as an earlier version stored the keys.
            let mut tx = db.begin().await.unwrap();
            let mut plaintext = Vec::new();
            for key in stored_keys(&mut tx).await.unwrap() {
                let opened = master_key().open(key.what(), &key.stored).unwrap();
                let text = STANDARD.encode(&opened);
                assert!(key.replace(&mut tx, &text, NOW).await.unwrap());
                plaintext.push(text);
            }
            tx.commit().await.unwrap();
            assert!(
                secret_hasher(&db, &master_key(), None).await.is_err(),
                "unsealed keys are refused until sealed"
            );

            assert_eq!(check_and_seal(&db, &master_key(), NOW).await.unwrap(), 2);
            assert_eq!(check_and_seal(&db, &master_key(), NOW).await.unwrap(), 0);
            let rows = rows(&db).await;
            for (_, stored) in &rows {
                assert!(is_sealed(stored), "{stored}");
                assert!(!plaintext.contains(stored));
            }
            usable_without_master_key(&rows, &secret, &hash);
            let hasher = secret_hasher(&db, &master_key(), None).await.unwrap();
            assert!(
                hasher.verify(&secret, &hash),
                "the old secret still verifies"
            );
            assert_eq!(
                master_key_ids(&db).await.unwrap(),
                [master_key().id().to_string()]
            );
        })
        .await;
    }

    #[tokio::test]
    async fn rewrap_moves_every_key_or_none() {
        for_each_migrated_engine(|db| async move {
            let (secret, hash) = served(&db).await;
            let done = rewrap(&db, &master_key(), &other_key(), unix_now())
                .await
                .unwrap();
            assert_eq!(
                done,
                Rewrapped {
                    values: 2,
                    from: master_key().id().into(),
                    to: other_key().id().into()
                }
            );
            assert!(secret_hasher(&db, &master_key(), None).await.is_err());
            let hasher = secret_hasher(&db, &other_key(), None).await.unwrap();
            assert!(hasher.verify(&secret, &hash));
            check_and_seal(&db, &other_key(), NOW).await.unwrap();

            // Rewrapping with a key that opens nothing changes nothing.
            let before = rows(&db).await;
            let third = MasterKey::from_bytes([78u8; 32]);
            let refused = rewrap(&db, &master_key(), &third, NOW).await.unwrap_err();
            assert!(refused.to_string().contains(other_key().id()), "{refused}");
            assert_eq!(rows(&db).await, before);
            assert!(rewrap(&db, &other_key(), &other_key(), NOW).await.is_err());
        })
        .await;
    }
}
