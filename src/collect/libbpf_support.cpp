#include "collect/libbpf_support.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <vector>

#include "collect/btf_scan.hpp"
#include "collect/core_btf.hpp"

namespace connsnoop {

namespace {
bool g_libbpf_verbose = false;

// The last program load log libbpf reported (it does so at warning level,
// whatever -v says): "prog 'NAME': -- BEGIN PROG LOAD LOG --\n...-- END PROG LOAD LOG --".
struct CapturedLoadLog {
    std::mutex mutex;
    std::string program;
    std::string log;
    std::string refused_program;  // "prog 'NAME': BPF program load failed" / "failed to load"
};
CapturedLoadLog& captured_load_log() {
    static CapturedLoadLog captured;
    return captured;
}

// The program a "prog 'NAME': <what>" warning names, when <what> is one of `verdicts`.
std::string program_refused_in(const std::string& text) {
    static const std::string kPrefix = "prog '";
    const auto quote = text.find(kPrefix);
    if (quote == std::string::npos) return "";
    const auto name_start = quote + kPrefix.size();
    const auto name_end = text.find("': ", name_start);
    if (name_end == std::string::npos) return "";
    const auto said = text.substr(name_end + 3);
    for (const char* verdict : {"BPF program load failed", "failed to load"}) {
        if (said.rfind(verdict, 0) == 0) return text.substr(name_start, name_end - name_start);
    }
    return "";
}

void capture_load_log(const std::string& text) {
    if (auto refused = program_refused_in(text); !refused.empty()) {
        auto& captured = captured_load_log();
        std::lock_guard lock(captured.mutex);
        captured.refused_program = std::move(refused);
        return;
    }
    static const std::string kBegin = "-- BEGIN PROG LOAD LOG --\n";
    static const std::string kEnd = "-- END PROG LOAD LOG --";
    const auto begin = text.find(kBegin);
    if (begin == std::string::npos) return;
    const auto end = text.find(kEnd, begin);
    std::string program;
    if (const auto quote = text.find("prog '"); quote != std::string::npos && quote < begin) {
        const auto name_start = quote + 6;
        const auto name_end = text.find('\'', name_start);
        if (name_end != std::string::npos && name_end < begin) program = text.substr(name_start, name_end - name_start);
    }
    auto& captured = captured_load_log();
    std::lock_guard lock(captured.mutex);
    captured.program = program;
    captured.log =
        text.substr(begin + kBegin.size(), end == std::string::npos ? std::string::npos : end - begin - kBegin.size());
}

int print_libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
    va_list copy;
    va_copy(copy, args);
    int printed = 0;
    if (level == LIBBPF_WARN) {
        std::vector<char> text(4096);
        int needed = std::vsnprintf(text.data(), text.size(), format, copy);
        if (needed >= static_cast<int>(text.size())) {
            va_end(copy);
            va_copy(copy, args);
            text.resize(static_cast<std::size_t>(needed) + 1);
            std::vsnprintf(text.data(), text.size(), format, copy);
        }
        capture_load_log(text.data());
    }
    va_end(copy);
    if (g_libbpf_verbose) printed = std::vfprintf(stderr, format, args);
    return printed;
}

constexpr const char* kPrivilegeHint =
    "run as root, or with CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN on kernels before 5.8)";

std::string hint_for_errno(int err) {
    switch (err) {
        case EPERM:
            return kPrivilegeHint;
        case ENOMEM:
        case E2BIG:
            return "the kernel refused the memory asked for: try a smaller --ringbuf-size";
        default:
            return "run with -v to see libbpf's log";
    }
}

std::string error_text(int err) {
    char text[256] = {};
    if (libbpf_strerror(err, text, sizeof(text)) == 0 && text[0] != '\0') return text;
    return std::strerror(err);
}

// The verifier's conclusion: its last lines, without the statistics it
// appends ("processed N insns ...", "verification time ...").
std::string last_verifier_lines(const std::string& log, std::size_t count) {
    std::vector<std::string> lines;
    std::istringstream stream(log);
    for (std::string line; std::getline(stream, line);) {
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
        if (line.empty() || line.rfind("processed ", 0) == 0 || line.rfind("verification time", 0) == 0 ||
            line.rfind("stack depth", 0) == 0) {
            continue;
        }
        lines.push_back(line);
    }
    std::string joined;
    const std::size_t first = lines.size() > count ? lines.size() - count : 0;
    for (std::size_t i = first; i < lines.size(); ++i) joined += (joined.empty() ? "" : " | ") + lines[i];
    return joined;
}

std::string kernel_release() {
    utsname name{};
    return ::uname(&name) == 0 ? name.release : "unknown";
}
}  // namespace

