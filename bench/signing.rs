//! What the token endpoint's cryptography costs, on one thread of this machine: signing an
//! access token with each algorithm Keyport offers, and hashing a presented client secret.
//! `bench/run.sh` prints these beside the load test, so the report can say how much of the
//! machine signatures alone take at a given rate of tokens.
//!
//! `cargo bench -p server --bench signing` (release profile); one `CRYPTO` line per operation.

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use app::domain::{
    credentials::{SecretHasher, generate_secret},
    jwt::{Alg, Signer},
    oauth::AccessClaims,
};

/// Microseconds per call of `op`, over about a second after a short warm-up.
fn micros_per_call(mut op: impl FnMut()) -> f64 {
    for _ in 0..200 {
        op();
    }
    let started = Instant::now();
    let mut calls = 0u64;
    while started.elapsed() < Duration::from_secs(1) {
        for _ in 0..100 {
            op();
        }
        calls += 100;
    }
    started.elapsed().as_secs_f64() * 1e6 / calls as f64
}

fn report(operation: &str, micros: f64) {
    println!(
        "CRYPTO op={operation} us={micros:.2} per_second={:.0}",
        1e6 / micros
    );
}

fn main() {
    // The claims of a token the benchmark's client gets: same sizes as on the wire.
    let claims = AccessClaims {
        iss: "http://127.0.0.1:3000".into(),
        sub: "app_01JDX3Q9ZKJ8M4T6V2N5R7W9YB".into(),
        aud: "http://127.0.0.1:3000/tenants/01JDX3Q9ZKJ8M4T6V2N5R7W9YA".into(),
        client_id: "app_01JDX3Q9ZKJ8M4T6V2N5R7W9YB".into(),
        scope: "orders:read".into(),
        iat: 1_800_000_000,
        exp: 1_800_003_600,
        jti: "019a8f0e-7c1d-7b3e-9f2a-4c5d6e7f8a9b".into(),
        tenant: "01JDX3Q9ZKJ8M4T6V2N5R7W9YA".into(),
        roles: vec![],
    };
    for alg in [Alg::Es256, Alg::EdDsa, Alg::Rs256] {
        let generated = Signer::generate(alg, "bench").expect("a new key");
        let signer = Signer::from_pkcs8("bench", alg, &generated.pkcs8).expect("its own key");
        let micros = micros_per_call(|| {
            black_box(signer.sign(black_box(&claims)).expect("a signature"));
        });
        report(&format!("sign-{}", alg.as_str()), micros);
    }
    let hasher = SecretHasher::new([7; 32]);
    let secret = generate_secret();
    let micros = micros_per_call(|| {
        black_box(hasher.hash(black_box(secret.expose())));
    });
    report("secret-hash", micros);
}
