# Shared set-up for scripts/demo and scripts/test: installs only what is missing, so a second run is fast.
# Sourced, not run. Needs Debian with Rust (rustup); uses apt-get (as root, or through sudo) for system packages.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_LEPTOS_VERSION="0.3.10"
SQLX_CLI_VERSION="0.8.6"
JWCRYPTO_VERSION="1.5.6"
SCHEMATHESIS_VERSION="4.32.5"
REQUESTS_VERSION="2.34.2"
PRIVATE_PG_PORT="${PRIVATE_PG_PORT:-54329}"

step() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

ensure_system_packages() {
  local missing=()
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  command -v psql >/dev/null || missing+=(postgresql-client)
  command -v cc >/dev/null || missing+=(build-essential)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  command -v python3 >/dev/null || missing+=(python3)
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    step "installing Chromium"
    apt_install chromium
  fi
}

ensure_rust_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    step "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes about 15 minutes once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
  if ! cargo sqlx --version 2>/dev/null | grep -q "$SQLX_CLI_VERSION"; then
    step "installing sqlx-cli $SQLX_CLI_VERSION (takes about 2 minutes once)"
    cargo install sqlx-cli --version "$SQLX_CLI_VERSION" --no-default-features --features postgres,rustls --locked
  fi
  local bindgen
  bindgen="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')"
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$bindgen"; then
    step "installing wasm-bindgen-cli $bindgen"
    cargo install wasm-bindgen-cli --version "$bindgen" --force
  fi
}

