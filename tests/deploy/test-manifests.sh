#!/usr/bin/env bash
# test-manifests.sh: renders services/deploy (base, the kind overlay and the queue-autoscaling
# overlay) with `kubectl kustomize`
# from a scratch copy holding a freshly generated secrets.env, and validates every object offline
# (validate-manifests.mjs, TAP on stdout). meson runs it through tests/odd-run-tool.sh, which
# finds kubectl and node on PATH when the test runs (a skip, with the install command, without).
#
#   test-manifests.sh SOURCE_DIR NPM_DIR VERSION [MUTATION]
#
# MUTATION breaks the rendered kind overlay on purpose (latest-tag, string-replicas,
# wrong-version, no-limits, no-pdb, short-grace, hpa-missing-target, anti-affinity-all-pods,
# unserved-metric):
# then the one TAP case is that the validator rejects the render.
set -euo pipefail

src=$1 npm_dir=$2 version=$3 mutation=${4:-}

bail() {
  echo "Bail out! $*"
  exit 1
}

# ./setup.sh test installs them; when it could not (no npm registry), say how.
[[ -d $npm_dir/node_modules/kubernetes-models ]] || {
  echo "1..0 # SKIP the validator's npm modules are missing: npm install --prefix $npm_dir kubernetes-models@5.1.0 yaml@2.9.1"
  exit 0
}

# The credentials are never committed: only a generated, git-ignored secrets.env.
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  tracked=$(git -C "$src" ls-files 'services/deploy/**secrets.env' 'services/deploy/*/secrets.env')
  [[ -z $tracked ]] || bail "secrets.env is tracked by git: $tracked"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src/services/deploy" "$work/deploy"
rm -f "$work/deploy/base/secrets.env"
rand() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
{
  echo "POSTGRES_PASSWORD=$(rand)"
  echo "RABBITMQ_PASSWORD=$(rand)"
  echo "REDIS_PASSWORD=$(rand)"
  echo "GRAFANA_ADMIN_PASSWORD=$(rand)"
} > "$work/deploy/base/secrets.env"

kubectl kustomize "$work/deploy/base" > "$work/base.yaml" || bail "kubectl kustomize base failed"
kubectl kustomize "$work/deploy/overlays/kind" > "$work/kind.yaml" || bail "kubectl kustomize overlays/kind failed"
kubectl kustomize "$work/deploy/overlays/queue-autoscaling" > "$work/queue-autoscaling.yaml" ||
  bail "kubectl kustomize overlays/queue-autoscaling failed"

case $mutation in
  '') ;;
  latest-tag) sed -i 's/image: odd-services:.*/image: odd-services:latest/' "$work/kind.yaml" ;;
  string-replicas) sed -i 's/replicas: 1$/replicas: one/' "$work/kind.yaml" ;;
  wrong-version) sed -i "s/app.kubernetes.io\/version: $version\$/app.kubernetes.io\/version: 0.0.0-old/" "$work/kind.yaml" ;;
  no-limits) sed -i '/^ *limits:$/,/^ *memory:/d' "$work/kind.yaml" ;;
  # The processor without its PodDisruptionBudget.
  no-pdb)
    awk 'BEGIN { RS = "\n---\n"; ORS = "\n---\n" } !(/kind: PodDisruptionBudget/ && /\n  name: processor\n/)' \
      "$work/kind.yaml" > "$work/kind.mutated" && mv "$work/kind.mutated" "$work/kind.yaml" ;;
  # A grace period shorter than the preStop sleep and the processor's drain.
  short-grace) sed -i 's/terminationGracePeriodSeconds: 75$/terminationGracePeriodSeconds: 30/' "$work/kind.yaml" ;;
  # The processor's autoscaler aimed at a Deployment that does not exist.
  hpa-missing-target) sed -i 's/^    name: processor$/    name: processor-v0/' "$work/kind.yaml" ;;
  # The processor's autoscaler asking for a queue metric that prometheus-adapter does not serve
  # (this one breaks the queue-autoscaling render).
  unserved-metric) sed -i 's/^        name: odd_jobs_created_messages$/        name: odd_jobs_created_depth/' "$work/queue-autoscaling.yaml" ;;
  # The gateway's anti-affinity counting every pod of the project, not its own.
  anti-affinity-all-pods) sed -i '/^                  app.kubernetes.io\/name: gateway$/d' "$work/kind.yaml" ;;
  *) bail "unknown mutation $mutation" ;;
esac
[[ -z $mutation ]] || ! { cmp -s "$work/kind.yaml" <(kubectl kustomize "$work/deploy/overlays/kind") &&
  cmp -s "$work/queue-autoscaling.yaml" <(kubectl kustomize "$work/deploy/overlays/queue-autoscaling"); } ||
  bail "mutation $mutation changed nothing"

validate=(node "$src/tests/deploy/validate-manifests.mjs" --modules "$npm_dir" --version "$version"
          --source-dir "$src" --overlay "$work/kind.yaml" "$work/base.yaml" "$work/kind.yaml"
          "$work/queue-autoscaling.yaml")
if [[ -z $mutation ]]; then
  exec "${validate[@]}"
fi
out=$("${validate[@]}" 2>&1 || true)
echo "1..1"
if grep -q '^not ok' <<<"$out" && ! grep -q '^Bail out' <<<"$out"; then
  grep -m5 '^not ok' <<<"$out" | sed 's/^/# /'
  echo "ok 1 - the validator rejects the $mutation render"
  exit 0
fi
echo "$out" | tail -5 | sed 's/^/# /'
echo "not ok 1 - the validator did not reject the $mutation render"
exit 1
