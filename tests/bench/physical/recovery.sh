#!/bin/sh
# tests/bench/physical/recovery.sh: inject one fault at a time into a running local stack under
# a steady load, and measure recovery and exactly-once outcomes (docs/reliability.md).
#
#   tests/bench/physical/recovery.sh [BUILD_DIR] [FAULT...]     (default /tmp/build-physical; all faults)
#
# Faults: kill-processor kill-metrics-engine kill-gateway kill-read-model kill-postgres
#         restart-rabbitmq flush-redis stop-processor (SIGSTOP for $ODD_STOP_SECONDS, default 75,
#         past the 30 s AMQP heartbeat's 60 s limit, then SIGCONT).
# Uses (and starts, if needed) the stack of $ODD_STATE_DIR (default /tmp/odd-physical/state) on
# $ODD_PORT_BASE (default 21000). For each fault: odd-bench open at $ODD_RECOVERY_RATE jobs/s
# (default 100) for 30 s; the fault comes at 8 s; a killed component is brought back by
# `oddctl local up` 1 s later (its duration is the restart time). Then, for the run's jobs:
# accepted (202) vs rows, every row terminal, job.completed events per completed job, and the
# Redis per-type counters. One line per fault; exit status 1 if any check failed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
build=${1:-/tmp/build-physical}
[ $# -gt 0 ] && shift
faults=${*:-kill-processor kill-metrics-engine kill-gateway kill-read-model kill-postgres restart-rabbitmq flush-redis stop-processor}
work=${ODD_PHYSICAL_DIR:-/tmp/odd-physical}
export ODD_STATE_DIR=${ODD_STATE_DIR:-$work/state}
export ODD_PORT_BASE=${ODD_PORT_BASE:-21000}
rate=${ODD_RECOVERY_RATE:-100}
stop_s=${ODD_STOP_SECONDS:-75}

mkdir -p "$work"
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$src" >/dev/null
fi
ninja -C "$build" services/gateway/odd-gateway services/processor/odd-processor \
  services/metrics-engine/odd-metrics-engine services/read-model/odd-read-model \
  app/oddctl/oddctl tests/bench/odd-bench >/dev/null
oddctl=$build/app/oddctl/oddctl
bench=$build/tests/bench/odd-bench
"$oddctl" local status >/dev/null 2>&1 || "$oddctl" local up >/dev/null

gw=http://127.0.0.1:$((ODD_PORT_BASE + 300))
pg=postgresql://postgres@127.0.0.1:$((ODD_PORT_BASE + 432))/odd
redis_port=$((ODD_PORT_BASE + 379))
sql () { psql -XAtq "$pg" -c "$1"; }
now () { date +%s.%N; }
# PostgreSQL has no pid file of oddctl's: its own postmaster.pid (first line) is in the data dir.
pid_of () {
  if [ "$1" = postgres ]; then
    dir=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['postgresDir'])" "$ODD_STATE_DIR/stack.json")
    head -n 1 "$dir/data/postmaster.pid"
  else
    cat "$ODD_STATE_DIR/run/$1.pid"
  fi
}
elapsed () { echo "$1 $2" | awk '{printf "%.1f", $2 - $1}'; }

up_timed () {
  t0=$(now)
  "$oddctl" local up >/dev/null 2>&1
  elapsed "$t0" "$(now)"
}

failed=0
for fault in $faults; do
  json=$work/recovery-$fault.json
  rm -f "$json"
  "$bench" open --rate "$rate" --duration 30 --gateway "$gw" --postgres "$pg" --json "$json" \
    >"$work/recovery-$fault.log" 2>&1 &
  bench_pid=$!
  sleep 8
  restart=-
  case $fault in
    kill-*)
      name=${fault#kill-}
      kill -9 "$(pid_of "$name")"
      sleep 1
      restart=$(up_timed)
      ;;
    restart-rabbitmq)
      p=$(pid_of rabbitmq)
      kill -TERM "$p"
      while kill -0 "$p" 2>/dev/null; do sleep 0.2; done
      restart=$(up_timed)
      ;;
    flush-redis)
      redis-cli -p "$redis_port" FLUSHALL >/dev/null
      ;;
    stop-processor)
      p=$(pid_of processor)
      kill -STOP "$p"
      sleep "$stop_s"
      t0=$(now)
      kill -CONT "$p"
      # ready again: /readyz of the processor answers 200
      while [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((ODD_PORT_BASE + 100))/readyz")" != 200 ]; do sleep 0.2; done
      restart=$(elapsed "$t0" "$(now)")
      ;;
    *)
      echo "recovery.sh: unknown fault $fault" >&2
      exit 2
      ;;
  esac
  wait "$bench_pid" || true

  type=$(sql "SELECT type FROM jobs WHERE type LIKE 'bench-%' AND type <> 'bench-wrk' GROUP BY type ORDER BY max(created_at) DESC LIMIT 1")
  # give the last jobs time to finish if odd-bench's settle time ran out
  for _ in $(seq 1 60); do
    [ "$(sql "SELECT count(*) FROM jobs WHERE type = '$type' AND status NOT IN ('COMPLETED', 'FAILED')")" = 0 ] && break
    sleep 1
  done
  accepted=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['accepted'])" "$json")
  errors=$(python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['errors']))" "$json")
  worst=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('endToEnd', {}).get('latencyMs', {}).get('max', '-'))" "$json")
  rows=$(sql "SELECT count(*) FROM jobs WHERE type = '$type'")
  open_rows=$(sql "SELECT count(*) FROM jobs WHERE type = '$type' AND status NOT IN ('COMPLETED', 'FAILED')")
  completed=$(sql "SELECT count(*) FROM jobs WHERE type = '$type' AND status = 'COMPLETED'")
  events=$(sql "SELECT count(*) FROM job_events e JOIN jobs j ON j.id = e.job_id WHERE j.type = '$type' AND e.event_type = 'job.completed'")
  # the projection catches up from the event store every 5 s
  sleep 6
  redis_completed=$(redis-cli -p "$redis_port" HGET "metrics:type:$type" completed)
  transport=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['errors'].get('transport', 0))" "$json")

  verdict=ok
  # a 202 is never lost; a transport error may or may not have become a job
  if [ "$rows" -lt "$accepted" ] || [ "$rows" -gt $((accepted + transport)) ]; then verdict="FAILED: rows"; fi
  if [ "$open_rows" != 0 ]; then verdict="FAILED: $open_rows not terminal"; fi
  if [ "$events" != "$completed" ]; then verdict="FAILED: $events job.completed events for $completed completed jobs"; fi
  if [ "${redis_completed:-0}" != "$completed" ]; then verdict="FAILED: Redis says ${redis_completed:-0} completed, the table $completed"; fi
  [ "$verdict" = ok ] || failed=$((failed + 1))
  echo "$fault: $verdict; restart ${restart} s; accepted $accepted, other answers $errors; rows $rows, completed $completed, job.completed events $events, Redis $redis_completed; worst submit-to-completed ${worst} ms"
done
[ "$failed" -eq 0 ]