# The npm packages of end2end/package-lock.json: Playwright, axe-core, Lighthouse, and binaryen, whose
# wasm-opt (put on PATH here) `cargo leptos build --release` needs; cargo-leptos cannot download its own.
ensure_node_modules() {
  if [ ! -f end2end/node_modules/.package-lock.json ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    step "installing the end-to-end test packages"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
  export PATH="$ROOT/end2end/node_modules/.bin:$PATH"
}

# A Python virtual environment under target/ with jwcrypto, the JOSE library that verifies an erasure receipt
# in scripts/test (tests/python/verify_receipt.py); sets PYTHON_TOOLS to its python.
ensure_python_tools() {
  local venv="$ROOT/target/python-tools"
  PYTHON_TOOLS="$venv/bin/python"
  if "$PYTHON_TOOLS" -c "import importlib.metadata as m, sys; sys.exit(m.version('jwcrypto') != '$JWCRYPTO_VERSION' or m.version('schemathesis') != '$SCHEMATHESIS_VERSION' or m.version('requests') != '$REQUESTS_VERSION')" 2>/dev/null; then
    return
  fi
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    step "installing Python's venv"
    apt_install python3-venv
  fi
  step "installing jwcrypto $JWCRYPTO_VERSION, schemathesis $SCHEMATHESIS_VERSION and requests $REQUESTS_VERSION in $venv"
  python3 -m venv --clear "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "jwcrypto==$JWCRYPTO_VERSION" \
    "schemathesis==$SCHEMATHESIS_VERSION" "requests==$REQUESTS_VERSION"
}

# Creates the receipt signing key file $1 (with its first key, by `rotate-receipt-key` of the binary $2) when
# it is missing, and exports RECEIPT_SIGNING_KEY_FILE as $1.
ensure_receipt_key() {
  export RECEIPT_SIGNING_KEY_FILE="$1"
  if [ ! -f "$RECEIPT_SIGNING_KEY_FILE" ]; then
    step "creating a receipt signing key in $RECEIPT_SIGNING_KEY_FILE"
    "$2" rotate-receipt-key
  fi
}

port_open() {
  # $1 host, $2 port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# Stops the script when something already listens on $1:$2, so that specs or load never run against another
# server. $3 names the variable that picks another port.
ensure_port_free() {
  if port_open "$1" "$2"; then
    echo "port $2 on $1 is already in use: stop what listens there, or choose another port with $3" >&2
    exit 1
  fi
}

# Sets PG_BASE_URL (a server URL without database name): DATABASE_URL's server when set, else the server on
# 127.0.0.1:5432 when it lets us in, else a private cluster started with Debian's binaries under target/pg
# (as root, whose home the postgres user cannot enter, under /var/tmp instead).
ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    PG_BASE_URL="${DATABASE_URL%/*}"
    return
  fi
  local pg_dir="$ROOT/target/pg"
  local run_as=()
  if [ "$(id -u)" -eq 0 ]; then
    run_as=(runuser -u postgres --)
    if ! runuser -u postgres -- test -x "$ROOT"; then
      pg_dir="/var/tmp/cdc-pg-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)"
    fi
  fi
  local local_url="postgres://${PGUSER:-root}@127.0.0.1:5432"
  if [ ! -f "$pg_dir/data/PG_VERSION" ] && port_open 127.0.0.1 5432 \
    && psql "$local_url/postgres" -qtAc 'select 1' >/dev/null 2>&1; then
    PG_BASE_URL="$local_url"
    return
  fi
  local bindir
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [ -z "$bindir" ]; then
    step "installing PostgreSQL"
    apt_install postgresql
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
  fi
  mkdir -p "$pg_dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$pg_dir"; fi
  if [ ! -f "$pg_dir/data/PG_VERSION" ]; then
    step "creating a private PostgreSQL cluster in $pg_dir"
    "${run_as[@]}" "$bindir/initdb" -D "$pg_dir/data" -A trust -U cdc >/dev/null
  fi
  if ! port_open 127.0.0.1 "$PRIVATE_PG_PORT"; then
    "${run_as[@]}" "$bindir/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
      -o "-p $PRIVATE_PG_PORT -c listen_addresses=127.0.0.1 -k $pg_dir" start >/dev/null
  fi
  PG_BASE_URL="postgres://cdc@127.0.0.1:$PRIVATE_PG_PORT"
}

# Creates database $1 when missing.
ensure_database() {
  if ! psql "$PG_BASE_URL/postgres" -tAc "select 1 from pg_database where datname = '$1'" | grep -q 1; then
    psql "$PG_BASE_URL/postgres" -qc "create database $1" >/dev/null
  fi
}

# Drops and creates database $1, and drops its keyring (database $1_keyring and its root file under
# target/keys), which `migrate`, `seed-demo` and `serve` make afresh.
recreate_database() {
  psql "$PG_BASE_URL/postgres" -qc "drop database if exists $1 with (force)" >/dev/null
  psql "$PG_BASE_URL/postgres" -qc "drop database if exists $1_keyring with (force)" >/dev/null
  rm -f "$ROOT/target/keys/$1_keyring.root" "$ROOT/target/keys/$1_keyring.root.next"
  psql "$PG_BASE_URL/postgres" -qc "create database $1" >/dev/null
}

# Drops the keyrings the Rust tests made beside their databases (tests/common: test_keyring).
drop_test_keyrings() {
  psql "$PG_BASE_URL/postgres" -tAc "select datname from pg_database where datname like 'cdc\_test\_keyring\_%'" |
    while read -r name; do
      psql "$PG_BASE_URL/postgres" -qc "drop database if exists \"$name\" with (force)" >/dev/null
    done
}

# cargo-leptos compiles with LEPTOS_OUTPUT_NAME set and RUSTFLAGS="--cfg erase_components" (added to any
# RUSTFLAGS it inherits; in release too, by `always-erase-components` in Cargo.toml). Plain cargo commands get
# the same through `cargo_like_leptos`, so neither build invalidates the other's cache; cargo-leptos itself
# must see no RUSTFLAGS.
export LEPTOS_OUTPUT_NAME="customer-data-console"
unset RUSTFLAGS
# sqlx's query macros read the committed `.sqlx` data, never a database, in every build here (cargo-leptos
# included), so no build needs Postgres or depends on what DATABASE_URL points at; scripts/test checks that
# data against the migrations (`cargo sqlx prepare` itself sets SQLX_OFFLINE=false for its own build).
export SQLX_OFFLINE=true
cargo_like_leptos() {
  RUSTFLAGS="--cfg erase_components" cargo "$@"
}

# The evidence secret `serve` needs (the audit log's per-account keys for persons' hashes derive from it): the
# one given in EVIDENCE_SECRET or EVIDENCE_SECRET_FILE, else one made once for this checkout in
# target/evidence-secret (48 random bytes, base64, readable by its owner only). A deployment keeps its own
# secret outside the database; a new secret makes new hashes, so keep it.
ensure_evidence_secret() {
  if [ -n "${EVIDENCE_SECRET:-}" ] || [ -n "${EVIDENCE_SECRET_FILE:-}" ]; then
    return
  fi
  local file="$ROOT/target/evidence-secret"
  if [ ! -s "$file" ]; then
    mkdir -p "$ROOT/target"
    (umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$file")
  fi
  export EVIDENCE_SECRET_FILE="$file"
}

ensure_all() {
  ensure_system_packages
  ensure_rust_tools
  ensure_postgres
  ensure_evidence_secret
}
