#!/usr/bin/env bash
# Fails when a tracked C file differs from what clang-format makes of it.
set -euo pipefail
cf=$1 src=$2
cd "$src"
bad=0
while IFS= read -r f; do
  if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run: clang-format -i $f)"
    bad=1
  fi
done < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
exit $bad
