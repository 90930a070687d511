#!/usr/bin/env bash
# image-test.sh: builds the services image from services/deploy/Dockerfile for real, offline,
# and runs a job through the four containers (suite 'image'; only with ODD_IMAGE_TEST=1, as it
# takes minutes the first time).
#
#   ODD_IMAGE_TEST=1 meson test -C build --suite image        (as root: dockerd, debootstrap)
#
# 1. Base images without a registry: debootstrap two bookworm minbase trees from Debian's
#    archive, one with the build packages (BUILDER_IMAGE), one with only the runtime libraries
#    (BASE_IMAGE), cached as tarballs in $ODD_IMAGE_CACHE (/var/cache/odd-image-base), and
#    `docker import` them. The Dockerfile's apt-get steps are skipped because the packages are
#    there, so the build needs no network.
# 2. A private dockerd with networking off (no bridge, no iptables), in a temporary directory.
# 3. docker build; then checks: uid 10001, no compiler, the four binaries, the contracts.
# 4. The four containers with --network host (read-only root, no capabilities) against the
#    PostgreSQL, Redis and RabbitMQ of ODD_TEST_POSTGRES_URL, ODD_TEST_REDIS_URL and
#    ODD_TEST_RABBITMQ_URL (given a third argument, it runs itself under that odd-with-servers,
#    which starts private ones);
#    every /readyz must answer 200, and a job submitted to the gateway must be COMPLETED in the
#    read-model. Prints the duration of each phase.
set -euo pipefail

src=${1:?usage: image-test.sh SOURCE_DIR VERSION [ODD_WITH_SERVERS]}
version=${2:?usage: image-test.sh SOURCE_DIR VERSION [ODD_WITH_SERVERS]}
with_servers=${3:-}

if [[ ${ODD_IMAGE_TEST:-} != 1 ]]; then
  echo "image test skipped: set ODD_IMAGE_TEST=1 to build and run the image (minutes; needs root)"
  exit 77
fi
# Private PostgreSQL, Redis and RabbitMQ from odd-with-servers, started only now that the test
# really runs.
if [[ -z ${ODD_TEST_POSTGRES_URL:-} && -n $with_servers ]]; then
  exec "$with_servers" "$0" "$src" "$version"
fi

fail() { echo "image-test: FAIL: $*" >&2; exit 1; }
say() { echo "image-test: $*"; }
((EUID == 0)) || fail "must run as root (dockerd and debootstrap)"
for tool in debootstrap dockerd docker curl; do
  command -v "$tool" >/dev/null || fail "$tool is missing: apt-get install -y debootstrap docker.io curl"
done
for var in ODD_TEST_POSTGRES_URL ODD_TEST_REDIS_URL ODD_TEST_RABBITMQ_URL; do
  [[ -n ${!var:-} ]] || fail "$var is not set (run under odd-with-servers, as meson test does)"
done

t_start=$SECONDS
phase_start=$SECONDS
timings=()
phase_done() { timings+=("$1 $((SECONDS - phase_start)) s"); say "$1 took $((SECONDS - phase_start)) s"; phase_start=$SECONDS; }

