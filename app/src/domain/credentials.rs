//! Client ids and client secrets: their formats, and how secrets are stored (a keyed hash).
//!
//! A secret looks like `kps_` + 43 base64url characters (256 random bits) + a 6-character
//! base62 CRC32 of everything before it. The checksum lets a secret scanner tell a real leaked
//! Keyport secret from random noise offline, without asking any server.

use std::fmt;

pub const CLIENT_ID_PREFIX: &str = "kpc_";
pub const CLIENT_ID_RANDOM_LEN: usize = 22;
pub const SECRET_PREFIX: &str = "kps_";
pub const SECRET_PAYLOAD_LEN: usize = 43;
pub const SECRET_CHECKSUM_LEN: usize = 6;
pub const SECRET_LEN: usize = 4 + SECRET_PAYLOAD_LEN + SECRET_CHECKSUM_LEN;
/// How much of a secret the portal shows to tell secrets apart: the prefix and 6 characters
/// (36 of 256 random bits).
pub const DISPLAY_PREFIX_LEN: usize = 4 + 6;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// CRC-32 (IEEE 802.3), as in zlib and GitHub's token checksums.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// `value` in base62, left-padded with zeros to `width` characters.
fn base62(mut value: u32, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(out).unwrap_or_default()
}

fn checksum(body: &str) -> String {
    base62(crc32(body.as_bytes()), SECRET_CHECKSUM_LEN)
}

/// Whether `candidate` has the shape and checksum of a Keyport secret. Says nothing about
/// whether the secret is valid for any client.
pub fn is_well_formed_secret(candidate: &str) -> bool {
    // ASCII first: the split below is at a byte index, which a multi-byte character could
    // straddle.
    if !candidate.is_ascii()
        || candidate.len() != SECRET_LEN
        || !candidate.starts_with(SECRET_PREFIX)
    {
        return false;
    }
    let (body, sum) = candidate.split_at(SECRET_LEN - SECRET_CHECKSUM_LEN);
    let payload = &body[SECRET_PREFIX.len()..];
    payload
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && sum.bytes().all(|b| b.is_ascii_alphanumeric())
        && checksum(body) == sum
}

/// Whether `candidate` has the shape of a client id.
pub fn is_well_formed_client_id(candidate: &str) -> bool {
    candidate.len() == CLIENT_ID_PREFIX.len() + CLIENT_ID_RANDOM_LEN
        && candidate.starts_with(CLIENT_ID_PREFIX)
        && candidate[CLIENT_ID_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

/// The part of a secret the portal may show.
pub fn display_prefix(secret: &str) -> &str {
    secret.get(..DISPLAY_PREFIX_LEN).unwrap_or(secret)
}

/// A secret's plaintext. It exists only between creation and the one response that shows it;
/// `Debug` and `Display` never print it, so it cannot leak through a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainSecret(String);

impl PlainSecret {
    /// Builds a secret from 32 random bytes.
    pub fn from_random(bytes: [u8; 32]) -> PlainSecret {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let body = format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let sum = checksum(&body);
        PlainSecret(body + &sum)
    }

    /// The plaintext, for the one place that must show or hash it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn display_prefix(&self) -> &str {
        display_prefix(&self.0)
    }
}

impl fmt::Debug for PlainSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlainSecret({}…)", self.display_prefix())
    }
}

/// Builds a client id from random bytes; bytes that would bias the base62 digits are skipped,
/// so `None` asks for more randomness (practically never).
pub fn client_id_from_random(bytes: &[u8]) -> Option<String> {
    let digits: String = bytes
        .iter()
        .filter(|&&b| b < 248) // 248 = 4 * 62: keeps every digit equally likely
        .map(|&b| BASE62[(b % 62) as usize] as char)
        .take(CLIENT_ID_RANDOM_LEN)
        .collect();
    (digits.len() == CLIENT_ID_RANDOM_LEN).then(|| format!("{CLIENT_ID_PREFIX}{digits}"))
}

/// Refresh tokens: `kpr_` + 43 base64url characters (256 random bits). No checksum: they
/// live in an app's storage, not in code or configuration where scanners look.
pub const REFRESH_TOKEN_PREFIX: &str = "kpr_";
/// Authorization codes: `kpa_` + 43 base64url characters.
pub const CODE_PREFIX: &str = "kpa_";

