#!/usr/bin/env bash
# compare.sh — runs the transparency suite (tests/Transparency.Tests/Programs, one anti-analysis
# technique per program) natively, under strace -f, under gdb, and under `ether record` (full mode,
# syscalls mode, and full mode with --no-transparency), and prints a Markdown table of what each
# program said: CLEAN, DETECTED (with its reason), or no verdict (killed, stopped). This is how the
# table in docs/transparency.md was measured. Usage: bench/transparency/compare.sh [FILTER]
# (FILTER: a substring of program names). Takes a few minutes: every program runs six times.
set -uo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
programs="$root/tests/Transparency.Tests/Programs"
ether="${ETHER:-$root/ether}"
filter="${1:-}"
work="$(mktemp -d /tmp/tmp.XXXXXXXX)"   # a neutral name: the programs look for analysis words in paths
trap 'rm -rf "$work"' EXIT
command -v strace >/dev/null || { echo "compare.sh: strace is not installed" >&2; exit 1; }
command -v gdb >/dev/null || { echo "compare.sh: gdb is not installed" >&2; exit 1; }
"$ether" --help >/dev/null 2>&1 || { echo "compare.sh: $ether does not run" >&2; exit 1; }

for src in "$programs"/*"$filter"*.c; do
  name="$(basename "$src" .c)"
  case "$name" in
    glibc_*) gcc -O1 -static -pthread -o "$work/$name" "$src" ;;
    dynamic_*) gcc -O1 -o "$work/$name" "$src" ;;
    *) gcc -static -nostdlib -fno-pie -no-pie -O1 -fno-stack-protector -fcf-protection=none -I"$programs" -o "$work/$name" "$src" ;;
  esac || exit 1
done

# The verdict line of a run's output, or what became of it.
verdict() {
  local out="$1" rc="$2" line
  line="$(grep -m1 -E '^(CLEAN|DETECTED)' <<<"$out")"
  if [ -n "$line" ]; then echo "${line//|//}"; elif [ "$rc" -ge 128 ]; then echo "(no verdict: killed by signal $((rc - 128)))"; else echo "(no verdict: exit $rc)"; fi
}

# The programs judge their environment and descriptors: give them what a user's shell gives, not
# this script's (ETHER names the recorder; the caller's shell may hold descriptors open).
unset ETHER
for fd in /proc/$$/fd/*; do
  n="${fd##*/}"
  if [ "$n" -gt 2 ] && [ "$n" -lt 255 ]; then eval "exec $n>&-" 2>/dev/null; fi
done

cd "$work"
echo "| program | native | strace -f | gdb | ether record | ether record --mode syscalls | ether record --no-transparency |"
echo "|---|---|---|---|---|---|---|"
for bin in "$work"/*; do
  [ -x "$bin" ] && [ -f "$bin" ] || continue
  name="$(basename "$bin")"
  out="$(bash -c '"$0" "$@"; exit $?' "$bin" 2>/dev/null </dev/null)"; native="$(verdict "$out" $?)"
  out="$(strace -f -o /dev/null "$bin" 2>/dev/null </dev/null)"; st="$(verdict "$out" $?)"
  out="$(gdb -q -batch -ex run --args "$bin" 2>/dev/null </dev/null)"; gd="$(verdict "$out" $?)"
  out="$("$ether" record -o "$work/t.etrace" -- "$bin" 2>/dev/null </dev/null)"; full="$(verdict "$out" $?)"
  out="$("$ether" record --mode syscalls -o "$work/t.etrace" -- "$bin" 2>/dev/null </dev/null)"; sys="$(verdict "$out" $?)"
  out="$("$ether" record --no-transparency -o "$work/t.etrace" -- "$bin" 2>/dev/null </dev/null)"; raw="$(verdict "$out" $?)"
  echo "| $name | $native | $st | $gd | $full | $sys | $raw |"
done
