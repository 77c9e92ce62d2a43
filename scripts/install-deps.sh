#!/usr/bin/env bash
# Installs the Debian 12 packages connsnoop needs to build, test and demo,
# asking apt only for what is missing. Run as root.
# --release: also what scripts/release needs: the arm64 cross compiler and
# the arm64 multiarch -dev libraries (adds the arm64 architecture to dpkg),
# qemu-user-static to run the arm64 binary, file and dpkg-dev.
set -euo pipefail

packages=(
  # build
  cmake make g++ pkg-config clang llvm bpftool libelf-dev zlib1g-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev libncurses-dev
  # tests and demo
  libgtest-dev iproute2 curl perl python3 python3-yaml util-linux tmux tcpdump
  # style checks (scripts/check-style), pinned to the versions the tree is formatted with
  clang-format-14 clang-tidy-14
  prometheus systemd
  # the kernel matrix (tests/kernels/run): qemu with TCG, a busybox initramfs
  qemu-system-x86 qemu-system-arm busybox-static cpio file
  # the kernels' BTF for the CO-RE check (tests/kernels/extract-btf): Debian's are lz4
  lz4
  # benchmarks (bench/run installs bpftrace itself, for its comparison)
  libbenchmark-dev
  # ASan/UBSan runtimes and libFuzzer for build-asan/ (clang only recommends them)
  libclang-rt-dev
)

if [[ ${1:-} == --release ]]; then
  dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -qq; }
  packages+=(
    file dpkg-dev qemu-user-static g++-aarch64-linux-gnu
    libelf-dev:arm64 zlib1g-dev:arm64 libfmt-dev:arm64 libncurses-dev:arm64
  )
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
  echo "connsnoop: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
