#!/usr/bin/env bash
# Postern on its two stores, same machine, same load: the embedded SQLite file against a PostgreSQL server on
# loopback (durable: fsync and synchronous_commit on, as in production). Starts a private PostgreSQL in a temporary
# folder, runs each scenario against Postern on SQLite and then on PostgreSQL, and stops everything.
#   bench/store-compare.sh            # results in $OUT (printed at the end)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/postern-store-bench.XXXXXX)
OUT=${OUT:-$T/results.txt}
P="dotnet $ROOT/src/Postern.Host/bin/Release/net10.0/postern.dll"
B="dotnet $ROOT/bench/Postern.Bench/bin/Release/net10.0/Postern.Bench.dll"
PASSWORD=secret
PIDS=()
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
AS_PG=()
[ "$(id -u)" -eq 0 ] && { chown postgres "$T"; AS_PG=(runuser -u postgres --); }
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$T/pg" -m fast stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
say() { echo "$*" | tee -a "$OUT"; }
# shellcheck source=bench/seed-postern.sh
. "$ROOT/bench/seed-postern.sh"

dotnet build "$ROOT/src/Postern.Host" -c Release -v quiet -nologo >/dev/null
dotnet build "$ROOT/bench/Postern.Bench" -c Release -v quiet -nologo >/dev/null
PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$T/pg" -A trust -U postgres -E UTF8 >/dev/null
"${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$T/pg" -l "$T/pg.log" -w -o "-p $PG_PORT -k $T -c listen_addresses=127.0.0.1" start >/dev/null
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE postern" >/dev/null

say "# run $(date -u '+%F %T') UTC; nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
say "# postern $(git -C "$ROOT" rev-parse --short HEAD); $("$PG_BIN/postgres" --version)"

start_postern() { # $1: name, $2: port offset, rest: store options
    local name=$1 offset=$2; shift 2
    setsid $P serve --data "$T/$name" --port-offset "$offset" --host-name localhost --password-iterations 5000 "$@" >"$T/$name.log" 2>&1 &
    PIDS+=($!)
    SERVER=$!
    for _ in $(seq 120); do [[ -f $T/$name/admin.json ]] && ss -ltn | grep -q ":$((offset + 993)) " && break; sleep 0.5; done
    seed_postern "$T/$name" "$offset"
}

run() { # $1: title, rest: load tool options
    local title=$1; shift
    say ""; say "## $title"; say "\$ Postern.Bench $*"
    $B "$@" 2>&1 | tee -a "$OUT"
}

U="--user bench{n}@example.test --password $PASSWORD"
for store in sqlite postgresql; do
    if [ $store = sqlite ]; then start_postern sqlite 31000; O=31000
    else start_postern postgresql 32000 --store postgresql --store-connection "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postern"; O=32000
        # The database server's CPU is part of what a message costs: its process tree is counted with Postern's.
        SERVER="$SERVER,$(head -1 "$T/pg/postmaster.pid")"; fi
    run "SMTP, 16 kept sessions, 4 KB, $store" --scenario smtp-send --port $((O + 25)) --connections 16 --count 20000 --size 4 --to 'sink{n}@example.test' --users 4 --warmup 1000 --warmup-seconds 5 --server-pid $SERVER
    run "IMAP FETCH 1:10 on 8 open sessions, $store" --scenario imap-fetch --fetch-set 1:10 --port $((O + 993)) --tls implicit --connections 8 --count 25000 $U --warmup 1000 --warmup-seconds 5 --server-pid $SERVER
    run "IMAP mixed on 8 open sessions, $store" --scenario imap-mixed --port $((O + 993)) --tls implicit --connections 8 --count 30000 --size 4 $U --warmup 1000 --warmup-seconds 5 --server-pid $SERVER
    run "NNTP POST, 16 sessions, $store" --scenario nntp-post --port $((O + 563)) --tls implicit --connections 16 --users 8 --count 10000 --size 2 $U --warmup 1000 --warmup-seconds 5 --server-pid $SERVER
    kill "${SERVER%%,*}"; wait "${SERVER%%,*}" 2>/dev/null || true
done
echo "results: $OUT"
