#!/usr/bin/env bash
# e2e.sh: Ether on a real Xen host, end to end, under QEMU's software emulator (TCG, emulated AMD SVM).
#
#   xen-ether/qemu/e2e.sh [--guest32 | --guest32-linux] [--no-trace] [--verbose-guest] [--hypervisor FILE] [--cache DIR]
#                         [--timeout SECONDS] [--keep DIR] [--prepare-only]
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
#
# --guest32: the sysenter check instead. AMD raises #UD for sysenter in long mode, so only a 32-bit
# (legacy-mode) guest uses it: the program xen-ether/qemu/guest/e2e-guest32.c (32-bit, system calls
# through the vDSO entry from auxv AT_SYSINFO, as glibc makes them) runs in ring 3 of a tiny 32-bit
# PVH kernel, guest/e2e-kernel32.c (i386 Linux's GDT layout, SYSENTER MSRs, a vDSO-style sysenter
# entry, i386 system-call numbers, sysexit back; output on the Xen debug console, port 0xe9). The agent
# traces system calls (SYSENTER_CS forced to 0 -> #GP intercept, returns by trapped sysexit); checks:
# every call came by sysenter and returned by sysexit (the raw frames), `ether syscalls` decodes them
# with the i386 table in strace's order, the guest's own RDMSR of SYSENTER_CS reads its value 0x60
# (the shadow; hardware holds 0), and the guest printed what the program prints natively.
# --guest32-linux: the same program as /init of Debian's linux-image-686-pae as a PVH guest instead.
# Under QEMU 7.2's emulator it never reaches /init: Xen decodes every intercepted instruction itself
# (no NRIPS), and the 32-bit PAE kernel loops at its first CPUID, on Debian's unpatched Xen too.
#
# Diagnostics: --no-trace boots the same guest without ether-agent (the hypervisor is the same; no
# monitor is enabled) and checks only that the guest printed what the program prints natively.
# --verbose-guest drops `quiet` from the guest's kernel command line (its whole boot log in guest.log).
# --hypervisor FILE boots that Xen binary instead (e.g. Debian's unpatched xen-4.17-amd64.gz, gunzipped,
# with --no-trace: is a guest's behaviour the patch's doing?).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
xen_ether="$(dirname "$here")"
repo="$(dirname "$xen_ether")"
cache="$xen_ether/work/qemu-cache"
timeout_s=1800
keep=""
prepare_only=0
guest32=0
linux32=0
no_trace=0
hypervisor=""
verbose_guest=0
while [ $# -gt 0 ]; do
  case "$1" in
    --guest32) guest32=1; shift ;;
    --guest32-linux) guest32=1; linux32=1; shift ;;
    --no-trace) no_trace=1; shift ;;
    --hypervisor) hypervisor="$2"; shift 2 ;;
    --verbose-guest) verbose_guest=1; shift ;;
    --cache) cache="$2"; shift 2 ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    --prepare-only) prepare_only=1; shift ;;
    -h|--help) sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "e2e.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done

