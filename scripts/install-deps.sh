#!/usr/bin/env bash
# Installs the Debian 12 packages connsnoop needs to build, test and demo,
# asking apt only for what is missing. Run as root.
set -euo pipefail

packages=(
  # build
  cmake make g++ pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev libncurses-dev
  # tests and demo
  libgtest-dev iproute2 curl perl python3 python3-yaml util-linux tmux
  prometheus systemd
  # the kernel matrix (tests/kernels/run): qemu with TCG, a busybox initramfs
  qemu-system-x86 qemu-system-arm busybox-static cpio file
  # benchmarks (bench/run installs bpftrace itself, for its comparison)
  libbenchmark-dev
  # ASan/UBSan runtimes and libFuzzer for build-asan/ (clang only recommends them)
  libclang-rt-dev
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
  echo "connsnoop: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
