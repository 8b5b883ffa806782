#!/bin/sh
# Bad input gets one clear line on stderr and a non-zero exit, never a crash or binary noise.
agent="$1"; session="$2"
err=$(mktemp); out=$(mktemp); junk=$(mktemp)
trap 'rm -f "$err" "$out" "$junk"' EXIT
printf 'MZ\220\000 this is not a session' >"$junk"
fail=0
expect() {  # expect "what" "pattern" args...
  what="$1"; pattern="$2"; shift 2
  "$agent" "$@" >"$out" 2>"$err"
  rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then
    echo "cli_errors: $what: exit code $rc"; fail=1; return
  fi
  if [ "$(wc -l <"$err")" -ne 1 ] || ! grep -q "^ether-agent: .*$pattern" "$err"; then
    echo "cli_errors: $what: stderr was:"; cat "$err"; fail=1; return
  fi
  if [ -s "$out" ]; then echo "cli_errors: $what: wrote to stdout"; fail=1; fi
}
expect "no arguments" "--domain ID is required"
expect "bad domain" "wants a domain id" --domain abc --syscalls
expect "negative domain" "wants a domain id" --domain -3 --syscalls
expect "nothing to trace" "nothing to trace" --replay "$session"
expect "process and cr3" "give one" --replay "$session" --process a.exe --cr3 0x1000 --syscalls
expect "bad cr3" "--cr3 wants a number" --replay "$session" --cr3 zz --syscalls
expect "bad guest" "--guest is" --replay "$session" --guest os2 --syscalls
expect "bad timeout" "--timeout-ms wants" --replay "$session" --timeout-ms soon --syscalls
expect "unknown option" "unknown or incomplete option" --replay "$session" --frobnicate
expect "stray argument" "unexpected argument" --replay "$session" --syscalls extra
expect "missing session" "cannot open session file" --replay /nonexistent/s.bin --syscalls
expect "not a session" "not an ether session file" --replay "$junk" --syscalls
expect "wrong domain" "is a session of domain 7, not 8" --replay "$session" --domain 8 --syscalls
expect "missing table" "cannot open syscall table" --replay "$session" --syscalls --syscall-table /nonexistent.csv
expect "process on linux" "--process needs --guest winxp-sp2" --replay "$session" --guest linux --process a.exe --singlestep
expect "no recorder listening" "cannot connect to" --replay "$session" --syscalls --socket /nonexistent/ether.sock
[ "$fail" -eq 0 ] && echo "cli_errors: ok"
exit $fail
