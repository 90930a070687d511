#!/usr/bin/env bash
# setup.sh: the one setup script of the Distributed Task Observatory (Debian 12).
#
#   ./setup.sh        install what is missing, build, start the local stack, show how to use it
#   ./setup.sh test   install what is missing, build, run every test suite (also under ASan +
#                     UBSan) and the fuzzers
#
# Both are idempotent: a second run installs nothing, rebuilds only what changed and leaves a
# running, healthy stack alone.
set -euo pipefail

cd "$(dirname "$0")"

BUILD_DIR=${ODD_SETUP_BUILD_DIR:-build}

# Everything the build, the servers and the tools need (Debian package names).
PACKAGES=(
  build-essential pkg-config meson ninja-build
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libpq-dev libhiredis-dev librabbitmq-dev
  libncurses-dev
  libgtk-4-dev libadwaita-1-dev libvte-2.91-gtk4-dev gettext desktop-file-utils appstream
  postgresql redis-server rabbitmq-server
  curl
)
# Integration tests that also run instrumented (tests/sanitize.sh): between them they drive
# all four services, the control library and the fixture (poison: their error paths).
SANITIZE_TESTS="pipeline malformed poison gateway-handlers-broker read-model-integration metrics-engine-integration web-terminal"
# Seconds each libFuzzer target runs in `./setup.sh test` (tests/fuzz/run.sh runs longer on demand).
FUZZ_SECONDS=${ODD_FUZZ_SECONDS:-20}
# Only the tests need these: load generator, leak checker, second compiler.
TEST_PACKAGES=(wrk valgrind clang libclang-rt-14-dev prometheus prometheus-alertmanager nodejs tmux xvfb xauth libxml2-utils imagemagick flatpak flatpak-builder elfutils debootstrap chromium)  # libclang-rt: the fuzzer and sanitizer runtimes (a Recommends of clang); prometheus(-alertmanager): promtool, amtool (tests/deploy); tmux: the dashboard's terminal tests; flatpak*, elfutils, debootstrap: the Flatpak proof (flatpak/); chromium: the web terminal's browser tests (tests/browser)

if [[ -t 2 ]]; then
  say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
else
  say() { printf '==> %s\n' "$*" >&2; }
fi
die() { printf 'setup.sh: %s\n' "$*" >&2; exit 1; }

