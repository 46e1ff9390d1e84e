#!/usr/bin/env bash
# Measures the load generator against standard tools on the same servers,
# interleaved round by round, as docs/benchmarks.md reports:
#   ghz (go install github.com/bojand/ghz/cmd/ghz@latest) on the gRPC server,
#   wrk (apt-get install wrk) on the REST server, closed loop,
#   wrk with a Lua delay() at a fixed moderate rate against the open loop.
# Every server is "loadtest serve" with one account, so all tools send the
# same Balance call. Not part of CI: it needs the tools and takes minutes.
#
# Usage: loadtest/scripts/compare-tools.sh [ghz|wrk|open]...   (default: all)
# Environment: ROUNDS (3), DUR seconds per measurement (5), CONC (64), RATE (1000).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-5}
CONC=${CONC:-64}
RATE=${RATE:-1000}
OPENCONC=${OPENCONC:-10}
parts=${*:-ghz wrk open}
out=$(mktemp -d)
echo "results in $out"
go build -o "$out/loadtest" ./loadtest/cmd/loadtest
LT=$out/loadtest
GHZ=$(command -v ghz || echo "$(go env GOPATH)/bin/ghz")

pids=()
cleanup() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

serve() { # transport port
  "$LT" serve -transport "$1" -addr "127.0.0.1:$2" -accounts 1 >"$out/serve-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do grep -q ready "$out/serve-$1.log" 2>/dev/null && return; sleep 0.1; done
  echo "server $1 did not start"; cat "$out/serve-$1.log"; exit 1
}

lt() { # name transport port extra-args...
  local name=$1 tr=$2 port=$3; shift 3
  "$LT" run -transports "$tr" -no-reference -addr "127.0.0.1:$port" -accounts 1 -mix 100/0/0 \
    -rounds 1 -warmup 1s -duration "${DUR}s" -quiet -json "$out/$name.json" "$@"
}

summary() { # prints one line per file: tool rps p50 p99 (µs)
  python3 - "$@" <<'PY'
import json, os, re, sys
def cpu(f, calls):
    if not os.path.exists(f + '.cpu') or not calls:
        return ''
    u, s = map(float, open(f + '.cpu').read().split()[-2:])
    return f"  client CPU {(u + s) / calls * 1e6:.1f} µs/call"
for f in sys.argv[1:]:
    name = f.rsplit('/', 1)[-1]
    if name.startswith('ghz'):
        d = json.load(open(f))
        lat = {int(x['percentage']): x['latency'] / 1e3 for x in d['latencyDistribution']}
        print(f"{name:24} {d['rps']:10.0f}/s  p50 {lat[50]:9.0f}µs  p99 {lat[99]:9.0f}µs" + cpu(f, d['count']))
    elif name.startswith('wrk'):
        t = open(f).read()
        rps = float(re.search(r'Requests/sec:\s+([\d.]+)', t).group(1))
        def us(p):
            m = re.search(r'\s%s%%\s+([\d.]+)(us|ms|s)\b' % p, t)
            v, u = float(m.group(1)), m.group(2)
            return v * {'us': 1, 'ms': 1e3, 's': 1e6}[u]
        calls = int(re.search(r'(\d+) requests in', t).group(1))
        print(f"{name:24} {rps:10.0f}/s  p50 {us(50):9.0f}µs  p99 {us(99):9.0f}µs" + cpu(f, calls))
    else:
        d = json.load(open(f))
        s = d['results'][0]['summary']
        line = f"{name:24} {s['throughput']['median']:10.0f}/s  p50 {s['p50_us']['median']:9.0f}µs  p99 {s['p99_us']['median']:9.0f}µs"
        line += f"  client CPU {s['client_cpu_ms_per_1k']['median']:.1f} µs/call"
        smp = d['results'][0]['samples'][0]
        if smp.get('service_latency'):
            sl = smp['service_latency']
            line += f"  late {s.get('late', 0)}/{s['calls']}; from the actual send: p50 {sl['p50_us']:.0f}µs p99 {sl['p99_us']:.0f}µs"
        print(line)
PY
}

for part in $parts; do
  case $part in
  ghz)
    serve grpc 17103
    ghzrun() {
      /usr/bin/time -f "%U %S" -o "$1.cpu" "$GHZ" --insecure --proto proto/igbank/v1/bank.proto --import-paths proto \
        --call igbank.v1.BankService/Balance -d '{"account":"000000001"}' \
        -c "$CONC" --connections 1 -z "${DUR}s" -O json 127.0.0.1:17103 >"$1"
    }
    ghzrun "$out/warmup-ghz.json"
    for r in $(seq "$ROUNDS"); do
      ghzrun "$out/ghz-$r.json"
      lt "lt-grpc-$r" grpc 17103 -concurrency "$CONC"
    done
    echo "== gRPC, closed loop, $CONC callers on one connection"
    summary "$out"/ghz-*.json "$out"/lt-grpc-*.json
    ;;
  wrk)
    serve rest 17104
    url=http://127.0.0.1:17104/v1/accounts/000000001/balance
    wrk -t2 -c"$CONC" -d2s "$url" >/dev/null
    for r in $(seq "$ROUNDS"); do
      /usr/bin/time -f "%U %S" -o "$out/wrk-$r.txt.cpu" wrk -t2 -c"$CONC" -d"${DUR}s" --latency "$url" >"$out/wrk-$r.txt"
      lt "lt-rest-$r" rest 17104 -concurrency "$CONC" -connections "$CONC"
    done
    echo "== REST, closed loop, $CONC callers on $CONC connections"
    summary "$out"/wrk-*.txt "$out"/lt-rest-*.json
    ;;
  open)
    serve rest 17105
    url=http://127.0.0.1:17105/v1/accounts/000000001/balance
    # wrk paces each connection with delay() between a response and the
    # next request: OPENCONC connections at (1000/RATE*OPENCONC) ms apart
    # come to about RATE calls/s, below saturation, where pacing after the
    # answer and an open loop send the same calls.
    delay=$(python3 -c "print(max(1, round(1000 * $OPENCONC / $RATE)))")
    printf 'function delay() return %s end\n' "$delay" >"$out/delay.lua"
    for r in $(seq "$ROUNDS"); do
      wrk -t1 -c"$OPENCONC" -d"${DUR}s" --latency -s "$out/delay.lua" "$url" >"$out/wrk-open-$r.txt"
      lt "lt-open-$r" rest 17105 -rate "$RATE" -concurrency "$OPENCONC" -connections "$OPENCONC"
    done
    echo "== REST at a fixed $RATE calls/s: wrk paced by delay() ${delay} ms on $OPENCONC connections, loadtest open loop"
    summary "$out"/wrk-open-*.txt "$out"/lt-open-*.json
    ;;
  *) echo "unknown part $part"; exit 2 ;;
  esac
done
