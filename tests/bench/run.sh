#!/bin/sh
# tests/bench/run.sh: the pipeline beside the broker's bare limit, in one run on one broker
#
#   tests/bench/run.sh [BUILD_DIR]        (default /tmp/build-bench; configured if missing)
#
# Starts its own local stack (oddctl local up) and measures, in this order:
#   idle     2 s of the idle stack;
#   warmup   2 s of wrk with the processor stopped, then one job.created taken from
#            jobs.created and put back: the size of the gateway's messages; then drained;
#   bare     odd-physical-amqp --publish-only --window 64: a bare confirmed publisher to the
#            same broker, on a queue of its own (deleted afterwards), messages of that size;
#   gateway  wrk -t2 -c64 -s tests/bench/jobs.lua with the processor stopped (SIGSTOP): the
#            gateway alone in front of the broker, as the bare publisher is;
#   drain    the processor continues and the pipeline works off the gateway's jobs;
#   bare-pipeline  the bare publisher again, right before the pipeline's phases;
#   closed   odd-bench closed --concurrency 64: the pipeline's end-to-end maximum;
#   open     odd-bench open --rate R, R = half the closed run's completed/s: submit-to-completed
#            latency below saturation;
#   scale-N  only with ODD_BENCH_PROCESSORS: odd-bench closed again with N processor processes
#            (the stack's and N-1 started here with its binary and environment).
# For every phase it records the CPU time (/proc) of every process: the gateway (its main
# thread and its publisher thread apart), the processor(s), metrics-engine, read-model,
# web-terminal, RabbitMQ (beam.smp), PostgreSQL (postmaster and all its backends) and Redis;
# the 1-minute load average; each service's RSS (every 0.5 s, and VmHWM at the end).
# tests/bench/report.py then writes docs/performance.md and prints the ratios of issue 13 as
# the last lines, ending with "targets met: K of 4".
#
# Environment:
#   ODD_BENCH_DURATION    seconds of load per phase (10)
#   ODD_BENCH_PROCESSORS  e.g. "1 2 3": the scale phases (none)
#   ODD_BENCH_DOC         the document written (docs/performance.md); "-": none
#   ODD_STATE_DIR         the stack's state (/tmp/odd-bench-state; removed afterwards if this
#                         script made it)
#   ODD_PORT_BASE         the stack's ports (the first base from 19000 up whose ports are free)
# Raw results: BUILD_DIR/bench-results/. Exit status: 0 the run completed (whatever the
# ratios), 1 it failed, 2 a tool is missing or an argument is wrong.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-/tmp/build-bench}
duration=${ODD_BENCH_DURATION:-10}
processors=${ODD_BENCH_PROCESSORS:-}
doc=${ODD_BENCH_DOC:-$src/docs/performance.md}
export ODD_STATE_DIR="${ODD_STATE_DIR:-/tmp/odd-bench-state}"

case $duration in
  ''|*[!0-9]*|0) echo "run.sh: ODD_BENCH_DURATION must be a whole number of seconds > 0, not '$duration'" >&2; exit 2 ;;
esac
for n in $processors; do
  case $n in
    ''|*[!0-9]*|0) echo "run.sh: ODD_BENCH_PROCESSORS must list counts > 0 (e.g. \"1 2 3\"), not '$processors'" >&2; exit 2 ;;
  esac
  [ "$n" -le 8 ] || { echo "run.sh: at most 8 processors (ODD_BENCH_PROCESSORS=$processors)" >&2; exit 2; }
done

missing=
for tool in wrk psql curl python3 ss meson ninja; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  echo "run.sh: not found:$missing. ./setup.sh installs them (wrk is one of its test packages," >&2
  echo "psql comes with postgresql), or: apt-get install wrk postgresql-client curl python3 iproute2 meson ninja-build" >&2
  exit 2
fi

