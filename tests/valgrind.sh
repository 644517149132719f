#!/usr/bin/env bash
# Memcheck over integration runs: runs integration tests with every ecmond
# they start (the daemon, replays, config checks) under valgrind memcheck,
# and fails on any memory error or any definitely or indirectly lost block
# in any of those runs, on an ecmond killed by a signal it does not handle
# (a crash), and on a test in which no ecmond ran to its end under
# memcheck. Third-party noise is suppressed in valgrind.supp. A test that
# fails its own checks is reported, and fails the run only with
# VALGRIND_STRICT=1: under valgrind ecmond runs many times slower and its
# threads one at a time, so a test that counts polls or times answers can
# miss some.
#   tests/valgrind.sh [-b BUILD_DIR] [TEST...]
# TEST is an integration script's name (10-pipeline); by default
# $VALGRIND_TESTS, else every integration test that runs ecmond but the
# crash test.
# Without -b, ECMOND, ECMONCTL and ECMON_SIM come from the environment (as
# ctest sets them). KEEP=1 keeps the valgrind logs (and the tests' $T);
# VALGRIND_OPTS adds options (e.g. --gen-suppressions=all to write a
# suppression).
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${1:-}" = "-b" ]; then
    b="$(cd "$2" && pwd)"
    shift 2
    export ECMOND="$b/daemon/ecmond" ECMONCTL="$b/daemon/ecmonctl"
    export ECMON_SIM="$b/tests/sim/ecmon-sim"
fi
: "${ECMOND:?set ECMOND or use -b BUILD_DIR}"
export ECMON_SRC="$src"
tests=("$@")
if [ ${#tests[@]} -eq 0 ] && [ -n "${VALGRIND_TESTS:-}" ]; then
    read -r -a tests <<< "$VALGRIND_TESTS"
elif [ ${#tests[@]} -eq 0 ]; then
    # Every integration test that starts ecmond, but 75-crash: hundreds of
    # runs, each killed before memcheck could report.
    for f in "$src"/tests/integration/[0-9][0-9]-*.sh; do
        t=$(basename "$f" .sh)
        [ "$t" = 75-crash ] || ! grep -q 'ECMOND\|start_ecmond' "$f" ||
            tests+=("$t")
    done
fi
VALGRIND_OPTS=${VALGRIND_OPTS:-}
command -v valgrind > /dev/null || { echo "valgrind not installed" >&2; exit 1; }

W=$(mktemp -d /tmp/ecmon-valgrind.XXXX)
chmod 711 "$W" # see below: run_as
trap '[ "${KEEP:-0}" = 1 ] && echo "kept $W" >&2 || rm -rf "$W"' EXIT
# Every ecmond the tests start goes through this wrapper: one log per
# process (%p) in the test's directory, so that a forked exec-hook child
# gets its own.
cat > "$W/ecmond" << WRAPPER
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full \\
  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
  --error-exitcode=99 $VALGRIND_OPTS \\
  --track-fds=no --num-callers=30 --suppressions="$src/tests/valgrind.supp" \\
  --log-file="\$VG_LOG_DIR/vg.%p.log" "$ECMOND" "\$@"
WRAPPER
chmod +x "$W/ecmond"

num() { # PATTERN FILE: the number after PATTERN, without commas
    sed -n "s/.*$1 \([0-9,]*\).*/\1/p" "$2" | tail -1 | tr -d ,
}
status=0 runs=0 unfinished=0 errors=0 definite=0 indirect=0 crashed=0
failed=()
for t in "${tests[@]}"; do
    echo "== $t under memcheck"
    # Writable by all (sticky, as /tmp): ecmond may drop root (run_as)
    # before valgrind opens the log of a child it forks.
    mkdir -m 1777 "$W/$t"
    # Under valgrind ecmond starts, polls and exits several times slower;
    # its leak check at exit must not be cut short by SIGKILL.
    if ECMOND="$W/ecmond" VG_LOG_DIR="$W/$t" IT_STOP_DEADLINE=120 \
        "$src/tests/integration/$t.sh" > "$W/$t.out" 2>&1; then
        grep '^PASS' "$W/$t.out" || true
    else
        failed+=("$t")
        echo "$t failed its own checks under valgrind:"
        grep '^FAIL' "$W/$t.out" || tail -n 5 "$W/$t.out"
    fi
    # A log without a summary is an exec hook child (it became the hook at
    # execve) or a process the test killed with SIGKILL.
    n=0
    for f in "$W/$t"/vg.*.log; do
        [ -e "$f" ] || continue
        if grep -q "Process terminating with default action of signal" "$f"; then
            echo "FAIL: $t: ecmond crashed:" >&2
            cat "$f" >&2
            crashed=$((crashed + 1))
            status=1
        fi
        if ! grep -q "ERROR SUMMARY:" "$f"; then
            unfinished=$((unfinished + 1))
            continue
        fi
        n=$((n + 1))
        e=$(num "ERROR SUMMARY:" "$f")
        d=$(num "definitely lost:" "$f")
        i=$(num "indirectly lost:" "$f")
        errors=$((errors + ${e:-0}))
        definite=$((definite + ${d:-0}))
        indirect=$((indirect + ${i:-0}))
        if [ "${e:-0}" -ne 0 ]; then
            echo "FAIL: $t: memcheck errors:" >&2
            cat "$f" >&2
            status=1
        fi
    done
    runs=$((runs + n))
    if [ "$n" -eq 0 ]; then
        echo "FAIL: $t: no ecmond ran to its end under memcheck" >&2
        status=1
    fi
done
if [ ${#failed[@]} -gt 0 ] && [ "${VALGRIND_STRICT:-0}" = 1 ]; then
    status=1
fi
echo "memcheck: ${#tests[@]} tests (${tests[*]}), $runs ecmond runs checked" \
    "($unfinished logs without a summary: hook children, killed runs);" \
    "$errors errors, definitely lost $definite bytes, indirectly lost" \
    "$indirect bytes, $crashed crashed; ${#failed[@]} tests failed their" \
    "own checks under valgrind${failed:+ (${failed[*]})}"
if [ "$status" -eq 0 ]; then
    echo "PASS: memcheck clean"
else
    echo "FAIL: memcheck" >&2
fi
exit "$status"
