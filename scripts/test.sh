#!/usr/bin/env bash
# Installs and builds what is missing, then runs every test (unit, integration, end to end)
# under AddressSanitizer and UndefinedBehaviorSanitizer, and smoke-runs the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
export STRATA_EXTRA_PACKAGES="chromium ${STRATA_EXTRA_PACKAGES:-}"
STRATA_BUILD_TYPE=RelWithDebInfo scripts/setup.sh build-test -DSTRATA_SANITIZE=ON
# alloc_dealloc_mismatch=0: Debian's libsimdjson.so allocates its parser implementation with
# operator new while the inline destructor from the same package's header frees it through
# another path; ASan reports that third-party pairing in every test that parses JSON. All other
# checks stay on.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:alloc_dealloc_mismatch=0:${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd build-test
ctest --output-on-failure -j"${STRATA_TEST_JOBS:-2}" --timeout 900
