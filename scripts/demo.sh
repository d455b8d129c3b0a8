#!/usr/bin/env bash
# The main job: installs and builds what is missing, then runs the live demo (embedded Kafka,
# generated traffic, the bronze/silver/gold pipeline). Extra arguments go to `strata demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
exec ./build/strata demo "$@"
