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
  iproute2 util-linux         # sandbox: `unshare --net` + bringing loopback up
  tmux                        # end-to-end test of the terminal browser
  cmake pkg-config            # xen-ether agent build and its CTest suite
  libxen-dev libmsgpack-dev   # dom0 libraries and msgpack-c the agent builds against
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
touch tui/Cli/bin/Release/net10.0/linux-x64/ether.dll   # ./ether sees a fresh build
[ "${1:-}" = "--no-demo" ] && exit 0

echo "setup: demo not available yet: the recorder (issue 3) has not landed" >&2
