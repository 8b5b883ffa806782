#!/bin/sh
# Without Xen, `ether-agent --domain 1` must fail at once: non-zero exit, exactly one line on
# stderr saying why, nothing on stdout.
agent="$1"
out=$(mktemp); err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
privcmd="${XEN_PRIVCMD:-/dev/xen/privcmd}"   # overridable so the skip path can be tested
if [ -e "$privcmd" ]; then
  # 77: CTest's SKIP_RETURN_CODE for this test -- reported as skipped, not as passed.
  echo "no_xen: skipped: this machine has Xen ($privcmd); the test only means something without it"
  exit 77
fi
start=$(date +%s)
"$agent" --domain 1 --syscalls >"$out" 2>"$err"
rc=$?
elapsed=$(( $(date +%s) - start ))
fail=0
[ "$rc" -ne 0 ] || { echo "no_xen: exit code 0, expected non-zero"; fail=1; }
[ "$(wc -l <"$err")" -eq 1 ] || { echo "no_xen: stderr has $(wc -l <"$err") lines:"; cat "$err"; fail=1; }
grep -Eq '^ether-agent: cannot open the Xen control interface \(xc_interface_open: .+\): is this a Xen dom0\?$' "$err" \
  || { echo "no_xen: unexpected message: $(cat "$err")"; fail=1; }
[ ! -s "$out" ] || { echo "no_xen: wrote $(wc -c <"$out") bytes to stdout"; fail=1; }
[ "$elapsed" -le 5 ] || { echo "no_xen: took ${elapsed}s"; fail=1; }
# The same for the --release path.
"$agent" --domain 1 --release >"$out" 2>"$err"
[ $? -ne 0 ] && [ "$(wc -l <"$err")" -eq 1 ] && grep -q 'is this a Xen dom0?' "$err" \
  || { echo "no_xen: --release: $(cat "$err")"; fail=1; }
[ "$fail" -eq 0 ] && echo "no_xen: ok ($(cat "$err"))"
exit $fail
