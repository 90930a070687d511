#!/bin/sh
# tests/bench/big-bodies.sh: the gateway's memory and main loop under big request bodies
#
#   tests/bench/big-bodies.sh [BUILD_DIR]        (default: ./build of the source tree)
#
# Starts the gateway alone on 127.0.0.1:$((ODD_PORT_BASE + 300)) (ODD_PORT_BASE default
# 19000) with no broker behind it: every submission is read and checked in full, then
# answered 503, so what is measured is the cost of a body, not of the broker. Then:
#   1. the idle RSS;
#   2. $ODD_BENCH_CLIENTS clients (default 8) posting a 1 MiB body of half a million zeros
#      in a loop for $ODD_BENCH_DURATION seconds (default 10), while /healthz is timed every
#      50 ms: /healthz p50, p99 and max, bodies checked per second, and the peak RSS
#      (VmHWM) over the whole run;
#   3. a 300 MB POST /healthz with its Content-Length, and one chunked: the answer, its time,
#      and the peak RSS after.
# Prints a Markdown section for docs/performance.md ("Big request bodies"). Not a test: the
# figures depend on the machine and its load. To measure another build's gateway as it is:
# ODD_BENCH_GATEWAY=/path/to/odd-gateway ODD_BENCH_CONTRACTS=/path/to/contracts.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-$src/build}
duration=${ODD_BENCH_DURATION:-10}
clients=${ODD_BENCH_CLIENTS:-8}
port=$((${ODD_PORT_BASE:-19000} + 300))
gw=http://127.0.0.1:$port
work=$(mktemp -d /tmp/odd-big-bodies.XXXXXX)

gateway=${ODD_BENCH_GATEWAY:-}
if [ -z "$gateway" ]; then
  ninja -C "$build" services/gateway/odd-gateway >/dev/null
  gateway=$build/services/gateway/odd-gateway
fi

cleanup () {
  [ -n "${gw_pid:-}" ] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# {"type":"bench","payload":{"z":[0,0,...]}}: 1 MiB, 524,260 values
awk 'BEGIN { head = "{\"type\":\"bench\",\"payload\":{\"z\":["; tail = "]}}";
             n = int((1048576 - length(head) - length(tail) + 1) / 2);
             printf "%s", head; for (i = 0; i < n - 1; i++) printf "0,"; printf "0%s", tail }' \
  > "$work/zeros.json"
truncate -s 300000000 "$work/huge"

PORT=$port ODD_BIND=127.0.0.1 RABBITMQ_URL=amqp://guest:guest@127.0.0.1:1/ \
  CONTRACTS_PATH=${ODD_BENCH_CONTRACTS:-$src/contracts} \
  "$gateway" >"$work/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 50); do
  curl -sf -o /dev/null "$gw/healthz" && break
  sleep 0.1
done

kb () { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$gw_pid/status"; }
mb () { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1024 }'; }
healthz () { curl -s -o /dev/null -w '%{time_total}\n' "$gw/healthz"; }

idle_rss=$(kb VmRSS)

# 2. clients posting 1 MiB bodies, /healthz timed meanwhile
end=$(($(date +%s) + duration))
for c in $(seq "$clients"); do
  (
    while [ "$(date +%s)" -lt "$end" ]; do
      curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
        --data-binary @"$work/zeros.json" "$gw/jobs"
    done
  ) >"$work/posts.$c" &
done
sleep 0.5   # the clients are under way
while [ "$(date +%s)" -lt "$end" ]; do
  healthz >>"$work/healthz"
  sleep 0.05
done
wait_for_clients () {
  for c in $(seq "$clients"); do
    while [ "$(wc -l <"$work/posts.$c")" -eq 0 ] && [ "$(date +%s)" -lt $((end + 30)) ]; do
      sleep 0.1
    done
  done
}
wait_for_clients
sleep 1
loaded_hwm=$(kb VmHWM)
loaded_rss=$(kb VmRSS)
posts=$(cat "$work"/posts.* | wc -l)
codes=$(cat "$work"/posts.* | sort | uniq -c | awk '{ printf "%s%s × %s", sep, $1, $2; sep = ", " }')
n=$(wc -l <"$work/healthz")
pct () { sort -n "$work/healthz" | awk -v p="$1" -v n="$n" 'NR == int((n - 1) * p) + 1 { printf "%.1f", $1 * 1000 }'; }
p50=$(pct 0.5)
p99=$(pct 0.99)
max=$(sort -n "$work/healthz" | tail -1 | awk '{ printf "%.1f", $1 * 1000 }')

# 3. 300 MB to /healthz: with a Content-Length, then chunked
with_length=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -X POST -T "$work/huge" \
  -H 'Content-Type: application/json' "$gw/healthz" || true)
chunked=$(head -c 300000000 /dev/zero | curl -s -o /dev/null -w '%{http_code} %{time_total}' -X POST -T - \
  -H 'Content-Type: application/json' "$gw/healthz" || true)
after_hwm=$(kb VmHWM)
after_rss=$(kb VmRSS)
after_healthz=$(healthz | awk '{ printf "%.1f", $1 * 1000 }')

cat <<EOF
## Big request bodies

\`tests/bench/big-bodies.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)):
the gateway alone, no broker (each body is read and checked in full, then answered 503).

| | figure |
|---|---|
| RSS idle | $(mb "$idle_rss") MB |
| $clients clients posting 1 MiB of half a million zeros, ${duration} s | $posts bodies ($codes) |
| /healthz meanwhile ($n requests) | p50 $p50 ms, p99 $p99 ms, max $max ms |
| peak RSS (VmHWM) over the run | $(mb "$loaded_hwm") MB (RSS after: $(mb "$loaded_rss") MB) |
| 300 MB POST /healthz, Content-Length | $(echo "$with_length" | awk '{ printf "%s in %.0f ms", $1, $2 * 1000 }') |
| 300 MB POST /healthz, chunked | $(echo "$chunked" | awk '{ printf "%s in %.0f ms", $1, $2 * 1000 }') |
| peak RSS after both | $(mb "$after_hwm") MB (RSS $(mb "$after_rss") MB); /healthz then $after_healthz ms |
EOF
