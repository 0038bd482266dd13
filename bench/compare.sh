#!/usr/bin/env bash
# Postern against Postfix, Dovecot and INN from Debian, with the same load tool (bench/Postern.Bench) in the same run.
#
#   sudo bench/compare.sh            # full run (about 15 minutes on 2 cores); results in $OUT (printed at the end)
#   sudo bench/compare.sh --quick    # smoke run with tiny counts
#   ONLY="smtp imap" bench/compare.sh --quick     # a subset: smtp pop3 imap idle nntp
#
# Everything runs on 127.0.0.1 in a temporary folder with its own configuration: Postern on port offset 21000
# (SMTP 21025, POP3 21110/21995, IMAP 21143/21993, NNTP 21119/21563), the others on offset 22000. No system
# configuration is changed: Dovecot runs with `-c` on a generated dovecot.conf, Postfix with `-c` on a generated
# config directory and its own queue directory, INN with INNCONF pointing at a generated inn.conf whose paths are
# all in the temporary folder. Every server is stopped when the script ends (also on error or Ctrl-C).
#
# Equal password-hash cost: Postern `serve --password-iterations 5000` (PBKDF2-HMAC-SHA256, 5,000 iterations),
# Dovecot `{PBKDF2}` with 5,000 rounds (Dovecot's PBKDF2 scheme is PBKDF2-HMAC-SHA1). INN is used without
# AUTHINFO (its default readers.conf lets localhost read and post); Postern's NNTP sessions authenticate once per
# kept session. TLS: Postern's built-in CA issues an ECDSA P-256 server certificate; the others get an ECDSA
# P-256 self-signed certificate made here with openssl (and Postfix, for a second STARTTLS run, an RSA 2048 one as
# Debian's default configuration gives it). Both sides negotiate TLS 1.3 (the tool prints it).
set -euo pipefail

QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
ONLY=${ONLY:-"smtp pop3 imap idle nntp"}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/postern-compare.XXXXXX)
chmod 755 "$T"
OUT=${OUT:-$T/results.txt}
PO=21000   # Postern port offset
XO=22000   # the others
PASSWORD=secret
ITERATIONS=5000
USERS=8    # bench0..bench7: one account per connection (POP3 locks a maildrop per session)

if [[ $QUICK == 1 ]]; then
    N_SMTP=200 N_SMTP_TLS=40 N_POP=60 N_RETR=400 N_ISESS=60 N_IFETCH=200 N_IMIXED=400
    N_IDLE_P=300 N_IDLE_P_BIG=600 N_IDLE_D=300 N_IAPPEND=80 N_POST=100 N_ART=400 N_NCONN=60 WARM=10 WARM_S=0 HOLD=2
else
    N_SMTP=20000 N_SMTP_TLS=3000 N_POP=3000 N_RETR=100000 N_ISESS=3000 N_IFETCH=25000 N_IMIXED=60000
    N_IDLE_P=1000 N_IDLE_P_BIG=10000 N_IDLE_D=1000 N_IAPPEND=8000 N_POST=10000 N_ART=5000 N_NCONN=500 WARM=1000 WARM_S=5 HOLD=10
fi
# WARM operations before each measured run (for every server alike): a long-running server is measured in its steady
# state, after .NET's tiered JIT has compiled the scenario's code (with 100, a cold NNTP POST cost 1.15 ms of CPU
# against 0.68 ms warm); the C servers need no warm-up and lose nothing by it. WARM_S: the warm-up goes on for at
# least that many seconds, since the JIT's tiers settle by time (a fresh Postern did 5,300 SMTP msgs/s at 0.24 ms of
# CPU after 1,000 warm-up messages, and 6,800-7,700 at 0.16-0.17 ms after 10,000).

