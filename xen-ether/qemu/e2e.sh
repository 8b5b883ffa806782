#!/usr/bin/env bash
# e2e.sh: Ether on a real Xen host, end to end, under QEMU's software emulator (TCG, emulated AMD SVM).
#
#   xen-ether/qemu/e2e.sh [--cache DIR] [--timeout SECONDS] [--keep DIR] [--prepare-only]
#
# Builds the patched hypervisor (xen-ether/build-xen.sh), a dom0 root with Debian's xen-utils-4.17
# of the same version, a Debian kernel for dom0 and guest, ether-agent, and a guest initramfs whose
# /init is xen-ether/qemu/guest/e2e-guest.c (built now); boots it all with qemu-system-x86_64
# -accel tcg; in dom0 the agent traces the guest (single-step with the trap flag, system calls,
# memory writes and write-then-execute derived from the steps) and the frames come back to the host
# on a second disk (a tar archive). Then `ether record xen --frames` makes an .etrace and the checks
# run: system calls as `ether syscalls` prints them, the exact step count of the known loop, the
# unpacking layer at 0x500000, the guest's output equal to the program's native output, and the
# trace opening in `ether tui`. The last line is the verdict; exit 0 only if every check holds.
#
# Everything from Debian's archive. Prepared images are cached in DIR (default
# xen-ether/work/qemu-cache): the second run only builds the agent and the guest program and boots.
# --timeout bounds the whole boot (default 1800 s). --keep DIR keeps the run's files (console log,
# frames, trace). On failure the console log is kept and named in the one-line error.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
xen_ether="$(dirname "$here")"
repo="$(dirname "$xen_ether")"
cache="$xen_ether/work/qemu-cache"
timeout_s=1800
keep=""
prepare_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cache) cache="$2"; shift 2 ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    --prepare-only) prepare_only=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "e2e.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done

