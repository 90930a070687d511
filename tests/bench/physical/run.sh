#!/bin/sh
# tests/bench/physical/run.sh: the physical limits of this machine for our two storage legs
#
#   tests/bench/physical/run.sh [BUILD_DIR]     (default /tmp/build-physical; configured if missing)
#
# Starts a private local stack (oddctl local up; state in $ODD_STATE_DIR, default
# /tmp/odd-physical/state, ports from $ODD_PORT_BASE, default 21000), leaves its services idle,
# and measures, against its RabbitMQ and PostgreSQL:
#   1. odd-physical-amqp: a bare librabbitmq-c publisher with confirms (persistent 454-byte
#      messages, window 500) and a consumer (prefetch 200, one ack per message): alone, and
#      together; $ODD_PHYSICAL_MESSAGES messages (default 50000);
#   2. odd-physical-pg: batches of 100 job rows, one INSERT ... SELECT FROM
#      jsonb_array_elements ... ON CONFLICT DO NOTHING per committed transaction, on 1 and on 2
#      connections; $ODD_PHYSICAL_ROWS rows (default 50000).
# Prints one JSON line per measurement (also kept in $ODD_PHYSICAL_OUT, default
# /tmp/odd-physical/results.jsonl) and the machine. Stops the stack afterwards unless
# ODD_PHYSICAL_KEEP=1. The programs are built in BUILD_DIR (tests/bench/meson.build), not installed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
build=${1:-/tmp/build-physical}
work=${ODD_PHYSICAL_DIR:-/tmp/odd-physical}
out=${ODD_PHYSICAL_OUT:-$work/results.jsonl}
messages=${ODD_PHYSICAL_MESSAGES:-50000}
rows=${ODD_PHYSICAL_ROWS:-50000}
export ODD_STATE_DIR=${ODD_STATE_DIR:-$work/state}
export ODD_PORT_BASE=${ODD_PORT_BASE:-21000}

mkdir -p "$work"
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$src" >/dev/null
fi
ninja -C "$build" services/gateway/odd-gateway services/processor/odd-processor \
  services/metrics-engine/odd-metrics-engine services/read-model/odd-read-model \
  services/web-terminal/odd-web-terminal app/tui/odd-dashboard app/oddctl/oddctl \
  tests/bench/odd-physical-amqp tests/bench/odd-physical-pg >/dev/null
amqp_bin=$build/tests/bench/odd-physical-amqp
pg_bin=$build/tests/bench/odd-physical-pg

oddctl=$build/app/oddctl/oddctl
started=0
if ! "$oddctl" local status >/dev/null 2>&1; then
  "$oddctl" local up >/dev/null
  started=1
fi
stop () {
  if [ "$started" = 1 ] && [ "${ODD_PHYSICAL_KEEP:-0}" != 1 ]; then
    "$oddctl" local down >/dev/null 2>&1 || true
  fi
}
trap stop EXIT

amqp=amqp://guest:guest@127.0.0.1:$((ODD_PORT_BASE + 672))/
pg=postgresql://postgres@127.0.0.1:$((ODD_PORT_BASE + 432))/odd

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(uname -r)"
: > "$out"
load () { cut -d' ' -f1 /proc/loadavg; }

echo "# load average before amqp: $(load)"
"$amqp_bin" "$amqp" "$messages" 500 200 | sed "s/}\$/,\"load1\":$(load)}/" | tee -a "$out"
for c in 1 2; do
  echo "# load average before pg ($c connections): $(load)"
  "$pg_bin" "$pg" "$rows" 100 "$c" | sed "s/}\$/,\"load1\":$(load)}/" | tee -a "$out"
done
echo "physical: results in $out"
