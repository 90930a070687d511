#!/usr/bin/env bash
# odd-run-tool.sh: runs a test that needs outside tools (promtool, kubectl, node...), looking
# them up on $PATH when the test runs, never when meson configures: a build directory
# configured before `./setup.sh test` installed a tool still finds it.
#
#   odd-run-tool.sh --need TOOL 'HOW TO INSTALL' [--need ...] [--name 'CASE'] -- COMMAND [ARGS...]
#
# A missing tool makes the test a TAP skip that names the install command. A tool listed in
# $ODD_TEST_REQUIRED_TOOLS (space-separated; ./setup.sh test sets it to the tools it has just
# installed) fails instead: a test must not skip for something the script can install.
#
# With --name, COMMAND's output is not TAP: it becomes one TAP case named CASE (its output
# as comments, ok when it exits 0). Without, COMMAND speaks TAP itself and is executed.
set -uo pipefail

needs=() hints=() name=
while (($#)); do
  case $1 in
    --need) needs+=("$2"); hints+=("$3"); shift 3 ;;
    --name) name=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "odd-run-tool.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
(($#)) || { echo "odd-run-tool.sh: no command" >&2; exit 2; }

for i in "${!needs[@]}"; do
  tool=${needs[$i]}
  command -v "$tool" >/dev/null 2>&1 && continue
  if [[ " ${ODD_TEST_REQUIRED_TOOLS:-} " == *" $tool "* ]]; then
    echo "1..1"
    echo "not ok 1 - $tool is not on PATH although it was installed for the tests (${hints[$i]})"
    exit 1
  fi
  echo "1..0 # SKIP $tool is not installed: ${hints[$i]}"
  exit 0
done

[[ -n $name ]] || exec "$@"

echo "1..1"
out=$("$@" 2>&1)
status=$?
[[ -z $out ]] || sed 's/^/# /' <<<"$out"
if ((status == 0)); then
  echo "ok 1 - $name"
else
  echo "not ok 1 - $name (exit status $status)"
fi
exit "$status"
