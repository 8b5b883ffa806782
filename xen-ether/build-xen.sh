#!/usr/bin/env bash
# build-xen.sh: fetch Debian's Xen 4.17 source, apply the Ether patch series, build the hypervisor.
#
#   xen-ether/build-xen.sh [--fetch-only] [--no-deps]
#
# Everything lives under xen-ether/work/ (git-ignored):
#   work/apt/       a private apt configuration (a deb-src entry for bookworm) so /etc is never touched
#   work/src/       the downloaded source package (.dsc + tarballs), kept between runs
#   work/xen-*/     a fresh extraction with the series applied (re-created on every run)
#   work/*.log      full logs of each stage
# --fetch-only stops after applying the series (no hypervisor build).
# --no-deps skips installing the build dependencies with apt-get.
# One hypervisor holds both variants of the patch (Xen picks the vendor code at boot): VMX
# (patches 0001-0004: system calls) and SVM (0005-0006: system calls, and single-step with the
# trap flag); the build checks that both are in it, and that the hypervisor's interface versions
# are those of the dom0 libraries the agent builds against (libxen-dev).
set -euo pipefail

XEN_VERSION="4.17.5+72-g01140da4e8-1"     # Debian bookworm main; the series is made against it
MIRROR="http://deb.debian.org/debian"
SUITE="bookworm"
# Only what the hypervisor build (not the tools) and source extraction need.
BUILD_DEPS=(build-essential bison flex python3 dpkg-dev patch xz-utils ca-certificates debian-archive-keyring)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$here/work"
patches="$here/patches"
fetch_only=0
install_deps=1
for arg in "$@"; do
  case "$arg" in
    --fetch-only) fetch_only=1 ;;
    --no-deps) install_deps=0 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-xen.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
step() { printf '==> %s\n' "$*"; }
fail() { printf 'build-xen.sh: FAILED: %s\n' "$*" >&2; exit 1; }
elapsed() { echo $(( $(date +%s) - start ))s; }

mkdir -p "$work"

if [ "$install_deps" = 1 ]; then
  step "installing build dependencies: ${BUILD_DEPS[*]}"
  if [ "$(id -u)" != 0 ]; then fail "installing packages needs root (or run with --no-deps)"; fi
  apt-get update >"$work/deps.log" 2>&1 || fail "apt-get update (see $work/deps.log)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${BUILD_DEPS[@]}" \
    >>"$work/deps.log" 2>&1 || fail "apt-get install (see $work/deps.log)"
fi

# --- private apt configuration: a deb-src entry without touching /etc/apt ------------------------
apt_dir="$work/apt"
mkdir -p "$apt_dir/etc/apt.conf.d" "$apt_dir/etc/preferences.d" "$apt_dir/etc/sources.list.d" \
         "$apt_dir/etc/trusted.gpg.d" "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial"
cat >"$apt_dir/etc/sources.list" <<SRC
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main
SRC
cat >"$apt_dir/apt.conf" <<CONF
Dir::Etc "$apt_dir/etc";
Dir::Etc::main "$apt_dir/apt.conf";
Dir::Etc::sourcelist "$apt_dir/etc/sources.list";
Dir::Etc::sourceparts "$apt_dir/etc/sources.list.d";
Dir::State "$apt_dir/state";
Dir::State::status "/var/lib/dpkg/status";
Dir::Cache "$apt_dir/cache";
APT::Sandbox::User "root";
CONF
export APT_CONFIG="$apt_dir/apt.conf"

src_dir="$work/src"
mkdir -p "$src_dir"
upstream_version="${XEN_VERSION%-*}"
dsc="$src_dir/xen_${XEN_VERSION}.dsc"
if [ ! -f "$dsc" ]; then
  step "fetching source package xen=$XEN_VERSION (private apt config in $apt_dir)"
  apt-get update >"$work/fetch.log" 2>&1 || fail "apt-get update with the private config (see $work/fetch.log)"
  (cd "$src_dir" && apt-get source --download-only "xen=$XEN_VERSION") >>"$work/fetch.log" 2>&1 \
    || fail "apt-get source xen=$XEN_VERSION (see $work/fetch.log; is that version still in $SUITE?)"
