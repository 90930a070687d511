#!/usr/bin/env bash
# flatpak/build-local.sh: build and install the app's Flatpak from flatpak/io.github.odd.Observatory.yml
# against the runtime made from Debian packages (flatpak/local-runtime.sh), with no network.
#
#   flatpak/build-local.sh OUT_DIR
#
# One manifest, not two: this script reads the real manifest, swaps its runtime lines for the
# Debian-made runtime and drops the modules whose sources are downloads (that runtime already
# ships librabbitmq, hiredis, VTE, PostgreSQL, Redis, RabbitMQ and Erlang as Debian packages).
# Everything else (finish-args, our meson module and its options) is built as written. The app
# is installed system-wide (`flatpak --system`), so that an unprivileged user can run it:
# PostgreSQL refuses to run as root, and so does the local stack inside the sandbox.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
out=${1:?usage: flatpak/build-local.sh OUT_DIR}
app_id=io.github.odd.Observatory
mkdir -p "$out"
out=$(cd "$out" && pwd)

# shellcheck source=flatpak/local-runtime.sh
"$here/local-runtime.sh"
. "$here/local-runtime.env"

G_DEBUG=fatal-warnings flatpak-builder --show-manifest "$here/$app_id.yml" > "$out/manifest.json"
python3 - "$out/manifest.json" "$src" "$ODD_LOCAL_SDK" "$ODD_LOCAL_PLATFORM" "$ODD_LOCAL_RUNTIME_VERSION" <<'EOF'
import json, sys

path, src, sdk, platform, version = sys.argv[1:]
m = json.load(open(path))
m["runtime"], m["sdk"], m["runtime-version"] = platform, sdk, version
# Debian's flatpak-builder 1.2 would run appstream-compose inside the SDK, which has none.
m["appstream-compose"] = False

def remote(source):
    return "url" in source or source.get("type") == "git"

kept = []
for module in m["modules"]:
    if any(remote(s) for s in module.get("sources", [])):
        continue
    for s in module.get("sources", []):
        if s.get("type") == "dir":
            s["path"] = src          # the manifest's "..", made absolute for a file elsewhere
    kept.append(module)
m["modules"] = kept
json.dump(m, open(path, "w"), indent=2)
print("local manifest: modules", [k["name"] for k in kept], file=sys.stderr)
EOF

flatpak-builder --disable-download --disable-updates --force-clean --ccache \
  --state-dir="$out/state" --repo="$out/repo" "$out/app" "$out/manifest.json"
flatpak --system remote-add --if-not-exists --no-gpg-verify odd-local-app "$out/repo"
flatpak --system remote-modify --url="file://$out/repo" odd-local-app
flatpak --system install -y --noninteractive --reinstall odd-local-app "$app_id" >/dev/null
flatpak --system info "$app_id" | sed -n '1,12p'
