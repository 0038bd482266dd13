#!/usr/bin/env bash
# Newsfeed throughput between two Postern servers (issue 5): articles per second that server A pushes to its peer B,
# and that B pulls from A.
#
#   bench/feed.sh                 # 10,000 articles of 2 KB each way; results in $OUT (printed at the end)
#   N=2000 bench/feed.sh          # fewer
#
# Push: A (port offset 23000, Path identity feed-a.test) has B (offset 24000, feed-b.test) as a push peer for
# postern.*, over NNTPS, logging in to B as a feed account. B's NNTP virtual server is stopped while the articles are
# posted to A, so they wait in A's durable outgoing queue; then B's virtual server is started and A drains the backlog
# on its own schedule (it tries a peer that refused the connection again after 30 s).
# Pull: N more articles are posted to A in pull.bench, which A does not push; then B gets A as a pull peer for pull.*
# (NEWNEWS, then ARTICLE requests pipelined) and fetches them at its next pass.
# Each rate counts from B's first stored article to its last, each stored durably on B before it is acknowledged. CPU
# is each server's whole process over that interval. Runs as any user; everything stays in a temporary folder on
# loopback and is stopped at the end.
set -euo pipefail

N=${N:-10000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/postern-feed.XXXXXX)
OUT=${OUT:-$T/results.txt}
AO=23000
BO=24000
PASSWORD=secret
GROUP=postern.bench
PULL_GROUP=pull.bench
VS="Default NNTP Virtual Server"

PIDS_TO_STOP=()
cleanup() {
    set +e
    for pid in "${PIDS_TO_STOP[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; done
    sleep 2
    for pid in "${PIDS_TO_STOP[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
    echo "results: $OUT (work folder $T)"
}
trap cleanup EXIT
say() { echo "$*" | tee -a "$OUT"; }

cd "$ROOT"
dotnet build -c Release src/Postern.Host -v q -nologo | tail -1
dotnet build -c Release bench/Postern.Bench -v q -nologo | tail -1
P="dotnet $ROOT/src/Postern.Host/bin/Release/net10.0/postern.dll"
B="dotnet $ROOT/bench/Postern.Bench/bin/Release/net10.0/Postern.Bench.dll"

say "# run $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname); nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); load $(cut -d' ' -f1-3 /proc/loadavg)"
say "# postern $(git -C "$ROOT" rev-parse --short HEAD); $N articles of 2 KB"

start_server() { # data folder, port offset, host name; prints the pid
    setsid $P serve --data "$1" --port-offset "$2" --host-name "$3" --password-iterations 5000 >"$1.log" 2>&1 &
    local pid=$!
    for _ in $(seq 90); do [[ -f $1/admin.json ]] && ss -ltn | grep -q ":$(($2 + 563)) " && break; sleep 1; done
    echo "$pid"
}
A_PID=$(start_server "$T/a" $AO feed-a.test)
PIDS_TO_STOP+=("$A_PID")
B_PID=$(start_server "$T/b" $BO feed-b.test)
PIDS_TO_STOP+=("$B_PID")

for d in "$T/a" "$T/b"; do
    $P public-folder add Bench --newsgroup $GROUP --data "$d" >/dev/null
    $P public-folder add Pull --newsgroup $PULL_GROUP --data "$d" >/dev/null
    echo $PASSWORD | $P user add feeder@example.test --password-stdin --data "$d" >/dev/null
done
for i in $(seq 0 15); do echo $PASSWORD | $P user add "bench$i@example.test" --password-stdin --data "$T/a" >/dev/null; done
$P vs stop "$VS" --data "$T/b" >/dev/null
# --no-verify: both servers answer on 127.0.0.1, which their certificates (feed-a.test, feed-b.test) do not name.
echo $PASSWORD | $P news peer add feed-b.test --host 127.0.0.1 --port $((BO + 563)) --tls implicit --no-verify \
    --direction push --groups 'postern.*' --user feeder@example.test --password-stdin --data "$T/a" >/dev/null
say "# A pid $A_PID (offset $AO), B pid $B_PID (offset $BO); B's NNTP virtual server stopped"

say ""
say "## backlog: $N posts to A (B down)"
$B --scenario nntp-post --port $((AO + 563)) --tls implicit --connections 16 --users 16 --count "$N" --size 2 \
    --user 'bench{n}@example.test' --password $PASSWORD --group $GROUP --server-pid "$A_PID" 2>&1 | grep -E '^(result|throughput)' | tee -a "$OUT"

cat >"$T/poll.py" <<'PY'
import os, socket, ssl, sys, time
port, n, a_pid, b_pid, group = int(sys.argv[1]) + 563, int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
tick = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick   # utime + stime of the process (its threads included)

context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
conn = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
reader = conn.makefile("rb")
reader.readline()
conn.sendall(b"AUTHINFO USER feeder@example.test\r\n"); reader.readline()
conn.sendall(b"AUTHINFO PASS secret\r\n"); reader.readline()

def count():
    conn.sendall(f"GROUP {group}\r\n".encode())
    return int(reader.readline().split()[1])

deadline = time.monotonic() + 300
first = None
while time.monotonic() < deadline:
    have = count()
    now = time.monotonic()
    if first is None and have > 0:
        first = (now, have, cpu(a_pid), cpu(b_pid))
    if have >= n:
        break
    time.sleep(0.01)
end = (time.monotonic(), have, cpu(a_pid), cpu(b_pid))
if first is None or end[1] < n:
    print(f"incomplete: B has {have} of {n} articles after 300 s")
    sys.exit(1)
seconds = end[0] - first[0]
moved = end[1] - first[1]
print(f"result       {n} articles on B; {moved} of them from the first arrival to the last in {seconds:.3f} s")
print(f"throughput   {moved / seconds:.1f} articles/s")
print(f"server CPU   A {1000 * (end[2] - first[2]) / moved:.3f} ms/article, B {1000 * (end[3] - first[3]) / moved:.3f} ms/article (10 ms ticks)")
PY

$P vs start "$VS" --data "$T/b" >/dev/null
say ""
say "## push A -> B (NNTPS, streaming; B's NNTP virtual server started $(date -u +%H:%M:%S))"
python3 "$T/poll.py" "$BO" "$N" "$A_PID" "$B_PID" $GROUP | tee -a "$OUT"

# Pull: B asks A for what is new (NEWNEWS, then ARTICLE) in a group A does not push. B's first pull of a new peer is due
# at once; the rate counts from B's first stored article to its last again.
say ""
say "## backlog: $N posts to A in $PULL_GROUP (not pushed)"
$B --scenario nntp-post --port $((AO + 563)) --tls implicit --connections 16 --users 16 --count "$N" --size 2 \
    --user 'bench{n}@example.test' --password $PASSWORD --group $PULL_GROUP --server-pid "$A_PID" 2>&1 | grep -E '^(result|throughput)' | tee -a "$OUT"
echo $PASSWORD | $P news peer add feed-a.test --host 127.0.0.1 --port $((AO + 563)) --tls implicit --no-verify \
    --direction pull --groups 'pull.*' --user feeder@example.test --password-stdin --data "$T/b" >/dev/null
say ""
say "## pull B <- A (NNTPS, NEWNEWS and pipelined ARTICLE; peer added on B $(date -u +%H:%M:%S))"
python3 "$T/poll.py" "$BO" "$N" "$A_PID" "$B_PID" $PULL_GROUP | tee -a "$OUT"