# How long each phase took, printed by `./setup.sh test` before its closing line so that the
# CI budget (30 min on the 2-core CI machine) can be watched as suites are added.
PHASE_TIMES=()
phase_name='' phase_started=0
phase() {
  phase_end
  phase_name=$1 phase_started=$SECONDS
}
phase_end() {
  [[ -n $phase_name ]] || return 0
  PHASE_TIMES+=("$phase_name" $((SECONDS - phase_started)))
  phase_name=''
}
print_phase_times() {
  local i total=0 t
  phase_end
  echo "Time per phase:"
  for ((i = 0; i < ${#PHASE_TIMES[@]}; i += 2)); do
    t=${PHASE_TIMES[i + 1]}
    total=$((total + t))
    printf '  %-48s %3d:%02d\n' "${PHASE_TIMES[i]}" $((t / 60)) $((t % 60))
  done
  printf '  %-48s %3d:%02d\n' total $((total / 60)) $((total % 60))
}

# Slow proofs (a Flatpak build, browser suites...) run only when their inputs changed since
# they last passed on this machine. The stamps live outside the clone (CI starts from a fresh
# one): $ODD_CI_CACHE, default /var/cache/odd-ci as root, else $XDG_CACHE_HOME/odd-ci.
# ODD_CI_FORCE=1 runs every slow proof. In run_tests:
#
#   if slow_proof_due flatpak flatpak app services contracts; then
#     phase "flatpak build"
#     if my_flatpak_suite; then slow_proof_passed flatpak; else rc=1; fi
#   fi
#
# A proof that is not due counts as one skipped result in the closing line (it says why).
ODD_CI_CACHE=${ODD_CI_CACHE:-$(if ((EUID == 0)); then echo /var/cache/odd-ci; else echo "${XDG_CACHE_HOME:-$HOME/.cache}/odd-ci"; fi)}
SLOW_PROOFS_SKIPPED=0
declare -A SLOW_PROOF_HASH=()
# The hash of the files below PATHS (tracked or not ignored, as they are in the work tree).
inputs_hash() {
  { git ls-files -z --cached --others --exclude-standard -- "$@" 2>/dev/null ||
      find "$@" -type f -print0; } | sort -z | xargs -0r sha256sum | sha256sum | cut -d' ' -f1
}
# slow_proof_due NAME PATHS...: 0 when the proof must run (inputs changed or never passed).
slow_proof_due() {
  local name=$1 hash
  shift
  hash=$(inputs_hash "$@")
  SLOW_PROOF_HASH[$name]=$hash
  if [[ ${ODD_CI_FORCE:-} == 1 || $(cat "$ODD_CI_CACHE/$name.stamp" 2>/dev/null) != "$hash" ]]; then
    return 0
  fi
  say "$name: its inputs ($*) are unchanged since it last passed; not run (ODD_CI_FORCE=1 runs it)"
  SLOW_PROOFS_SKIPPED=$((SLOW_PROOFS_SKIPPED + 1))
  return 1
}
# slow_proof_passed NAME: remember the inputs the proof has just passed with.
slow_proof_passed() {
  mkdir -p "$ODD_CI_CACHE" && printf '%s\n' "${SLOW_PROOF_HASH[$1]}" > "$ODD_CI_CACHE/$1.stamp" ||
    echo "setup.sh: cannot write $ODD_CI_CACHE/$1.stamp; $1 will run again next time" >&2
}

usage() {
  cat <<'EOF'
Usage: ./setup.sh [test]

  ./setup.sh        Install missing Debian packages and build into ./build. With a display
                    (DISPLAY or WAYLAND_DISPLAY), open Observatory, the desktop app, which
                    checks this computer and starts the local stack in a click; without one,
                    start the local stack (PostgreSQL, Redis, RabbitMQ and the four services)
                    with `oddctl local up` and open the terminal dashboard.
  ./setup.sh test   Install missing packages, build, and run the unit, data, gui (under
                    xvfb-run when there is no display) and integration test suites (the
                    integration tests start their own stacks), then the unit
                    suite and the pipeline tests under ASan + UBSan (./build-sanitize) and the
                    fuzzers (./build-fuzz, ODD_FUZZ_SECONDS each, default 20). Prints the
                    time of each phase, then ends with the line
                    "N passed, N failed, N skipped"; exits 1 if anything failed.

Environment: ODD_PORT_BASE, ODD_STATE_DIR (see README.md), ODD_SETUP_BUILD_DIR (default build),
ODD_SETUP_NO_UI=1 (open neither the app nor the terminal dashboard at the end), ODD_FUZZ_SECONDS,
ODD_CI_CACHE (where slow proofs remember the inputs they passed with), ODD_CI_FORCE=1 (run
every slow proof even when its inputs did not change).
EOF
}

install_packages() {
  local missing=() pkg status

  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    say "All ${#} Debian packages are installed"
    return
  fi

  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "missing packages (${missing[*]}) and no sudo: install them as root"
    sudo=(sudo)
  fi
  say "Installing ${missing[*]}"
  "${sudo[@]}" apt-get update -q || return 1
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" || return 1
}

build() {
  if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    say "Configuring $BUILD_DIR"
    meson setup "$BUILD_DIR" || return 1
  fi
  say "Building"
  meson compile -C "$BUILD_DIR" || return 1
}

# Prints "N passed, N failed, N skipped" from meson's test log (named after the test setup):
# one count per TAP test case
# (ok / not ok / # SKIP), and one per program that has no TAP output or died without saying
# which case failed.
count_results() {
  python3 - "$@" <<'EOF'
import json, os, re, sys

passed = failed = skipped = 0
# Results that no test log shows (a sanitizer report from a service, the fuzz targets).
failed += int(os.environ.get("ODD_EXTRA_FAILURES", "0"))
passed += int(os.environ.get("ODD_EXTRA_PASSES", "0"))  # fuzz targets that ran clean
skipped += int(os.environ.get("ODD_EXTRA_SKIPS", "0"))  # slow proofs whose inputs did not change
lines = []
for path in sys.argv[1:]:
    try:
        lines += open(path, encoding="utf-8").read().splitlines()
    except OSError:
        # meson test did not even start (bad setup name, broken build dir): a failure.
        print("setup.sh: no test log at " + path, file=sys.stderr)
        failed += 1
for line in lines:
    if not line.strip():
        continue
    test = json.loads(line)
    result = test.get("result", "ERROR")
    out = test.get("stdout") or ""
    ok = len(re.findall(r"^ok\b(?!.*#\s*(?:SKIP|skip))", out, re.M))
    skip = len(re.findall(r"^ok\b.*#\s*(?:SKIP|skip)", out, re.M))
    bad = len(re.findall(r"^not ok\b(?!.*#\s*(?:TODO|todo))", out, re.M))
    if result == "EXPECTEDFAIL":
        # A should_fail program: its "not ok" lines are the point; it counts once.
        passed += 1
        continue
    if ok + skip + bad == 0:
        # Not TAP, or no case ran: the program's own result counts once.
        if result == "OK":
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
        continue
    passed += ok
    skipped += skip
    failed += bad
    if bad == 0 and result not in ("OK", "SKIP"):
        failed += 1  # crashed, timed out or exited non-zero after its last "ok"
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
EOF
}

run_tests() {
  local rc=0 suite logs=()

  # The tools the install step has just put in place: a test that needs one of them fails,
  # rather than skips, without it (tests/odd-run-tool.sh).
  export ODD_TEST_REQUIRED_TOOLS="promtool amtool node tmux"

  # The app's tests (suite gui) need a display: a private Xvfb when there is none.
  local display=()
  if [[ -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} ]] && command -v xvfb-run >/dev/null; then
    display=(xvfb-run -a -s "-screen 0 1280x1024x24")
  fi

  # One meson run per suite, so that each has its time. --setup servers: tests that want
  # ODD_TEST_{POSTGRES,REDIS,RABBITMQ}_URL get private servers
  # (tests/integration/fixture/odd-with-servers.c) instead of skipping.
  for suite in unit data gui integration; do
    phase "suite $suite"
    say "Running the $suite tests"
    rm -f "$BUILD_DIR/meson-logs/suite-$suite-servers.json"
    logs+=("$BUILD_DIR/meson-logs/suite-$suite-servers.json")
    "${display[@]}" meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 --setup servers \
      --logbase "suite-$suite" --suite "$suite" || rc=$?
  done

  # The Flatpak, built from its manifest and run in a real sandbox (flatpak/README.md): minutes,
  # so only when what goes into it changed since it last passed here.
  local flatpak_log=$BUILD_DIR/meson-logs/flatpak-sandbox.txt flatpak_ok=0 flatpak_failed=0
  if slow_proof_due flatpak-sandbox flatpak app services contracts data po meson.build meson_options.txt; then
    phase "flatpak sandbox (runtime, build, run)"
    say "Building the Flatpak and running it in its sandbox (flatpak/test-sandbox.sh)"
    flatpak/test-sandbox.sh "$BUILD_DIR/flatpak" 2>&1 | tee "$flatpak_log" || true
    flatpak_ok=$(grep -c '^ok ' "$flatpak_log" || true)
    flatpak_failed=$(grep -c '^not ok ' "$flatpak_log" || true)
    ((flatpak_ok + flatpak_failed > 0)) || flatpak_failed=1
    ((flatpak_failed > 0)) || slow_proof_passed flatpak-sandbox
  fi

  # The same code instrumented (ASan + UBSan), services included: the unit suite and the
  # integration tests that drive every service. A sanitizer report fails the run even when
  # the test itself passed.
  local san_build=$BUILD_DIR-sanitize san_rc=0 extra=0
  phase "sanitizers (build, unit suite, pipeline tests)"
  say "Running the unit suite and the pipeline tests under ASan and UBSan ($san_build)"
  ODD_SANITIZE_SUITES=unit ODD_SANITIZE_TESTS="$SANITIZE_TESTS" \
    tests/sanitize.sh "$san_build" || san_rc=$?
  if ((san_rc != 0)) && [[ -n $(find "$san_build/sanitizer-logs" -type f 2>/dev/null) ]]; then
    extra=1
  fi

  # The libFuzzer targets (clang, ASan + UBSan), a bounded time each: one result per target.
  local fuzz_log=$BUILD_DIR/meson-logs/fuzz.txt fuzz_ok fuzz_failed
  phase "fuzzers (build, ${FUZZ_SECONDS} s a target)"
  say "Fuzzing the contract validator, the JSON parser, the job intake and the cursor (${FUZZ_SECONDS} s each)"
  ODD_FUZZ_BUILD_DIR=$(realpath -m "$BUILD_DIR-fuzz") tests/fuzz/run.sh "$FUZZ_SECONDS" 2>&1 | tee "$fuzz_log" || true
  fuzz_ok=$(grep -c '^fuzz-[a-z-]*: ok:' "$fuzz_log" || true)
  fuzz_failed=$(grep -c '^fuzz-[a-z-]*: FAILED' "$fuzz_log" || true)
  # No target line at all: the fuzz build itself failed.
  ((fuzz_ok + fuzz_failed > 0)) || fuzz_failed=1

  echo
  print_phase_times
  ODD_EXTRA_PASSES=$((fuzz_ok + flatpak_ok)) ODD_EXTRA_FAILURES=$((extra + fuzz_failed + flatpak_failed)) \
  ODD_EXTRA_SKIPS=$SLOW_PROOFS_SKIPPED \
    count_results "${logs[@]}" "$san_build"/meson-logs/sanitize-*.json || rc=1
  return "$rc"
}

# With a display the app leads: it checks this computer, shows the fixes and starts the stack.
open_app() {
  local app=$BUILD_DIR/app/gui/odd-observatory

  [[ -x $app && -z ${ODD_SETUP_NO_UI:-} ]] || return 1
  [[ -n ${DISPLAY:-} || -n ${WAYLAND_DISPLAY:-} ]] || return 1
  say "Opening Observatory (closing it leaves a running stack running)"
  GSETTINGS_SCHEMA_DIR=$BUILD_DIR/data exec "$app"
}

start_stack() {
  local oddctl=$BUILD_DIR/app/oddctl/oddctl

  [[ -x $oddctl ]] || die "$oddctl was not built"
  say "Starting the local stack"
  "$oddctl" local up
  echo
  echo "More: $oddctl local status | logs NAME [-f] | down   (or: meson devenv -C $BUILD_DIR oddctl ...)"

  # On a terminal, end in the dashboard (it finds the stack through its stack.json).
  local dashboard=$BUILD_DIR/app/tui/odd-dashboard
  if [[ -x $dashboard && -t 0 && -t 1 && -z ${ODD_SETUP_NO_UI:-} ]]; then
    say "Opening the dashboard (quitting it leaves the stack running)"
    exec "$dashboard"
  fi
}

case "${1:-}" in
  "")
    install_packages "${PACKAGES[@]}"
    build
    open_app || start_stack
    ;;
  test)
    # CI reads the last line: even a failed install or build ends with the counts.
    phase "install packages"
    if ! install_packages "${PACKAGES[@]}" "${TEST_PACKAGES[@]}"; then
      echo "setup.sh: the install failed; no test ran" >&2
      print_phase_times
      echo "0 passed, 1 failed, 0 skipped"
      exit 1
    fi
    command -v npm >/dev/null || install_packages npm || true  # nodesource's nodejs ships its own npm
    phase "build"
    if ! build; then
      echo "setup.sh: the build failed; no test ran" >&2
      print_phase_times
      echo "0 passed, 1 failed, 0 skipped"
      exit 1
    fi
    phase "npm modules of the manifest tests"
    [[ -d $BUILD_DIR/tests/deploy/npm/node_modules/kubernetes-models ]] || npm install --prefix "$BUILD_DIR/tests/deploy/npm" --no-audit --no-fund kubernetes-models@5.1.0 yaml@2.9.1 >&2 || echo "setup.sh: npm install failed; the manifest tests will skip (they say how to install)" >&2
    [[ -d tests/browser/node_modules/playwright-core ]] || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/browser --no-audit --no-fund >&2 || echo "setup.sh: npm ci in tests/browser failed; the browser tests will skip" >&2
    run_tests
    ;;
  -h|--help|help)
    usage
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac
