#!/usr/bin/env bash
# Memcheck over integration runs: runs integration tests with every ecmond
# they start (the daemon, replays, config checks) under valgrind memcheck,
# and fails on any memory error or any definitely or indirectly lost block
# in any of those runs. Third-party noise is suppressed in valgrind.supp.
#   tests/valgrind.sh [-b BUILD_DIR] [TEST...]
# TEST is an integration script's name (10-pipeline); by default
# $VALGRIND_TESTS, else every integration test that runs ecmond but the
# crash test.
# Without -b, ECMOND, ECMONCTL and ECMON_SIM come from the environment (as
# ctest sets them). KEEP=1 keeps the valgrind logs; VALGRIND_OPTS adds
# options (e.g. --gen-suppressions=all to write a suppression).
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
trap '[ "${KEEP:-0}" = 1 ] && echo "kept $W" >&2 || rm -rf "$W"' EXIT
# Every ecmond the tests start goes through this wrapper: one log per
# process (%p), so a forked exec-hook child gets its own.
cat > "$W/ecmond" << EOF
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full \\
  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
  --error-exitcode=99 $VALGRIND_OPTS \\
  --track-fds=no --num-callers=30 --suppressions="$src/tests/valgrind.supp" \\
  --log-file="$W/vg.%p.log" "$ECMOND" "\$@"
EOF
chmod +x "$W/ecmond"

status=0
for t in "${tests[@]}"; do
    echo "== $t under memcheck"
    # Under valgrind ecmond starts, polls and exits several times slower;
    # its leak check at exit must not be cut short by SIGKILL.
    if ! ECMOND="$W/ecmond" IT_STOP_DEADLINE=120 \
        "$src/tests/integration/$t.sh" > "$W/$t.out" 2>&1; then
        echo "FAIL: $t failed under memcheck:" >&2
        tail -n 30 "$W/$t.out" >&2
        status=1
    else
        grep '^PASS' "$W/$t.out" || true
    fi
done

# The figures: runs with a summary, their errors and leaks. A log without
# a summary is an exec hook child (it became the hook at execve) or a
# process the test killed.
runs=0 unfinished=0 errors=0 definite=0 indirect=0 bad=()
num() { # PATTERN FILE: the number after PATTERN, without commas
    sed -n "s/.*$1 \([0-9,]*\).*/\1/p" "$2" | tail -1 | tr -d ,
}
for f in "$W"/vg.*.log; do
    [ -e "$f" ] || continue
    if ! grep -q "ERROR SUMMARY:" "$f"; then
        unfinished=$((unfinished + 1))
        continue
    fi
    runs=$((runs + 1))
    e=$(num "ERROR SUMMARY:" "$f")
    d=$(num "definitely lost:" "$f")
    i=$(num "indirectly lost:" "$f")
    errors=$((errors + ${e:-0}))
    definite=$((definite + ${d:-0}))
    indirect=$((indirect + ${i:-0}))
    if [ "${e:-0}" -ne 0 ]; then
        bad+=("$f")
    fi
done
for f in "${bad[@]}"; do
    echo "---- $f ----" >&2
    cat "$f" >&2
    status=1
done
[ "$runs" -gt 0 ] || { echo "FAIL: no ecmond ran under memcheck" >&2; status=1; }
echo "memcheck: ${#tests[@]} tests (${tests[*]}), $runs ecmond runs checked" \
    "($unfinished logs without a summary: hook children, killed runs);" \
    "$errors errors, definitely lost $definite bytes, indirectly lost" \
    "$indirect bytes"
[ "$status" -eq 0 ] && echo "PASS: memcheck clean" || echo "FAIL: memcheck" >&2
exit "$status"
