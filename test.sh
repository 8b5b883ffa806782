#!/usr/bin/env bash
# Runs every test of Ether.Replay: the xunit suites (dotnet test) and the xen-ether agent's CTest
# suite. Installs missing Debian packages first. Its last line is "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
cd "$root"
./setup.sh --packages-only || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
skipped=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# xunit: one summary line per test assembly ("Passed!  - Failed: F, Passed: P, ..."); a crashed or
# aborted run without a summary counts as a failure.
dotnet test Ether.Replay.sln -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
while read -r f p; do
  failed=$((failed + f)); passed=$((passed + p))
done < <(sed -nE 's/.*Failed: *([0-9]+), Passed: *([0-9]+),.*/\1 \2/p' "$log")
if [ "$status" -ne 0 ] && ! grep -qE "Failed: *[1-9]" "$log"; then
  echo "test.sh: dotnet test failed without a failing test (build error or aborted run)" >&2
  failed=$((failed + 1))
fi

# CTest of the xen-ether dom0 agent.
if [ -x xen-ether/agent/test.sh ]; then
  xen-ether/agent/test.sh 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  summary="$(sed -nE 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1 \2/p' "$log" | tail -1)"
  if [ -n "$summary" ]; then
    read -r f t <<<"$summary"
    s=$(grep -c '(Skipped)' "$log" || true)   # e.g. no_xen_fails_cleanly on a Xen dom0
    failed=$((failed + f)); passed=$((passed + t - f - s)); skipped=$((skipped + s))
  elif [ "$status" -ne 0 ]; then
    failed=$((failed + 1))
  fi
fi

if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ]