cache=${ODD_IMAGE_CACHE:-/var/cache/odd-image-base}
mirror=${ODD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The same lists as the Dockerfile's BUILD_PACKAGES and RUNTIME_PACKAGES.
dockerfile=$src/services/deploy/Dockerfile
build_packages=$(sed -n '/^ARG BUILD_PACKAGES=/,/"$/p' "$dockerfile" | tr -d '\\\n' | sed 's/^ARG BUILD_PACKAGES="//; s/"$//')
runtime_packages=$(sed -n 's/^ARG RUNTIME_PACKAGES="\(.*\)"$/\1/p' "$dockerfile")
[[ -n $build_packages && -n $runtime_packages ]] || fail "cannot read the package lists from $dockerfile"

work=$(mktemp -d /tmp/odd-image-test.XXXXXX)
dockerd_pid=
containers=()
jobs_to_stop=()
kill_tree() {  # PID: the process and everything it started
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  for job in "${jobs_to_stop[@]}"; do kill_tree "$job"; done
  if [[ -n $dockerd_pid ]]; then
    for c in "${containers[@]}"; do
      [[ $rc == 0 ]] || { echo "--- logs of $c"; docker logs --tail 30 "$c" 2>&1 || true; }
      docker rm -f "$c" >/dev/null 2>&1 || true
    done
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
  fi
  # A debootstrap that was stopped leaves /proc (and more) mounted in its tree: unmount
  # whatever is still mounted below $work before removing it.
  awk -v dir="$work/" 'index($2, dir) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
  if awk -v dir="$work/" 'index($2, dir) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    echo "image-test: $work still has mounts; not removing it" >&2
  else
    rm -rf "$work" 2>/dev/null || true
  fi
  exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------
# 1. Base root file systems (cached)

make_base() {  # NAME PACKAGES(space separated)
  local name=$1 packages=$2 key tarball root
  key=$(printf '%s\n%s\n' "$packages" "$mirror" | sha256sum | cut -c1-12)
  tarball=$cache/$name-bookworm-$key.tar
  if [[ -f $tarball ]]; then
    say "base $name: cached $tarball"
    return 0
  fi
  root=$work/rootfs-$name
  say "base $name: debootstrap bookworm minbase + $packages"
  if ! debootstrap --variant=minbase --include="${packages// /,}" bookworm "$root" "$mirror" \
       > "$work/debootstrap-$name.log" 2>&1; then
    # debootstrap does not always resolve every dependency; apt finishes the job.
    say "base $name: debootstrap reported a failure; completing with apt-get -f install"
    chroot "$root" sh -c "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -f --no-install-recommends && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages" \
      >> "$work/debootstrap-$name.log" 2>&1 || { tail -20 "$work/debootstrap-$name.log"; return 1; }
  fi
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/*
  mkdir -p "$cache"
  tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$root"
  say "base $name: $(du -h "$tarball" | cut -f1) in $tarball"
}

make_base runtime "$runtime_packages" &
runtime_job=$!
make_base builder "$build_packages" &
builder_job=$!
jobs_to_stop=("$runtime_job" "$builder_job")
wait "$runtime_job" || { tail -n 15 "$work/debootstrap-runtime.log"; fail "could not make the runtime base"; }
wait "$builder_job" || { tail -n 15 "$work/debootstrap-builder.log"; fail "could not make the builder base"; }
jobs_to_stop=()
phase_done "base images"

# ---------------------------------------------------------------------------------------
# 2. A private Docker daemon with networking off

export DOCKER_HOST=unix://$work/docker.sock
export DOCKER_BUILDKIT=0   # the classic builder: no buildx plugin and no registry here
mkdir -p "$work/docker-root" "$work/docker-exec"
dockerd --data-root "$work/docker-root" --exec-root "$work/docker-exec" \
  --pidfile "$work/dockerd.pid" -H "$DOCKER_HOST" --bridge=none --iptables=false \
  --ip6tables=false > "$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 100); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
docker version >/dev/null 2>&1 || { tail -20 "$work/dockerd.log"; fail "dockerd did not start"; }

runtime_tar=$(ls -t "$cache"/runtime-bookworm-*.tar | head -1)
builder_tar=$(ls -t "$cache"/builder-bookworm-*.tar | head -1)
docker import "$runtime_tar" odd-base-runtime:bookworm >/dev/null
docker import "$builder_tar" odd-base-builder:bookworm >/dev/null
phase_done "dockerd and import"

# ---------------------------------------------------------------------------------------
# 3. Build and inspect the image

image=odd-services:$version
docker build --network none -f "$dockerfile" -t "$image" \
  --build-arg BASE_IMAGE=odd-base-runtime:bookworm \
  --build-arg BUILDER_IMAGE=odd-base-builder:bookworm \
  --build-arg ODD_VERSION="$version" "$src" > "$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log"; fail "docker build failed"; }
phase_done "docker build"

# A wrong version must be refused (never a mis-tagged image).
if docker build --network none -q -f "$dockerfile" -t odd-services:wrong \
     --build-arg BASE_IMAGE=odd-base-runtime:bookworm --build-arg BUILDER_IMAGE=odd-base-builder:bookworm \
     --build-arg ODD_VERSION=0.0.0-wrong "$src" > "$work/build-wrong.log" 2>&1; then
  fail "the build accepted ODD_VERSION=0.0.0-wrong"
fi
grep -q "tag the image $version" "$work/build-wrong.log" || fail "the wrong-version build failed for another reason"

inspect=$(docker run --rm --network none --entrypoint sh "$image" -c '
  echo "uid=$(id -u)"
  for cc in cc gcc c99 clang; do command -v $cc >/dev/null 2>&1 && echo "compiler=$cc"; done
  ls /opt/odd/bin
  ls "$CONTRACTS_PATH/schemas" | wc -l
  cat /opt/odd/share/odd/VERSION')
echo "$inspect" | sed 's/^/  /'
grep -qx 'uid=10001' <<<"$inspect" || fail "the image does not run as uid 10001"
! grep -q '^compiler=' <<<"$inspect" || fail "the runtime image contains a compiler"
for s in gateway processor metrics-engine read-model; do
  grep -qx "odd-$s" <<<"$inspect" || fail "odd-$s is not in /opt/odd/bin"
done
grep -qx "$version" <<<"$inspect" || fail "/opt/odd/share/odd/VERSION is not $version"
[[ $(docker image inspect -f '{{ index .Config.Labels "org.opencontainers.image.version" }}' "$image") == "$version" ]] ||
  fail "the image's version label is not $version"
say "image $image: $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
if docker run --rm --network none "$image" >/dev/null 2>&1; then
  fail "the image without a command should refuse to run"
fi

# ---------------------------------------------------------------------------------------
# 4. The four containers against the test servers, and one job end to end

base=${ODD_IMAGE_TEST_PORT_BASE:-29880}
declare -A ports=([gateway]=$base [processor]=$((base + 1)) [metrics-engine]=$((base + 2)) [read-model]=$((base + 3)))
for s in "${!ports[@]}"; do
  ! (exec 3<>"/dev/tcp/127.0.0.1/${ports[$s]}") 2>/dev/null || fail "port ${ports[$s]} is in use (set ODD_IMAGE_TEST_PORT_BASE)"
done
urls="gateway=http://127.0.0.1:${ports[gateway]},processor=http://127.0.0.1:${ports[processor]}"
urls+=",metrics-engine=http://127.0.0.1:${ports[metrics-engine]},read-model=http://127.0.0.1:${ports[read-model]}"

for s in processor metrics-engine read-model gateway; do
  name=odd-image-test-$s-$$
  docker run -d --name "$name" --network host --read-only --cap-drop ALL \
    --security-opt no-new-privileges --memory 256m \
    -e PORT="${ports[$s]}" -e ODD_BIND=127.0.0.1 \
    -e RABBITMQ_URL="$ODD_TEST_RABBITMQ_URL" -e POSTGRES_URL="$ODD_TEST_POSTGRES_URL" \
    -e REDIS_URL="$ODD_TEST_REDIS_URL" -e READ_MODEL_URL="http://127.0.0.1:${ports[read-model]}" \
    -e ODD_SERVICE_URLS="$urls" \
    "$image" "odd-$s" >/dev/null
  containers+=("$name")
done

for s in processor metrics-engine read-model gateway; do
  ready=
  for _ in $(seq 120); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${ports[$s]}/readyz" || true)
    [[ $code == 200 ]] && { ready=1; break; }
    sleep 0.5
  done
  [[ -n $ready ]] || fail "$s (container) /readyz did not answer 200 (last: $code)"
  say "$s container ready on port ${ports[$s]}"
done
phase_done "containers ready"

reply=$(curl -s -X POST "http://127.0.0.1:${ports[gateway]}/jobs" -H 'Content-Type: application/json' \
  -d '{"type":"image-test","payload":{"simulate":{"durationMs":100}}}')
job=$(sed -n 's/.*"jobId" *: *"\([0-9a-f-]*\)".*/\1/p' <<<"$reply")
[[ -n $job ]] || fail "the gateway did not accept the job: $reply"
status=
for _ in $(seq 60); do
  detail=$(curl -s "http://127.0.0.1:${ports[read-model]}/jobs/$job" || true)
  status=$(sed -n 's/.*"status" *: *"\([A-Z]*\)".*/\1/p' <<<"$detail" | head -1)
  [[ $status == COMPLETED ]] && break
  sleep 0.5
done
[[ $status == COMPLETED ]] || fail "job $job is ${status:-unknown} in the read-model: $detail"
say "job $job COMPLETED through the four containers"
stats=$(curl -s "http://127.0.0.1:${ports[read-model]}/stats")
grep -q '"completed"' <<<"$stats" || fail "the read-model's /stats has no completed count: $stats"
metrics=$(curl -s "http://127.0.0.1:${ports[processor]}/metrics")
grep -q '^processor_jobs_completed_total{service="processor"} [1-9]' <<<"$metrics" ||
  fail "the processor container's metrics do not count the job"
phase_done "job end to end"

say "passed in $((SECONDS - t_start)) s (${timings[*]})"