XEN_VERSION="$(sed -n 's/^XEN_VERSION="\([^"]*\)".*/\1/p' "$xen_ether/build-xen.sh")"
KERNEL="6.1.0-57-amd64"       # the dom0 and guest kernel (Debian bookworm linux-image-amd64)
LAYER_ADDR=0x500000           # where e2e-guest.c decrypts its layer
LOOP_N=100                    # iterations of e2e-guest.c's loop (3 instructions each)
AGENT_OPTIONS="--singlestep --syscalls --memwrites --unpack --user-only --timeout-ms 0"
GUEST32_KERNEL="6.1.0-57-686-pae"   # --guest32: Debian bookworm linux-image-686-pae (CONFIG_XEN_PVH=y)
AGENT32_OPTIONS="--syscalls --timeout-ms 0"
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

# ---- --guest32: the 32-bit guest kernel and its msr module (i386 packages: a private apt config) -------
if [ "$linux32" = 1 ]; then
  k32="$cache/kernel-$GUEST32_KERNEL"
  if [ ! -f "$k32/vmlinuz" ]; then
    say "fetching linux-image-$GUEST32_KERNEL (i386)"
    a="$cache/apt-i386"
    mkdir -p "$a/etc/apt.conf.d" "$a/etc/preferences.d" "$a/etc/sources.list.d" "$a/state/lists/partial" "$a/cache/archives/partial"
    m32=$( (grep -hoE '^(URIs:|deb) +[^ ]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true) \
           | grep -v security | head -1 | awk '{print $2}')
    m32=${m32:-http://deb.debian.org/debian}
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s bookworm main\ndeb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s bookworm-security main\n' \
      "$m32" "http://deb.debian.org/debian-security" >"$a/etc/sources.list"
    printf 'Dir::Etc "%s/etc";\nDir::Etc::main "%s/apt.conf";\nDir::Etc::sourcelist "%s/etc/sources.list";\nDir::Etc::sourceparts "%s/etc/sources.list.d";\nDir::State "%s/state";\nDir::State::status "/var/lib/dpkg/status";\nDir::Cache "%s/cache";\nAPT::Architecture "i386";\nAPT::Architectures { "i386"; };\n' \
      "$a" "$a" "$a" "$a" "$a" "$a" >"$a/apt.conf"
    rm -rf "$k32.tmp" && mkdir -p "$k32.tmp/deb"
    { APT_CONFIG="$a/apt.conf" apt-get update && (cd "$k32.tmp/deb" && APT_CONFIG="$a/apt.conf" apt-get download "linux-image-$GUEST32_KERNEL"); } \
      >"$run/kernel32.log" 2>&1 || fail "apt-get download linux-image-$GUEST32_KERNEL for i386 (see $run/kernel32.log)"
    dpkg-deb -x "$k32.tmp"/deb/*.deb "$k32.tmp/x"
    grep -q '^CONFIG_XEN_PVH=y' "$k32.tmp/x/boot/config-$GUEST32_KERNEL" || fail "linux-image-$GUEST32_KERNEL has no CONFIG_XEN_PVH"
    cp "$k32.tmp/x/boot/vmlinuz-$GUEST32_KERNEL" "$k32.tmp/vmlinuz"
    cp "$k32.tmp/x/lib/modules/$GUEST32_KERNEL/kernel/arch/x86/kernel/msr.ko" "$k32.tmp/msr.ko"
    rm -rf "$k32.tmp/x" "$k32.tmp/deb" && mv "$k32.tmp" "$k32"
  fi
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

if [ -n "$hypervisor" ]; then xen_elf="$hypervisor"; say "hypervisor for this run: $hypervisor"; fi
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
if [ "$guest32" = 1 ]; then
  gcc -m32 -O1 -static -nostdlib -fno-pie -no-pie -fno-stack-protector -fcf-protection=none \
      -o "$run/e2e-guest" "$here/guest/e2e-guest32.c" || fail "building the 32-bit guest program"
  # The same program in ring 3 of the tiny kernel, one ELF (its PVH entry is an ELF note).
  gcc -m32 -O1 -ffreestanding -static -nostdlib -fno-pie -no-pie -fno-stack-protector -fcf-protection=none \
      -Wl,-Ttext-segment=0x100000 -Wl,--build-id=none -o "$run/e2e-kernel32" \
      "$here/guest/e2e-kernel32.c" "$here/guest/e2e-guest32.c" || fail "building the 32-bit guest kernel"
  AGENT_OPTIONS="$AGENT32_OPTIONS"
else
  gcc -O1 -static -nostdlib -fno-pie -no-pie -fno-stack-protector -fcf-protection=none \
      -o "$run/e2e-guest" "$here/guest/e2e-guest.c" || fail "building the guest program"
fi
"$run/e2e-guest" >"$run/native.out" || fail "the guest program fails natively"
loop_start=$(nm "$run/e2e-guest" | awk '$3=="e2e_loop"{print $1}')
loop_end=$(nm "$run/e2e-guest" | awk '$3=="e2e_loop_end"{print $1}')
entry=$(printf '%x' "$((16#$(nm "$run/e2e-guest" | awk '$3=="_start"{print $1}')))")

mkdir -p "$run/ginit/dev" "$run/overlay/usr/local/bin" "$run/overlay/etc/xen" "$run/overlay/boot"
cp "$run/e2e-guest" "$run/ginit/init"
mknod -m 600 "$run/ginit/dev/console" c 5 1
if [ "$linux32" = 1 ]; then
  cp "$k32/msr.ko" "$run/ginit/msr.ko"
  mknod -m 600 "$run/ginit/dev/cpu0msr" c 202 0   # the msr driver's /dev/cpu/0/msr
fi
(cd "$run/ginit" && find . | cpio -o -H newc --quiet) >"$run/overlay/boot/guest.cpio"
cp "$xen_ether/agent/build/ether-agent" "$run/overlay/usr/local/bin/"
cp "$here/dom0-init.sh" "$run/overlay/init"
cp "$here/guest.cfg" "$run/overlay/etc/xen/e2e.cfg"
[ "$verbose_guest" = 1 ] && sed -i '/^cmdline/s/ quiet//' "$run/overlay/etc/xen/e2e.cfg"
if [ "$linux32" = 1 ]; then
  cp "$k32/vmlinuz" "$run/overlay/boot/vmlinuz-guest32"
  sed -i 's|^kernel *=.*|kernel   = "/boot/vmlinuz-guest32"|' "$run/overlay/etc/xen/e2e.cfg"
elif [ "$guest32" = 1 ]; then
  cp "$run/e2e-kernel32" "$run/overlay/boot/e2e-kernel32"
  sed -i -e 's|^kernel *=.*|kernel   = "/boot/e2e-kernel32"|' -e '/^ramdisk/d' -e '/^cmdline/d' "$run/overlay/etc/xen/e2e.cfg"
fi
printf 'AGENT_OPTIONS="%s"\nGUEST_SECONDS=%s\nNO_TRACE=%s\n' "$AGENT_OPTIONS" "$((timeout_s - 300))" "$no_trace" >"$run/overlay/etc/e2e.env"
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
if [ "$no_trace" = 1 ]; then
  if [ "$guest32" = 1 ] && [ "$linux32" = 0 ]; then sed -nE 's/^(\(XEN\) )?\(d[0-9]+\) //p' "$run/out/xl-dmesg.log"
  else tr -d '\r' <"$run/out/guest.log"; fi \
    | grep -E '^(e2e|getpid|openat|mmap|layer returned|loop sum|pushf tf|own traps|segv frame tf)' >"$run/guest.out" || true
  diff -u "$run/native.out" "$run/guest.out" >"$run/output.diff" || fail "the untraced guest printed other lines than the native run (see $run/output.diff)"
  failed=0
  printf 'e2e --no-trace: PASSED: xen %s (SVM under QEMU TCG), %s guest without ether-agent: guest output = native, kernel %s; boot %ss, total %ss\n' \
    "${XEN_VERSION%-*}" "$([ "$guest32" = 1 ] && echo 32-bit || echo 64-bit)" \
    "$(tr -d '\r' <"$run/out/guest.log" | grep -oE 'Comm: init (Not tainted|Tainted: [A-Z ]+[A-Z])' | head -1)" "$boot_s" "$(( $(date +%s) - start ))"
  exit 0
fi
[ -s "$run/out/frames.bin" ] || fail "no frames: $(tail -1 "$run/out/status")"

# ---- checks -------------------------------------------------------------------------------------------
ether="$repo/ether"
trace="$run/e2e.etrace"
"$ether" record xen --frames "$run/out/frames.bin" --guest linux -o "$trace" >"$run/record.log" 2>&1 \
  || fail "ether record xen --frames: $(tail -1 "$run/record.log")"

if [ "$guest32" = 1 ]; then
  # 1. The guest behaved as natively: the same lines, in order (the SYSENTER_CS line is the guest's only).
  if [ "$linux32" = 1 ]; then tr -d '\r' <"$run/out/guest.log"
  else sed -nE 's/^(\(XEN\) )?\(d[0-9]+\) //p' "$run/out/xl-dmesg.log"; fi \
    | grep -E '^(e2e32|getpid|openat|sysenter_cs)' >"$run/guest.all" || true
  grep -v '^sysenter_cs' "$run/guest.all" >"$run/guest.out" || true
  diff -u "$run/native.out" "$run/guest.out" >"$run/output.diff" || fail "the traced guest printed other lines than the native run (see $run/output.diff)"
  # 2. The guest's own RDMSR of SYSENTER_CS sees its own value (__KERNEL_CS of 32-bit Linux), not the
  #    0 the hardware holds while Ether traps sysenter.
  msr_line=$(grep '^sysenter_cs' "$run/guest.all" || true)
  [ "$msr_line" = "sysenter_cs 0x60" ] || fail "the guest's RDMSR of SYSENTER_CS: '${msr_line:-no line}', expected 'sysenter_cs 0x60' (see $run/out/guest.log)"
  # 3. Every call entered by sysenter and returned by sysexit, in the agent's raw frames (MessagePack:
  #    "mechanism" then the fixstr "sysenter"/"sysexit"); exit_group does not return.
  n_enter=$( { LC_ALL=C grep -aoP '\xa9mechanism\xa8sysenter' "$run/out/frames.bin" || true; } | wc -l)
  n_exit=$( { LC_ALL=C grep -aoP '\xa9mechanism\xa7sysexit' "$run/out/frames.bin" || true; } | wc -l)
  n_other=$( { LC_ALL=C grep -aoP '\xa9mechanism[\xa6-\xa7](syscall|sysret)' "$run/out/frames.bin" || true; } | wc -l)
  # 4. ether syscalls: the i386 table's names and decoding, strace's native order plus the guest's
  #    SYSENTER_CS read (open, finit_module, close, open, pread64, write), which natively is skipped.
  "$ether" syscalls "$trace" >"$run/syscalls.txt" 2>&1 || fail "ether syscalls: $(tail -1 "$run/syscalls.txt")"
  strace -o "$run/native.strace" "$run/e2e-guest" >/dev/null 2>&1 || fail "strace of the guest program natively"
  expect_calls=$(sed -nE 's/^([a-z_0-9]+)\(.*/\1/p' "$run/native.strace" | grep -v '^execve$' | tr '\n' ' ')
  got_calls=$(sed -nE 's/^\[[0-9]+\] ([a-z_0-9]+)\(.*/\1/p' "$run/syscalls.txt" | tr '\n' ' ')
  msr_calls="open finit_module close open pread64 write "
  [[ "$got_calls" == *"$msr_calls"* ]] || fail "no SYSENTER_CS read ($msr_calls) among the guest's calls: $got_calls (see $run/syscalls.txt)"
  [ "${got_calls/"$msr_calls"/}" = "$expect_calls" ] || fail "system calls differ from strace's native run: expected $expect_calls + $msr_calls; got $got_calls (see $run/syscalls.txt)"
  grep -q 'openat(AT_FDCWD, "/etc/ether-e2e-missing", O_RDONLY) = -1 ENOENT' "$run/syscalls.txt" || fail "openat not decoded with its path and ENOENT (see $run/syscalls.txt)"
  abis=$("$ether" sql "$trace" "SELECT string_agg(DISTINCT abi, ',') FROM syscalls" --csv 2>&1 | tail -1)
  calls=$(wc -w <<<"$got_calls")
  [ "$n_enter" = "$calls" ] && [ "$n_other" = 0 ] || fail "$calls calls in the trace but $n_enter sysenter frames and $n_other syscall/sysret frames"
  [ "$n_exit" = "$((calls - 1))" ] || fail "$n_exit sysexit returns for $calls calls (all but exit_group return)"
  rate=$(sed -nE 's/^ether-agent: ([0-9]+) events in ([0-9.]+) s .*\(([0-9.]+)\/s\).*/\1 events in \2 s = \3 events\/s/p' "$run/out/agent.log" | tail -1)
  failed=0
  printf 'e2e --guest32: PASSED: xen %s (SVM under QEMU TCG), 32-bit PVH guest (%s): %s system calls by sysenter (%s), %s returns by trapped sysexit, guest RDMSR SYSENTER_CS = 0x60 (hardware 0), guest output = native; monitor %s; boot+trace %ss, total %ss\n' \
    "${XEN_VERSION%-*}" "$([ "$linux32" = 1 ] && echo "linux $GUEST32_KERNEL" || echo "e2e-kernel32.c, no paging")" "$n_enter" "$abis" "$n_exit" "${rate:-?}" "$boot_s" "$(( $(date +%s) - start ))"
  exit 0
fi

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
grep -qE "^ +1 +([a-z-]+ +)?[0-9]+ +0x0*${LAYER_ADDR#0x} " "$run/unpack.txt" || fail "no unpacking layer at $LAYER_ADDR (see $run/unpack.txt)"

# 5. What the program read is in the trace (reads_from "steps"): the decrypt loop's loads of the
#    encrypted layer -- a global in .rodata the program never writes -- show, at the first step that
#    reads it, the bytes the ELF file holds there (objdump of the binary, not anything the agent sent).
layer_va=$(printf '%x' "$((16#$(nm "$run/e2e-guest" | awk '$3=="layer"{print $1}')))")
want=$(objdump -s -j .rodata --start-address="0x$layer_va" --stop-address="$(printf '0x%x' $((16#$layer_va + 16)))" "$run/e2e-guest" \
  | awk '/^ [0-9a-f]+ /{for (i = 2; i <= 5; i++) if ($i ~ /^[0-9a-f]+$/) printf "%s", $i}' | sed 's/../& /g;s/ $//')
[ "${#want}" = 47 ] || fail "could not read the layer's 16 bytes at 0x$layer_va from the guest binary"
read_step=$("$ether" sql "$trace" "SELECT min(step) FROM memory_reads WHERE address = 0x$layer_va" --csv 2>&1 | tail -1)
[[ "$read_step" =~ ^[0-9]+$ ]] || fail "no step of the trace reads the layer's bytes at 0x$layer_va (memory_reads: $read_step)"
"$ether" at "$trace" --step "$read_step" --mem "0x$layer_va:16" >"$run/at-read.txt" 2>&1 || fail "ether at: $(tail -1 "$run/at-read.txt")"
grep -q "^read      0x$layer_va  1 byte: ${want:0:2}\$" "$run/at-read.txt" || fail "ether at --step $read_step does not show the read of 0x$layer_va as ${want:0:2} (see $run/at-read.txt)"
grep -qE "^  0x0*$layer_va  $want( |\$)" "$run/at-read.txt" || fail "ether at --step $read_step --mem 0x$layer_va:16 does not show $want (see $run/at-read.txt)"
reads=$("$ether" sql "$trace" "SELECT count(*) || ' reads, ' || count(*) FILTER (WHERE value IS NULL) || ' unknown' FROM memory_reads" --csv 2>&1 | tail -1 | tr -d '"')
# Every byte the guest program read is known: the agent sends each load's bytes, a load from a page
# not present yet at the vCPU's next event (measured: 210 reads, 0 unknown, 19:17 UTC 2026-12-06).
[[ "$reads" =~ ^[0-9]+\ reads,\ 0\ unknown$ ]] || fail "the trace has reads without a value: $reads (SELECT * FROM memory_reads WHERE value IS NULL)"

# 6. It opens in ether tui.
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
printf 'e2e: PASSED: xen %s (SVM under QEMU TCG): %s user steps, %s system calls, loop %s steps exact, layer 1 at %s, read of 0x%s at step %s = %s (%s), guest output = native; monitor %s; boot+trace %ss, total %ss\n' \
  "${XEN_VERSION%-*}" "$steps" "$calls" "$loop_steps" "$LAYER_ADDR" "$layer_va" "$read_step" "$want" "$reads" "${rate:-?}" "$boot_s" "$(( $(date +%s) - start ))"
