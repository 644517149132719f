#!/bin/sh
# Golden tests of the config loader.
#   run-golden.sh ECMOND CONFIG_DIR SRC_DIR
# good/*.conf: `ecmond -n -v -c` must print good/*.out, and that output,
#              loaded again, must print itself (the normalized form is a
#              fixed point).
# bad/*.conf:  `ecmond -n -c` must exit 1 with stderr equal to bad/*.err.
# SRC_DIR/config/examples/*.conf must pass `ecmond -n` and reprint alike.
# Runs from CONFIG_DIR with relative names, so messages are stable.
# With ECMON_GOLDEN_WRITE=DIR, writes what it got into DIR for review.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 ECMOND CONFIG_DIR SRC_DIR" >&2
    exit 2
fi
case $1 in /*) ecmond=$1 ;; *) ecmond=$(pwd)/$1 ;; esac
src=$(cd "$3" && pwd) || exit 2
cd "$2" || exit 2
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
write=${ECMON_GOLDEN_WRITE:-}
fail=0
count=0

failed() {
    echo "FAIL: $*"
    fail=$((fail + 1))
}

# reprint NAME FILE: FILE is a normalized config; loading it must print it.
reprint() {
    cp "$2" "$tmp/again.conf"
    if ! "$ecmond" -n -v -c "$tmp/again.conf" >"$tmp/again.out" 2>"$tmp/again.err"; then
        failed "$1: the printed config does not load again:"
        sed 's/^/    /' "$tmp/again.err"
    elif ! cmp -s "$2" "$tmp/again.out"; then
        failed "$1: the printed config prints differently when loaded again:"
        diff -u "$2" "$tmp/again.out" | sed 's/^/    /'
    fi
}

for conf in good/*.conf; do
    [ -e "$conf" ] || continue
    count=$((count + 1))
    want=${conf%.conf}.out
    if ! "$ecmond" -n -v -c "$conf" >"$tmp/out" 2>"$tmp/err"; then
        failed "$conf: rejected:"
        sed 's/^/    /' "$tmp/err"
        continue
    fi
    [ -n "$write" ] && cp "$tmp/out" "$write/$(basename "$want")"
    if [ ! -e "$want" ]; then
        failed "$conf: no $want"
    elif ! cmp -s "$want" "$tmp/out"; then
        failed "$conf: output differs from $want:"
        diff -u "$want" "$tmp/out" | sed 's/^/    /'
    fi
    reprint "$conf" "$tmp/out"
done

for conf in bad/*.conf; do
    [ -e "$conf" ] || continue
    count=$((count + 1))
    want=${conf%.conf}.err
    "$ecmond" -n -c "$conf" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ -n "$write" ] && cp "$tmp/err" "$write/$(basename "$want")"
    if [ $rc -ne 1 ]; then
        failed "$conf: exit status $rc, not 1"
        sed 's/^/    /' "$tmp/err"
    elif [ ! -e "$want" ]; then
        failed "$conf: no $want"
    elif ! cmp -s "$want" "$tmp/err"; then
        failed "$conf: messages differ from $want:"
        diff -u "$want" "$tmp/err" | sed 's/^/    /'
    fi
done

for conf in "$src"/config/examples/*.conf; do
    [ -e "$conf" ] || continue
    count=$((count + 1))
    if ! "$ecmond" -n -v -c "$conf" >"$tmp/out" 2>"$tmp/err"; then
        failed "$conf: rejected:"
        sed 's/^/    /' "$tmp/err"
        continue
    fi
    reprint "$conf" "$tmp/out"
done

if [ $fail -ne 0 ]; then
    echo "$fail of $count config cases failed"
    exit 1
fi
echo "all $count config cases passed"
