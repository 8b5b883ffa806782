#!/bin/sh
# The agent's copy of the patch's public interface (src/ether_abi.h) must match the patches.
patches="$1"; abi="$2"
fail=0
# The value text after the name, up to a comment, with C's suffix case made uniform.
value_in_patch() { grep -h "^+#define $1 " "$patches"/*.patch | head -1 | sed 's/^+#define [A-Z_0-9]* *//; s|/\*.*||; s/ *$//' | tr 'U' 'u'; }
value_in_abi() { grep -h "^#define $1 " "$abi" | head -1 | sed 's/^#define [A-Z_0-9]* *//; s|/\*.*||; s/ *$//' | tr 'U' 'u'; }
check() {  # check PATCH_NAME ABI_NAME
  p=$(value_in_patch "$1"); a=$(value_in_abi "$2")
  if [ -z "$p" ] || [ "$p" != "$a" ]; then
    echo "abi_matches_patch: $1 is '$p' in the patch, $2 is '$a' in ether_abi.h"; fail=1
  fi
}
check XEN_DOMCTL_MONITOR_EVENT_ETHER_SYSCALL ETHER_MONITOR_EVENT_SYSCALL
check XEN_DOMCTL_ETHER_TRAP_SYSCALL ETHER_TRAP_SYSCALL
check XEN_DOMCTL_ETHER_TRAP_SYSENTER ETHER_TRAP_SYSENTER
check XEN_DOMCTL_ETHER_REPORT_RETURNS ETHER_REPORT_RETURNS
check VM_EVENT_REASON_ETHER_SYSCALL ETHER_VM_EVENT_REASON_SYSCALL
check VM_EVENT_ETHER_SYSCALL ETHER_KIND_SYSCALL
check VM_EVENT_ETHER_SYSENTER ETHER_KIND_SYSENTER
check VM_EVENT_ETHER_SYSRET ETHER_KIND_SYSRET
check VM_EVENT_ETHER_SYSEXIT ETHER_KIND_SYSEXIT
# The payload's fields, in order, as the patch declares them.
fields=$(sed -n '/^+struct vm_event_ether_syscall {/,/^+};/p' "$patches"/*.patch | grep -Eo '(uint[0-9]+_t) +[a-z_]+(\[[0-9]+\])?' | tr -s ' ' | tr '\n' ';')
want='uint64_t number;uint64_t insn_address;uint32_t insn_length;uint8_t kind;uint8_t cpl;uint8_t _pad[2];'
[ "$fields" = "$want" ] || { echo "abi_matches_patch: payload in the patch is '$fields'"; fail=1; }
# The monitor-op option is the first byte of the union.
grep -q '^+            uint8_t mechanisms;' "$patches"/*.patch || { echo "abi_matches_patch: mechanisms byte not found"; fail=1; }
[ "$fail" -eq 0 ] && echo "abi_matches_patch: ok"
exit $fail
