# Cross-building connsnoop for arm64 (aarch64) on an x86_64 Debian 12 host:
# Debian's cross compiler (g++-aarch64-linux-gnu) and the arm64 multiarch
# -dev packages (libelf-dev:arm64 ...; scripts/install-deps.sh --release).
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCONNSNOOP_STATIC=ON
# clang and bpftool stay the build machine's: the BPF objects are compiled
# for the BPF target with -D__TARGET_ARCH_arm64 and bpf/vmlinux/arm64.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# pkg-config reads the arm64 .pc files only (and the architecture-free ones).
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
# Helpers that must run at build time are the host's; libraries and headers
# come from the arm64 multiarch directories through pkg-config and find_package.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# Running arm64 test binaries on this machine, where CMake needs to.
find_program(QEMU_AARCH64 qemu-aarch64-static)
if(QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${QEMU_AARCH64})
endif()
