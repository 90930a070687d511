#!/bin/sh
# tests/fuzz/run.sh: build the libFuzzer targets with clang (ASan + UBSan) and run each for a
# bounded time from its seed corpus. Fails on any crash, leak, sanitizer report or timeout.
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET]     (default 30)
#   ODD_FUZZ_BUILD_DIR=...   build directory (default /tmp/odd-build-fuzz)
#   ODD_FUZZ_TARGETS="fuzz-json fuzz-job"      a subset
#   ODD_FUZZ_JOBS=N          parallel fuzzing processes per target (default 1)
#
# New inputs are kept in $ODD_FUZZ_BUILD_DIR/corpus/<target> (the checked-in seeds under
# tests/fuzz/corpus stay small); a crashing input is written to
# $ODD_FUZZ_BUILD_DIR/artifacts/<target>/ and named in the output.
set -eu

seconds=${1:-30}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${ODD_FUZZ_BUILD_DIR:-/tmp/odd-build-fuzz}
# Absolute: the targets run from scratch directories below it.
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
targets=${ODD_FUZZ_TARGETS:-fuzz-json fuzz-schema fuzz-job fuzz-cursor}

if ! command -v clang >/dev/null 2>&1; then
  echo "run.sh: clang is missing: sudo apt-get install -y clang libclang-rt-14-dev" >&2
  exit 2
fi

# werror off: clang warns where gcc (the normal build's compiler) does not, and this build
# exists to run the fuzzers, not to lint.
if [ -f "$build/build.ninja" ]; then
  meson configure "$build" -Dfuzzing=true -Dwerror=false >/dev/null
else
  CC=clang meson setup "$build" "$src" -Dfuzzing=true -Dwerror=false -Dbuildtype=debug >/dev/null
fi
ninja -C "$build" fuzzers >/dev/null

supp=$src/tests/integration/lsan.supp
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:symbolize=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export G_SLICE=always-malloc
export CONTRACTS_PATH="$src/contracts"

failed=0
for t in $targets; do
  exe=$build/tests/fuzz/$t
  corpus=$build/corpus/$t
  artifacts=$build/artifacts/$t
  log=$build/logs/$t.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"

  # With -jobs, libFuzzer writes each worker's output to fuzz-N.log in the current
  # directory: run from a scratch directory, and read those logs too.
  jobs=${ODD_FUZZ_JOBS:-1}
  if [ "$jobs" -gt 1 ]; then
    parallel="-jobs=$jobs -workers=$jobs"
  else
    parallel=
  fi
  workdir=$build/work/$t
  rm -rf "$workdir"
  mkdir -p "$workdir"
  set +e
  # shellcheck disable=SC2086
  (cd "$workdir" && "$exe" "$corpus" "$src/tests/fuzz/corpus/$t" \
    -dict="$src/tests/fuzz/json.dict" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -error_exitcode=77 -timeout_exitcode=78 $parallel \
    -artifact_prefix="$artifacts/" -print_final_stats=1) >"$log" 2>&1
  rc=$?
  set -e
  for worker in "$workdir"/fuzz-*.log; do
    [ -f "$worker" ] && cat "$worker" >>"$log"
  done

  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s+=$1} END {print s+0}')
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  files=$(find "$corpus" -type f | wc -l)
  if [ "$rc" -eq 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    verdict=ok
  else
    verdict="FAILED (exit $rc; log $log)"
    failed=$((failed + 1))
  fi
  echo "$t: $verdict: ${execs:-0} execs in ${seconds} s (${speed:-0}/s), coverage ${cov:-?}, corpus $files files"
  if [ "$verdict" != ok ]; then
    grep -E 'ERROR|runtime error|Test unit written|SUMMARY' "$log" | head -n 8 | sed 's/^/    /'
  fi
done

echo "fuzz: $(echo $targets | wc -w) targets, $failed failed"
[ "$failed" -eq 0 ]
