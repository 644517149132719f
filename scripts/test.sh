#!/usr/bin/env bash
# The whole test suite: installs missing Debian packages, builds, runs ctest
# (unit, golden config and integration tests), then again with ASan+UBSan.
#   scripts/test.sh            both builds
#   scripts/test.sh --quick    the normal build only
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
"$src/scripts/deps.sh"

run_suite() {
  local dir="$1"; shift
  "$src/scripts/build.sh" "$dir" -DECMON_WERROR=ON "$@"
  echo "== ctest in $dir" >&2
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j2)
}

status=0
run_suite "$src/build" || status=1
if [ "${1:-}" != "--quick" ]; then
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export LSAN_OPTIONS="suppressions=$src/tests/lsan.supp"
  run_suite "$src/build-asan" -DECMON_ASAN=ON -DECMON_UBSAN=ON || status=1
fi
exit $status
