# Keyport: `make run` serves the portal, `make test` runs every check. Both install what is
# missing first (scripts/ensure-tools.sh), so a fresh machine needs nothing by hand.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

.PHONY: run build test tools test-tools fmt-check clippy test-rust test-e2e test-python e2e-build test-release bench

## Build the release binary and WASM bundle and serve on http://127.0.0.1:3000 (SQLite in data/).
run: build
	$(TARGET_DIR)/release/keyport serve

## The release binary, with the portal's assets (hashed, brotli and gzip) inside it.
build: tools
	cargo leptos build --release --precompress --split

## fmt, clippy, Rust tests (SQLite; PostgreSQL too with KEYPORT_TEST_POSTGRES_URL), browser tests,
## third-party OAuth clients (authlib, PyJWT) against a running server, and the release binary
## alone in an empty directory (assets built in, compressed, within the size budget).
test: test-tools fmt-check clippy test-rust test-e2e test-python test-release

tools:
	@scripts/ensure-tools.sh build

test-tools:
	@scripts/ensure-tools.sh test

fmt-check:
	cargo fmt --all --check

# Per package, so the ssr and hydrate features never unify in one build.
clippy:
	cargo clippy -p app --features ssr,testkit --all-targets -- -D warnings
	cargo clippy -p server --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

test-rust:
	cargo test -p app --features ssr
	cargo test -p server

e2e-build:
	cargo leptos build --split

test-e2e: e2e-build
	node --test --test-concurrency=1 end2end/tests/

PY_VENV := $(or $(KEYPORT_PY_VENV),.venv)

test-python: e2e-build
	@scripts/ensure-python.sh
	KEYPORT_BIN=$(TARGET_DIR)/debug/keyport $(PY_VENV)/bin/python -m pytest -q end2end/python

# Last: it replaces target/site with the release build's assets.
test-release: build
	node --test --test-concurrency=1 end2end/release/

## Token-endpoint throughput, latency and memory: Keyport (SQLite, PostgreSQL) vs node-oidc-provider.
bench:
	bench/run.sh --results bench/RESULTS.md
