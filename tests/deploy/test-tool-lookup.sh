#!/usr/bin/env bash
# test-tool-lookup.sh BUILD_DIR: the data tests find their tools on PATH when they run, not
# where meson found them (or did not) when it configured BUILD_DIR (issue 15: a build directory
# configured by ./setup.sh before ./setup.sh test installed promtool kept "missing").
#
# It runs the configured tests again (`meson test --no-rebuild`) with a fake promtool first on
# PATH, and with a PATH that lacks promtool and kubectl however the build was configured.
set -uo pipefail

build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

ok() {
  n=$((n + 1))
  if [[ $1 == 0 ]]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}

# Runs one configured test with PATH=$1; prints its result (OK, FAIL, SKIP...) and keeps its
# output in $tmp/out.
run_test() {
  local path=$1 name=$2 log=tool-lookup-$RANDOM
  shift 2
  env -u ODD_TEST_REQUIRED_TOOLS PATH="$path" "$@" \
    meson test -C "$build" --no-rebuild --logbase "$log" "$name" >/dev/null 2>&1
  python3 - "$build/meson-logs/$log.json" "$tmp/out" <<'EOF'
import json, sys
test = json.loads(open(sys.argv[1]).readline())
open(sys.argv[2], "w").write(test.get("stdout") or "")
print(test["result"])
EOF
  rm -f "$build/meson-logs/$log".*
}

# A directory holding every program of PATH but the given ones: PATH without them.
path_without() {
  local dir=$tmp/without-${*// /-} d f
  local -A seen=()
  local links=()
  mkdir -p "$dir"
  IFS=: read -ra dirs <<<"$PATH"
  for d in "${dirs[@]}"; do
    for f in "$d"/*; do
      [[ -x $f && -z ${seen[${f##*/}]:-} ]] || continue
      seen[${f##*/}]=1
      [[ " $* " == *" ${f##*/} "* ]] || links+=("$f")
    done
  done
  ln -s "${links[@]}" "$dir/"
  echo "$dir"
}

echo "1..6"

mkdir -p "$tmp/fake"
printf '#!/bin/sh\necho "odd-fake-promtool $*"\nexit ${ODD_FAKE_STATUS:-0}\n' > "$tmp/fake/promtool"
chmod +x "$tmp/fake/promtool"

result=$(run_test "$tmp/fake:$PATH" prometheus-rules-check)
[[ $result == OK ]] && grep -q 'odd-fake-promtool check rules' "$tmp/out"
ok $? "prometheus-rules-check runs the promtool first on PATH ($result)"

result=$(run_test "$tmp/fake:$PATH" prometheus-rules-check ODD_FAKE_STATUS=1)
[[ $result == FAIL || $result == ERROR ]]
ok $? "a failing promtool fails the test ($result)"

without=$(path_without promtool kubectl)
result=$(run_test "$without" prometheus-rules-unit)
[[ $result == SKIP ]] && grep -q 'apt-get install prometheus' "$tmp/out"
ok $? "without promtool on PATH the test skips and names the package ($result)"

result=$(run_test "$without" prometheus-rules-unit ODD_TEST_REQUIRED_TOOLS=promtool)
[[ $result == FAIL || $result == ERROR ]]
ok $? "without promtool, but installed for the tests, it fails ($result)"

result=$(run_test "$without" manifests-reject-latest-tag)
[[ $result == SKIP ]] && grep -q 'kubectl' "$tmp/out"
ok $? "without kubectl the manifest tests skip, the reject ones too ($result)"

# Nothing in the configured tests names a tool by the path configure saw.
! grep -Eq '"[^"]*/(promtool|amtool|kubectl|node)"' "$build/meson-info/intro-tests.json"
ok $? "no configured test holds a tool's path"

exit "$failed"
