#!/bin/sh
# tests/bench/test-report.sh SRC_DIR: the benchmark's scripts without running the benchmark
#
# run.sh and physical/run.sh must parse; report.py, given the raw results of a recorded run of
# tests/bench/run.sh (fixtures/run-14a8e0d: main's services at 14a8e0d, 2026-12-07, load average 17–20),
# must print the ratios that run's numbers give, rewrite only its own sections of the document
# and refuse a directory that holds no results. TAP.
set -u

src=$1
report="$src/tests/bench/report.py"
fixture="$src/tests/bench/fixtures/run-14a8e0d"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
result () {
  n=$((n + 1))
  if [ "$1" = 0 ]; then
    echo "ok $n - $2"
  else
    echo "not ok $n - $2"
    failed=1
  fi
}
check () {
  what=$1
  shift
  "$@" >/dev/null 2>&1
  result $? "$what"
}
lacks () {
  ! grep -qx "$1" "$2"
}

echo "1..17"
check "run.sh parses (sh -n)" sh -n "$src/tests/bench/run.sh"
check "physical/run.sh parses (sh -n)" sh -n "$src/tests/bench/physical/run.sh"

# A document with another bench's section and a section an older run.sh wrote.
printf '# Performance\n\nold intro\n\n## Targets\n\nold targets\n\n## Physical limits\n\nwritten by hand\n' > "$tmp/doc.md"
python3 "$report" "$fixture" "$tmp/doc.md" > "$tmp/out.txt" 2> "$tmp/err.txt"
result $? "report.py writes the document"

# Each line from the recorded numbers: 15,222 jobs accepted in 10.051 s; the bare publisher
# before the gateway 3,028 msg/s, confirm p99 194.7 ms, before the pipeline 3,262 msg/s; the
# gateway's main thread 142 ticks of 10 ms, RabbitMQ 203 ticks under wrk and 312 for 30,315
# bare messages; closed 589 jobs/s; open p99 191 ms; metrics-engine VmHWM 19,416 kB.
while IFS= read -r line; do
  check "prints: $line" grep -qxF "$line" "$tmp/out.txt"
done <<'EOF'
ratio gateway/bare = 0.50 [1,514 jobs/s ÷ 3,028 msg/s] (target >= 0.8) MISS
ratio gateway p99/bare confirm p99 = 2.21 [429.4 ms ÷ 194.7 ms] (target <= 2) MISS
gateway main-thread CPU per job = 93 µs (target <= 60) MISS
ratio broker CPU per job gateway/bare = 1.30 [133 µs ÷ 103 µs] (target <= 1.2) MISS
ratio pipeline/bare = 0.18 [589 jobs/s ÷ 3,262 msg/s] (target >= 0.4) MISS
pipeline p99 submit-to-completed at 294 jobs/s = 191.0 ms (target < 50) MISS
max RSS of a service = 19.0 MB (metrics-engine) (target < 20 MB each) MET
EOF
check "the last line counts the targets met" test "$(tail -n 1 "$tmp/out.txt")" = "targets met: 1 of 4"
check "the document keeps another bench's section" grep -qx "written by hand" "$tmp/doc.md"
check "the document drops a section run.sh no longer writes" lacks "## Targets" "$tmp/doc.md"
check "the document names the commit and the load" grep -q "commit 14a8e0d, 10 s per phase, 1-minute load average idle 20.12" "$tmp/doc.md"
check "the document has the processor scaling" grep -q "^| 3 | 328 | 367.0 | 206 |" "$tmp/doc.md"

# "-": the ratios only (the same lines), no document
(cd "$tmp" && python3 "$report" "$fixture" - > print.txt 2>&1)
tail -n 8 "$tmp/out.txt" > "$tmp/a.txt"
check "DOC - prints the same ratios, and nothing else" cmp "$tmp/a.txt" "$tmp/print.txt"

mkdir "$tmp/empty"
python3 "$report" "$tmp/empty" - > "$tmp/empty.txt" 2>&1
status=$?
test "$status" = 1 && grep -q "not a tests/bench/run.sh results directory" "$tmp/empty.txt"
result $? "a directory without results: exit 1 and says what is wrong"

exit $failed
