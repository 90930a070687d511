#!/usr/bin/env bash
# flatpak/test-sandbox.sh OUT_DIR: the Flatpak, built and run for real (TAP).
#
# Builds the manifest against the Debian-made runtime (build-local.sh), installs it, and as an
# unprivileged user starts it in the sandbox under Xvfb: the doctor and the local stack run
# inside the sandbox, a job is submitted from outside and seen completed, and a screenshot of
# the app with its running stack is kept as OUT_DIR/sandbox.png. Needs root (it installs
# system-wide and creates the test user) and about 10 minutes the first time (the runtime),
# a few after that. The port base is below the kernel's ephemeral range (32768-60999), where a
# client socket of any other program could hold one of the stack's ports.
set -uo pipefail

if ((EUID != 0)); then
  echo "1..0 # SKIP needs root: it installs system-wide and runs the app as a test user (sudo $0 OUT_DIR)"
  exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: flatpak/test-sandbox.sh OUT_DIR}
mkdir -p "$out" && out=$(cd "$out" && pwd)
app_id=io.github.odd.Observatory
user=odd-flatpak-test
port_base=${ODD_FLATPAK_TEST_PORT_BASE:-17000}
gateway=http://127.0.0.1:$((port_base + 300))
read_model=http://127.0.0.1:$((port_base + 80))

n=0 failed=0
ok()     { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
finish() { echo "1..$n"; exit $((failed > 0)); }

if ! "$here/build-local.sh" "$out/build" > "$out/build.log" 2>&1; then
  not_ok "the manifest builds against the Debian-made runtime and installs (see $out/build.log)"
  tail -30 "$out/build.log" | sed 's/^/# /'
  finish
fi
ok "the manifest builds against the Debian-made runtime and installs"

id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
uid=$(id -u "$user")
home=$(getent passwd "$user" | cut -d: -f6)
data="$home/.var/app/$app_id/data"
runtime_dir=/run/user/$uid
install -d -o "$user" -m 700 "$runtime_dir"
rm -rf "$home/.var" && runuser -u "$user" -- mkdir -p "$data"

display=:$((90 + RANDOM % 9))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp -ac >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null; touch "$data/stop" 2>/dev/null' EXIT
sleep 1

# Inside the sandbox: the doctor, the local stack, the app; then wait to be told to stop.
inner='
set -u
d=$XDG_DATA_HOME
oddctl doctor --json > "$d/doctor.json" 2> "$d/doctor.err"
echo $? > "$d/doctor.rc"
oddctl local up > "$d/up.log" 2>&1
echo $? > "$d/up.rc"
odd-observatory --page stack > "$d/app.log" 2>&1 &
app=$!
touch "$d/ready"
while [ ! -e "$d/stop" ] && kill -0 $app 2>/dev/null; do sleep 1; done
kill $app 2>/dev/null
oddctl local down > "$d/down.log" 2>&1
echo $? > "$d/down.rc"
'
runuser -u "$user" -- env -i HOME="$home" USER="$user" PATH=/usr/bin:/bin DISPLAY="$display" \
  XDG_RUNTIME_DIR="$runtime_dir" ODD_PORT_BASE="$port_base" GSK_RENDERER=cairo \
  dbus-run-session -- flatpak run --env=ODD_PORT_BASE="$port_base" --env=GSK_RENDERER=cairo \
    --command=sh "$app_id" -c "$inner" > "$out/sandbox.log" 2>&1 &
sandbox=$!

for _ in $(seq 240); do [[ -e $data/ready ]] && break; kill -0 $sandbox 2>/dev/null || break; sleep 1; done
if [[ ! -e $data/ready ]]; then
  not_ok "the sandbox started"; sed 's/^/# /' "$out/sandbox.log" | tail -20; finish
fi

if [[ $(cat "$data/doctor.rc") != 2 ]] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["checks"] else 1)' "$data/doctor.json" 2>/dev/null; then
  ok "the doctor runs in the sandbox ($(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["checks"]), "checks")' "$data/doctor.json"))"
else
  not_ok "the doctor runs in the sandbox"; sed 's/^/# /' "$data/doctor.err"
fi

if [[ $(cat "$data/up.rc") == 0 ]]; then
  ok "oddctl local up starts PostgreSQL, Redis, RabbitMQ and the services in the sandbox"
else
  not_ok "oddctl local up in the sandbox"; tail -20 "$data/up.log" | sed 's/^/# /'
fi

answer=$(curl -s -X POST "$gateway/jobs" -H 'Content-Type: application/json' \
              -d '{"type":"flatpak-sandbox","payload":{"simulate":{"durationMs":200}}}')
job=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["jobId"])' "$answer" 2>/dev/null)
status=
for _ in $(seq 60); do
  [[ -n $job ]] || break
  status=$(curl -s "$read_model/jobs/$job" | python3 -c 'import json,sys; print(json.load(sys.stdin)["job"]["status"])' 2>/dev/null)
  [[ $status == COMPLETED ]] && break
  sleep 1
done
if [[ $status == COMPLETED ]]; then
  ok "a job submitted to the sandboxed gateway completes ($job)"
else
  not_ok "a job submitted to the sandboxed gateway completes (answer: $answer, status: $status)"
fi

sleep 5   # the Stack page refreshes its health
if DISPLAY=$display import -window root "$out/sandbox.png" 2>/dev/null && [[ -s $out/sandbox.png ]]; then
  ok "screenshot of the sandboxed app: $out/sandbox.png"
else
  not_ok "screenshot of the sandboxed app"
fi

touch "$data/stop"
wait $sandbox
if [[ $(cat "$data/down.rc" 2>/dev/null) == 0 ]]; then
  ok "oddctl local down stops the stack in the sandbox"
else
  not_ok "oddctl local down in the sandbox"; sed 's/^/# /' "$data/down.log" 2>/dev/null
fi
grep -q 'CRITICAL\|WARNING' "$data/app.log" && { not_ok "no GTK warnings from the sandboxed app"; sed 's/^/# /' "$data/app.log" | head; } || ok "no GTK warnings from the sandboxed app"
finish
