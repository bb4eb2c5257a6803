#!/usr/bin/env bash
# hack/fuzz.sh FUZZTIME pkg:FuzzTarget...: each fuzz target for FUZZTIME
# (make fuzz). Findings land in testdata/fuzz/ of the package and fail the
# run.
#
# One failure is retried: Go 1.26's fuzz coordinator fails a target with a
# bare "context deadline exceeded" when -fuzztime ends while a worker is
# still busy, which a loaded machine makes likely (CI failed so on FuzzYAML,
# no input written): golang/go#75804, fixed in Go 1.27.0. The fuzzers stay
# on the Go that builds loki-cmp: FuzzJSONTree checks the generator's JSON
# against that Go's encoding/json, and 1.27's differs (a field with an
# invalid tag name). A run that wrote a failing input, or failed otherwise,
# is never retried.
set -uo pipefail
GO=${GO:-go}
fuzztime=$1
shift
for t in "$@"; do
  pkg=${t%%:*} fn=${t##*:}
  for attempt in 1 2; do
    echo "fuzz $fn ($pkg, $fuzztime)"
    out=$(mktemp)
    "$GO" test -run '^$' -fuzz "^$fn\$" -fuzztime "$fuzztime" "./$pkg" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    deadline_only=false
    if grep -qx '    context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"; then
      deadline_only=true
    fi
    rm -f "$out"
    [ "$rc" -eq 0 ] && break
    if [ "$attempt" -eq 1 ] && $deadline_only; then
      echo "fuzz $fn: the coordinator's deadline error with no input found (golang/go#75804): once more"
      continue
    fi
    exit "$rc"
  done
done