XEN_VERSION="$(sed -n 's/^XEN_VERSION="\([^"]*\)".*/\1/p' "$xen_ether/build-xen.sh")"
KERNEL="6.1.0-57-amd64"       # the dom0 and guest kernel (Debian bookworm linux-image-amd64)
LAYER_ADDR=0x500000           # where e2e-guest.c decrypts its layer
LOOP_N=100                    # iterations of e2e-guest.c's loop (3 instructions each)
AGENT_OPTIONS="--singlestep --syscalls --memwrites --unpack --user-only --timeout-ms 0"
HOST_DEPS=(qemu-system-x86 debootstrap cpio tar tmux strace cmake make gcc pkg-config libxen-dev libmsgpack-dev libzydis-dev)

start=$(date +%s)
run="$(mktemp -d /tmp/ether-xen-e2e.XXXXXX)"
qemu_pid=""
failed=1
say() { printf '==> [%3ds] %s\n' "$(( $(date +%s) - start ))" "$*"; }
fail() {
  local where="$run"
  if [ -n "$keep" ]; then where="$keep"; fi
  printf 'e2e.sh: FAILED: %s (console log: %s/console.log)\n' "$*" "$where" >&2
  exit 1
}
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then kill -TERM "$qemu_pid" 2>/dev/null; sleep 1; kill -KILL "$qemu_pid" 2>/dev/null || true; fi
  if [ -n "$keep" ]; then mkdir -p "$keep"; cp -a "$run"/. "$keep"/ 2>/dev/null || true; fi
  if [ "$failed" = 0 ] || [ -n "$keep" ]; then rm -rf "$run"; else
    # keep only the logs of a failed run
    find "$run" -maxdepth 1 -type f \( -name '*.cpio' -o -name '*.img' \) -delete 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM
trap 'fail "line $LINENO: \"$BASH_COMMAND\" failed"' ERR

[ "$(id -u)" = 0 ] || fail "needs root (apt-get, debootstrap, chroot)"
mkdir -p "$cache"

# ---- host packages ---------------------------------------------------------------------------------
missing=()
for p in "${HOST_DEPS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; } \
    >"$run/apt.log" 2>&1 || fail "apt-get install ${missing[*]} (see $run/apt.log)"
fi

# ---- dom0/guest kernel -------------------------------------------------------------------------------
kdir="$cache/kernel-$KERNEL"
if [ ! -f "$kdir/vmlinuz" ]; then
  say "fetching linux-image-$KERNEL"
  rm -rf "$kdir.tmp" && mkdir -p "$kdir.tmp/deb"
  (cd "$kdir.tmp/deb" && apt-get download "linux-image-$KERNEL") >"$run/kernel.log" 2>&1 || fail "apt-get download linux-image-$KERNEL (see $run/kernel.log)"
  dpkg-deb -x "$kdir.tmp"/deb/*.deb "$kdir.tmp/x" && cp "$kdir.tmp/x/boot/vmlinuz-$KERNEL" "$kdir.tmp/vmlinuz"
  mv "$kdir.tmp/x/lib/modules/$KERNEL" "$kdir.tmp/modules" && rm -rf "$kdir.tmp/x" "$kdir.tmp/deb" && mv "$kdir.tmp" "$kdir"
fi

# ---- dom0 root: Debian minbase + xen-utils-4.17 of the hypervisor's version --------------------------
root_key=$(printf '%s %s v1' "$XEN_VERSION" "$KERNEL" | sha256sum | cut -c1-12)
rootfs_cpio="$cache/dom0-root-$root_key.cpio"
if [ ! -f "$rootfs_cpio" ]; then
  say "preparing the dom0 root (debootstrap + xen-utils-4.17=$XEN_VERSION, ~2-4 minutes)"
  mirror=$( (grep -hoE '^(URIs:|deb) +[^ ]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true) \
            | grep -v security | head -1 | awk '{print $2}')
  mirror=${mirror:-http://deb.debian.org/debian}
  rootfs="$cache/rootfs.tmp"
  if [ ! -f "$rootfs/.debootstrap-done" ]; then   # a failed later stage does not redo this
    rm -rf "$rootfs"
    timeout 1800 debootstrap --variant=minbase --include=kmod,busybox,procps bookworm "$rootfs" "$mirror" >"$run/debootstrap.log" 2>&1 \
      || fail "debootstrap (see $run/debootstrap.log)"
    touch "$rootfs/.debootstrap-done"
  fi
  printf 'deb %s bookworm main\n' "$mirror" >"$rootfs/etc/apt/sources.list"
  mount -t proc proc "$rootfs/proc"
  # The tools must speak the hypervisor's interface: the same Debian version as build-xen.sh's source.
  chroot "$rootfs" sh -c "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      xen-utils-4.17=$XEN_VERSION xen-utils-common=$XEN_VERSION libxenmisc4.17=$XEN_VERSION libxenstore4=$XEN_VERSION \
      libxencall1=$XEN_VERSION libxendevicemodel1=$XEN_VERSION libxenevtchn1=$XEN_VERSION libxenforeignmemory1=$XEN_VERSION \
      libxengnttab1=$XEN_VERSION libxenhypfs1=$XEN_VERSION libxentoolcore1=$XEN_VERSION libxentoollog1=$XEN_VERSION \
      libmsgpackc2 libzydis4.0" >"$run/dom0-apt.log" 2>&1 \
    || { umount "$rootfs/proc"; fail "installing xen-utils-4.17=$XEN_VERSION in the dom0 root (see $run/dom0-apt.log)"; }
  umount "$rootfs/proc"
  rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*_* \
         "$rootfs"/usr/share/{locale,doc,man,info}
  mkdir -p "$rootfs/lib/modules/$KERNEL/kernel/drivers" "$rootfs/boot"
  for d in xen virtio block; do cp -a "$kdir/modules/kernel/drivers/$d" "$rootfs/lib/modules/$KERNEL/kernel/drivers/"; done
  cp "$kdir"/modules/modules.{order,builtin,builtin.modinfo} "$rootfs/lib/modules/$KERNEL/"
  chroot "$rootfs" depmod "$KERNEL"
  cp "$kdir/vmlinuz" "$rootfs/boot/vmlinuz"
  rm -f "$rootfs/.debootstrap-done"
  (cd "$rootfs" && find . -xdev | cpio -o -H newc --quiet) >"$rootfs_cpio.tmp" && mv "$rootfs_cpio.tmp" "$rootfs_cpio"
  rm -rf "$rootfs"
fi
say "dom0 root: $(basename "$rootfs_cpio") ($(( $(stat -c %s "$rootfs_cpio") / 1048576 )) MiB)"
# ---- the patched hypervisor (cached per patch series) ----------------------------------------------
series_hash=$(cat "$xen_ether/build-xen.sh" "$xen_ether"/patches/series "$xen_ether"/patches/*.patch | sha256sum | cut -c1-16)
xen_elf="$cache/xen-$series_hash"
if [ ! -f "$xen_elf" ]; then
  say "building the patched hypervisor (xen-ether/build-xen.sh, a few minutes)"
  "$xen_ether/build-xen.sh" >"$run/build-xen.log" 2>&1 || fail "build-xen.sh: $(grep FAILED "$run/build-xen.log" | tail -1)"
  cp "$xen_ether/work/xen-${XEN_VERSION%-*}/xen/xen" "$xen_elf.tmp" && mv "$xen_elf.tmp" "$xen_elf"
fi
say "hypervisor: $(basename "$xen_elf") (xen $XEN_VERSION + $(grep -c '^0' "$xen_ether/patches/series") Ether patches)"

[ "$prepare_only" = 1 ] && { failed=0; say "prepared (--prepare-only) in $cache"; exit 0; }

# ---- the interface pairing: hypervisor source, the agent's headers, dom0's tools ---------------------
tree="$xen_ether/work/xen-${XEN_VERSION%-*}"
if [ -d "$tree" ]; then
  for v in XEN_DOMCTL_INTERFACE_VERSION:domctl.h XEN_SYSCTL_INTERFACE_VERSION:sysctl.h VM_EVENT_INTERFACE_VERSION:vm_event.h; do
    name=${v%%:*}; file=${v#*:}
    a=$(grep -m1 "define $name" "$tree/xen/include/public/$file" | awk '{print $3}')
    b=$(grep -m1 "define $name" "/usr/include/xen/$file" | awk '{print $3}')
    [ "$a" = "$b" ] || fail "$name is $a in the hypervisor but $b in the agent's libxen-dev headers"
  done
fi

# ---- this run: agent, guest program, overlay -----------------------------------------------------------
say "building ether-agent and the guest program"
cmake -S "$xen_ether/agent" -B "$xen_ether/agent/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$run/agent-build.log" 2>&1 \
  && cmake --build "$xen_ether/agent/build" -j 2 --target ether-agent >>"$run/agent-build.log" 2>&1 \
  || fail "building ether-agent (see $run/agent-build.log)"
gcc -O1 -static -nostdlib -fno-pie -no-pie -fno-stack-protector -fcf-protection=none \
    -o "$run/e2e-guest" "$here/guest/e2e-guest.c" || fail "building the guest program"
"$run/e2e-guest" >"$run/native.out" || fail "the guest program fails natively"
loop_start=$(nm "$run/e2e-guest" | awk '$3=="e2e_loop"{print $1}')
loop_end=$(nm "$run/e2e-guest" | awk '$3=="e2e_loop_end"{print $1}')
entry=$(printf '%x' "$((16#$(nm "$run/e2e-guest" | awk '$3=="_start"{print $1}')))")

mkdir -p "$run/ginit/dev" "$run/overlay/usr/local/bin" "$run/overlay/etc/xen" "$run/overlay/boot"
cp "$run/e2e-guest" "$run/ginit/init"
mknod -m 600 "$run/ginit/dev/console" c 5 1
(cd "$run/ginit" && find . | cpio -o -H newc --quiet) >"$run/overlay/boot/guest.cpio"
cp "$xen_ether/agent/build/ether-agent" "$run/overlay/usr/local/bin/"
cp "$here/dom0-init.sh" "$run/overlay/init"
cp "$here/guest.cfg" "$run/overlay/etc/xen/e2e.cfg"
printf 'AGENT_OPTIONS="%s"\nGUEST_SECONDS=%s\n' "$AGENT_OPTIONS" "$((timeout_s - 300))" >"$run/overlay/etc/e2e.env"
(cd "$run/overlay" && find . | cpio -o -H newc --quiet) >"$run/overlay.cpio"
cat "$rootfs_cpio" "$run/overlay.cpio" >"$run/initrd.cpio"
truncate -s 64M "$run/results.img"

# ---- boot ---------------------------------------------------------------------------------------------
say "booting Xen + dom0 + the guest under qemu-system-x86_64 -accel tcg (timeout ${timeout_s}s)"
boot_start=$(date +%s)
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 -machine pc -accel tcg,thread=multi \
  -cpu EPYC,+svm,+npt,-smap,-monitor,-rdtscp -smp 2 -m 3072 -nographic -no-reboot \
  -kernel "$xen_elf" \
  -append "console=com1 com1=115200 dom0_mem=1536M,max:1536M dom0_max_vcpus=2 loglvl=all guest_loglvl=all noreboot" \
  -initrd "$kdir/vmlinuz console=hvc0 earlyprintk=xen rdinit=/init quiet,$run/initrd.cpio" \
  -drive "file=$run/results.img,format=raw,if=virtio" \
  </dev/null >"$run/console.log" 2>&1 &
qemu_pid=$!
while kill -0 "$qemu_pid" 2>/dev/null; do
  sleep 5
  last=$( (grep -a 'E2E\[' "$run/console.log" || true) | tail -1 | tr -d '\r')
  [ -n "$last" ] && [ "$last" != "${shown:-}" ] && { say "dom0: ${last#*] }"; shown="$last"; }
done
wait "$qemu_pid" && qemu_rc=0 || qemu_rc=$?
qemu_pid=""
boot_s=$(( $(date +%s) - boot_start ))
[ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ] && fail "timed out after ${timeout_s}s: $(grep -a 'E2E\[' "$run/console.log" | tail -1 | tr -d '\r')"
grep -aq 'E2E-DONE' "$run/console.log" || fail "qemu exited ($qemu_rc) before dom0 finished: $(grep -a -E 'Panic|panic|E2E\[' "$run/console.log" | tail -1 | tr -d '\r')"
mkdir -p "$run/out"
tar xf "$run/results.img" -C "$run/out" 2>/dev/null || fail "no results archive on the results disk"
say "dom0: $(tail -1 "$run/out/status")"
[ -s "$run/out/frames.bin" ] || fail "no frames: $(tail -1 "$run/out/status")"

# ---- checks -------------------------------------------------------------------------------------------
ether="$repo/ether"
trace="$run/e2e.etrace"
"$ether" record xen --frames "$run/out/frames.bin" --guest linux -o "$trace" >"$run/record.log" 2>&1 \
  || fail "ether record xen --frames: $(tail -1 "$run/record.log")"

# 1. The guest behaved as natively: the same lines, in order.
tr -d '\r' <"$run/out/guest.log" | grep -E '^(e2e guest|getpid|openat|mmap|e2e layer|layer returned|loop sum|pushf tf|own traps|segv frame tf)' >"$run/guest.out" || true
diff -u "$run/native.out" "$run/guest.out" >"$run/output.diff" || fail "the traced guest printed other lines than the native run (see $run/output.diff)"

# 2. The system calls, decoded by the Linux tables, as ether syscalls prints them.
"$ether" syscalls "$trace" >"$run/syscalls.txt" 2>&1 || fail "ether syscalls: $(tail -1 "$run/syscalls.txt")"
# The same calls, in the same order, as strace sees natively (execve aside: the kernel ran /init).
strace -o "$run/native.strace" "$run/e2e-guest" >/dev/null 2>&1 || fail "strace of the guest program natively"
expect_calls=$(sed -nE 's/^([a-z_0-9]+)\(.*/\1/p' "$run/native.strace" | grep -v '^execve$' | tr '\n' ' ')
got_calls=$(sed -nE 's/^\[[0-9]+\] ([a-z_0-9]+)\(.*/\1/p' "$run/syscalls.txt" | tr '\n' ' ')
[ -n "$got_calls" ] && [ "$got_calls" = "$expect_calls" ] || fail "system calls differ from strace's native run: expected $expect_calls; got $got_calls (see $run/syscalls.txt)"
grep -q 'openat(AT_FDCWD, "/etc/ether-e2e-missing", O_RDONLY) = -1 ENOENT' "$run/syscalls.txt" || fail "openat not decoded with its path and ENOENT (see $run/syscalls.txt)"

# 3. The known loop, stepped instruction by instruction: exactly 3 * LOOP_N steps in it.
loop_steps=$("$ether" sql "$trace" "SELECT count(*) FROM instructions WHERE rip >= 0x$loop_start AND rip < 0x$loop_end" --csv 2>&1 | tail -1)
[ "$loop_steps" = "$((3 * LOOP_N))" ] || fail "the loop has $loop_steps steps in the trace, expected $((3 * LOOP_N))"

# 4. The unpacking layer at the address the program decrypted to.
"$ether" unpack "$trace" >"$run/unpack.txt" 2>&1 || fail "ether unpack: $(tail -1 "$run/unpack.txt")"
grep -qE "^ +1 +[0-9]+ +0x0*${LAYER_ADDR#0x} " "$run/unpack.txt" || fail "no unpacking layer at $LAYER_ADDR (see $run/unpack.txt)"

# 5. It opens in ether tui.
tmux kill-session -t ether-e2e 2>/dev/null || true
tmux new-session -d -s ether-e2e -x 120 -y 40 "$ether tui $trace"
tui_ok=0
for _ in $(seq 1 60); do
  sleep 1
  # The first screen: the program's first instruction (its entry point) and the system-call pane.
  screen=$(tmux capture-pane -p -t ether-e2e 2>/dev/null || true)
  if grep -q "0x$entry " <<<"$screen" && grep -q "Syscalls" <<<"$screen"; then tui_ok=1; break; fi
done
tmux capture-pane -p -t ether-e2e >"$run/tui.txt" 2>/dev/null || true
tmux send-keys -t ether-e2e q 2>/dev/null || true
sleep 1
tmux kill-session -t ether-e2e 2>/dev/null || true
[ "$tui_ok" = 1 ] || fail "ether tui did not show the trace (see $run/tui.txt)"

steps=$("$ether" sql "$trace" "SELECT count(*) FROM instructions" --csv 2>&1 | tail -1)
rate=$(sed -nE 's/^ether-agent: ([0-9]+) events in ([0-9.]+) s .*\(([0-9.]+)\/s\).*/\1 events in \2 s = \3 events\/s/p' "$run/out/agent.log" | tail -1)
calls=$(wc -w <<<"$got_calls")
failed=0
printf 'e2e: PASSED: xen %s (SVM under QEMU TCG): %s user steps, %s system calls, loop %s steps exact, layer 1 at %s, guest output = native; monitor %s; boot+trace %ss, total %ss\n' \
  "${XEN_VERSION%-*}" "$steps" "$calls" "$loop_steps" "$LAYER_ADDR" "${rate:-?}" "$boot_s" "$(( $(date +%s) - start ))"