say() { echo "$*" | tee -a "$OUT"; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

PIDS_TO_STOP=()
cleanup() {
    set +e
    [[ -n "${DOVECOT_CONF:-}" && -f "${DOVECOT_CONF}" ]] && dovecot -c "$DOVECOT_CONF" stop 2>/dev/null
    [[ -n "${POSTFIX_CONF:-}" && -d "${POSTFIX_CONF}" ]] && postfix -c "$POSTFIX_CONF" stop 2>/dev/null
    if [[ -n "${INN_CONF:-}" ]]; then
        INNCONF=$INN_CONF /usr/lib/news/bin/ctlinnd -t 5 shutdown compare >/dev/null 2>&1
        [[ -n "${NNRPD:-}" ]] && kill -TERM "$NNRPD" 2>/dev/null
    fi
    for pid in "${PIDS_TO_STOP[@]}"; do
        # the process group of each server we started (setsid), and nothing else
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    done
    sleep 2
    for pid in "${PIDS_TO_STOP[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
    echo "results: $OUT (work folder $T)"
}
trap cleanup EXIT

# ---------------------------------------------------------------- packages
need=()
command -v postfix >/dev/null || need+=(postfix)
command -v dovecot >/dev/null || need+=(dovecot-core)
[[ -x /usr/lib/dovecot/imap ]] || need+=(dovecot-imapd)
[[ -x /usr/lib/dovecot/pop3 ]] || need+=(dovecot-pop3d)
[[ -x /usr/lib/news/bin/innd ]] || need+=(inn2)
if ((${#need[@]})); then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq
    # inn2's post-install script fails without a configured domain; the binaries are all this script needs.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" || true
fi
command -v openssl >/dev/null || apt-get install -y -qq openssl

# ---------------------------------------------------------------- build
cd "$ROOT"
dotnet build -c Release src/Postern.Host -v q -nologo | tail -1
dotnet build -c Release bench/Postern.Bench -v q -nologo | tail -1
P="dotnet $ROOT/src/Postern.Host/bin/Release/net10.0/postern.dll"
B="dotnet $ROOT/bench/Postern.Bench/bin/Release/net10.0/Postern.Bench.dll"

# ---------------------------------------------------------------- machine
{
    echo "# run $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname)"
    echo "# nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $(free -g | awk '/Mem:/{print $2 " GiB RAM"}'); load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# $(uname -sr); $(. /etc/os-release; echo "$PRETTY_NAME"); dotnet $(dotnet --version)"
    echo "# $(dpkg-query -W -f='${Package} ${Version}; ' postfix dovecot-core inn2 openssl 2>/dev/null)"
    echo "# postern $(git -C "$ROOT" rev-parse --short HEAD)"
} | tee -a "$OUT"

# ---------------------------------------------------------------- certificate for the others
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$T/key.pem" -out "$T/cert.pem" -days 7 -subj /CN=localhost 2>/dev/null
chmod 644 "$T/key.pem" "$T/cert.pem"

# ---------------------------------------------------------------- Postern
PD=$T/postern
setsid $P serve --data "$PD" --port-offset $PO --host-name localhost --password-iterations $ITERATIONS >"$T/postern.log" 2>&1 &
POSTERN=$!
PIDS_TO_STOP+=("$POSTERN")
for _ in $(seq 60); do [[ -f $PD/admin.json ]] && ss -ltn | grep -q ":$((PO + 993)) " && break; sleep 1; done
ADDING=()
for name in $(seq -f 'bench%g' 0 $((USERS - 1))) $(seq -f 'append%g' 0 $((USERS - 1))) sink0 sink1 sink2 sink3; do
    echo $PASSWORD | $P user add "$name@example.test" --password-stdin --data "$PD" >/dev/null &
    ADDING+=($!)
done
wait "${ADDING[@]}"
$P public-folder add Bench --newsgroup postern.bench --data "$PD" >/dev/null
# The idle-connection test needs more than the default 2,000 connections (50 per client address).
ADMIN_URL=$(jq -r .url "$PD/admin.json")
ADMIN_TOKEN=$(jq -r .token "$PD/admin.json")
IMAP_VS="Default%20IMAP4%20Virtual%20Server"
LIMITS=$(curl -skf -H "Authorization: Bearer $ADMIN_TOKEN" "$ADMIN_URL/api/v1/virtual-servers/$IMAP_VS" |
    jq -c '{limits: (.limits + {maxConnections: 12000, maxConnectionsPerAddress: 12000})}')
curl -skf -X PATCH -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' -d "$LIMITS" \
    "$ADMIN_URL/api/v1/virtual-servers/$IMAP_VS" >/dev/null
for vs in Default%20POP3%20Virtual%20Server Default%20SMTP%20Virtual%20Server Default%20NNTP%20Virtual%20Server; do
    L=$(curl -skf -H "Authorization: Bearer $ADMIN_TOKEN" "$ADMIN_URL/api/v1/virtual-servers/$vs" |
        jq -c '{limits: (.limits + {maxConnectionsPerAddress: 2000})}')
    curl -skf -X PATCH -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' -d "$L" "$ADMIN_URL/api/v1/virtual-servers/$vs" >/dev/null
done
say "# postern pid $POSTERN, data $PD, PBKDF2-SHA256 $ITERATIONS iterations"

# ---------------------------------------------------------------- Dovecot
if want pop3 || want imap || want idle; then
    D=$T/dovecot
    mkdir -p "$D/run" "$D/state" "$D/home"
    chmod 777 "$D/home"
    HASH=$(doveadm pw -s PBKDF2 -r $ITERATIONS -p $PASSWORD)
    for i in $(seq 0 $((USERS - 1))); do echo "bench$i@example.test:$HASH"; echo "append$i@example.test:$HASH"; done >"$D/users"
    DOVECOT_CONF=$D/dovecot.conf
    cat >"$DOVECOT_CONF" <<CONF
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <$T/cert.pem
ssl_key = <$T/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = username_format=%u $D/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$D/home/%u
}
mail_location = maildir:~/Maildir
# Like Postern, lock the maildrop for the whole POP3 session (RFC 1939 §8).
pop3_lock_session = yes
# Dovecot's documented high-performance login mode (one login process serves many connections).
service imap-login {
  inet_listener imap {
    port = $((XO + 143))
  }
  inet_listener imaps {
    port = $((XO + 993))
  }
  service_count = 0
  process_min_avail = $(nproc)
}
service pop3-login {
  inet_listener pop3 {
    port = $((XO + 110))
  }
  inet_listener pop3s {
    port = $((XO + 995))
  }
  service_count = 0
  process_min_avail = $(nproc)
}
service anvil {
  client_limit = 12000
}
default_client_limit = 12000
# The idle test logs in 1,000 connections as eight users from one address (default 10 per user and address).
mail_max_userip_connections = 20000
CONF
    dovecot -c "$DOVECOT_CONF"
    for _ in $(seq 30); do [[ -f $D/run/master.pid ]] && break; sleep 0.5; done
    DOVECOT=$(cat "$D/run/master.pid")
    say "# dovecot pid $DOVECOT, config $DOVECOT_CONF, {PBKDF2} $ITERATIONS rounds"
fi

# ---------------------------------------------------------------- Postfix
if want smtp; then
    POSTFIX_CONF=$T/postfix-etc
    mkdir -p "$POSTFIX_CONF" "$T/postfix-data" "$T/postfix-spool"
    cp /etc/postfix/master.cf.proto "$POSTFIX_CONF/master.cf" 2>/dev/null || cp /etc/postfix/master.cf "$POSTFIX_CONF/master.cf"
    : >"$POSTFIX_CONF/main.cf"
    chown postfix "$T/postfix-data"
    postconf -c "$POSTFIX_CONF" -e \
        "compatibility_level = 3.6" "meta_directory = /etc/postfix" "shlib_directory = /usr/lib/postfix" \
        "queue_directory = $T/postfix-spool" "data_directory = $T/postfix-data" \
        "maillog_file = $T/postfix.log" "maillog_file_prefixes = $T" "myhostname = bench.example.test" "mydestination =" \
        "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" "mynetworks = 127.0.0.0/8" \
        "relay_domains = example.test" "smtpd_relay_restrictions = permit_mynetworks, reject" \
        "default_transport = discard" "relay_transport = discard" "local_transport = discard" \
        "smtpd_client_connection_count_limit = 0" "smtpd_client_connection_rate_limit = 0" \
        "smtpd_tls_cert_file = $T/cert.pem" "smtpd_tls_key_file = $T/key.pem" "smtpd_tls_security_level = may" \
        "smtpd_tls_session_cache_database =" "alias_maps =" "alias_database ="
    # Only our port, no chroot (the queue directory is a temporary folder).
    postconf -c "$POSTFIX_CONF" -M# smtp/inet
    postconf -c "$POSTFIX_CONF" -Me "$((XO + 25))/inet = $((XO + 25)) inet n - n - - smtpd"
    postconf -c "$POSTFIX_CONF" -F '*/*/chroot = n'
    postfix -c "$POSTFIX_CONF" check
    postfix -c "$POSTFIX_CONF" start 2>&1 | grep -v '^postfix/postfix-script: starting' || true
    for _ in $(seq 30); do [[ -f $T/postfix-spool/pid/master.pid ]] && break; sleep 0.5; done
    POSTFIX=$(tr -d ' ' <"$T/postfix-spool/pid/master.pid")
    say "# postfix master pid $POSTFIX, config $POSTFIX_CONF, queue $T/postfix-spool (fsync), discard transport"
fi

# ---------------------------------------------------------------- INN
if want nntp; then
    I=$T/inn
    mkdir -p "$I"/{etc,db,spool/articles,spool/overview,spool/incoming/tmp,spool/outgoing,spool/incoming/bad,log,run,http,tmp}
    cp -a /etc/news/. "$I/etc/"
    INN_CONF=$I/etc/inn.conf
    sed -i -E '/^(domain|pathhost|port|bindaddress|doinnwatch|nnrpdloadlimit|pathetc|pathdb|pathspool|patharticles|pathoverview|pathincoming|pathoutgoing|pathtmp|pathlog|pathrun|pathhttp|tlscertfile|tlskeyfile|tlscafile|mta|docnfsstat):/d;/^#(domain|bindaddress|tlscertfile|tlskeyfile|tlscafile):/d' "$INN_CONF"
    cat >>"$INN_CONF" <<CONF
domain:                      example.test
pathhost:                    bench.example.test
port:                        $((XO + 119))
bindaddress:                 127.0.0.1
doinnwatch:                  false
docnfsstat:                  false
nnrpdloadlimit:              0
mta:                         "/bin/true"
pathetc:                     $I/etc
pathdb:                      $I/db
pathspool:                   $I/spool
patharticles:                $I/spool/articles
pathoverview:                $I/spool/overview
pathincoming:                $I/spool/incoming
pathoutgoing:                $I/spool/outgoing
pathtmp:                     $I/spool/incoming/tmp
pathlog:                     $I/log
pathrun:                     $I/run
pathhttp:                    $I/http
tlscertfile:                 $I/etc/tls-cert.pem
tlskeyfile:                  $I/etc/tls-key.pem
tlscafile:                   $I/etc/tls-cert.pem
CONF
    cp "$T/cert.pem" "$I/etc/tls-cert.pem"
    cp "$T/key.pem" "$I/etc/tls-key.pem"
    chmod 600 "$I/etc/tls-key.pem"
    cat >"$I/db/active" <<ACTIVE
control 0000000000 0000000001 n
control.cancel 0000000000 0000000001 n
junk 0000000000 0000000001 n
postern.bench 0000000000 0000000001 y
ACTIVE
    printf 'postern.bench\tPostern benchmark group\n' >"$I/db/newsgroups"
    : >"$I/db/active.times"
    : >"$I/db/history"
    chown -R news:news "$I"
    su news -s /bin/sh -c "cd $I/db && INNCONF=$INN_CONF /usr/lib/news/bin/makedbz -i -o"
    # innd (articles, history, overview) in the foreground under su; nnrpd as a standalone NNTPS daemon (it
    # detaches and writes a pid file). A post goes nnrpd -> innd, so the tool samples both trees.
    setsid su news -s /bin/sh -c "INNCONF=$INN_CONF exec /usr/lib/news/bin/innd -f" >"$T/innd.out" 2>&1 &
    INN=$!
    PIDS_TO_STOP+=("$INN")
    su news -s /bin/sh -c "INNCONF=$INN_CONF /usr/lib/news/bin/nnrpd -D -b 127.0.0.1 -p $((XO + 563)) -S" >"$T/nnrpd.out" 2>&1
    for _ in $(seq 30); do ss -ltn | grep -q ":$((XO + 563)) " && ss -ltn | grep -q ":$((XO + 119)) " && break; sleep 0.5; done
    NNRPD=$(cat "$I/run/nnrpd-$((XO + 563)).pid")
    say "# inn: innd (under su, pid $INN) and nnrpd -D -S (pid $NNRPD), INNCONF $INN_CONF"
fi

sleep 2
# ---------------------------------------------------------------- runs
run() { # label, then bench arguments
    local label=$1
    shift
    say ""
    say "## $label"
    say "\$ Postern.Bench $*"
    $B "$@" 2>&1 | tee -a "$OUT" || say "(exit code $?: some operations failed)"
}
U="--user bench{n}@example.test --password $PASSWORD"

if want smtp; then
    # 4 KB messages on kept sessions; Postern delivers each into one of four mailboxes (fsync before 250),
    # Postfix fsyncs its queue file before 250 and then discards.
    run "SMTP kept sessions, Postern" --scenario smtp-send --port $((PO + 25)) --connections 16 --count $N_SMTP --size 4 --to 'sink{n}@example.test' --users 4 --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "SMTP kept sessions, Postfix" --scenario smtp-send --port $((XO + 25)) --connections 16 --count $N_SMTP --size 4 --to 'sink{n}@example.test' --users 4 --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTFIX
    run "SMTP kept sessions pipelined, Postern" --scenario smtp-send --pipelining --port $((PO + 25)) --connections 16 --count $N_SMTP --size 4 --to 'sink{n}@example.test' --users 4 --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "SMTP kept sessions pipelined, Postfix" --scenario smtp-send --pipelining --port $((XO + 25)) --connections 16 --count $N_SMTP --size 4 --to 'sink{n}@example.test' --users 4 --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTFIX
    run "SMTP STARTTLS per message, Postern" --scenario smtp-send --port $((PO + 25)) --tls starttls --connection-per-message --connections 8 --count $N_SMTP_TLS --size 4 --to 'sink{n}@example.test' --users 4 --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "SMTP STARTTLS per message, Postfix" --scenario smtp-send --port $((XO + 25)) --tls starttls --connection-per-message --connections 8 --count $N_SMTP_TLS --size 4 --to 'sink{n}@example.test' --users 4 --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTFIX
    # Postfix as Debian installs it serves ssl-cert's snakeoil certificate, RSA 2048 (the issue's "default
    # configuration"); the same run with such a certificate, made here so no system file is touched.
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/rsa-key.pem" -out "$T/rsa-cert.pem" -days 7 -subj /CN=localhost 2>/dev/null
    chmod 644 "$T/rsa-key.pem" "$T/rsa-cert.pem"
    postconf -c "$POSTFIX_CONF" -e "smtpd_tls_cert_file = $T/rsa-cert.pem" "smtpd_tls_key_file = $T/rsa-key.pem"
    postfix -c "$POSTFIX_CONF" reload 2>&1 | grep -v 'refreshing the Postfix mail system' || true
    sleep 2
    run "SMTP STARTTLS per message, Postfix with an RSA 2048 certificate (Debian's default)" --scenario smtp-send --port $((XO + 25)) --tls starttls --connection-per-message --connections 8 --count $N_SMTP_TLS --size 4 --to 'sink{n}@example.test' --users 4 --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTFIX
fi

if want pop3 || want imap || want idle; then
    # Seed: ten 4 KB messages in each of the eight mailboxes (not a measurement).
    for port in $((PO + 143)) $((XO + 143)); do
        for i in $(seq 0 $((USERS - 1))); do
            $B --scenario imap-append --port $port --tls starttls --connections 1 --count 10 --size 4 --user "bench$i@example.test" --password $PASSWORD |
                grep -E '^(result|error)' | sed "s/^/# seed $port bench$i: /" | tee -a "$OUT"
        done
    done
fi

if want pop3; then
    run "POP3 sessions (POP3S), Postern" --scenario pop3-session --port $((PO + 995)) --tls implicit --connections $USERS --count $N_POP $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "POP3 sessions (POP3S), Dovecot" --scenario pop3-session --port $((XO + 995)) --tls implicit --connections $USERS --count $N_POP $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $DOVECOT
    run "POP3 RETR on open sessions (POP3S), Postern" --scenario pop3-retr --port $((PO + 995)) --tls implicit --connections $USERS --count $N_RETR $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "POP3 RETR on open sessions (POP3S), Dovecot" --scenario pop3-retr --port $((XO + 995)) --tls implicit --connections $USERS --count $N_RETR $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $DOVECOT
fi

if want imap; then
    run "IMAP sessions (IMAPS), Postern" --scenario imap-session --port $((PO + 993)) --tls implicit --connections $USERS --count $N_ISESS $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "IMAP sessions (IMAPS), Dovecot" --scenario imap-session --port $((XO + 993)) --tls implicit --connections $USERS --count $N_ISESS $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $DOVECOT
    run "IMAP FETCH 1:10 on open sessions (IMAPS), Postern" --scenario imap-fetch --fetch-set 1:10 --port $((PO + 993)) --tls implicit --connections $USERS --count $N_IFETCH $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "IMAP FETCH 1:10 on open sessions (IMAPS), Dovecot" --scenario imap-fetch --fetch-set 1:10 --port $((XO + 993)) --tls implicit --connections $USERS --count $N_IFETCH $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $DOVECOT
    run "IMAP mixed on open sessions (IMAPS), Postern" --scenario imap-mixed --port $((PO + 993)) --tls implicit --connections $USERS --count $N_IMIXED --size 4 $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "IMAP mixed on open sessions (IMAPS), Dovecot" --scenario imap-mixed --port $((XO + 993)) --tls implicit --connections $USERS --count $N_IMIXED --size 4 $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $DOVECOT
    # 32 clients, four on each mailbox: a busy server, where every change is also announced to the mailbox's other sessions.
    run "IMAP mixed, 32 clients (IMAPS), Postern" --scenario imap-mixed --port $((PO + 993)) --tls implicit --connections 32 --users $USERS --count $N_IMIXED --size 4 $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "IMAP mixed, 32 clients (IMAPS), Dovecot" --scenario imap-mixed --port $((XO + 993)) --tls implicit --connections 32 --users $USERS --count $N_IMIXED --size 4 $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $DOVECOT
    # APPEND throughput: each 4 KB message is on stable storage before the tagged OK (Postern's group commit; Dovecot's
    # maildir fsyncs each new file, mail_fsync=optimized). Into the empty INBOXes of accounts of its own (append0..7),
    # warmed up by count only (the mix has run the code already), so every INBOX ends with about 1,100 messages.
    run "IMAP APPEND on open sessions (IMAPS), Postern" --scenario imap-append --port $((PO + 993)) --tls implicit --connections $USERS --count $N_IAPPEND --size 4 --user 'append{n}@example.test' --password $PASSWORD --warmup $WARM --server-pid $POSTERN
    run "IMAP APPEND on open sessions (IMAPS), Dovecot" --scenario imap-append --port $((XO + 993)) --tls implicit --connections $USERS --count $N_IAPPEND --size 4 --user 'append{n}@example.test' --password $PASSWORD --warmup $WARM --server-pid $DOVECOT
fi

if want idle; then
    run "IMAPS idle connections, Postern ($N_IDLE_P)" --scenario imap-idle-hold --port $((PO + 993)) --tls implicit --connections 32 --count $N_IDLE_P --users $USERS $U --hold $HOLD --server-pid $POSTERN
    run "IMAPS idle connections, Dovecot ($N_IDLE_D)" --scenario imap-idle-hold --port $((XO + 993)) --tls implicit --connections 32 --count $N_IDLE_D --users $USERS $U --hold $HOLD --server-pid $DOVECOT
    run "IMAPS idle connections, Postern ($N_IDLE_P_BIG)" --scenario imap-idle-hold --port $((PO + 993)) --tls implicit --connections 32 --count $N_IDLE_P_BIG --users $USERS $U --hold $HOLD --server-pid $POSTERN
fi

if want nntp; then
    run "NNTP POST (NNTPS), Postern" --scenario nntp-post --port $((PO + 563)) --tls implicit --connections 4 --count $N_POST --size 2 $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "NNTP POST (NNTPS), INN" --scenario nntp-post --port $((XO + 563)) --tls implicit --connections 4 --count $N_POST --size 2 --warmup $WARM --warmup-seconds $WARM_S --server-pid $INN,$NNRPD
    # 16 posting clients: many readers and feeds posting at once, where group commit folds several posts into one fsync.
    run "NNTP POST, 16 clients (NNTPS), Postern" --scenario nntp-post --port $((PO + 563)) --tls implicit --connections 16 --users $USERS --count $N_POST --size 2 $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "NNTP POST, 16 clients (NNTPS), INN" --scenario nntp-post --port $((XO + 563)) --tls implicit --connections 16 --count $N_POST --size 2 --warmup $WARM --warmup-seconds $WARM_S --server-pid $INN,$NNRPD
    # 64 posting clients: a busy organization's readers (and feeds) at once; INN runs an nnrpd process for each.
    run "NNTP POST, 64 clients (NNTPS), Postern" --scenario nntp-post --port $((PO + 563)) --tls implicit --connections 64 --users $USERS --count $N_POST --size 2 $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "NNTP POST, 64 clients (NNTPS), INN" --scenario nntp-post --port $((XO + 563)) --tls implicit --connections 64 --count $N_POST --size 2 --warmup $WARM --warmup-seconds $WARM_S --server-pid $INN,$NNRPD
    sleep 2 # INN files and overviews posts asynchronously
    run "NNTP ARTICLE (NNTPS), Postern" --scenario nntp-article --port $((PO + 563)) --tls implicit --connections 4 --count $N_ART $U --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "NNTP ARTICLE (NNTPS), INN" --scenario nntp-article --port $((XO + 563)) --tls implicit --connections 4 --count $N_ART --warmup $WARM --warmup-seconds $WARM_S --server-pid $INN,$NNRPD
    run "NNTPS connections, Postern" --scenario nntp-connect --port $((PO + 563)) --tls implicit --connections 4 --count $N_NCONN --warmup $WARM --warmup-seconds $WARM_S --server-pid $POSTERN
    run "NNTPS connections, INN" --scenario nntp-connect --port $((XO + 563)) --tls implicit --connections 4 --count $N_NCONN --warmup $WARM --warmup-seconds $WARM_S --server-pid $INN,$NNRPD
fi
say ""
say "# finished $(date -u '+%H:%M:%S UTC')"