# A port base whose eight ports (docs/architecture.md) and the extra processors' are free.
ports_free () {
  for off in 80 100 101 110 111 112 113 114 115 116 300 379 432 672 673 681; do
    if [ -n "$(ss -ltnH "sport = :$(($1 + off))" 2>/dev/null)" ]; then
      return 1
    fi
  done
  return 0
}
if [ -z "${ODD_PORT_BASE:-}" ]; then
  b=19000
  while [ "$b" -le 19320 ] && ! ports_free "$b"; do
    b=$((b + 10))
  done
  [ "$b" -le 19320 ] || { echo "run.sh: no free port base in 19000..19320; set ODD_PORT_BASE" >&2; exit 1; }
  export ODD_PORT_BASE=$b
fi

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$src" >/dev/null
fi
ninja -C "$build" services/gateway/odd-gateway services/processor/odd-processor \
  services/metrics-engine/odd-metrics-engine services/read-model/odd-read-model \
  services/web-terminal/odd-web-terminal app/tui/odd-dashboard app/oddctl/oddctl \
  tests/bench/odd-bench tests/bench/odd-physical-amqp >/dev/null

oddctl=$build/app/oddctl/oddctl
bench=$build/tests/bench/odd-bench
bare=$build/tests/bench/odd-physical-amqp
gw=http://127.0.0.1:$((ODD_PORT_BASE + 300))
rm_url=http://127.0.0.1:$((ODD_PORT_BASE + 80))
pg=postgresql://postgres@127.0.0.1:$((ODD_PORT_BASE + 432))/odd
amqp=amqp://guest:guest@127.0.0.1:$((ODD_PORT_BASE + 672))/
bare_queue=odd.bench.bare.$$
out=$build/bench-results

rm -rf "$out"
mkdir -p "$out"

