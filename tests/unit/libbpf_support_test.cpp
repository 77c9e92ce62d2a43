// How a failed BPF load is described: a missing privilege, the verifier, or
// something else, from the errno, the verifier log and the capabilities.
#include "collect/libbpf_support.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdarg>
#include <string>

namespace connsnoop {
namespace {

constexpr BpfPrivileges kRoot{true, true, true};
constexpr BpfPrivileges kCapBpfAndPerfmon{false, true, true};
constexpr BpfPrivileges kCapBpfOnly{false, true, false};
constexpr BpfPrivileges kNone{};

// A 6.1 verifier refusing http_append's copy (issue 12), trimmed.
const std::string kVerifierLog =
    "func#0 @0\n"
    "0: R1=ctx(off=0,imm=0) R10=fp0\n"
    "600: (85) call bpf_probe_read_user#112\n"
    "R2 min value is negative, either use unsigned or 'var &= const'\n"
    "processed 1403 insns (limit 1000000) max_states_per_insn 4 total_states 60 peak_states 60 mark_read 9\n";

LoadFailure failure(int err, BpfPrivileges privileges, std::string log = "", std::string program = "") {
    return LoadFailure{err, std::move(program), std::move(log), privileges, "6.1.0-50-cloud-amd64"};
}

bool mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(LoadFailure, VerifierRejectionIsNamedWithProgramLastLinesAndKernel) {
    const auto error = describe_load_failure("loading the BPF program (tp_btf)",
                                             failure(-EACCES, kRoot, kVerifierLog, "http_send_tp_btf"));
    EXPECT_EQ(error.message,
              "loading the BPF program (tp_btf): the kernel's verifier refused program 'http_send_tp_btf' "
              "(Linux 6.1.0-50-cloud-amd64): 600: (85) call bpf_probe_read_user#112 | R2 min value is negative, "
              "either use unsigned or 'var &= const'");
    EXPECT_EQ(error.errno_value, EACCES);
    EXPECT_FALSE(mentions(error.hint, "run as root")) << error.hint;
    EXPECT_TRUE(mentions(error.hint, "-v")) << error.hint;
}

TEST(LoadFailure, VerifierRejectionIsNeverAPrivilegeProblemWhateverTheErrno) {
    for (int err : {EACCES, EINVAL, E2BIG, EPERM}) {
        const auto error = describe_load_failure("loading", failure(err, kRoot, kVerifierLog, "p"));
        EXPECT_TRUE(mentions(error.message, "the kernel's verifier refused program 'p'")) << error.message;
        EXPECT_FALSE(mentions(error.hint, "run as root")) << err << ": " << error.hint;
    }
}

TEST(LoadFailure, EpermWithoutPrivilegesAsksForThem) {
    for (auto privileges : {kNone, kCapBpfOnly}) {
        const auto error = describe_load_failure("loading the BPF program (tp_btf)", failure(-EPERM, privileges));
        EXPECT_EQ(error.message, "loading the BPF program (tp_btf): Operation not permitted");
        EXPECT_EQ(error.hint, "run as root, or with CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN on kernels before 5.8)");
        EXPECT_TRUE(lacks_bpf_privileges(EPERM, privileges));
    }
}

TEST(LoadFailure, EpermWithPrivilegesBlamesAPolicyNotTheUser) {
    for (auto privileges : {kRoot, kCapBpfAndPerfmon}) {
        const auto error = describe_load_failure("loading", failure(EPERM, privileges));
        EXPECT_EQ(error.message, "loading: Operation not permitted (Linux 6.1.0-50-cloud-amd64)");
        EXPECT_FALSE(mentions(error.hint, "run as root")) << error.hint;
        EXPECT_TRUE(mentions(error.hint, "lockdown")) << error.hint;
        EXPECT_FALSE(lacks_bpf_privileges(EPERM, privileges));
    }
}

TEST(LoadFailure, EaccesWithoutALogIsNotTakenForAPrivilegeProblem) {
    const auto error = describe_load_failure("loading", failure(EACCES, kNone));
    EXPECT_EQ(error.message, "loading: Permission denied (Linux 6.1.0-50-cloud-amd64)");
    EXPECT_FALSE(mentions(error.hint, "run as root")) << error.hint;
    EXPECT_FALSE(lacks_bpf_privileges(EACCES, kNone));
}

TEST(LoadFailure, MemoryAndLibbpfCodesKeepTheirOwnText) {
    EXPECT_TRUE(mentions(describe_load_failure("loading", failure(ENOMEM, kRoot)).hint, "--ringbuf-size"));
    // libbpf's own error codes (4000 and up) get libbpf's text, not "Unknown error 4001".
    const auto error = libbpf_error("opening", -4001);
    EXPECT_FALSE(mentions(error.message, "Unknown error")) << error.message;
}

TEST(LoadFailure, StatisticsLinesAreNotTheVerdict) {
    const auto error =
        describe_load_failure("loading", failure(EACCES, kRoot,
                                                 "5: (71) r3 = *(u8 *)(r1 +0)\nR1 unbounded memory access\n"
                                                 "processed 4290 insns (limit 1000000)\nverification time 12 usec\n"
                                                 "stack depth 96\n"));
    EXPECT_TRUE(mentions(error.message,
                         "refused a program (Linux 6.1.0-50-cloud-amd64): 5: (71) r3 = *(u8 "
                         "*)(r1 +0) | R1 unbounded memory access"))
        << error.message;
}

int print_through(libbpf_print_fn_t print, const char* format, ...) {
    va_list args;
    va_start(args, format);
    const int printed = print(LIBBPF_WARN, format, args);
    va_end(args);
    return printed;
}

// libbpf reports a refused program's log through its print callback, at
// warning level, with or without -v: the load error is built from it.
TEST(LoadFailure, TheVerifierLogLibbpfPrintsReachesTheLoadError) {
    configure_libbpf_logging(false);
    libbpf_print_fn_t print = libbpf_set_print(nullptr);
    ASSERT_NE(print, nullptr);
    print_through(print, "libbpf: prog '%s': BPF program load failed: %s\n", "http_egress", "Permission denied");
    print_through(print, "libbpf: prog '%s': -- BEGIN PROG LOAD LOG --\n%s-- END PROG LOAD LOG --\n", "http_egress",
                  kVerifierLog.c_str());
    libbpf_set_print(print);

    const auto error = libbpf_load_error("loading the BPF program (tp_btf)", -EACCES);
    EXPECT_TRUE(mentions(error.message, "the kernel's verifier refused program 'http_egress' (Linux "))
        << error.message;
    EXPECT_TRUE(mentions(error.message, "R2 min value is negative")) << error.message;
    // Taken once: a later failure without a log is not blamed on it.
    const auto later = libbpf_load_error("loading", -EACCES);
    EXPECT_FALSE(mentions(later.message, "verifier")) << later.message;
}

// libbpf closes every program of an object whose load failed, so the one
// refused is known only from what libbpf said: it names the part refused.
TEST(LoadFailure, TheProgramLibbpfStoppedAtIsNamedUntilTheErrorIsTaken) {
    configure_libbpf_logging(false);
    libbpf_print_fn_t print = libbpf_set_print(nullptr);
    ASSERT_NE(print, nullptr);
    print_through(print, "libbpf: prog '%s': BPF program load failed: %s\n", "connect_failure_tp_btf",
                  "Invalid argument");
    print_through(print, "libbpf: prog '%s': failed to load: %d\n", "connect_failure_tp_btf", -22);
    print_through(print, "libbpf: failed to load object '%s'\n", "connsnoop_bpf");
    libbpf_set_print(print);

    EXPECT_EQ(refused_program_name(), "connect_failure_tp_btf");
    const auto error = libbpf_load_error("loading outcome tracking (connect_failure_tp_btf)", -EINVAL);
    EXPECT_TRUE(mentions(error.message, "loading outcome tracking (connect_failure_tp_btf): ")) << error.message;
    EXPECT_EQ(refused_program_name(), "");
}

TEST(KernelBtf, AFileThatIsNotBtfIsNamedReadably) {
    const auto status = check_kernel_btf("/etc/passwd");
    ASSERT_FALSE(status);
    EXPECT_TRUE(mentions(status.error().message, "--btf /etc/passwd: not a BTF file (")) << status.error().message;
    EXPECT_FALSE(mentions(status.error().message, "Unknown error")) << status.error().message;
    EXPECT_TRUE(mentions(status.error().hint, "BTF")) << status.error().hint;
}

TEST(KernelBtf, AMissingFileIsNamed) {
    const auto status = check_kernel_btf("/nonexistent/vmlinux");
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().message, "--btf /nonexistent/vmlinux: No such file or directory");
}

}  // namespace
}  // namespace connsnoop
