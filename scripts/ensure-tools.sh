#!/usr/bin/env bash
# Installs what building (`build`) or also testing (`test`) Keyport needs, skipping anything
# already present at the right version. Safe to run on every `make run` / `make test`.
set -euo pipefail

cd "$(dirname "$0")/.."
CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '==> %s\n' "$*" >&2; }

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_cargo_leptos() {
  if [[ "$(cargo leptos --version 2>/dev/null)" != *"$CARGO_LEPTOS_VERSION"* ]]; then
    # no_downloads: it must not fetch binaries at run time (this network only reaches registries).
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (once per machine, about 15 minutes)"
    cargo install cargo-leptos@"$CARGO_LEPTOS_VERSION" --features no_downloads --locked
  fi
}

ensure_wasm_bindgen() {
  if [[ "$(wasm-bindgen --version 2>/dev/null)" != *"$WASM_BINDGEN_VERSION"* ]]; then
    # Must match the wasm-bindgen crate in Cargo.lock exactly; a --locked install fails here.
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    cargo install wasm-bindgen-cli@"$WASM_BINDGEN_VERSION" --force
  fi
}

ensure_npm_packages() {
  if ! npm ls --depth=0 >/dev/null 2>&1; then
    say "installing npm packages (binaryen for wasm-opt, playwright-core)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    say "installing Chromium from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
  fi
}

case "${1:-build}" in
  build)
    ensure_wasm_target; ensure_npm_packages; ensure_wasm_bindgen; ensure_cargo_leptos ;;
  test)
    ensure_wasm_target; ensure_npm_packages; ensure_wasm_bindgen; ensure_cargo_leptos; ensure_chromium ;;
  *)
    echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac
