#!/usr/bin/env bash
# make bench: suitecheck side by side with what users would run instead,
# interleaved, written to BENCHMARKS.md (see bench/NOTES.md for the method).
#
#   bench/run.sh                 everything (~5 minutes on 2 cores)
#   BENCH_ONLY=postgres,version bench/run.sh    some groups of bench/spec.json
#   BENCH_SCALE=0.3 bench/run.sh fewer measured rounds (a quick look)
#   BENCH_GO=0 bench/run.sh      skip the Go benchmarks
#   BENCH_OUT=DIR                where results.json and gobench.txt go (default bench/out)
#
# It installs the peers it needs when they are missing (Debian packages
# monitoring-plugins-standard, monitoring-plugins-basic, check-postgres and
# time (GNU time, for peak RSS), as root or through passwordless sudo), expects what `make deps` installs
# (chromium, postgresql, node/npm) and bin/suitecheck (`make build`), starts a
# throwaway PostgreSQL cluster and the demo's sample app, and stops and
# removes everything it started on exit, also on failure or Ctrl-C.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
GO=${GO:-go}
export ROOT
export BIN=${BIN:-$ROOT/bin/suitecheck}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
OUT=${BENCH_OUT:-$ROOT/bench/out}
SCALE=${BENCH_SCALE:-1}
ONLY=${BENCH_ONLY:-}
export PW_DIR=$ROOT/bench/testdata/playwright

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

