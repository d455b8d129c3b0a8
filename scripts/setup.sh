#!/usr/bin/env bash
# Installs what strata needs on Debian 12 (as root, or with sudo), fetches DuckDB's official
# build from npm when no system libduckdb is installed, and builds strata.
#   scripts/setup.sh [BUILD_DIR] [CMAKE_ARGS...]
# Idempotent: a second run installs nothing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${1:-build}
shift || true

DEB_PACKAGES=(build-essential cmake pkg-config git ca-certificates
  librdkafka-dev libsimdjson-dev libtomlplusplus-dev libcli11-dev libspdlog-dev
  libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev clang-format kcat
  libsnappy-dev libzstd-dev liblz4-dev)
[ -n "${STRATA_EXTRA_PACKAGES:-}" ] && DEB_PACKAGES+=(${STRATA_EXTRA_PACKAGES})
command -v node >/dev/null 2>&1 || DEB_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || DEB_PACKAGES+=(npm)

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# DuckDB 1.4 LTS: a system install wins; otherwise DuckDB's official build from npm.
DUCKDB_VERSION=1.4.4
DUCK_DIR=$ROOT/third_party/duckdb
if ! { [ -f /usr/include/duckdb.h ] || [ -f /usr/local/include/duckdb.h ]; } &&
   ! { [ -f "$DUCK_DIR/include/duckdb.h" ] && [ -f "$DUCK_DIR/lib/libduckdb.so" ] &&
       grep -qx "$DUCKDB_VERSION" "$DUCK_DIR/VERSION" 2>/dev/null; }; then
  echo "setup: fetching DuckDB $DUCKDB_VERSION (C API) from npm"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm install --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
      "@duckdb/node-bindings-linux-x64@${DUCKDB_VERSION}-r.4" "duckdb@${DUCKDB_VERSION}" >/dev/null)
  mkdir -p "$DUCK_DIR/include" "$DUCK_DIR/lib"
  cp "$tmp/node_modules/duckdb/src/duckdb/src/include/duckdb.h" "$DUCK_DIR/include/"
  cp "$tmp/node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so" "$DUCK_DIR/lib/"
  echo "$DUCKDB_VERSION" > "$DUCK_DIR/VERSION"
  rm -rf "$tmp"
fi

# The dashboard (built into web/dist and served by the binary), when its sources exist.
if [ -f web/package.json ] && [ "${STRATA_SKIP_WEB:-0}" != 1 ]; then
  if [ ! -d web/node_modules ]; then
    # A registry mirror may lack some platforms' optional packages (rollup's), which the
    # lock file then cannot list and `npm ci` refuses; `npm install` keeps the lock otherwise.
    (cd web && { npm ci --no-audit --no-fund --loglevel=error 2>/dev/null ||
                 npm install --no-audit --no-fund --loglevel=error; })
  fi
  (cd web && npm run --silent build)
fi

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${STRATA_BUILD_TYPE:-Release}" -DSTRATA_MODULES= "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
