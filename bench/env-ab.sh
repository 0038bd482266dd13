#!/usr/bin/env bash
# A/B on Postern itself: alternates fresh servers A and B, runs the same scenarios against each, and prints one line
# per server (ops/s / server CPU ms per op). A is this tree's build in the default environment; B is the same build with
# the environment in $E, or, with $BASE, A is the build of that commit and B this tree's.
#   E="DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0" bench/env-ab.sh 4                 # 4 pairs, every scenario
#   E="..." ONLY="smtptls imapsess" bench/env-ab.sh 4                                  # a subset (names below)
#   BASE=HEAD~1 bench/env-ab.sh 3                                                      # the last commit against its parent
# Servers run in their temporary folder with the data folder below it, as `postern serve` with `--data data` does.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PAIRS=${1:-3}
E=${E:-}
BASE=${BASE:-}
[[ -n "$E" || -n "$BASE" ]] || { echo "set E to an environment (E=DOTNET_gcServer=0) or BASE to a commit" >&2; exit 2; }
T=$(mktemp -d /tmp/postern-env-ab.XXXXXX)
OUT=${OUT:-$T/results.txt}
P="dotnet $ROOT/src/Postern.Host/bin/Release/net10.0/postern.dll"
B="dotnet $ROOT/bench/Postern.Bench/bin/Release/net10.0/Postern.Bench.dll"
PASSWORD=secret
O=33000
SERVER=
cleanup() { [ -n "$SERVER" ] && kill -TERM -- "-$SERVER" 2>/dev/null || true; }
trap cleanup EXIT
say() { echo "$*" | tee -a "$OUT"; }
# shellcheck source=bench/seed-postern.sh
. "$ROOT/bench/seed-postern.sh"

dotnet build "$ROOT/src/Postern.Host" -c Release -v quiet -nologo >/dev/null
dotnet build "$ROOT/bench/Postern.Bench" -c Release -v quiet -nologo >/dev/null
P_B=$P
P_A=$P
if [ -n "$BASE" ]; then
    git clone -q "$ROOT" "$T/base"
    git -C "$T/base" checkout -q "$(git -C "$ROOT" rev-parse "$BASE")"
    dotnet build "$T/base/src/Postern.Host" -c Release -v quiet -nologo >/dev/null
    P_A="dotnet $T/base/src/Postern.Host/bin/Release/net10.0/postern.dll"
fi

U="--user bench{n}@example.test --password $PASSWORD"
SCENARIOS=(
    "smtp16|--scenario smtp-send --port $((O + 25)) --connections 16 --count 20000 --size 4 --to sink{n}@example.test --users 4"
    "smtptls|--scenario smtp-send --port $((O + 25)) --tls starttls --connection-per-message --connections 8 --count 6000 --size 4 --to sink{n}@example.test --users 4"
    "imapsess|--scenario imap-session --port $((O + 993)) --tls implicit --connections 8 --count 6000 $U"
    "imapmix8|--scenario imap-mixed --port $((O + 993)) --tls implicit --connections 8 --count 40000 --size 4 $U"
    "imapfetch|--scenario imap-fetch --fetch-set 1:10 --port $((O + 993)) --tls implicit --connections 8 --count 20000 $U"
    "pop3retr|--scenario pop3-retr --port $((O + 995)) --tls implicit --connections 8 --count 40000 $U"
    "nntppost4|--scenario nntp-post --port $((O + 563)) --tls implicit --connections 4 --count 8000 --size 2 $U"
)

start_postern() { # $1: postern command, $2: environment (may be empty)
    rm -rf "$T/data"
    for _ in $(seq 40); do ss -ltn | grep -q ":$((O + 993)) " || break; sleep 0.25; done
    # shellcheck disable=SC2086 # the command and the environment are lists of words
    env -C "$T" $2 setsid $1 serve --data data --port-offset $O --host-name localhost --password-iterations 5000 >"$T/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 120); do [[ -f $T/data/admin.json ]] && ss -ltn | grep -q ":$((O + 993)) " && break; sleep 0.5; done
    seed_postern "$T/data" $O
}

say "# run $(date -u '+%F %T') UTC; nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
if [ -n "$BASE" ]; then
    say "# A: postern $(git -C "$ROOT" rev-parse --short "$BASE"), B: this tree ($(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo ', changed')); each line: scenario ops/s / server CPU ms per op"
else
    say "# postern $(git -C "$ROOT" rev-parse --short HEAD); A: default environment, B: $E; each line: scenario ops/s / server CPU ms per op"
fi
for _ in $(seq "$PAIRS"); do
    for side in A B; do
        if [ $side = A ]; then env=""; postern=$P_A; else env=$E; postern=$P_B; fi
        [ -z "$BASE" ] || env=$E
        start_postern "$postern" "$env"
        line="[$side${env:+ $env}]"
        for s in "${SCENARIOS[@]}"; do
            name=${s%%|*}
            [[ -n "${ONLY:-}" && " $ONLY " != *" $name "* ]] && continue
            # shellcheck disable=SC2086 # the scenario's options are words
            result=$($B ${s#*|} --warmup 500 --warmup-seconds 3 --server-pid "$SERVER" 2>&1)
            line="$line $name $(awk '/^throughput/ {print $2}' <<<"$result")/$(awk '/^server CPU/ {print $6}' <<<"$result")"
        done
        say "$line"
        kill -TERM -- "-$SERVER" 2>/dev/null || true
        SERVER=
        sleep 1.5
    done
done
echo "results: $OUT"
