#!/bin/sh
# On a Xen dom0 (privcmd present), no_xen.sh must say "skipped" and exit 77 (CTest's skip code),
# not pass.  The device is simulated by pointing XEN_PRIVCMD at a file that exists.
out=$(XEN_PRIVCMD=/dev/null "$(dirname "$0")/no_xen.sh" "$1")
rc=$?
[ "$rc" -eq 77 ] || { echo "no_xen_skips: exit $rc, expected 77: $out"; exit 1; }
case "$out" in "no_xen: skipped:"*) echo "no_xen_skips: ok" ;; *) echo "no_xen_skips: said: $out"; exit 1 ;; esac