else
  step "source package already downloaded: $(basename "$dsc")"
fi
unset APT_CONFIG

tree="$work/xen-$upstream_version"
step "extracting a fresh tree into $tree"
rm -rf "$tree"
dpkg-source --no-check -x "$dsc" "$tree" >"$work/extract.log" 2>&1 || fail "dpkg-source -x (see $work/extract.log)"

# --- the Ether series ---------------------------------------------------------------------------
[ -f "$patches/series" ] || fail "no $patches/series"
applied=0
while read -r p; do
  case "$p" in ''|'#'*) continue ;; esac
  [ -f "$patches/$p" ] || fail "series names $p but $patches/$p does not exist"
  if ! patch -d "$tree" -p1 --forward --batch --fuzz=0 --dry-run <"$patches/$p" >"$work/patch.log" 2>&1; then
    cat "$work/patch.log" >&2
    fail "patch $p does not apply to xen $XEN_VERSION"
  fi
  patch -d "$tree" -p1 --forward --batch --fuzz=0 <"$patches/$p" >>"$work/patch.log" 2>&1
  step "applied $p"
  applied=$((applied + 1))
done <"$patches/series"
[ "$applied" -gt 0 ] || fail "the series is empty"

if [ "$fetch_only" = 1 ]; then
  step "done (--fetch-only) in $(elapsed): $applied patch(es) applied to $tree"
  exit 0
fi

# --- build the hypervisor -----------------------------------------------------------------------
jobs="${JOBS:-2}"
step "make -C xen defconfig"
make -C "$tree/xen" defconfig >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; fail "make defconfig (see $work/build.log)"; }
step "make -C xen -j$jobs (log: $work/build.log)"
make -C "$tree/xen" -j"$jobs" >>"$work/build.log" 2>&1 || { grep -E 'error|Error' "$work/build.log" | head -30 >&2; fail "hypervisor build (see $work/build.log)"; }

for f in xen/xen.gz xen/xen; do
  [ -f "$tree/$f" ] || fail "build finished but $f is missing"
done
warnings=$(grep -c 'warning:' "$work/build.log" || true)

# Both vendor variants are in the binary.
for sym in vmx_set_ether_syscall_trapping svm_set_ether_syscall_trapping svm_ether_vmenter hvm_ether_syscall_intercept; do
  nm "$tree/xen/xen-syms" | grep -q " $sym\$" || fail "the built hypervisor lacks $sym"
done
step "both variants built in: VMX (vmx_set_ether_syscall_trapping) and SVM (svm_set_ether_syscall_trapping, svm_ether_vmenter)"

# The tools/hypervisor pairing: dom0 tools talk to the hypervisor through versioned interfaces.
# The agent is built against libxen-dev, dom0 runs xen-utils-4.17 (xen-ether/qemu/e2e.sh installs
# exactly $XEN_VERSION): every interface version must be the same on both sides.
if [ -d /usr/include/xen ]; then
  for pair in XEN_DOMCTL_INTERFACE_VERSION:domctl.h XEN_SYSCTL_INTERFACE_VERSION:sysctl.h VM_EVENT_INTERFACE_VERSION:vm_event.h; do
    name=${pair%%:*}; file=${pair#*:}
    ours=$(grep -m1 "define $name" "$tree/xen/include/public/$file" | awk '{print $3}')
    theirs=$(grep -m1 "define $name" "/usr/include/xen/$file" | awk '{print $3}')
    [ "$ours" = "$theirs" ] || fail "$name is $ours in this hypervisor but $theirs in /usr/include/xen (libxen-dev $(dpkg-query -W -f='${Version}' libxen-dev 2>/dev/null))"
    step "interface $name = $ours, the same as libxen-dev $(dpkg-query -W -f='${Version}' libxen-dev 2>/dev/null)"
  done
fi
step "built $(ls -l "$tree/xen/xen.gz" | awk '{print $5}') bytes xen.gz and $(ls -l "$tree/xen/xen" | awk '{print $5}') bytes xen"
step "OK in $(elapsed): xen $XEN_VERSION + $applied Ether patch(es), $warnings compiler warning(s)"
echo "   $tree/xen/xen.gz"
