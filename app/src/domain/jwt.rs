//! Signing and verifying access tokens as compact JWS (RFC 7515) with key pairs parsed once:
//! ES256 (default), EdDSA (Ed25519) and RS256. The token endpoint signs thousands of tokens a
//! second, and re-parsing a PKCS#8 key per token (as `jsonwebtoken::encode` does) would cost
//! more than the signature itself.

use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    rsa::KeySize,
    signature::{
        self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
        Ed25519KeyPair, KeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
        UnparsedPublicKey,
    },
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::json;

/// A JWS algorithm Keyport signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Es256,
    EdDsa,
    Rs256,
}

impl Alg {
    /// The algorithm of the first key a fresh database gets when none is asked for.
    pub const DEFAULT: Alg = Alg::Es256;

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::EdDsa => "EdDSA",
            Alg::Rs256 => "RS256",
        }
    }
    pub fn parse(value: &str) -> Option<Alg> {
        match value {
            "ES256" => Some(Alg::Es256),
            "EdDSA" => Some(Alg::EdDsa),
            "RS256" => Some(Alg::Rs256),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not generate a {0} key")]
    Generate(&'static str),
    #[error("stored {0} key is unreadable")]
    Parse(&'static str),
}

enum Pair {
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

/// A private key ready to sign, with its JWS header already encoded.
pub struct Signer {
    pub kid: String,
    pub alg: Alg,
    pair: Pair,
    header: String,
    /// The header of OpenID Connect ID tokens: `typ: JWT`, so that neither kind of token
    /// can be passed off as the other.
    id_header: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({}, {})", self.kid, self.alg.as_str())
    }
}

/// A new key pair: its PKCS#8 DER (to store) and its public JWK (to publish).
pub struct GeneratedKey {
    pub pkcs8: Vec<u8>,
    pub public_jwk: serde_json::Value,
}

impl Signer {
    pub fn generate(alg: Alg, kid: &str) -> Result<GeneratedKey, KeyError> {
        let failed = || KeyError::Generate(alg.as_str());
        let pkcs8 = match alg {
            Alg::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                    .map_err(|_| failed())?
                    .as_ref()
                    .to_vec()
            }
            Alg::EdDsa => Ed25519KeyPair::generate_pkcs8v1(&SystemRandom::new())
                .map_err(|_| failed())?
                .as_ref()
                .to_vec(),
            Alg::Rs256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|k| k.as_der())
                .map_err(|_| failed())?
                .as_ref()
                .to_vec(),
        };
        let signer = Signer::from_pkcs8(kid, alg, &pkcs8).map_err(|_| failed())?;
        Ok(GeneratedKey {
            public_jwk: signer.public_jwk(),
            pkcs8,
        })
    }

    pub fn from_pkcs8(kid: &str, alg: Alg, der: &[u8]) -> Result<Signer, KeyError> {
        let bad = || KeyError::Parse(alg.as_str());
        let pair = match alg {
            Alg::Es256 => Pair::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|_| bad())?,
            ),
            Alg::EdDsa => Pair::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(|_| bad())?),
            Alg::Rs256 => Pair::Rsa(RsaKeyPair::from_pkcs8(der).map_err(|_| bad())?),
        };
        let header =
            B64.encode(json!({ "alg": alg.as_str(), "typ": "at+jwt", "kid": kid }).to_string());
        let id_header =
            B64.encode(json!({ "alg": alg.as_str(), "typ": "JWT", "kid": kid }).to_string());
        Ok(Signer {
            kid: kid.to_string(),
            alg,
            pair,
            header,
            id_header,
            rng: SystemRandom::new(),
        })
    }

    /// The public half as a JWK (RFC 7517), with `kid`, `alg` and `use`.
    pub fn public_jwk(&self) -> serde_json::Value {
        let mut jwk = match &self.pair {
            Pair::Ec(k) => {
                // An uncompressed point: 0x04 ‖ x ‖ y.
                let point = k.public_key().as_ref();
                json!({ "kty": "EC", "crv": "P-256", "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65]) })
            }
            Pair::Ed(k) => {
                json!({ "kty": "OKP", "crv": "Ed25519", "x": B64.encode(k.public_key().as_ref()) })
            }
            Pair::Rsa(k) => json!({
                "kty": "RSA",
                "n": B64.encode(k.public_key().modulus().big_endian_without_leading_zero()),
                "e": B64.encode(k.public_key().exponent().big_endian_without_leading_zero()),
            }),
        };
        jwk["kid"] = json!(self.kid);
        jwk["alg"] = json!(self.alg.as_str());
        jwk["use"] = json!("sig");
        jwk
    }

    /// The compact JWS of an access token's `claims` (`typ: at+jwt`, RFC 9068).
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, KeyError> {
        self.sign_under(&self.header, claims)
    }

    /// The compact JWS of an OpenID Connect ID token's `claims` (`typ: JWT`).
    pub fn sign_id_token(&self, claims: &impl Serialize) -> Result<String, KeyError> {
        self.sign_under(&self.id_header, claims)
    }

    fn sign_under(&self, header: &str, claims: &impl Serialize) -> Result<String, KeyError> {
        let failed = || KeyError::Generate(self.alg.as_str());
        let payload = serde_json::to_vec(claims).map_err(|_| failed())?;
        let mut token = String::with_capacity(header.len() + payload.len() * 4 / 3 + 360);
        token.push_str(header);
        token.push('.');
        B64.encode_string(&payload, &mut token);
        let signature = match &self.pair {
            Pair::Ec(k) => k
                .sign(&self.rng, token.as_bytes())
                .map_err(|_| failed())?
                .as_ref()
                .to_vec(),
            Pair::Ed(k) => k.sign(token.as_bytes()).as_ref().to_vec(),
            Pair::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &self.rng, token.as_bytes(), &mut sig)
                    .map_err(|_| failed())?;
                sig
            }
        };
        token.push('.');
        B64.encode_string(signature, &mut token);
        Ok(token)
    }

    /// What verifies this key's signatures.
    pub fn verifier(&self) -> Verifier {
        let public = match &self.pair {
            Pair::Ec(k) => k.public_key().as_ref().to_vec(),
            Pair::Ed(k) => k.public_key().as_ref().to_vec(),
            Pair::Rsa(k) => k.public_key().as_ref().to_vec(),
        };
        Verifier {
            kid: self.kid.clone(),
            alg: self.alg,
            public,
        }
    }
}

