#!/usr/bin/env bash
# flatpak/local-runtime.sh: make a Flatpak SDK and Platform from Debian 12 packages and install
# them system-wide (the app runs as an unprivileged user: PostgreSQL refuses root), so that the app's manifest can be built and run in a real sandbox on
# a machine that cannot reach Flathub (CI here). It is cached: a second run does nothing.
#
#   sudo flatpak/local-runtime.sh [CACHE_DIR]      (default: /var/cache/odd-flatpak)
#
# The runtime carries what the GNOME runtime plus our manifest's modules would: GTK 4,
# libadwaita, VTE, libsoup, json-glib, libpq, hiredis, librabbitmq, and the three servers of the
# local stack (PostgreSQL, Redis, RabbitMQ with its Erlang). flatpak/build-local.sh then drops
# the manifest's download modules, which this runtime already provides.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/local-runtime.env"
RUNTIME_VERSION=$ODD_LOCAL_RUNTIME_VERSION
SDK_ID=$ODD_LOCAL_SDK
PLATFORM_ID=$ODD_LOCAL_PLATFORM
# librsvg2-common: GTK draws the app's symbolic SVG icons through its gdk-pixbuf loader (the
# GNOME runtime has it; without it an icon shows as a blank).
PACKAGES=(
  gcc libc6-dev pkg-config meson ninja-build gettext desktop-file-utils appstream
  libglib2.0-dev libgtk-4-dev libvte-2.91-gtk4-dev libadwaita-1-dev libsoup-3.0-dev
  libjson-glib-dev libpq-dev libhiredis-dev librabbitmq-dev libncurses-dev
  fonts-dejavu-core fonts-cantarell librsvg2-common
  postgresql-15 postgresql-client-15 redis-server rabbitmq-server procps curl
)

CACHE=${1:-/var/cache/odd-flatpak}
STAMP="$CACHE/runtime-$RUNTIME_VERSION.stamp"
say() { printf '==> %s\n' "$*" >&2; }

# The runtime's identity is its package list: change it and the runtime is made again.
want=$(printf '%s\n' "${PACKAGES[@]}" | sha256sum | cut -d' ' -f1)
if [[ -f $STAMP && $(cat "$STAMP") == "$want" ]] &&
   flatpak --system info "$PLATFORM_ID//$RUNTIME_VERSION" >/dev/null 2>&1 &&
   flatpak --system info "$SDK_ID//$RUNTIME_VERSION" >/dev/null 2>&1; then
  say "Debian-made Flatpak runtime $RUNTIME_VERSION is installed (cache $CACHE)"
  exit 0
fi

((EUID == 0)) || { echo "local-runtime.sh: debootstrap and a system-wide install need root: run it with sudo" >&2; exit 1; }
for tool in debootstrap flatpak flatpak-builder; do
  command -v "$tool" >/dev/null || { echo "local-runtime.sh: $tool is missing: apt-get install debootstrap flatpak flatpak-builder elfutils" >&2; exit 1; }
done

mkdir -p "$CACHE"
cd "$CACHE"
# The same mirror apt uses here; nothing else is reachable.
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[[ -n $mirror ]] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list)

if [[ ! -f sdkroot/.odd-complete || $(cat sdkroot/.odd-complete) != "$want" ]]; then
  rm -rf sdkroot
  say "debootstrap bookworm (a few minutes)"
  include=$(IFS=,; echo "${PACKAGES[*]}")
  # debootstrap ends in "Failure while configuring" for dconf/dbus alternatives; apt -f fixes it.
  debootstrap --variant=minbase --include="$include" bookworm sdkroot "$mirror" >debootstrap.log 2>&1 || true
  chroot sdkroot sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -f &&
                        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dbus dbus-x11 && apt-get clean' >fix.log 2>&1 ||
    { tail -20 fix.log >&2; exit 1; }
  echo "$want" > sdkroot/.odd-complete
fi

if [[ ! -f repo/.odd-exported || $(cat repo/.odd-exported) != "$want" ]]; then
  say "Exporting the SDK and the Platform into $CACHE/repo (a few minutes)"
  rm -rf rt repo
  mkdir -p rt/sdk rt/platform
  cp -al sdkroot/usr rt/sdk/files
  cp -a sdkroot/etc rt/sdk/files/etc
  cp -al rt/sdk/files rt/platform/files
  for kind in sdk platform; do
    id=$SDK_ID; [[ $kind == platform ]] && id=$PLATFORM_ID
    printf '[Runtime]\nname=%s\nruntime=%s/x86_64/%s\nsdk=%s/x86_64/%s\n' \
      "$id" "$PLATFORM_ID" "$RUNTIME_VERSION" "$SDK_ID" "$RUNTIME_VERSION" > "rt/$kind/metadata"
    flatpak build-export --runtime --files=files repo "rt/$kind" "$RUNTIME_VERSION" >/dev/null
  done
  rm -rf rt
  echo "$want" > repo/.odd-exported
fi

flatpak --system remote-add --if-not-exists --no-gpg-verify odd-debian-runtime "$CACHE/repo"
flatpak --system install -y --noninteractive --reinstall odd-debian-runtime \
  "$SDK_ID//$RUNTIME_VERSION" "$PLATFORM_ID//$RUNTIME_VERSION" >/dev/null
echo "$want" > "$STAMP"
say "Installed $SDK_ID//$RUNTIME_VERSION and $PLATFORM_ID//$RUNTIME_VERSION system-wide"