void configure_libbpf_logging(bool verbose) {
    g_libbpf_verbose = verbose;
    libbpf_set_print(print_libbpf_log);
}

Error libbpf_error(const std::string& what, int err) {
    err = std::abs(err);
    return Error{what + ": " + error_text(err), hint_for_errno(err), err};
}

BpfPrivileges current_bpf_privileges() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    BpfPrivileges privileges;
    if (::syscall(SYS_capget, &header, data) != 0) return privileges;
    const auto has = [&](unsigned capability) {
        return (data[capability / 32].effective & (1U << (capability % 32))) != 0;
    };
    privileges.cap_sys_admin = has(21);  // CAP_SYS_ADMIN
    privileges.cap_perfmon = has(38);    // CAP_PERFMON
    privileges.cap_bpf = has(39);        // CAP_BPF
    return privileges;
}

bool lacks_bpf_privileges(int err, const BpfPrivileges& privileges) {
    return std::abs(err) == EPERM && !privileges.sufficient();
}

Error describe_load_failure(const std::string& what, const LoadFailure& failure) {
    const int err = std::abs(failure.err);
    if (lacks_bpf_privileges(err, failure.privileges)) return Error{what + ": " + error_text(err), kPrivilegeHint, err};
    const std::string verdict = last_verifier_lines(failure.verifier_log, 2);
    if (!verdict.empty()) {
        const std::string program = failure.program.empty() ? "a program" : "program '" + failure.program + "'";
        return Error{
            what + ": the kernel's verifier refused " + program + " (Linux " + failure.kernel_release + "): " + verdict,
            "not a privilege problem: this kernel cannot run that program as built (docs/KERNELS.md "
            "lists what each feature needs); run with -v for the whole verifier log",
            err};
    }
    if (err == EPERM) {
        return Error{what + ": " + error_text(err) + " (Linux " + failure.kernel_release + ")",
                     "the privileges are there (CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON): a security policy "
                     "(kernel lockdown, SELinux, seccomp) or the kernel refused it; run with -v to see libbpf's log",
                     err};
    }
    Error error = libbpf_error(what, err);
    error.message += " (Linux " + failure.kernel_release + ")";
    return error;
}

Error libbpf_load_error(const std::string& what, int err) {
    LoadFailure failure;
    failure.err = err;
    {
        auto& captured = captured_load_log();
        std::lock_guard lock(captured.mutex);
        failure.program = captured.program.empty() ? captured.refused_program : captured.program;
        failure.verifier_log = std::move(captured.log);
        captured.program.clear();
        captured.log.clear();
        captured.refused_program.clear();
    }
    failure.privileges = current_bpf_privileges();
    failure.kernel_release = kernel_release();
    return describe_load_failure(what, failure);
}

std::string refused_program_name() {
    auto& captured = captured_load_log();
    std::lock_guard lock(captured.mutex);
    return captured.refused_program;
}

