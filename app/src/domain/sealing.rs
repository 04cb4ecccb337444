//! Sealing the server's own keys at rest: signing keys' private halves and the secret-hash key
//! are stored encrypted under a master key (key-encryption key) that never enters the database,
//! so a copy of the database alone can neither sign a token nor check a guessed secret.
//!
//! A sealed value is the text `sealed:v1:<master key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`:
//! AES-256-GCM with a random 96-bit nonce per value, and additional authenticated data naming
//! what is sealed ([`Sealed`]), so a value copied into another row does not open there. The
//! master key id is a fingerprint of the key, so an error can say which key a value needs
//! without saying anything about the key itself.

use aws_lc_rs::{
    aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey},
    digest::{SHA256, digest},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};

/// What every sealed value starts with; the version leaves room for another scheme.
const PREFIX: &str = "sealed:v1:";
/// Mixed into the fingerprint so a key id is not simply a hash of the key.
const ID_LABEL: &[u8] = b"keyport master key id v1\0";
/// AES-GCM's tag.
const TAG_LEN: usize = 16;

/// What a sealed value holds; its name is the additional authenticated data, so the value opens
/// only in the row it was sealed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed<'a> {
    /// The PKCS#8 private key of the signing key with this `kid`.
    SigningKey(&'a str),
    /// The key that hashes client secrets, when the server generated and stored it.
    SecretHashKey,
}

impl Sealed<'_> {
    fn aad(&self) -> String {
        match self {
            Sealed::SigningKey(kid) => format!("signing_key:{kid}"),
            Sealed::SecretHashKey => "secret_hash_key".to_string(),
        }
    }
}

impl std::fmt::Display for Sealed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sealed::SigningKey(kid) => write!(f, "signing key {kid}"),
            Sealed::SecretHashKey => f.write_str("the stored secret-hash key"),
        }
    }
}

/// Why a value or a master key was refused. Names key ids and rows, never key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the master key must be base64 of 32 bytes ({0})")]
    BadMasterKey(&'static str),
    #[error(
        "{what} is sealed under master key {sealed_under}, but the configured master key is \
         {configured}: start with the master key it was sealed under"
    )]
    WrongKey {
        what: String,
        sealed_under: String,
        configured: String,
    },
    #[error(
        "{what} does not open under master key {key_id}: it is damaged or was moved from another row"
    )]
    DoesNotOpen { what: String, key_id: String },
    #[error("{what} is not a sealed value this version can read")]
    Malformed { what: String },
    #[error("{what} is stored unsealed")]
    NotSealed { what: String },
    #[error("could not seal {what}")]
    Seal { what: String },
}

/// The key-encryption key. `Debug` shows only its id.
#[derive(Clone)]
pub struct MasterKey {
    bytes: [u8; 32],
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl PartialEq for MasterKey {
    fn eq(&self, other: &MasterKey) -> bool {
        self.id == other.id
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        let fingerprint = digest(&SHA256, &[ID_LABEL, &bytes[..]].concat());
        let id = fingerprint.as_ref()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        MasterKey { bytes, id }
    }

    /// The text form: base64 (standard alphabet) of 32 bytes, surrounding whitespace ignored,
    /// as a key file written by `head -c32 /dev/urandom | base64` holds it.
    pub fn parse(text: &str) -> Result<MasterKey, SealError> {
        let decoded = STANDARD
            .decode(text.trim())
            .map_err(|_| SealError::BadMasterKey("not base64"))?;
        let bytes: [u8; 32] = decoded
            .try_into()
            .map_err(|_| SealError::BadMasterKey("wrong length"))?;
        Ok(MasterKey::from_bytes(bytes))
    }

    /// A new key from the OS random number generator.
    pub fn generate() -> Result<MasterKey, SealError> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| SealError::BadMasterKey("no randomness"))?;
        Ok(MasterKey::from_bytes(bytes))
    }

    /// The text form, for the key file this process writes. The only way key material leaves.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    /// A short fingerprint (16 hex digits) naming this key in sealed values and messages.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> RandomizedNonceKey {
        #[allow(clippy::expect_used)] // 32 bytes is AES-256's key length, always accepted
        RandomizedNonceKey::new(&AES_256_GCM, &self.bytes).expect("a 32-byte AES-256 key")
    }

    /// `plaintext` sealed for `what`, under a fresh random nonce.
    pub fn seal(&self, what: Sealed<'_>, plaintext: &[u8]) -> Result<String, SealError> {
        let mut in_out = plaintext.to_vec();
        let nonce = self
            .cipher()
            .seal_in_place_append_tag(Aad::from(what.aad()), &mut in_out)
            .map_err(|_| SealError::Seal {
                what: what.to_string(),
            })?;
        let mut payload = nonce.as_ref().to_vec();
        payload.extend_from_slice(&in_out);
        Ok(format!(
            "{PREFIX}{}:{}",
            self.id,
            URL_SAFE_NO_PAD.encode(payload)
        ))
    }

    /// The plaintext of `stored`, sealed for `what` under this key.
    pub fn open(&self, what: Sealed<'_>, stored: &str) -> Result<Vec<u8>, SealError> {
        let (key_id, payload) = parse(what, stored)?;
        if key_id != self.id {
            return Err(SealError::WrongKey {
                what: what.to_string(),
                sealed_under: key_id.to_string(),
                configured: self.id.clone(),
            });
        }
        let malformed = || SealError::Malformed {
            what: what.to_string(),
        };
        let mut payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| malformed())?;
        if payload.len() < NONCE_LEN + TAG_LEN {
            return Err(malformed());
        }
        let mut in_out = payload.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&payload).map_err(|_| malformed())?;
        let plaintext = self
            .cipher()
            .open_in_place(nonce, Aad::from(what.aad()), &mut in_out)
            .map_err(|_| SealError::DoesNotOpen {
                what: what.to_string(),
                key_id: key_id.to_string(),
            })?;
        Ok(plaintext.to_vec())
    }
}

