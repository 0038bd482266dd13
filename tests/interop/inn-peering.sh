#!/usr/bin/env bash
# Interoperability check: INN (Debian's inn2) and Postern peer with each other both ways over loopback.
#
#   INN -> Postern : innxmit (INN's outgoing feed program) pushes an article posted on INN, streaming
#                    (CHECK/TAKETHIS) and IHAVE; it must appear in Postern's newsgroup (NNTP ARTICLE) and in
#                    IMAP under "Public Folders/".
#   Postern -> INN : Postern's NewsFeedService pushes an article posted on Postern to innd (peer with --tls none:
#                    innd has no TLS on its feed port), and pulls from INN with MODE READER, DATE, NEWNEWS, ARTICLE.
#
# A private INN instance (own inn.conf via INNCONF, own spool/db/run/log under a temp folder, own port) is used,
# so an INN configured in /etc/news (e.g. for benchmarks) is left alone. Needs root (installs inn2 if missing,
# runs INN as user news). Prints PASS or FAIL and exits 0/1; exit 77 = cannot run here (skip).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
client="python3 $here/nntp_client.py"
newsbin=/usr/lib/news/bin
# Below the kernel's ephemeral range (32768 and up), so no client connection of a test running beside this one
# holds a port Postern or INN must bind.
inn_port="${INN_PORT:-$((15000 + RANDOM % 5000))}"
offset="${POSTERN_PORT_OFFSET:-$((20000 + RANDOM % 11000))}"
postern_nntp=$((119 + offset))
postern_imap=$((143 + offset))
work="$(mktemp -d /tmp/inn-peering.XXXXXX)"
failures=0
innd_pid=""
postern_pid=""

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
ok() { log "ok   $*"; }
bad() { log "FAIL $*"; failures=$((failures + 1)); }