/// A public key that checks this server's tokens (introspection, the management API).
#[derive(Debug, Clone)]
pub struct Verifier {
    pub kid: String,
    pub alg: Alg,
    public: Vec<u8>,
}

/// Why a token was not accepted. Deliberately coarse: callers answer "inactive" either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a JWT of this server")]
    Malformed,
    #[error("signed by an unknown key")]
    UnknownKey,
    #[error("bad signature")]
    BadSignature,
}

#[derive(serde::Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    kid: String,
}

/// Checks the signature of a compact JWS with `typ: at+jwt` against `keys` and returns its
/// claims. Expiry and revocation are the caller's to check.
pub fn verify<C: DeserializeOwned>(token: &str, keys: &[Verifier]) -> Result<C, VerifyError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed);
    };
    let decode = |s: &str| B64.decode(s).map_err(|_| VerifyError::Malformed);
    let parsed: Header =
        serde_json::from_slice(&decode(header)?).map_err(|_| VerifyError::Malformed)?;
    if parsed.typ.as_deref() != Some("at+jwt") {
        return Err(VerifyError::Malformed);
    }
    let key = keys
        .iter()
        .find(|k| k.kid == parsed.kid)
        .ok_or(VerifyError::UnknownKey)?;
    // The algorithm is the key's, never the header's choice.
    if parsed.alg != key.alg.as_str() {
        return Err(VerifyError::BadSignature);
    }
    let algorithm: &dyn signature::VerificationAlgorithm = match key.alg {
        Alg::Es256 => &ECDSA_P256_SHA256_FIXED,
        Alg::EdDsa => &ED25519,
        Alg::Rs256 => &RSA_PKCS1_2048_8192_SHA256,
    };
    let signed = &token[..header.len() + 1 + payload.len()];
    UnparsedPublicKey::new(algorithm, &key.public)
        .verify(signed.as_bytes(), &decode(signature)?)
        .map_err(|_| VerifyError::BadSignature)?;
    serde_json::from_slice(&decode(payload)?).map_err(|_| VerifyError::Malformed)
}

/// When a published key signs: from `active_from` until `retired_at`. A rotation publishes
/// the next key before its `active_from`, and retires the current one at that moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySchedule {
    pub active_from: i64,
    pub retired_at: Option<i64>,
}

