#!/usr/bin/env bash
# flatpak/test-manifest-lint.sh SOURCE_DIR: the manifest passes lint-manifest.py, and the lint
# catches what it is for (each broken copy must fail). TAP.
set -uo pipefail
src=$1
lint="$src/flatpak/lint-manifest.py"
manifest="$src/flatpak/io.github.odd.Observatory.yml"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
result() { n=$((n + 1)); if [[ $1 == 0 ]]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }

out=$(python3 "$lint" "$src" 2>&1); rc=$?
result $rc "the app's manifest passes the lint"
((rc == 0)) || sed 's/^/# /' <<<"$out"

broken() {  # NAME SED-EXPRESSION: a copy of the manifest that the lint must refuse
  sed -e "$2" "$manifest" > "$tmp/$1.yml"
  cmp -s "$manifest" "$tmp/$1.yml" && { result 1 "broken copy '$1' differs from the manifest"; return; }
  python3 "$lint" "$src" "$tmp/$1.yml" >/dev/null 2>&1
  result $(( $? == 0 )) "the lint refuses $1"
}
broken "an unknown key" 's/^command: odd-observatory/command: odd-observatory\nfinish-argz: []/'
broken "an archive without sha256" '/sha256: 971766d6/d'
broken "a git source without commit" '/commit: a64c08c6/d'
broken "--filesystem=host" 's|  - --share=ipc|  - --share=ipc\n  - --filesystem=host|'
broken "--talk-name=org.freedesktop.Flatpak" 's|  - --share=ipc|  - --share=ipc\n  - --talk-name=org.freedesktop.Flatpak|'
broken "another app id" 's/^id: io.github.odd.Observatory/id: io.github.odd.Other/'
echo "1..$n"
exit $((failed > 0))