/// Whether `candidate` has the shape of an opaque token with `prefix` (a refresh token or a
/// code), so that anything else is refused before it costs a hash and a lookup.
pub fn is_well_formed_opaque(prefix: &str, candidate: &str) -> bool {
    candidate.len() == prefix.len() + 43
        && candidate.starts_with(prefix)
        && candidate[prefix.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(feature = "ssr")]
pub use keyed::*;

#[cfg(feature = "ssr")]
mod keyed {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    use subtle::ConstantTimeEq;

    use super::{PlainSecret, client_id_from_random};

    /// Secrets are 256 random bits, so a password hash would add nothing but latency on the
    /// token endpoint. HMAC-SHA256 under a server key means a stolen database alone does not
    /// let anyone test guesses offline.
    #[derive(Clone)]
    pub struct SecretHasher {
        key: [u8; 32],
    }

    impl std::fmt::Debug for SecretHasher {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("SecretHasher(…)")
        }
    }

    impl SecretHasher {
        pub fn new(key: [u8; 32]) -> SecretHasher {
            SecretHasher { key }
        }

        fn mac(&self) -> Hmac<Sha256> {
            #[allow(clippy::expect_used)] // HMAC accepts keys of any length
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length")
        }

        /// The stored form of a secret: 64 lowercase hex digits.
        pub fn hash(&self, secret: &str) -> String {
            let mut mac = self.mac();
            mac.update(secret.as_bytes());
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let digest = mac.finalize().into_bytes();
            let mut hex = String::with_capacity(64);
            for b in digest {
                hex.push(HEX[usize::from(b >> 4)] as char);
                hex.push(HEX[usize::from(b & 0x0f)] as char);
            }
            hex
        }

        /// Whether `secret` hashes to `stored`, in time independent of where they differ.
        pub fn verify(&self, secret: &str, stored: &str) -> bool {
            let computed = self.hash(secret);
            computed.len() == stored.len()
                && bool::from(computed.as_bytes().ct_eq(stored.as_bytes()))
        }
    }

    fn os_random<const N: usize>() -> [u8; N] {
        let mut bytes = [0u8; N];
        #[allow(clippy::expect_used)] // no OS randomness means no safe secrets: stop
        getrandom::fill(&mut bytes).expect("the OS random number generator failed");
        bytes
    }

    /// A new secret from the OS random number generator.
    pub fn generate_secret() -> PlainSecret {
        PlainSecret::from_random(os_random())
    }

    /// A new client id from the OS random number generator.
    pub fn generate_client_id() -> String {
        loop {
            if let Some(id) = client_id_from_random(&os_random::<64>()) {
                return id;
            }
        }
    }

    /// A new opaque token: `prefix` and 256 random bits in base64url.
    pub fn generate_opaque(prefix: &str) -> String {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(os_random::<32>()))
    }

    /// A new key for [`SecretHasher`].
    pub fn generate_hash_key() -> [u8; 32] {
        os_random()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn secrets_have_the_documented_shape_and_a_valid_checksum() {
        let secret = PlainSecret::from_random([7u8; 32]);
        let s = secret.expose();
        assert_eq!(s.len(), 53);
        assert!(s.starts_with("kps_"));
        assert!(is_well_formed_secret(s), "{s}");
        assert_eq!(secret.display_prefix(), &s[..10]);
        assert_ne!(PlainSecret::from_random([8u8; 32]), secret);
    }

    #[test]
    fn a_changed_character_breaks_the_checksum() {
        let s = PlainSecret::from_random([42u8; 32]).expose().to_string();
        for i in 4..s.len() {
            let mut bytes = s.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert!(
                !is_well_formed_secret(&tampered),
                "position {i}: {tampered}"
            );
        }
        assert!(!is_well_formed_secret(&s[..52]));
        assert!(!is_well_formed_secret(&s.replacen("kps_", "kpx_", 1)));
        assert!(!is_well_formed_secret(""));
    }

    #[test]
    fn non_ascii_candidates_are_refused_without_a_panic() {
        let s = PlainSecret::from_random([9u8; 32]).expose().to_string();
        // A two-byte character across the checksum's first byte, at the right total length.
        let straddling = format!("{}é{}", &s[..46], &s[48..]);
        assert_eq!(straddling.len(), s.len());
        assert!(!is_well_formed_secret(&straddling));
        assert!(!is_well_formed_client_id("kpc_éééééééééééééééééééééé"));
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let secret = PlainSecret::from_random([1u8; 32]);
        let printed = format!("{secret:?}");
        assert!(!printed.contains(&secret.expose()[10..]), "{printed}");
    }

    #[test]
    fn client_ids_are_prefixed_base62() {
        let id = client_id_from_random(&[
            0u8, 61, 62, 247, 248, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
            18,
        ])
        .unwrap();
        assert!(is_well_formed_client_id(&id), "{id}");
        assert_eq!(&id[..6], "kpc_0z", "248 and 255 are skipped, 62 wraps to 0");
        assert!(client_id_from_random(&[250u8; 64]).is_none());
        assert!(!is_well_formed_client_id("kpc_short"));
        assert!(!is_well_formed_client_id("kpc_!!!!!!!!!!!!!!!!!!!!!!"));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn keyed_hash_verifies_only_the_right_secret_under_the_right_key() {
        let hasher = SecretHasher::new([9u8; 32]);
        let secret = generate_secret();
        let stored = hasher.hash(secret.expose());
        assert_eq!(stored.len(), 64);
        assert!(hasher.verify(secret.expose(), &stored));
        assert!(!hasher.verify(generate_secret().expose(), &stored));
        assert!(!SecretHasher::new([8u8; 32]).verify(secret.expose(), &stored));
        assert!(!hasher.verify(secret.expose(), &stored[..63]));
        assert!(is_well_formed_client_id(&generate_client_id()));
        assert_ne!(generate_client_id(), generate_client_id());
    }
}