Status check_kernel_btf(const std::string& custom_path) {
    const std::string path = custom_path.empty() ? "/sys/kernel/btf/vmlinux" : custom_path;
    if (::access(path.c_str(), R_OK) != 0) {
        const int err = errno;
        if (custom_path.empty()) {
            return Error{"this kernel has no BTF type information (" + path + ": " + std::strerror(err) + ")",
                         "connsnoop needs a kernel built with CONFIG_DEBUG_INFO_BTF=y, or a BTF file for this "
                         "kernel given with --btf FILE (e.g. from BTFHub)",
                         err};
        }
        return Error{"--btf " + path + ": " + std::strerror(err), "give a readable BTF file for the running kernel",
                     err};
    }
    if (custom_path.empty()) return Ok{};
    // libbpf would otherwise say only "Unknown error 4001" at open time.
    btf* parsed = btf__parse(path.c_str(), nullptr);
    if (!parsed) {
        const int err = std::abs(errno);
        return Error{"--btf " + path + ": not a BTF file (" + error_text(err) + ")",
                     "give the running kernel's BTF: a raw BTF file (as /sys/kernel/btf/vmlinux of the same "
                     "kernel build, or BTFHub's .btf) or an ELF file with a .BTF section",
                     err};
    }
    btf__free(parsed);
    return Ok{};
}

const char* hook_name(TracepointHook hook) { return hook == TracepointHook::tp_btf ? "tp_btf" : "raw_tp"; }

const VmlinuxFacts& vmlinux_facts() {
    static const VmlinuxFacts kFacts = [] {
        const auto roots = core_relocation_roots(embedded_bpf_object());
        return scan_vmlinux("inet_sock_set_state", "/sys/kernel/btf/vmlinux", BtfAccess::map_or_read,
                            roots ? std::span<const CoreRoot>(*roots) : std::span<const CoreRoot>());
    }();
    return kFacts;
}

namespace {

TracepointHook probe_hook(const VmlinuxFacts& facts, bool verbose) {
    const int btf_id = facts.tracepoint_btf_id;
    if (btf_id < 0) {
        if (verbose) std::fprintf(stderr, "connsnoop: no BTF for tp_btf (%s): using raw_tp\n", std::strerror(-btf_id));
        return TracepointHook::raw_tp;
    }
    // r0 = 0; exit
    const bpf_insn program[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    bpf_prog_load_opts options{};
    options.sz = sizeof(options);
    options.expected_attach_type = BPF_TRACE_RAW_TP;
    options.attach_btf_id = static_cast<__u32>(btf_id);
    const int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, nullptr, "GPL", program, 2, &options);
    const int err = fd < 0 ? errno : 0;
    if (fd >= 0) {
        ::close(fd);
        return TracepointHook::tp_btf;
    }
    if (err == EPERM) return TracepointHook::tp_btf;  // no privilege: the real load says so, with its hint
    if (verbose) std::fprintf(stderr, "connsnoop: tp_btf refused (%s): using raw_tp\n", std::strerror(err));
    return TracepointHook::raw_tp;
}

}  // namespace

TracepointHook tracepoint_hook(HookChoice choice, bool verbose) {
    switch (choice) {
        case HookChoice::tp_btf:
            return TracepointHook::tp_btf;
        case HookChoice::raw_tp:
            return TracepointHook::raw_tp;
        case HookChoice::automatic:
            break;
    }
    static const TracepointHook kProbed = probe_hook(vmlinux_facts(), verbose);
    return kProbed;
}

bool cast_typed_pointers(TracepointHook hook) {
    const auto& facts = vmlinux_facts();
    return hook == TracepointHook::tp_btf && facts.has_rdonly_cast && facts.task_struct_btf_id != 0 &&
           facts.sock_btf_id != 0;
}

bpf_program* choose_variant(bpf_program* tp_btf, bpf_program* raw_tp, TracepointHook hook, bool wanted) {
    bpf_program__set_autoload(tp_btf, wanted && hook == TracepointHook::tp_btf);
    bpf_program__set_autoload(raw_tp, wanted && hook == TracepointHook::raw_tp);
    return hook == TracepointHook::tp_btf ? tp_btf : raw_tp;
}

bool fails_for_every_hook(const Error& error) {
    return lacks_bpf_privileges(error.errno_value, current_bpf_privileges());
}

}  // namespace connsnoop
