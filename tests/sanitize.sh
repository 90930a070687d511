#!/bin/sh
# tests/sanitize.sh: build everything with AddressSanitizer + UndefinedBehaviorSanitizer in a
# second build directory and run the unit and integration suites there. The integration
# fixture starts the service binaries of the build directory it runs from, so the four
# services run instrumented too; every sanitizer report (from a test or from a service) is
# written under $BUILD/sanitizer-logs and fails this script.
#
#   tests/sanitize.sh [BUILD_DIR]          (default /tmp/odd-build-sanitize)
#   ODD_SANITIZE_SUITES="unit integration" tests/sanitize.sh
#   ODD_SANITIZE_SUITES=unit ODD_SANITIZE_TESTS="pipeline malformed" tests/sanitize.sh
#     (the unit suite, then those tests by name: what ./setup.sh test runs)
#
# Test logs: BUILD_DIR/meson-logs/sanitize-suites*.json and sanitize-tests*.json (meson adds
# the test setup's name).
#
# Exit status: 0 when the suites pass and no sanitizer reported anything.
#
# Runtime on the 2-vCPU dev VM (shared with other work): about 10 minutes for
# ODD_SANITIZE_SUITES=integration from an empty build directory (build ~1.5 min, the
# integration programs ~8 min: instrumented services run 3-10x slower, hence
# ODD_IT_TIME_SCALE and --timeout-multiplier below); the unit suite adds a few minutes.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${ODD_SANITIZE_BUILD_DIR:-/tmp/odd-build-sanitize}}
suites=${ODD_SANITIZE_SUITES:-unit integration}
logs=$build/sanitizer-logs

if [ -f "$build/build.ninja" ]; then
  meson configure "$build" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
else
  meson setup "$build" "$src" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
fi
ninja -C "$build"

rm -rf "$logs"
mkdir -p "$logs"

# GLib keeps type and quark tables for the life of a process: not leaks worth failing on.
supp=$src/tests/integration/lsan.supp
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:abort_on_error=0:halt_on_error=1:fast_unwind_on_malloc=0:malloc_context_size=30"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"
# Plain malloc so ASan sees every GLib allocation.
export G_SLICE=always-malloc
# Instrumented services run several times slower: the integration tests stretch their waits.
export ODD_IT_TIME_SCALE=${ODD_IT_TIME_SCALE:-6}

setup=
# The fixture's "servers" setup gives tests that want ODD_TEST_*_URL private servers.
if grep -q "add_test_setup('servers'" "$src/tests/integration/fixture/meson.build" 2>/dev/null; then
  setup="--setup servers"
fi

status=0
rm -f "$build"/meson-logs/sanitize-*.json
set --
for s in $suites; do
  set -- "$@" --suite "$s"
done
if [ $# -gt 0 ]; then
  # shellcheck disable=SC2086
  meson test -C "$build" --print-errorlogs --num-processes 1 --timeout-multiplier 3 $setup \
    --logbase sanitize-suites "$@" || status=$?
fi
if [ -n "${ODD_SANITIZE_TESTS:-}" ]; then
  # shellcheck disable=SC2086
  meson test -C "$build" --print-errorlogs --num-processes 1 --timeout-multiplier 3 $setup \
    --logbase sanitize-tests $ODD_SANITIZE_TESTS || status=$?
fi

reports=$(find "$logs" -type f | wc -l)
if [ "$reports" -gt 0 ]; then
  echo "sanitizer reports ($reports):"
  for f in "$logs"/*; do
    echo "==== $f"
    head -n 60 "$f"
  done
  [ "$status" -ne 0 ] || status=1
fi

if [ "$status" -eq 0 ]; then
  echo "sanitize: suites ($suites) passed with ASan+UBSan, no sanitizer reports"
fi
exit "$status"
