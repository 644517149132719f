#!/usr/bin/env bash
# Long fuzzing runs (not part of ctest): builds the libFuzzer targets with
# clang, ASan and UBSan, and runs each for FUZZ_SECONDS (default 300).
# New inputs go to a work corpus; a crash is copied into
# tests/fuzz/corpus/<target>/ so that ctest replays it from then on.
#   scripts/fuzz.sh [TARGET...]        targets: ctl config decode va vamsg http mbtcp
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
"$src/scripts/deps.sh"
command -v clang >/dev/null || {
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get install -y -qq clang libclang-rt-14-dev >&2
}
dir="$src/build-fuzz"
CC=clang cmake -S "$src" -B "$dir" -DECMON_FUZZ=ON -DECMON_ASAN=ON \
  -DECMON_UBSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ctl config decode va vamsg http mbtcp)
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >&2
secs=${FUZZ_SECONDS:-300}
export LSAN_OPTIONS="suppressions=$src/tests/lsan.supp"
status=0
for t in "${targets[@]}"; do
  work="$dir/corpus-$t"
  mkdir -p "$work" "$dir/crashes-$t"
  echo "== fuzz_$t for ${secs}s" >&2
  if ! "$dir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
       -artifact_prefix="$dir/crashes-$t/" "$work" "$src/tests/fuzz/corpus/$t" \
       2> "$dir/fuzz-$t.log"; then
    status=1
    cp "$dir/crashes-$t"/* "$src/tests/fuzz/corpus/$t/" 2>/dev/null || true
    echo "fuzz_$t: CRASH, input kept in tests/fuzz/corpus/$t (see $dir/fuzz-$t.log)" >&2
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/fuzz-$t.log" | grep -o '[0-9]*$' || echo '?')
  echo "fuzz_$t: $runs executions in ${secs}s"
done
exit $status