impl KeySchedule {
    pub fn signs_at(&self, now: i64) -> bool {
        self.active_from <= now && self.retired_at.is_none_or(|r| r > now)
    }
}

/// Which of the published keys signs at `now`: the newest whose time has come and that is
/// not retired; if none is (clocks disagree across a rotation), the newest, so that tokens
/// are still issued. Runs per token, so it takes an iterator rather than collecting.
pub fn signing_key(
    schedules: impl Iterator<Item = KeySchedule> + Clone,
    now: i64,
) -> Option<usize> {
    schedules
        .clone()
        .enumerate()
        .filter(|(_, k)| k.signs_at(now))
        .max_by_key(|(_, k)| k.active_from)
        .or_else(|| schedules.enumerate().max_by_key(|(_, k)| k.active_from))
        .map(|(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::oauth::AccessClaims;

    #[test]
    fn the_newest_key_whose_time_has_come_signs() {
        let key = |active_from, retired_at| KeySchedule {
            active_from,
            retired_at,
        };
        // A rotation at 100 with a lead of 20: the new key is published, the old still signs.
        let keys = [key(0, Some(120)), key(120, None)];
        assert_eq!(signing_key(keys.iter().copied(), 100), Some(0));
        assert_eq!(signing_key(keys.iter().copied(), 120), Some(1));
        assert_eq!(signing_key(keys.iter().copied(), 500), Some(1));
        // Before any key's time (a clock behind the one that rotated): the newest.
        assert_eq!(signing_key(keys.iter().copied(), -5), Some(1));
        assert_eq!(signing_key(std::iter::empty(), 0), None);
    }

    fn claims() -> AccessClaims {
        AccessClaims {
            iss: "https://id.example.com".into(),
            sub: "kpc_x".into(),
            aud: "https://api.example.com".into(),
            client_id: "kpc_x".into(),
            scope: "orders:read".into(),
            iat: 1,
            exp: 2,
            jti: "j1".into(),
            tenant: "t1".into(),
            roles: vec![],
        }
    }

    #[test]
    fn every_algorithm_signs_and_verifies() {
        for alg in [Alg::Es256, Alg::EdDsa, Alg::Rs256] {
            let generated = Signer::generate(alg, "k1").unwrap();
            let signer = Signer::from_pkcs8("k1", alg, &generated.pkcs8).unwrap();
            assert_eq!(generated.public_jwk["alg"], alg.as_str());
            assert!(generated.public_jwk.get("d").is_none(), "no private part");
            let token = signer.sign(&claims()).unwrap();
            let got: AccessClaims = verify(&token, &[signer.verifier()]).unwrap();
            assert_eq!(got, claims());
            let header: serde_json::Value =
                serde_json::from_slice(&B64.decode(token.split('.').next().unwrap()).unwrap())
                    .unwrap();
            assert_eq!(header["typ"], "at+jwt");
            assert_eq!(header["kid"], "k1");
        }
    }

    #[test]
    fn tampering_and_foreign_keys_are_refused() {
        let a = Signer::from_pkcs8(
            "a",
            Alg::Es256,
            &Signer::generate(Alg::Es256, "a").unwrap().pkcs8,
        )
        .unwrap();
        let b = Signer::from_pkcs8(
            "a",
            Alg::Es256,
            &Signer::generate(Alg::Es256, "a").unwrap().pkcs8,
        )
        .unwrap();
        let token = a.sign(&claims()).unwrap();
        assert_eq!(
            verify::<AccessClaims>(&token, &[b.verifier()]),
            Err(VerifyError::BadSignature)
        );
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut forged = claims();
        forged.scope = "admin".into();
        parts[1] = B64.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            verify::<AccessClaims>(&parts.join("."), &[a.verifier()]),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify::<AccessClaims>("a.b", &[a.verifier()]),
            Err(VerifyError::Malformed)
        );
        let other_kid = Signer::from_pkcs8(
            "z",
            Alg::Es256,
            &Signer::generate(Alg::Es256, "z").unwrap().pkcs8,
        )
        .unwrap();
        assert_eq!(
            verify::<AccessClaims>(&other_kid.sign(&claims()).unwrap(), &[a.verifier()]),
            Err(VerifyError::UnknownKey)
        );
    }
}