# What the cleanup undoes; it runs once, on any exit.
[ -e "$ODD_STATE_DIR" ] && state_existed=1 || state_existed=0
stack_up=0
stopped_pid=
extra_pids=
sampler=
bare_left=
cleaned=0
cleanup () {
  [ "$cleaned" = 0 ] || return 0
  cleaned=1
  # a stopped processor would never see the SIGTERM of `local down`
  [ -z "$stopped_pid" ] || kill -CONT "$stopped_pid" 2>/dev/null || true
  for p in $extra_pids; do stop_pid "$p"; done
  [ -z "$sampler" ] || { rm -f "$out/sampling"; wait "$sampler" 2>/dev/null || true; }
  [ -z "$bare_left" ] || "$bare" --delete "$bare_left" "$amqp" >/dev/null 2>&1 || true
  if [ "$stack_up" = 1 ]; then
    "$oddctl" local down >"$out/down.log" 2>&1 || echo "run.sh: oddctl local down failed, see $out/down.log" >&2
  fi
  # a state directory this script made is scratch: the next run starts from empty stores
  [ "$state_existed" = 1 ] || rm -rf "$ODD_STATE_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# SIGTERM, then SIGKILL after 10 s, to a process this script started.
stop_pid () {
  kill -TERM "$1" 2>/dev/null || return 0
  i=0
  while kill -0 "$1" 2>/dev/null && [ "$i" -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# The bench stops the processor and the whole stack: never someone's running stack.
if "$oddctl" local status --json 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(c.get("pid") for c in json.load(sys.stdin)["components"]) else 1)'; then
  echo "run.sh: a stack is already running in $ODD_STATE_DIR (port base $ODD_PORT_BASE): stop it with" >&2
  echo "ODD_STATE_DIR=$ODD_STATE_DIR ODD_PORT_BASE=$ODD_PORT_BASE oddctl local down, or set another ODD_STATE_DIR" >&2
  exit 1
fi
echo "run.sh: starting a local stack in $ODD_STATE_DIR (port base $ODD_PORT_BASE)"
stack_up=1
"$oddctl" local up >"$out/up.log" 2>&1 || { cat "$out/up.log" >&2; exit 1; }
"$oddctl" local status --json > "$out/status.json"
python3 -c '
import json, sys
for c in json.load(open(sys.argv[1]))["components"]:
    if c.get("pid"):
        print(c["name"], c["pid"])' "$out/status.json" > "$out/pids.txt"

pid_of () {
  awk -v n="$1" '$1 == n { print $2 }' "$out/pids.txt"
}
for s in gateway processor metrics-engine read-model rabbitmq postgres redis; do
  [ -n "$(pid_of "$s")" ] || { echo "run.sh: no pid for $s in oddctl local status" >&2; exit 1; }
done
# the services whose RSS counts (the servers are not ours)
services="gateway processor metrics-engine read-model web-terminal"

# utime + stime (clock ticks) of a /proc/.../stat; fields counted after the ") " of comm
stat_ticks () {
  sed 's/.*) //' "$1" 2>/dev/null | awk '{ print $12 + $13 }'
}

# "phase mark name ticks" for every process, and "phase mark _wall seconds".
cpu_mark () {
  {
    echo "$1 $2 _wall $(date +%s.%N)"
    while read -r name pid; do
      case $name in
        postgres)
          # the postmaster with its reaped children (cutime, cstime) and its live backends
          t=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }')
          for c in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
            ct=$(stat_ticks "/proc/$c/stat")
            [ -z "$ct" ] || t=$((t + ct))
          done
          ;;
        gateway)
          t=$(stat_ticks "/proc/$pid/stat")
          echo "$1 $2 gateway.main $(stat_ticks "/proc/$pid/task/$pid/stat")"
          # the publisher thread by its name (OddAmqpPublisher's g_thread_new); none: not shown
          pub=
          for task in /proc/"$pid"/task/*; do
            if [ "$(cat "$task/comm" 2>/dev/null)" = odd-amqp-pub ]; then
              tt=$(stat_ticks "$task/stat")
              [ -z "$tt" ] || pub=$((${pub:-0} + tt))
            fi
          done
          [ -z "$pub" ] || echo "$1 $2 gateway.publisher $pub"
          ;;
        *)
          t=$(stat_ticks "/proc/$pid/stat")
          ;;
      esac
      [ -z "$t" ] || echo "$1 $2 $name $t"
    done < "$out/pids.txt"
  } >> "$out/cpu.txt"
}

# RSS of every service every 0.5 s, as "phase name kB", while $out/sampling exists.
sample_rss () {
  while [ -f "$out/sampling" ]; do
    phase=$(cat "$out/phase")
    while read -r name pid; do
      case " $services " in *" ${name%-[0-9]} "*) ;; *) continue ;; esac
      r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
      [ -z "$r" ] || echo "$phase $name $r" >> "$out/rss.txt"
    done < "$out/pids.txt"
    sleep 0.5
  done
}

# VmHWM (peak RSS, kB) of a service: "name kB"
peak_rss () {
  r=$(awk '/^VmHWM:/ { print $2 }' "/proc/$2/status" 2>/dev/null || true)
  [ -z "$r" ] || echo "$1 $r" >> "$out/peak-rss.txt"
}

phase_start () {
  # renamed into place: the RSS sampler must never read a half-written (empty) phase file
  echo "$1" > "$out/phase.new" && mv "$out/phase.new" "$out/phase"
  # the 1-minute load average as the phase starts: other work on the machine shows here
  echo "$1 $(cut -d' ' -f1 /proc/loadavg)" >> "$out/load.txt"
  cpu_mark "$1" start
}

phase_end () {
  cpu_mark "$1" end
}

# CPU ticks of this shell's finished children (the `times` builtin, run in this shell, not in
# a subshell, which has children of its own): around a load generator, the generator's CPU.
children_ticks () {
  times > "$out/times.txt"
  tail -n 1 "$out/times.txt" | awk -v hz="$(getconf CLK_TCK)" '{
    n = 0
    for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] }
    printf "%d\n", n * hz + 0.5 }'
}

psql_value () {
  psql -X -A -t -q "$pg" -c "$1"
}

# Waits until @2 jobs of type @1 are terminal (bounded by 300 s).
drain () {
  i=0
  while [ "$i" -lt 600 ]; do
    done_count=$(psql_value "SELECT count(*) FROM jobs WHERE type = '$1' AND status IN ('COMPLETED','FAILED')" || echo 0)
    [ "$done_count" -ge "$2" ] && return 0
    sleep 0.5
    i=$((i + 1))
  done
  echo "run.sh: $1: only $done_count of $2 jobs terminal after 300 s" >&2
  return 1
}

echo idle > "$out/phase"
: > "$out/sampling"
sample_rss &
sampler=$!

phase_start idle
sleep 2
phase_end idle

# wrk with the processor stopped: nothing consumes jobs.created, as nothing consumes the bare
# publisher's queue. $1 phase, $2 seconds, $3 job type.
stopped_wrk () {
  stopped_pid=$(pid_of processor)
  kill -STOP "$stopped_pid"
  phase_start "$1"
  children_ticks > "$out/wrk-ticks.txt"
  echo "$1 start client.wrk $(cat "$out/wrk-ticks.txt")" >> "$out/cpu.txt"
  wrk -t2 -c64 -d"$2s" --latency -s "$here/jobs.lua" "$gw" -- "$3" > "$out/$1-wrk.txt"
  children_ticks > "$out/wrk-ticks.txt"
  echo "$1 end client.wrk $(cat "$out/wrk-ticks.txt")" >> "$out/cpu.txt"
  phase_end "$1"
  grep '^WRK_JSON ' "$out/$1-wrk.txt" | sed 's/^WRK_JSON //' > "$out/$1-wrk.json"
  wrk_accepted=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"].get("202", 0))' "$out/$1-wrk.json")
  [ "$wrk_accepted" -gt 0 ] || { echo "run.sh: the gateway accepted no job under wrk, see $out/$1-wrk.txt" >&2; exit 1; }
}

# The processor continues and works off the jobs of type $2 (phase $1).
continue_drain () {
  phase_start "$1"
  kill -CONT "$stopped_pid"
  stopped_pid=
  drain "$2" "$wrk_accepted"
  phase_end "$1"
}

# The bare publisher for ${duration}s as phase $1 (results $1.json).
bare_phase () {
  echo "run.sh: $1: a bare confirmed publisher, window 64, $envelope_bytes-byte messages, ${duration}s"
  bare_left=$bare_queue
  phase_start "$1"
  "$bare" --publish-only --duration "$duration" --window 64 --size "$envelope_bytes" \
    --queue "$bare_queue" --keep-queue "$amqp" > "$out/$1.json"
  phase_end "$1"
  # deleting the queue (its messages on disk) is not publishing: outside the phase
  "$bare" --delete "$bare_queue" "$amqp"
  bare_left=
}

# Warm-up, and the size of the gateway's job.created: one of the messages waiting beyond the
# stopped processor's prefetch is taken and put back.
echo "run.sh: warmup: wrk -d2s, the processor stopped"
warmup_type=bench-warmup-$(date +%s)-$$
stopped_wrk warmup 2 "$warmup_type"
"$bare" --peek jobs.created "$amqp" > "$out/peek.json" || {
  echo "run.sh: no job.created waiting to measure (the gateway accepted $wrk_accepted jobs in 2 s," >&2
  echo "fewer than the processor's prefetch); see $out/warmup-wrk.txt" >&2
  exit 1
}
envelope_bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' "$out/peek.json")
continue_drain warmup-drain "$warmup_type"

# The bare publisher right before the gateway, and again right before the pipeline: each ratio
# compares phases a few seconds apart, so that the neighbours' load drifts little between them.
bare_phase bare

echo "run.sh: gateway: wrk -t2 -c64 -d${duration}s, the processor stopped"
wrk_type=bench-wrk-$(date +%s)-$$
curl -s "$gw/metrics" > "$out/gateway-metrics-before.txt" || true
stopped_wrk gateway "$duration" "$wrk_type"
curl -s "$gw/metrics" > "$out/gateway-metrics-after.txt" || true
cp "$out/gateway-wrk.json" "$out/wrk.json"

echo "run.sh: drain: the pipeline works off the $wrk_accepted accepted jobs"
continue_drain drain "$wrk_type"

bare_phase bare-pipeline

echo "run.sh: closed: odd-bench closed --concurrency 64 --duration $duration"
phase_start closed
"$bench" closed --concurrency 64 --duration "$duration" --settle 120 --gateway "$gw" --postgres "$pg" \
  --json "$out/closed.json" > "$out/closed.txt"
phase_end closed
open_rate=$(python3 -c 'import json,sys; print(max(1, round(json.load(open(sys.argv[1])).get("endToEnd", {}).get("completedPerSec", 0) / 2)))' "$out/closed.json")

echo "run.sh: open: odd-bench open --rate $open_rate (half the closed run's completed/s) --duration $duration"
phase_start open
"$bench" open --rate "$open_rate" --duration "$duration" --settle 120 --gateway "$gw" --postgres "$pg" \
  --json "$out/open.json" > "$out/open.txt"
phase_end open

# Extra processors: the stack's binary and environment, their own health port and instance id.
processor_pid=$(pid_of processor)
processor_exe=$(readlink "/proc/$processor_pid/exe")
start_processor () {
  port=$((ODD_PORT_BASE + 108 + $1))
  if [ -n "$(ss -ltnH "sport = :$port" 2>/dev/null)" ]; then
    echo "run.sh: port $port for processor-$1 is taken" >&2
    return 1
  fi
  python3 -c '
import os, sys
pid, exe, port, name = sys.argv[1:]
env = dict(kv.split("=", 1) for kv in open(f"/proc/{pid}/environ").read().split("\0") if "=" in kv)
env["PORT"] = port
env["HOSTNAME"] = f"{os.uname().nodename}-{name}"
os.execve(exe, [exe], env)' "$processor_pid" "$processor_exe" "$port" "processor-$1" \
    > "$out/processor-$1.log" 2>&1 &
  p=$!
  extra_pids="$extra_pids $p"
  echo "processor-$1 $p" >> "$out/pids.txt"
  i=0
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 300 ] || ! kill -0 "$p" 2>/dev/null; then
      echo "run.sh: processor-$1 did not become ready on port $port; end of $out/processor-$1.log:" >&2
      tail -n 20 "$out/processor-$1.log" >&2
      return 1
    fi
    sleep 0.1
  done
}

for n in $processors; do
  echo "run.sh: scale-$n: odd-bench closed --concurrency 64 --duration $duration with $n processors"
  echo "scale-$n" > "$out/phase"   # the extra processors' RSS from their start
  k=2
  while [ "$k" -le "$n" ]; do
    start_processor "$k"
    k=$((k + 1))
  done
  phase_start "scale-$n"
  "$bench" closed --concurrency 64 --duration "$duration" --settle 120 --gateway "$gw" --postgres "$pg" \
    --json "$out/scale-$n.json" > "$out/scale-$n.txt"
  phase_end "scale-$n"
  for p in $extra_pids; do
    peak_rss "$(awk -v p="$p" '$2 == p { print $1 }' "$out/pids.txt")" "$p"
    stop_pid "$p"
  done
  extra_pids=
  # the stopped ones leave the list of processes measured
  grep -v '^processor-[0-9]' "$out/pids.txt" > "$out/pids.tmp" || true
  mv "$out/pids.tmp" "$out/pids.txt"
done

curl -s "$rm_url/stats" > "$out/stats.json" || true
while read -r name pid; do
  case " $services " in *" $name "*) peak_rss "$name" "$pid" ;; esac
done < "$out/pids.txt"
gw_pid=$(pid_of gateway)
gw_fds=$(ls "/proc/$gw_pid/fd" 2>/dev/null | wc -l)

commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
# changes to anything but the document this script writes make the measured tree "dirty"
if [ -n "$(git -C "$src" status --porcelain --untracked-files=no -- . ':!docs/performance.md' 2>/dev/null)" ]; then
  commit="$commit dirty"
fi
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M')"
  echo "nproc=$(nproc)"
  echo "model=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
  echo "mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "kernel=$(uname -r)"
  echo "commit=$commit"
  echo "buildtype=$(meson introspect --buildoptions "$build" | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"][0])')"
  echo "duration=$duration"
  echo "wrk=$(wrk -v 2>&1 | head -n1 | awk '{print $2}')"
  echo "clk_tck=$(getconf CLK_TCK)"
  echo "envelope_bytes=$envelope_bytes"
  echo "open_rate=$open_rate"
  echo "processors=$processors"
  echo "gateway_fds=$gw_fds"
} > "$out/meta.txt"

# Stop the stack before the report, so that the ratios are the last lines printed.
rm -f "$out/sampling"
wait "$sampler" 2>/dev/null || true
sampler=
cleanup
python3 "$here/report.py" "$out" "$doc"
