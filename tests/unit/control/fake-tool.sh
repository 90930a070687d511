#!/bin/sh
tool=${0##*/}
line="$tool $*"
FAKE_FAIL=$(cat "$FAKE_STATE/fail" 2>/dev/null)
FAKE_FAIL_OUTPUT=$(cat "$FAKE_STATE/fail-output" 2>/dev/null)
FAKE_SLOW=$(cat "$FAKE_STATE/slow" 2>/dev/null)
FAKE_SLOW_SECONDS=$(cat "$FAKE_STATE/slow-seconds" 2>/dev/null)
printf '%s\n' "$line" >> "$FAKE_STATE/calls.log"
if [ -n "$FAKE_FAIL" ]; then
  case "$line" in
    $FAKE_FAIL) printf '%s\n' "$FAKE_FAIL_OUTPUT" >&2; exit "${FAKE_FAIL_STATUS:-1}" ;;
  esac
fi
timeout=
for a in "$@"; do case "$a" in --timeout=*) timeout=${a#--timeout=}; timeout=${timeout%s} ;; esac; done
if [ -n "$FAKE_SLOW" ]; then
  case "$line" in
    $FAKE_SLOW)
      s=${FAKE_SLOW_SECONDS:-30}
      if [ -n "$timeout" ] && [ "$timeout" -lt "$s" ]; then
        sleep "$timeout" & echo $! > "$FAKE_STATE/sleep.pid"
        echo 'Waiting for rollout to finish: 0 of 1 updated replicas are available...'
        wait $!
        echo 'error: timed out waiting for the condition' >&2; exit 1
      fi
      sleep "$s" & echo $! > "$FAKE_STATE/sleep.pid"
      echo 'Waiting for rollout to finish: 0 of 1 updated replicas are available...'
      wait $!
      ;;
  esac
fi
case "$tool $1 $2" in
  'docker info '*) echo 24.0.7 ;;
  'docker build -f') echo 'Step 1/12 : ARG BASE_IMAGE=debian:bookworm-slim'; echo 'Successfully built 0123456789ab' ;;
  'docker image inspect') echo sha256:0123 ;;
  'kind get clusters') if [ -s "$FAKE_STATE/clusters" ]; then cat "$FAKE_STATE/clusters"; else echo 'No kind clusters found.' >&2; fi ;;
  'kind create cluster') echo "Creating cluster \"$4\" ..."; echo ' * Ensuring node image (kindest/node:v1.30.0)'; echo "$4" >> "$FAKE_STATE/clusters" ;;
  'kind delete cluster') echo "Deleting cluster \"$4\" ..."; : > "$FAKE_STATE/clusters" ;;
  'kind load docker-image') echo "Image: \"$3\" with ID \"sha256:0123\" not yet present on node, loading..." ;;
  'kubectl --context '*)
    case "$*" in
      *' apply -k '*) echo 'namespace/odd created'; echo 'deployment.apps/gateway created' ;;
      *' rollout status '*) echo "$7 successfully rolled out" ;;
      *' get nodes '*) cat "$FAKE_STATE/nodes.json" ;;
      *' get deployments,statefulsets '*) cat "$FAKE_STATE/workloads.json" ;;
      *' get pods '*) cat "$FAKE_STATE/pods.json" ;;
      *' get horizontalpodautoscalers,poddisruptionbudgets '*)
        if [ -f "$FAKE_STATE/scaling.json" ]; then cat "$FAKE_STATE/scaling.json"; else echo '{"items":[]}'; fi ;;
      *' port-forward '*)
        port=${9%%:*}
        python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5); time.sleep(600)' "$port" &
        child=$!
        trap 'kill $child 2>/dev/null; exit 0' TERM INT
        echo "Forwarding from 127.0.0.1:$port -> ${9#*:}"
        wait $child ;;
    esac ;;
esac
exit 0
