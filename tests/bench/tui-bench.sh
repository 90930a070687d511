#!/usr/bin/env bash
# tests/bench/tui-bench.sh: odd-dashboard's start-to-first-frame, memory and idle CPU.
#
#   tests/bench/tui-bench.sh [BUILD_DIR]     (default: build)
#
# Runs odd-dashboard in tmux (80x24, TERM=xterm-256color) against READ_MODEL_URL/GATEWAY_URL
# (default: what odd-dashboard finds itself, e.g. the running local stack):
#   - first frame: from just before exec to the first frame on the terminal (5 runs; the
#     program stamps it into $ODD_DASHBOARD_FRAME_LOG), median and worst;
#   - RSS (VmRSS and VmHWM) after 5 s on the dashboard;
#   - CPU over IDLE_SECONDS (default 30) of an idle dashboard at the default 1 s refresh.
# Prints the figures as a Markdown table (docs/performance.md, "Terminal dashboard").
set -euo pipefail

BUILD_DIR=${1:-build}
BIN=$(realpath "$BUILD_DIR/app/tui/odd-dashboard")
IDLE_SECONDS=${IDLE_SECONDS:-30}
RUNS=${RUNS:-5}
command -v tmux >/dev/null || { echo "tui-bench: needs tmux (apt-get install tmux)" >&2; exit 1; }
[[ -x $BIN ]] || { echo "tui-bench: $BIN is not built" >&2; exit 1; }

WORK=$(mktemp -d /tmp/tui-bench-XXXXXX)
export TMUX_TMPDIR=$WORK
SOCK=tui-bench-$$
t() { tmux -L "$SOCK" -f /dev/null "$@"; }
cleanup() { t kill-server 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
t new-session -d -s keep "exec sleep 3600"

ENV=(TERM=xterm-256color LANG=C.UTF-8)
[[ -n ${READ_MODEL_URL:-} ]] && ENV+=("READ_MODEL_URL=$READ_MODEL_URL")
[[ -n ${GATEWAY_URL:-} ]] && ENV+=("GATEWAY_URL=$GATEWAY_URL")

# The pane runs odd-dashboard itself (exec), so the pane's pid is the dashboard's. The start
# stamp is taken in the pane right before the exec, so tmux's own start is not counted.
start() {
  local stamp=$1
  t new-session -d -s dash -x 80 -y 24 \
    "exec env ${ENV[*]} ODD_DASHBOARD_FRAME_LOG=$stamp sh -c 'date +%s%N > $stamp.start; exec $BIN'"
}

frames=()
for ((i = 0; i < RUNS; i++)); do
  stamp=$WORK/frame-$i
  start "$stamp"
  for ((w = 0; w < 100; w++)); do [[ -s $stamp ]] && break; sleep 0.05; done
  [[ -s $stamp ]] || { echo "tui-bench: no frame within 5 s" >&2; exit 1; }
  frames+=($(( ($(cat "$stamp") - $(cat "$stamp.start")) / 1000 )))   # microseconds
  t kill-session -t dash
done
sorted=($(printf '%s\n' "${frames[@]}" | sort -n))
median_us=${sorted[$((RUNS / 2))]}
worst_us=${sorted[$((RUNS - 1))]}

start "$WORK/frame-idle"
pid=$(t display-message -p -t dash '#{pane_pid}')
sleep 5
screen=$(t capture-pane -p -t dash | head -2 | tr -s ' ')
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
anon_kb=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status")
pss_kb=$(awk '/^Pss:/ {s += $2} END {print s}' "/proc/$pid/smaps")

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks); s0=$(date +%s%N)
sleep "$IDLE_SECONDS"
t1=$(ticks); s1=$(date +%s%N)
cpu=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v ns=$((s1 - s0)) 'BEGIN { printf "%.2f", 100 * d / hz / (ns / 1e9) }')
t kill-session -t dash

echo "Screen after 5 s: $screen"
echo
echo "| measure | value | target |"
echo "|---|---|---|"
printf '| start to first frame (median of %d, worst) | %.1f ms, %.1f ms | < 50 ms |\n' "$RUNS" \
  "$(awk -v u="$median_us" 'BEGIN{print u/1000}')" "$(awk -v u="$worst_us" 'BEGIN{print u/1000}')"
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
printf '| RSS after 5 s (peak; private anonymous; PSS) | %s MB (%s; %s; %s) | < 10 MB |\n' \
  "$(mb "$rss_kb")" "$(mb "$hwm_kb")" "$(mb "$anon_kb")" "$(mb "$pss_kb")"
printf '| CPU, idle dashboard, %d s at 1 s refresh | %s %% of a core | < 1 %% |\n' "$IDLE_SECONDS" "$cpu"
