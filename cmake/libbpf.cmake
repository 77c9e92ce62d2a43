# libbpf, vendored (third_party/libbpf/README.md says which release and why),
# built as a static library with the flags of its own Makefile. Consumers,
# C++ and BPF alike, include its public headers as <bpf/...> from
# ${LIBBPF_INCLUDE_DIR}, laid out as `make install` would lay them out, so
# nothing picks up a distribution's older libbpf headers by accident.
set(LIBBPF_SOURCE_DIR ${CMAKE_SOURCE_DIR}/third_party/libbpf)
set(LIBBPF_INCLUDE_DIR ${CMAKE_BINARY_DIR}/libbpf/include)

# libelf and zlib by plain names: a static link picks their .a files.
pkg_check_modules(LIBELF REQUIRED libelf zlib)

foreach(header bpf.h libbpf.h btf.h libbpf_common.h libbpf_legacy.h bpf_helpers.h bpf_helper_defs.h
               bpf_tracing.h bpf_endian.h bpf_core_read.h skel_internal.h libbpf_version.h usdt.bpf.h)
  configure_file(${LIBBPF_SOURCE_DIR}/src/${header} ${LIBBPF_INCLUDE_DIR}/bpf/${header} COPYONLY)
endforeach()
foreach(header bpf.h bpf_common.h btf.h)
  configure_file(${LIBBPF_SOURCE_DIR}/include/uapi/linux/${header} ${LIBBPF_INCLUDE_DIR}/linux/${header} COPYONLY)
endforeach()

add_library(libbpf STATIC
  ${LIBBPF_SOURCE_DIR}/src/bpf.c
  ${LIBBPF_SOURCE_DIR}/src/btf.c
  ${LIBBPF_SOURCE_DIR}/src/libbpf.c
  ${LIBBPF_SOURCE_DIR}/src/libbpf_utils.c
  ${LIBBPF_SOURCE_DIR}/src/netlink.c
  ${LIBBPF_SOURCE_DIR}/src/nlattr.c
  ${LIBBPF_SOURCE_DIR}/src/libbpf_probes.c
  ${LIBBPF_SOURCE_DIR}/src/bpf_prog_linfo.c
  ${LIBBPF_SOURCE_DIR}/src/btf_dump.c
  ${LIBBPF_SOURCE_DIR}/src/hashmap.c
  ${LIBBPF_SOURCE_DIR}/src/ringbuf.c
  ${LIBBPF_SOURCE_DIR}/src/strset.c
  ${LIBBPF_SOURCE_DIR}/src/linker.c
  ${LIBBPF_SOURCE_DIR}/src/gen_loader.c
  ${LIBBPF_SOURCE_DIR}/src/relo_core.c
  ${LIBBPF_SOURCE_DIR}/src/usdt.c
  ${LIBBPF_SOURCE_DIR}/src/zip.c
  ${LIBBPF_SOURCE_DIR}/src/elf.c
  ${LIBBPF_SOURCE_DIR}/src/features.c
  ${LIBBPF_SOURCE_DIR}/src/btf_iter.c
  ${LIBBPF_SOURCE_DIR}/src/btf_relocate.c)
set_target_properties(libbpf PROPERTIES OUTPUT_NAME bpf C_STANDARD 90 C_EXTENSIONS ON)
target_include_directories(libbpf PRIVATE ${LIBBPF_SOURCE_DIR}/src ${LIBBPF_SOURCE_DIR}/include
                                          ${LIBBPF_SOURCE_DIR}/include/uapi ${LIBELF_INCLUDE_DIRS})
target_compile_definitions(libbpf PRIVATE _LARGEFILE64_SOURCE _FILE_OFFSET_BITS=64)
target_compile_options(libbpf PRIVATE -Wall -Wno-format-overflow)
target_include_directories(libbpf SYSTEM INTERFACE ${LIBBPF_INCLUDE_DIR})
target_link_libraries(libbpf INTERFACE ${LIBELF_LIBRARIES})
if(CONNSNOOP_STATIC)
  target_compile_options(libbpf PRIVATE -ffunction-sections -fdata-sections)
endif()