cleanup() {
  if [ -n "$innd_pid" ] && kill -0 "$innd_pid" 2>/dev/null; then
    INNCONF="$work/inn/etc/inn.conf" "$newsbin/ctlinnd" -t 5 shutdown interop >/dev/null 2>&1 || kill "$innd_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$innd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$innd_pid" 2>/dev/null
  fi
  if [ -n "$postern_pid" ] && kill -0 "$postern_pid" 2>/dev/null; then
    kill "$postern_pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$postern_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$postern_pid" 2>/dev/null
  fi
  if [ "${KEEP_WORK:-0}" = 1 ] || [ "$failures" -gt 0 ]; then
    log "logs kept in $work (postern.log, inn/log/)"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# Waits up to $1 seconds for the command in the remaining arguments to succeed.
wait_for() {
  local seconds=$1; shift
  local end=$((SECONDS + seconds))
  while [ $SECONDS -lt $end ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

as_news() { runuser -u news -- env INNCONF="$work/inn/etc/inn.conf" "$@"; }

# --- INN -------------------------------------------------------------------------------------------------------
if [ ! -x "$newsbin/innd" ]; then
  if [ "$(id -u)" != 0 ]; then echo "SKIP: inn2 is not installed and we are not root"; exit 77; fi
  log "installing inn2"
  export DEBIAN_FRONTEND=noninteractive
  # Debian's post-install script fails until inn.conf names a domain; the private instance below does not need it.
  apt-get install -y --no-install-recommends inn2 >"$work/apt.log" 2>&1 || true
  if [ ! -x "$newsbin/innd" ]; then echo "SKIP: cannot install inn2 (see $work/apt.log)"; failures=1; exit 77; fi
  if [ -f /etc/news/inn.conf ] && ! grep -q '^domain:' /etc/news/inn.conf; then
    sed -i 's/^#domain:.*/domain: example.test/; s/^doinnwatch:.*/doinnwatch: false/; s/^nnrpdloadlimit:.*/nnrpdloadlimit: 0/' /etc/news/inn.conf
    dpkg --configure inn2 >>"$work/apt.log" 2>&1 || true
  fi
fi
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root to run a private INN as user news"; exit 77; fi
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }

inn="$work/inn"
mkdir -p "$inn"/{etc,db,run,log,http,spool/articles,spool/overview,spool/incoming/tmp,spool/outgoing,spool/archive}
cp -a /etc/news/. "$inn/etc/"
conf="$inn/etc/inn.conf"
set_conf() { # key value: replace (also a commented-out default) or append
  if grep -qE "^#?$1:" "$conf"; then sed -i -E "s|^#?$1:.*|$1: $2|" "$conf"; else echo "$1: $2" >>"$conf"; fi
}
set_conf pathhost inn.test
set_conf domain inn.test
set_conf port "$inn_port"
set_conf bindaddress 127.0.0.1
set_conf doinnwatch false
set_conf nnrpdloadlimit 0
set_conf allownewnews true
set_conf pgpverify false
set_conf htmlstatus false
set_conf pathetc "$inn/etc"
set_conf pathdb "$inn/db"
set_conf pathrun "$inn/run"
set_conf pathlog "$inn/log"
set_conf pathhttp "$inn/http"
set_conf pathspool "$inn/spool"
set_conf patharticles "$inn/spool/articles"
set_conf pathoverview "$inn/spool/overview"
set_conf pathincoming "$inn/spool/incoming"
set_conf pathtmp "$inn/spool/incoming/tmp"
set_conf pathoutgoing "$inn/spool/outgoing"
set_conf patharchive "$inn/spool/archive"
# Local clients (127.0.0.1) are the feed peer "ME" in Debian's incoming.conf: innd takes IHAVE/streaming from
# them and hands them to nnrpd after MODE READER. Feed interop.* except interop.pull to Postern as a file for innxmit.
cat >"$inn/etc/newsfeeds" <<'FEEDS'
ME:*,!junk,!control*::
postern.test/postern.test:interop.*,!interop.pull:Tf,Wnm:
FEEDS
cat >"$inn/etc/readers.conf" <<'READERS'
auth "localhost" {
    hosts: "localhost, 127.0.0.1, ::1"
    default: "<localhost>"
}
access "localhost" {
    users: "<localhost>"
    newsgroups: "*"
    access: RPAN
}
READERS
cat >"$inn/db/active" <<'ACTIVE'
control 0000000000 0000000001 n
control.cancel 0000000000 0000000001 n
junk 0000000000 0000000001 n
interop.test 0000000000 0000000001 y
interop.pull 0000000000 0000000001 y
ACTIVE
: >"$inn/db/active.times"
: >"$inn/db/newsgroups"
: >"$inn/db/history"
chown -R news:news "$work/inn"
chmod 755 "$work"
(cd "$inn/db" && as_news "$newsbin/makedbz" -i -o) || { bad "makedbz"; exit 1; }
as_news "$newsbin/innd" -f >"$inn/log/innd.out" 2>&1 &
innd_pid=$!
if wait_for 20 port_open "$inn_port"; then ok "INN started (innd pid $innd_pid, port $inn_port)"; else bad "INN did not start"; cat "$inn/log/innd.out"; exit 1; fi

# --- Postern ---------------------------------------------------------------------------------------------------
data="$work/postern"
# POSTERN_CMD: how to run postern (the integration test passes "dotnet .../postern.dll"); default the checkout's ./postern.
read -r -a postern_cmd <<<"${POSTERN_CMD:-$repo/postern}"
"${postern_cmd[@]}" --help >/dev/null 2>"$work/build.log" || { bad "cannot build postern"; cat "$work/build.log"; exit 1; }
"${postern_cmd[@]}" serve --data "$data" --port-offset "$offset" --host-name postern.test --password-iterations 1000 >"$work/postern.log" 2>&1 &
postern_pid=$!
if wait_for 40 port_open "$postern_nntp"; then ok "Postern started (pid $postern_pid, NNTP $postern_nntp)"; else bad "Postern did not start"; tail -20 "$work/postern.log"; exit 1; fi
P() { "${postern_cmd[@]}" --data "$data" "$@"; }
P domain add interop.test >/dev/null
printf 'secret-pass' | P user add alice@interop.test --password-stdin >/dev/null
P public-folder add Interop/Test --newsgroup interop.test >/dev/null
P public-folder add Interop/Pull --newsgroup interop.pull >/dev/null
P news peer add inn.test --host 127.0.0.1 --port "$inn_port" --tls none --direction push --groups 'interop.*' >/dev/null \
  && ok "Postern peer inn.test (push, --tls none)" || bad "postern news peer add"

stamp="$(date +%s)-$$"
article() { # msgid group subject
  printf 'From: Interop <interop@interop.test>\nNewsgroups: %s\nSubject: %s\nMessage-ID: %s\n\nHello from the interop test.\n.leading dot line\n' "$2" "$3" "$1"
}

if $client caps 127.0.0.1 "$inn_port" | grep -qx STREAMING; then ok "innd offers STREAMING to a feed peer: Postern pushes with CHECK/TAKETHIS"; else log "     innd does not offer STREAMING: Postern pushes with IHAVE"; fi

# --- Postern -> INN (push) -------------------------------------------------------------------------------------
a="<postern-push.$stamp@postern.test>"
if article "$a" interop.test "Posted on Postern" | $client post 127.0.0.1 "$postern_nntp" --user alice@interop.test --password secret-pass >"$work/post-a.txt"; then
  ok "posted $a on Postern"
else bad "POST on Postern: $(cat "$work/post-a.txt")"; fi
if wait_for 30 $client article 127.0.0.1 "$inn_port" "$a" --reader; then
  $client article 127.0.0.1 "$inn_port" "$a" --reader >"$work/inn-a.txt"
  path=$(grep -i '^Path:' "$work/inn-a.txt")
  if grep -q '^\.leading dot line' "$work/inn-a.txt" && [[ "$path" == *postern.test* ]]; then
    ok "Postern -> INN: INN has $a ($path)"
  else bad "Postern -> INN: article damaged: $(cat "$work/inn-a.txt")"; fi
else bad "Postern -> INN: INN never got $a"; grep -i 'news peer' "$work/postern.log" | tail -5; fi

# A burst larger than one pipelined window (64 CHECKs, then their TAKETHISes): INN gets every article.
burst="postern-burst.$stamp"
if $client post-many 127.0.0.1 "$postern_nntp" 150 "$burst" interop.test --user alice@interop.test --password secret-pass >"$work/post-burst.txt"; then
  if wait_for 60 $client have-all 127.0.0.1 "$inn_port" 150 "$burst" --reader; then
    ok "Postern -> INN: INN has all 150 articles of a burst (pipelined CHECK/TAKETHIS windows)"
  else bad "Postern -> INN: burst incomplete: $($client have-all 127.0.0.1 "$inn_port" 150 "$burst" --reader)"; grep -i 'news peer' "$work/postern.log" | tail -5; fi
else bad "burst POST on Postern: $(cat "$work/post-burst.txt")"; fi

# The same with streaming off in INN's incoming.conf: Postern must fall back to IHAVE (335, then 235).
sed -i 's/^streaming:.*/streaming: false/' "$inn/etc/incoming.conf"
as_news "$newsbin/ctlinnd" -s reload incoming.conf interop
a2="<postern-ihave.$stamp@postern.test>"
article "$a2" interop.test "Posted on Postern, IHAVE" | $client post 127.0.0.1 "$postern_nntp" --user alice@interop.test --password secret-pass >/dev/null || bad "POST on Postern"
if wait_for 30 $client article 127.0.0.1 "$inn_port" "$a2" --reader; then
  ok "Postern -> INN without streaming: INN has $a2 ($($client caps 127.0.0.1 "$inn_port" | grep -qx STREAMING && echo 'STREAMING still listed, MODE STREAM refused' || echo 'no STREAMING'))"
else bad "Postern -> INN (IHAVE): INN never got $a2"; grep -i 'news peer' "$work/postern.log" | tail -5; fi
sed -i 's/^streaming:.*/streaming: true/' "$inn/etc/incoming.conf"
as_news "$newsbin/ctlinnd" -s reload incoming.conf interop

# --- INN -> Postern (innxmit, streaming and IHAVE) -------------------------------------------------------------
# A push peer only receives Postern's feed; one that feeds Postern (innxmit from 127.0.0.1) must say so: both.
P news peer remove inn.test >/dev/null
P news peer add inn.test --host 127.0.0.1 --port "$inn_port" --tls none --direction both --groups 'interop.*' >/dev/null \
  && ok "Postern peer inn.test (both: INN may feed Postern)" || bad "postern news peer add (both)"
innxmit_check() { # msgid subject innxmit-flags...
  local id=$1 subject=$2; shift 2
  article "$id" interop.test "$subject" | $client post 127.0.0.1 "$inn_port" --reader >"$work/post-inn.txt" || { bad "POST on INN: $(cat "$work/post-inn.txt")"; return; }
  # What nntpsend does: move the batch file aside, let innd reopen a new one, send the moved one.
  local batch="$inn/spool/outgoing/postern.test"
  sleep 0.3
  mv "$batch" "$batch.work" 2>/dev/null
  as_news "$newsbin/ctlinnd" -s flush postern.test
  if [ ! -s "$batch.work" ]; then bad "INN queued nothing for Postern"; fi
  if as_news "$newsbin/innxmit" -d "$@" -P "$postern_nntp" 127.0.0.1 "$batch.work" >"$work/innxmit.txt" 2>&1; then :; else
    bad "innxmit $*: $(tail -5 "$work/innxmit.txt")"; fi
  log "     innxmit $* said: $(grep -E '^>' "$work/innxmit.txt" | grep -vE '^> \[|^> \.$' | tr '\n' ' ')"
  if $client article 127.0.0.1 "$postern_nntp" "$id" --user alice@interop.test --password secret-pass >"$work/postern-b.txt"; then
    local path; path=$(sed -n 's/^Path: //p' "$work/postern-b.txt")
    if [[ "$path" == 'postern.test!inn.test!'* ]] && grep -q '^\.leading dot line' "$work/postern-b.txt"; then
      ok "INN -> Postern (innxmit $*): Postern has $id ($path)"
    else bad "INN -> Postern: article damaged: $(cat "$work/postern-b.txt")"; fi
  else bad "INN -> Postern (innxmit $*): Postern lacks $id: $(cat "$work/postern-b.txt"); innxmit: $(tail -5 "$work/innxmit.txt")"; fi
  if $client imap 127.0.0.1 "$postern_imap" alice@interop.test secret-pass "Public Folders/Interop/Test" "$id" >"$work/imap.txt" 2>&1; then
    ok "IMAP: Public Folders/Interop/Test holds $id"
  else bad "IMAP: $(tail -3 "$work/imap.txt")"; fi
}
# innxmit streams by default (MODE STREAM, CHECK, TAKETHIS); -c sends TAKETHIS without CHECK; -s disables streaming (IHAVE).
innxmit_check "<inn-stream.$stamp@inn.test>" "Posted on INN, streamed"
innxmit_check "<inn-takethis.$stamp@inn.test>" "Posted on INN, TAKETHIS only" -c
innxmit_check "<inn-ihave.$stamp@inn.test>" "Posted on INN, IHAVE" -s
# Loop prevention: the Postern article came from Postern, INN must not have queued it back.
if grep -qF "$a" "$inn/spool/outgoing/"* 2>/dev/null; then bad "INN queued $a back to Postern"; else ok "INN did not feed $a back (Path names postern.test)"; fi

# --- Postern <- INN (pull: NEWNEWS + ARTICLE) ------------------------------------------------------------------
c="<inn-pull.$stamp@inn.test>"
article "$c" interop.pull "Posted on INN, pulled" | $client post 127.0.0.1 "$inn_port" --reader >"$work/post-c.txt" || bad "POST on INN: $(cat "$work/post-c.txt")"
P news peer remove inn.test >/dev/null
P news peer add inn.test --host 127.0.0.1 --port "$inn_port" --tls none --direction both --groups 'interop.*' >/dev/null \
  && ok "Postern peer inn.test (both)" || bad "postern news peer add (both)"
if wait_for 30 $client article 127.0.0.1 "$postern_nntp" "$c" --user alice@interop.test --password secret-pass; then
  ok "Postern pulled $c from INN (NEWNEWS + ARTICLE)"
  $client imap 127.0.0.1 "$postern_imap" alice@interop.test secret-pass "Public Folders/Interop/Pull" "$c" >"$work/imap.txt" 2>&1 \
    && ok "IMAP: Public Folders/Interop/Pull holds $c" || bad "IMAP: $(tail -3 "$work/imap.txt")"
else bad "Postern never pulled $c"; grep -i 'news peer' "$work/postern.log" | tail -5; fi

if [ "$failures" -eq 0 ]; then echo "PASS"; exit 0; else echo "FAIL ($failures)"; exit 1; fi
