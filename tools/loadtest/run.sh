#!/usr/bin/env bash
# Load-test a running seqcast server on loopback with wrk: the uncached path
# (every window distinct) and the cached path (one window repeated).
#
#   tools/loadtest/run.sh URL [DURATION]      e.g. run.sh http://127.0.0.1:8080 10s
#
# URL is the server's base URL (the scripts POST to $LOADTEST_PATH, default
# /predict); it must be loopback (127.0.0.0/8, localhost, [::1]). DURATION is
# per scenario, 1..300 seconds (default 10s). Settings: THREADS=2 CONNS=32.
# Prints wrk's --latency report for each scenario, then one summary line each.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: $0 URL [DURATION]   (URL on loopback, e.g. http://127.0.0.1:8080; DURATION 1..300s, default 10s)" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
url=${1%/}
dur=${2:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}

command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl not found" >&2; exit 1; }

# Loopback only: this is a benchmark, not a tool for loading other machines.
if [[ ! $url =~ ^https?://([^/@]+)$ ]]; then
  echo "URL must be scheme://host[:port] with no path or credentials, got: $1" >&2; exit 2
fi
hostport=${BASH_REMATCH[1]}
if [[ $hostport =~ ^\[([0-9a-fA-F:]+)\](:[0-9]+)?$ ]]; then
  host=${BASH_REMATCH[1]}
elif [[ $hostport =~ ^([^:]+)(:[0-9]+)?$ ]]; then
  host=${BASH_REMATCH[1]}
else
  echo "cannot parse host in $url" >&2; exit 2
fi
if [[ ! $host =~ ^(127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|localhost|::1)$ ]]; then
  echo "refusing non-loopback host '$host': run.sh only loads 127.0.0.0/8, localhost or [::1]" >&2; exit 2
fi

# Duration: whole seconds, bounded.
if [[ ! $dur =~ ^([0-9]+)s?$ ]] || [ "${BASH_REMATCH[1]}" -lt 1 ] || [ "${BASH_REMATCH[1]}" -gt 300 ]; then
  echo "DURATION must be 1..300 seconds (e.g. 10 or 10s), got: $dur" >&2; exit 2
fi
secs=${BASH_REMATCH[1]}
if [[ ! $THREADS =~ ^[0-9]+$ ]] || [ "$THREADS" -lt 1 ] || [ "$THREADS" -gt 64 ] ||
   [[ ! $CONNS =~ ^[0-9]+$ ]] || [ "$CONNS" -lt "$THREADS" ] || [ "$CONNS" -gt 1024 ]; then
  echo "need 1 <= THREADS <= 64 and THREADS <= CONNS <= 1024" >&2; exit 2
fi

path=${LOADTEST_PATH:-/predict}
export LOADTEST_LUA_DIR=$here LOADTEST_PATH=$path

# One request first: fail early if nothing answers, and warm the cached window.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
  -H 'Content-Type: application/json' --data-binary @- "$url$path" < <(
  awk 'BEGIN{p=1900.0; s="{\"historical_prices\":["; for(i=1;i<=60;i++){s=s sprintf("%s%.2f", i>1?",":"", p); p=p*(1+0.004*sin(i))} printf "%s]}", s}')) || code=000
if [ "$code" = 000 ]; then echo "no answer from $url$path" >&2; exit 1; fi
[ "$code" = 200 ] || echo "warning: POST $path answered HTTP $code (counted as status errors below)" >&2

summary=()
for sc in uncached cached; do
  echo "== $sc: wrk -t$THREADS -c$CONNS -d${secs}s --latency $url$path"
  out=$(LOADTEST_RUN=$(( $(date +%s) + RANDOM )) timeout $((secs + 30)) \
    wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 5s --latency -s "$here/$sc.lua" "$url" 2>&1) || {
    echo "$out"; echo "wrk failed ($sc)" >&2; exit 1; }
  grep -v '^LOADTEST ' <<<"$out" | sed 's/^/  /'
  line=$(grep '^LOADTEST ' <<<"$out" | tail -1)
  summary+=("$(awk -v sc="$sc" '{
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "%-9s %9.0f req/s   p50 %8.2f ms   p99 %8.2f ms   errors %d   non-2xx %d",
        sc, v["rps"], v["p50_us"] / 1000, v["p99_us"] / 1000, v["errors"], v["status"]
    }' <<<"$line")")
done
echo "== summary ($url, ${secs}s each, $THREADS threads, $CONNS connections)"
printf '%s\n' "${summary[@]}"
