#!/usr/bin/env bash
# Prepares everything `make test` needs, on a fresh clone and a fresh Debian/Ubuntu machine
# (`make prepare` runs it; every test target depends on it). Idempotent and quick when all is there.
#
#  1. Debian packages: redis-server, redis-tools (real Redis for the cache, API, deploy and
#     reliability tests), haproxy (the load balancer of deploy/'s failover test), chromium (the
#     forecast page /ui tested in a real headless browser, cmd/seqcast/ui_binary_test.go), nodejs and npm
#     (TF.js golden generator tests), prometheus (its /usr/bin/promtool checks and unit-tests
#     deploy/grafana/alerts.yaml, and deploy/'s dashboard test runs /usr/bin/prometheus itself, on its own
#     loopback port and storage dir: a system Prometheus the package's postinst may start on :9090 is
#     never used), and for Debian's /usr/bin/python3: python3-numpy,
#     python3-h5py, python3-sklearn, python3-joblib, python3-pytest (exporter tests). What is
#     missing is installed with apt-get when running as root; otherwise the script prints the
#     exact apt-get command and exits 1.
#  2. tools/golden/node_modules: `npm ci` when it is missing or was installed from another
#     package-lock.json / package.json (a stamp inside node_modules holds their sha256).
#  3. kustomize (pinned below, `go install`ed into bin/tools/): deploy/ renders the k8s base
#     with it. Debian's kubectl (1.20) is too old for the base's kustomization.yaml.
#
# Go itself is not installed here: it must be on PATH (go.mod says which version).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-/usr/bin/python3}
GO=${GO:-go}
KUSTOMIZE_VERSION=v5.5.0
say() { echo "prepare: $*"; }
die() { echo "prepare: $*" >&2; exit 1; }

command -v "$GO" >/dev/null 2>&1 || die "go not found on PATH: install Go (the version go.mod names) from https://go.dev/dl/"

# missing prints the Debian packages whose commands or Python modules are absent.
missing() {
  local need=()
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
  command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
  { command -v prometheus && command -v promtool; } >/dev/null 2>&1 || need+=(prometheus)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v node >/dev/null 2>&1 || need+=(nodejs)
  command -v npm >/dev/null 2>&1 || need+=(npm)
  if [ -x "$PYTHON" ]; then
    # find_spec does not import: fast, and it names every absent module at once.
    need+=($("$PYTHON" -c '
import importlib.util as u
for mod, pkg in (("numpy", "python3-numpy"), ("h5py", "python3-h5py"), ("sklearn", "python3-sklearn"),
                 ("joblib", "python3-joblib"), ("pytest", "python3-pytest")):
    if u.find_spec(mod) is None:
        print(pkg)
'))
  else
    need+=(python3 python3-numpy python3-h5py python3-sklearn python3-joblib python3-pytest)
  fi
  echo "${need[@]}"
}

need=$(missing)
if [ -n "$need" ]; then
  cmd="apt-get install -y --no-install-recommends $need"
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing Debian packages; run: sudo apt-get update && sudo $cmd"
  fi
  say "installing $need"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || say "apt-get update failed; installing from the package lists there are"
  # shellcheck disable=SC2086 # $need is a list of package names
  apt-get install -y -q --no-install-recommends $need
  need=$(missing)
  [ -z "$need" ] || die "still missing after apt-get install: $need (commands not on PATH, or modules $PYTHON cannot import)"
fi

# tools/golden/node_modules, reinstalled when the lock file or package.json changed.
golden=tools/golden
if [ -f "$golden/package-lock.json" ]; then
  stamp="$golden/node_modules/.seqcast-lock.sha256"
  want=$(cat "$golden/package-lock.json" "$golden/package.json" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "npm ci in $golden ($( [ -d "$golden/node_modules" ] && echo "stale against package-lock.json" || echo "no node_modules"))"
    (cd "$golden" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
fi

# kustomize for deploy/'s render of deploy/k8s.
kz=bin/tools/kustomize
# (its `version` says "(devel)" when go-installed: ask the build info instead)
if ! { [ -x "$kz" ] && "$GO" version -m "$kz" 2>/dev/null | grep -q "mod[[:space:]]*sigs.k8s.io/kustomize/kustomize/v5[[:space:]]*$KUSTOMIZE_VERSION"; }; then
  say "go install sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION into bin/tools"
  mkdir -p bin/tools
  GOBIN="$PWD/bin/tools" CGO_ENABLED=0 GOFLAGS= "$GO" install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
fi