WORK=
DEMO_PID=
PG_DATA=
AS_PG=()
PGBIN=
HARNESS_PID=
SHARED_PID=
SHARED_MARK=
cleanup() {
	local rc=$?
	set +e
	if [ -n "$SHARED_PID" ]; then
		say "stopping the shared browser (pid $SHARED_PID)"
		kill -KILL -- "-$SHARED_PID" 2>/dev/null
		# Its crash handler leaves the group; it carries the mark.
		for p in /proc/[0-9]*; do
			tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qxF "$SHARED_MARK" && kill -KILL "${p#/proc/}" 2>/dev/null
		done
		wait "$SHARED_PID" 2>/dev/null
	fi
	if [ -n "$HARNESS_PID" ] && kill -0 "$HARNESS_PID" 2>/dev/null; then
		kill -TERM "$HARNESS_PID"
		wait "$HARNESS_PID" 2>/dev/null
	fi
	if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
		say "stopping the sample app (pid $DEMO_PID)"
		kill -INT "$DEMO_PID"
		for _ in $(seq 1 150); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 0.2; done
		kill -0 "$DEMO_PID" 2>/dev/null && kill -KILL "$DEMO_PID"
		wait "$DEMO_PID" 2>/dev/null
	fi
	if [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
		say "stopping PostgreSQL"
		"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1
	fi
	[ -n "$WORK" ] && rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- peers --------------------------------------------------------------
PLUGINS=/usr/lib/nagios/plugins
find_check_postgres() { command -v check_postgres.pl || command -v check_postgres || true; }
missing=()
[ -x "$PLUGINS/check_pgsql" ] || missing+=(monitoring-plugins-standard)
[ -x "$PLUGINS/check_dummy" ] || missing+=(monitoring-plugins-basic)
[ -n "$(find_check_postgres)" ] || missing+=(check-postgres)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null ||
			die "missing ${missing[*]}: install them with: sudo apt-get install ${missing[*]}"
		sudo=(sudo -n)
	fi
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
export CHECK_PGSQL=$PLUGINS/check_pgsql CHECK_DUMMY=$PLUGINS/check_dummy
CHECK_POSTGRES=$(find_check_postgres)
export CHECK_POSTGRES
for b in chromium /usr/bin/chromium chromium-browser; do
	if command -v "$b" >/dev/null 2>&1; then CHROMIUM=$(command -v "$b"); break; fi
done
[ -n "${CHROMIUM:-}" ] || die "no chromium: run make deps"
export CHROMIUM
# The shared browser's unit runs the headless shell; its binary itself, not
# /usr/bin's wrapper script, for the cold runs and the floor on it.
export HEADLESS_SHELL=/usr/lib/chromium/chromium-headless-shell
command -v psql >/dev/null || die "no psql: run make deps"
for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
	if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then PGBIN=$d; break; fi
done
[ -n "$PGBIN" ] || die "no PostgreSQL server binaries: run make deps"
command -v node >/dev/null && command -v npm >/dev/null || die "no node/npm: run make deps"
[ -x "$BIN" ] || die "no $BIN: run make build"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sc-bench-XXXXXX")
chmod 755 "$WORK"
mkdir -p "$OUT"
H=$WORK/bench
export BENCH_H=$H
say "building the harness"
"$GO" build -o "$H" ./bench

want_group() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
if want_group warm || want_group warm8; then
	[ -x "$HEADLESS_SHELL" ] || die "no $HEADLESS_SHELL: run make deps (it installs chromium-headless-shell)"
fi

# --- Playwright project ---------------------------------------------------
if want_group browser && [ ! -x "$PW_DIR/node_modules/.bin/playwright" ]; then
	say "npm ci in bench/testdata/playwright (no browser download)"
	(cd "$PW_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2)
fi

# --- Go benchmarks, first, while nothing else runs ------------------------
gofail=0
if [ "${BENCH_GO:-1}" != 0 ]; then
	say "go test -run '^\$' -bench . -benchmem ./..."
	if ! "$GO" test -run '^$' -bench . -benchmem ./... >"$OUT/gobench.txt" 2>&1; then
		gofail=1
		say "the Go benchmarks failed:"
		tail -20 "$OUT/gobench.txt" >&2
	fi
	grep -E '^(pkg:|Benchmark)' "$OUT/gobench.txt" >&2 || true
fi

# --- a throwaway PostgreSQL cluster -----------------------------------------
randpw() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }
PGDIR=$WORK/pg
mkdir -p "$PGDIR"
if [ "$(id -u)" -eq 0 ]; then
	id postgres >/dev/null 2>&1 || die "no postgres system user: run make deps"
	chown postgres: "$PGDIR"
	AS_PG=(runuser -u postgres --)
fi
SUPER_PW=$(randpw)
export PG_APP_PASSWORD
PG_APP_PASSWORD=$(randpw)
printf '%s\n' "$SUPER_PW" >"$PGDIR/pw"
[ ${#AS_PG[@]} -gt 0 ] && chown postgres: "$PGDIR/pw"
chmod 600 "$PGDIR/pw"
say "initdb + pg_ctl start ($PGBIN)"
"${AS_PG[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A scram-sha-256 --pwfile="$PGDIR/pw" \
	-E UTF8 --no-sync >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log" >&2; die "initdb failed"; }
PG_DATA=$PGDIR/data
export PGPORT
PGPORT=$("$H" freeport)
"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$PGDIR/server.log" -w -t 60 \
	-o "-p $PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGDIR" start >/dev/null ||
	{ cat "$PGDIR/server.log" >&2; die "PostgreSQL did not start"; }
PGPASSWORD=$SUPER_PW psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres \
	-c "CREATE ROLE app LOGIN PASSWORD '$PG_APP_PASSWORD'" -c "CREATE DATABASE appdb OWNER app" >/dev/null
PGPASSWORD=$SUPER_PW psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres -d appdb \
	-c 'CREATE EXTENSION "uuid-ossp"' >/dev/null
PGPASSWORD=$PG_APP_PASSWORD psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U app -d appdb \
	-c 'CREATE TABLE files (id serial PRIMARY KEY, name text NOT NULL)' >/dev/null

# --- the sample app ---------------------------------------------------------
say "starting the sample app (suitecheck demo --keep)"
"$BIN" demo --keep >"$WORK/demo.out" 2>"$WORK/demo.err" </dev/null &
DEMO_PID=$!
line=
for _ in $(seq 1 600); do
	line=$(grep -m1 'runs at http' "$WORK/demo.err" || true)
	[ -n "$line" ] && break
	kill -0 "$DEMO_PID" 2>/dev/null || { cat "$WORK/demo.out" "$WORK/demo.err" >&2; die "suitecheck demo --keep exited"; }
	sleep 0.2
done
[ -n "$line" ] || { cat "$WORK/demo.err" >&2; die "the sample app did not come up in 120 s"; }
export BENCH_APP_URL BENCH_ADMIN_TOKEN
BENCH_APP_URL=$(sed -E 's/.*runs at (http[^ ]+) .*/\1/' <<<"$line")
BENCH_ADMIN_TOKEN=$(sed -E 's/.*admin token ([^)]+)\).*/\1/' <<<"$line")
say "sample app at $BENCH_APP_URL"

# --- the inputs of the JUnit group -------------------------------------------
export BENCH_JUNIT=$WORK/big.xml
"$H" junit -n 10000 -out "$BENCH_JUNIT"

# --- a shared browser, for the warm groups ------------------------------------
# Started as contrib/systemd/suitecheck-chromium.service starts it (its
# ExecStart and Environment, %t a directory of ours), on a free port, with
# --no-sandbox as root like the cold runs' Chromium. It is not a descendant of
# the harness: the warm commands add it to their tree PSS by its mark (an
# entry of its environment).
if want_group warm || want_group warm8; then
	unit=contrib/systemd/suitecheck-chromium.service
	rt=$WORK/shared
	mkdir -p "$rt/suitecheck-chromium"
	port=$("$H" freeport)
	exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
	exec_start=${exec_start//%t/$rt}
	exec_start=${exec_start/--remote-debugging-port=9222/--remote-debugging-port=$port}
	[ "$(id -u)" -eq 0 ] && exec_start+=" --no-sandbox"
	read -r -a shared_argv <<<"$exec_start"
	read -r -a shared_env <<<"$(sed -n 's/^Environment=//p' "$unit" | sed "s|%t|$rt|g")"
	SHARED_MARK="SUITECHECK_BENCH_SHARED=$$"
	export SHARED_MARK
	say "starting the shared browser on 127.0.0.1:$port"
	env -i PATH=/usr/bin:/bin "${shared_env[@]}" "$SHARED_MARK" setsid "${shared_argv[@]}" >"$WORK/shared.log" 2>&1 </dev/null &
	SHARED_PID=$!
	for _ in $(seq 1 300); do
		grep -q '^DevTools listening on' "$WORK/shared.log" && break
		kill -0 "$SHARED_PID" 2>/dev/null || { cat "$WORK/shared.log" >&2; die "the shared browser exited"; }
		sleep 0.1
	done
	grep -q '^DevTools listening on' "$WORK/shared.log" || { cat "$WORK/shared.log" >&2; die "the shared browser did not come up in 30 s"; }
	export SHARED_BROWSER_URL=http://127.0.0.1:$port
fi

# --- measure, then write BENCHMARKS.md ---------------------------------------
# In the background, so that a signal to this script runs its trap at once;
# the trap then stops the harness, which kills what it runs.
runfail=0
rm -f "$OUT/results.json"
"$H" run -spec bench/spec.json -out "$OUT/results.json" -scale "$SCALE" ${ONLY:+-only "$ONLY"} &
HARNESS_PID=$!
wait "$HARNESS_PID" || runfail=1
HARNESS_PID=
[ -f "$OUT/results.json" ] || die "no results"
gobench=()
[ -s "$OUT/gobench.txt" ] && gobench=(-gobench "$OUT/gobench.txt")
"$H" report -results "$OUT/results.json" "${gobench[@]}" -notes bench/NOTES.md -out BENCHMARKS.md
say "wrote BENCHMARKS.md; targets:"
sed -n '/^## Targets/,/^## 1\./p' BENCHMARKS.md | grep '^|' >&2
[ "$gofail$runfail" = 00 ] || die "some measurements failed (see above and BENCHMARKS.md)"
