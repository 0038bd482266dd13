#!/usr/bin/env bash
# Runs every test of Postern on a fresh machine: installs the command-line clients the
# integration tests drive (idempotently), builds with warnings as errors, runs the unit and
# integration tests, and ends with one summary line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"

packages=(curl swaks openssl ca-certificates python3 isync mutt sslscan fetchmail tin postgresql chromium chromium-driver python3-dkim)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# Debian's inn2 post-install script needs a domain in inn.conf; until it has one, inn2 stays half-configured and every
# apt-get install fails (bench/compare.sh installs the INN binaries without configuring it).
configure_inn() {
  if [ "$(id -u)" -eq 0 ] && [ -f /etc/news/inn.conf ] && ! grep -q '^domain:' /etc/news/inn.conf; then
    sed -i 's/^#domain:.*/domain: example.test/; s/^doinnwatch:.*/doinnwatch: false/; s/^nnrpdloadlimit:.*/nnrpdloadlimit: 0/' /etc/news/inn.conf
    DEBIAN_FRONTEND=noninteractive dpkg --configure inn2 >/dev/null 2>&1 || true
  fi
}
configure_inn
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing test tools: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# INN, the standard news server the NNTP peering test feeds both ways; configured in a second step (above), and a
# failure only skips that test.
if [ "$(id -u)" -eq 0 ] && [ ! -x /usr/lib/news/bin/innd ]; then
  echo "Installing inn2 for the NNTP peering test"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends inn2 >/dev/null 2>&1 || true
  configure_inn
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet format whitespace Postern.slnx --verify-no-changes
dotnet build Postern.slnx -c Release -nologo -v quiet

results="$(pwd)/.test-results"
rm -rf "$results"
status=0
run_tests() { # $1: prefix of the result files
  for project in tests/Postern.UnitTests tests/Postern.IntegrationTests; do
    dotnet test "$project" -c Release --no-build -nologo \
      --logger "trx;LogFilePrefix=$1$(basename "$project")" --results-directory "$results" \
      --blame-hang-timeout 5m || status=1
  done
}

# Pass 1: the embedded SQLite store, as `postern serve` runs by default.
run_tests ""

# Pass 2: the same tests on the PostgreSQL store (serve --store postgresql), against a private PostgreSQL server in a
# temporary folder on a free port; the shared-store tests (two nodes on one database) run only here. That server's own
# fsync is off: Postern's durability is what the tests check, not PostgreSQL's, and each test creates a database.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
pg_dir=$(mktemp -d /tmp/postern-pg.XXXXXX)
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$pg_dir"
  as_pg=(runuser -u postgres --)
fi
stop_pg() { "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pg_dir"; }
trap stop_pg EXIT
if [ -n "$pg_bin" ] \
  && "${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres -E UTF8 >"$pg_dir/initdb.log" 2>&1 \
  && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
       -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c full_page_writes=off" start >/dev/null; then
  POSTERN_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres" run_tests "postgresql-"
else
  echo "PostgreSQL could not be started for the PostgreSQL pass:" >&2
  cat "$pg_dir"/*.log >&2 2>/dev/null || true
  status=1
fi

passed=0
failed=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done
if [ "$passed" -eq 0 ]; then
  status=1
fi
echo "$passed passed, $failed failed"
exit $status
