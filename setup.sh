#!/usr/bin/env bash
# Ether.Replay set-up and main job, for a fresh Debian bookworm machine with the .NET 10 SDK:
#   1. installs every Debian package the build, the demo and the tests need (apt-get update first);
#   2. restores and builds the solution (Release);
#   3. records the repo's own demo program (a small self-decrypting "packed" program built here)
#      and prints its analysis: summary, system calls, unpacking layers and a SQL query.
# Options: --packages-only (step 1 only; used by test.sh), --no-demo (steps 1-2).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
cd "$root"

packages=(
  gcc libc6-dev make          # tests and the demo compile their own small programs
  strace                      # reference for the recorder's system-call fidelity tests
  python3                     # formats/Abi table generator (its up-to-date check is a test)
  util-linux                  # setpriv: a test records without CAP_SYS_ADMIN (the sandbox's namespace is the recorder's own)
  tmux                        # end-to-end test of the terminal browser
  bzip2 xz-utils zstd openssl # real hash and compression workloads `bench format` records
  cmake pkg-config            # xen-ether agent build and its CTest suite
  libxen-dev libmsgpack-dev libzydis-dev  # dom0 libraries, msgpack-c and the Zydis decoder the agent builds against
)

install_packages() {
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_packages
[ "${1:-}" = "--packages-only" ] && exit 0

command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
echo "setup: restoring and building (Release) ..." >&2
dotnet build Ether.Replay.sln -c Release -nologo -v q
./ether --version >/dev/null   # publishes the ether command (ReadyToRun) once, here rather than on first use
[ "${1:-}" = "--no-demo" ] && exit 0

# The main job: build the demo sample, record it, analyse the trace.
demo="$root/.cache/demo"
mkdir -p "$demo"
gcc -static -O1 -o "$demo/packed-hello" docs/demo/packed-hello.c
trace="$demo/packed-hello.etrace"
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
section() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }

section "ether record -- packed-hello   (every instruction, memory write and system call, single-stepped)"
./ether record -o "$trace" -- "$demo/packed-hello"
section "ether info"
./ether info "$trace"
section "ether summary"
./ether summary "$trace"
section "ether syscalls   (strace-style)"
./ether syscalls "$trace"
section "ether unpack --dump   (code executed after being written: the unpacking layers)"
./ether unpack "$trace" --dump "$demo/layers"
section "ether sql: the unpacked layer's instructions, disassembled"
./ether sql "$trace" "SELECT step, printf('0x%x', rip) AS rip, disasm(bytes, rip) AS instruction FROM instructions WHERE layer = 1 ORDER BY step"
section "ether at: the machine state after the unpacked layer's system call, and the layer's bytes"
step="$(./ether sql "$trace" --csv "SELECT entry_step FROM syscalls WHERE name = 'write' ORDER BY entry_step LIMIT 1" | tail -1)"
entry="$(./ether sql "$trace" --csv "SELECT printf('0x%x', entry_address) FROM unpack_layers WHERE layer = 1 LIMIT 1" | tail -1)"
./ether at "$trace" --step "$step" --regs --mem "$entry:32"

cat <<EOT

Done. The trace is $trace; next:
  ./ether tui $trace        walk it in the terminal browser (? for keys, q to quit)
  ./ether sql $trace "SELECT name, count(*) FROM syscalls GROUP BY name"
  ./ether export $trace --out dataset/     Parquet for DuckDB, pandas, Spark
EOT