/// Whether `stored` is in the sealed form (of any version this one knows).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// The id of the master key `stored` was sealed under, if it is sealed at all.
pub fn sealed_under(stored: &str) -> Option<&str> {
    stored
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once(':'))
        .map(|(id, _)| id)
}

fn parse<'s>(what: Sealed<'_>, stored: &'s str) -> Result<(&'s str, &'s str), SealError> {
    let rest = stored.strip_prefix(PREFIX).ok_or_else(|| {
        if stored.starts_with("sealed:") {
            SealError::Malformed {
                what: what.to_string(),
            }
        } else {
            SealError::NotSealed {
                what: what.to_string(),
            }
        }
    })?;
    rest.split_once(':')
        .filter(|(id, _)| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| SealError::Malformed {
            what: what.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes([byte; 32])
    }

    #[test]
    fn a_sealed_value_opens_under_its_key_for_its_row_only() {
        let k = key(1);
        let sealed = k.seal(Sealed::SigningKey("kid-a"), b"pkcs8 bytes").unwrap();
        assert_eq!(
            k.open(Sealed::SigningKey("kid-a"), &sealed).unwrap(),
            b"pkcs8 bytes"
        );
        // Moved to another key's row, or to the hash key's row, it does not open.
        for elsewhere in [Sealed::SigningKey("kid-b"), Sealed::SecretHashKey] {
            assert_eq!(
                k.open(elsewhere, &sealed),
                Err(SealError::DoesNotOpen {
                    what: elsewhere.to_string(),
                    key_id: k.id().to_string()
                })
            );
        }
    }

    #[test]
    fn the_stored_text_names_the_key_and_hides_the_plaintext() {
        let k = key(2);
        let sealed = k.seal(Sealed::SecretHashKey, &[7u8; 32]).unwrap();
        let prefix = format!("sealed:v1:{}:", k.id());
        assert!(sealed.starts_with(&prefix), "{sealed}");
        assert!(is_sealed(&sealed));
        assert_eq!(sealed_under(&sealed), Some(k.id()));
        let payload = URL_SAFE_NO_PAD.decode(&sealed[prefix.len()..]).unwrap();
        assert_eq!(payload.len(), NONCE_LEN + 32 + TAG_LEN);
        assert!(!payload.windows(32).any(|w| w == [7u8; 32]));
        // A fresh nonce each time: the same plaintext never seals to the same text.
        assert_ne!(k.seal(Sealed::SecretHashKey, &[7u8; 32]).unwrap(), sealed);
    }

    #[test]
    fn another_master_key_is_refused_naming_both_ids() {
        let (a, b) = (key(3), key(4));
        assert_ne!(a.id(), b.id());
        let sealed = a.seal(Sealed::SecretHashKey, b"x").unwrap();
        let error = b.open(Sealed::SecretHashKey, &sealed).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains(a.id()) && message.contains(b.id()),
            "{message}"
        );
        assert!(message.contains("secret-hash key"), "{message}");
        // A value claiming the right id but sealed under another key does not open either.
        let forged = sealed.replacen(a.id(), b.id(), 1);
        assert!(matches!(
            b.open(Sealed::SecretHashKey, &forged),
            Err(SealError::DoesNotOpen { .. })
        ));
    }

    #[test]
    fn tampering_and_other_shapes_are_refused() {
        let k = key(5);
        let sealed = k.seal(Sealed::SigningKey("k"), b"secret").unwrap();
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert!(matches!(
            k.open(Sealed::SigningKey("k"), &flipped),
            Err(SealError::DoesNotOpen { .. })
        ));
        assert!(matches!(
            k.open(Sealed::SigningKey("k"), "MIGHAgEAMBMGByqGSM49"),
            Err(SealError::NotSealed { .. })
        ));
        let short = format!("sealed:v1:{}:AAAA", k.id());
        for bad in ["sealed:v2:00:AAAA", "sealed:v1:nothex:AAAA", &short] {
            assert!(
                matches!(
                    k.open(Sealed::SigningKey("k"), bad),
                    Err(SealError::Malformed { .. })
                ),
                "{bad}"
            );
        }
        assert!(!is_sealed("MIGHAgEAMBMGByqGSM49"));
        assert_eq!(sealed_under("MIGHAgEAMBMGByqGSM49"), None);
    }

    #[test]
    fn master_keys_parse_from_base64_text_and_show_only_their_id() {
        let k = key(6);
        let text = format!("  {}\n", k.to_base64());
        let parsed = MasterKey::parse(&text).unwrap();
        assert_eq!(parsed, k);
        assert_eq!(parsed.id().len(), 16);
        assert_eq!(format!("{parsed:?}"), format!("MasterKey({})", k.id()));
        assert!(MasterKey::parse("not base64!").is_err());
        assert!(MasterKey::parse(&STANDARD.encode([1u8; 16])).is_err());
        assert_ne!(
            MasterKey::generate().unwrap(),
            MasterKey::generate().unwrap()
        );
        // The id is a fingerprint, not the key: it does not appear in the key's text.
        assert!(!k.to_base64().contains(k.id()));
    }
}
