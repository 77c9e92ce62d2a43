#include "cli/value_parsers.hpp"

#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

#include "collect/trace_config.hpp"
#include "output/escape.hpp"
#include "util/account_file.hpp"

namespace connsnoop {

namespace {

constexpr std::uint32_t kPidMax = 4'194'304;  // PID_MAX_LIMIT on 64-bit kernels
constexpr std::uint32_t kMinRingBuffer = 4096;
constexpr std::uint32_t kMaxRingBuffer = 1U << 30;

Error invalid(std::string_view option, std::string_view value, std::string_view expected) {
    return Error{"invalid " + std::string(option) + " '" + escape_for_terminal(value) + "': " + std::string(expected),
                 "see connsnoop --help", 0};
}

template <typename Int>
std::optional<Int> parse_integer(std::string_view text) {
    Int value{};
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
    return value;
}

// "64K" -> 65536; suffixes K, M, G (powers of 1024), optional trailing B/iB.
std::optional<std::uint64_t> parse_bytes(std::string_view text) {
    std::uint64_t multiplier = 1;
    if (text.ends_with("iB"))
        text.remove_suffix(2);
    else if (text.size() > 1 && (text.back() == 'B' || text.back() == 'b'))
        text.remove_suffix(1);
    if (!text.empty()) {
        switch (text.back()) {
            case 'k':
            case 'K':
                multiplier = 1ULL << 10;
                break;
            case 'm':
            case 'M':
                multiplier = 1ULL << 20;
                break;
            case 'g':
            case 'G':
                multiplier = 1ULL << 30;
                break;
            default:
                break;
        }
        if (multiplier != 1) text.remove_suffix(1);
    }
    const auto number = parse_integer<std::uint64_t>(text);
    if (!number || *number > std::numeric_limits<std::uint64_t>::max() / multiplier) return std::nullopt;
    return *number * multiplier;
}

}  // namespace

Result<Cidr> parse_destination(std::string_view text, std::string_view option) {
    if (auto cidr = parse_cidr(text)) {
        // Connects to ::ffff:a.b.c.d (a dual-stack socket reaching IPv4) are
        // reported and matched as IPv4 a.b.c.d: the filter is mapped the same way.
        const auto& bytes = cidr->network.bytes;
        const bool v4_mapped = cidr->network.family == AddressFamily::ipv6 &&
                               std::all_of(bytes.begin(), bytes.begin() + 10, [](auto b) { return b == 0; }) &&
                               bytes[10] == 0xff && bytes[11] == 0xff;
        if (v4_mapped && cidr->prefix_len >= 96) {
            Cidr v4{IpAddress{AddressFamily::ipv4, {}}, cidr->prefix_len - 96};
            std::copy(bytes.begin() + 12, bytes.end(), v4.network.bytes.begin());
            return v4;
        }
        return *cidr;
    }
    return invalid(option, text,
                   "expected an IPv4 or IPv6 address with an optional /prefix, e.g. 169.254.169.254 or fd00:ec2::/64");
}

Result<std::uint16_t> parse_port(std::string_view text, std::string_view option) {
    const auto port = parse_integer<std::uint32_t>(text);
    if (!port || *port == 0 || *port > 65535) return invalid(option, text, "expected a port number from 1 to 65535");
    return static_cast<std::uint16_t>(*port);
}

Result<PortRange> parse_port_range(std::string_view text) {
    const auto bad = [&] {
        return invalid("--port", text, "expected a port from 1 to 65535 or a range FIRST-LAST, e.g. 443 or 8000-8999");
    };
    const auto dash = text.find('-');
    const auto first = parse_integer<std::uint32_t>(text.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_integer<std::uint32_t>(text.substr(dash + 1));
    if (!first || !last || *first == 0 || *last > 65535 || *first > *last) return bad();
    return PortRange{static_cast<std::uint16_t>(*first), static_cast<std::uint16_t>(*last)};
}

Result<std::uint32_t> parse_pid(std::string_view text) {
    const auto pid = parse_integer<std::uint32_t>(text);
    if (!pid || *pid == 0 || *pid > kPidMax) return invalid("--pid", text, "expected a process ID (a positive number)");
    return *pid;
}

Result<std::uint32_t> parse_uid(std::string_view text) {
    if (const auto uid = parse_integer<std::uint32_t>(text)) {
        if (*uid != std::numeric_limits<std::uint32_t>::max()) return *uid;
        return invalid("--uid", text, "4294967295 is not a valid user ID");
    }
    if (text.empty()) return invalid("--uid", text, "expected a user ID or a user name");
    // /etc/passwd itself, not NSS (see util/account_file.hpp).
    const auto passwd = read_account_file(kPasswdPath);
    if (!passwd) return invalid("--uid", text, std::string("not a number, and ") + kPasswdPath + " cannot be read");
    if (const auto uid = find_account_id(*passwd, text)) return *uid;
    return invalid("--uid", text, std::string("not a number and no user of that name in ") + kPasswdPath);
}

Result<std::string> parse_comm(std::string_view text, std::string_view option) {
    if (text.empty() || text.size() > 15) {
        return invalid(option, text, "expected a task name of 1 to 15 bytes (the kernel keeps no more)");
    }
    return std::string(text);
}

Result<std::uint32_t> parse_netns(std::string_view text, const std::string& netns_dir) {
    if (const auto inode = parse_integer<std::uint32_t>(text)) {
        if (*inode != 0) return *inode;
        return invalid("--netns", text, "0 is not a namespace inode number");
    }
    // `ip netns` names are file names: no path separators, not . or ..
    if (text.empty() || text == "." || text == ".." || text.find('/') != std::string_view::npos ||
        text.find('\0') != std::string_view::npos) {
        return invalid("--netns", text, "expected a namespace inode number or an `ip netns` name");
    }
    const std::string path = netns_dir + "/" + std::string(text);
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        return invalid("--netns", text, "not a number and no " + path + " (see `ip netns list`)");
    }
    // nsfs inode numbers fit in 32 bits (the kernel's ns_common.inum)
    if (info.st_ino == 0 || info.st_ino > std::numeric_limits<std::uint32_t>::max()) {
        return invalid("--netns", text, path + " is not a network namespace");
    }
    return static_cast<std::uint32_t>(info.st_ino);
}

Result<std::uint64_t> parse_count(std::string_view text) {
    const auto count = parse_integer<std::uint64_t>(text);
    if (!count || *count == 0) return invalid("--count", text, "expected a positive number of events");
    return *count;
}

// "90", "2.5", "30s", "5m", "1h", or units combined largest first: "1h30m", "2m30s".
Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
    const auto bad = [&] {
        return invalid("--duration", text, "expected a positive duration, e.g. 10, 2.5, 30s, 5m, 1h or 1h30m");
    };
    double millis = 0;
    std::string_view rest = text;
    int previous_unit = 4;  // units must come largest first, each once
    while (!rest.empty()) {
        double value = 0;
        const auto* end = rest.data() + rest.size();
        auto [ptr, ec] = std::from_chars(rest.data(), end, value, std::chars_format::fixed);
        if (ec != std::errc{} || ptr == rest.data() || value < 0) return bad();
        rest.remove_prefix(static_cast<std::size_t>(ptr - rest.data()));
        int unit = 1;  // a bare number: seconds, and only as the whole text
        double unit_seconds = 1;
        if (rest.empty()) {
            if (previous_unit != 4) return bad();  // "1h30": 30 what?
        } else if (rest.front() == 'h') {
            unit = 3, unit_seconds = 3600;
        } else if (rest.front() == 'm') {
            unit = 2, unit_seconds = 60;
        } else if (rest.front() == 's') {
            unit = 1, unit_seconds = 1;
        } else {
            return bad();
        }
        if (!rest.empty()) rest.remove_prefix(1);
        if (unit >= previous_unit) return bad();
        previous_unit = unit;
        millis += value * unit_seconds * 1000;
    }
    if (text.empty() || !std::isfinite(millis) || millis < 1 || millis > 1e12) return bad();
    return std::chrono::milliseconds(static_cast<std::int64_t>(millis));
}

Result<std::uint32_t> parse_ringbuf_size(std::string_view text) {
    const auto bytes = parse_bytes(text);
    if (!bytes || *bytes < kMinRingBuffer || *bytes > kMaxRingBuffer || (*bytes & (*bytes - 1)) != 0) {
        return invalid("--ringbuf-size", text, "expected a power of two from 4K to 1G bytes, e.g. 256K or 8M");
    }
    return static_cast<std::uint32_t>(*bytes);
}

Result<std::uint32_t> parse_argv_max(std::string_view text) {
    const auto bytes = parse_bytes(text);
    if (!bytes || *bytes > kArgvCapacity) {
        return invalid("--argv-max", text, "expected a number of bytes from 0 to " + std::to_string(kArgvCapacity));
    }
    return static_cast<std::uint32_t>(*bytes);
}

Result<std::uint32_t> parse_max_in_flight(std::string_view text) {
    const auto count = parse_integer<std::uint32_t>(text);
    if (!count || *count == 0 || *count > kMaxInFlightLimit) {
        return invalid("--max-in-flight", text,
                       "expected a number of attempts from 1 to " + std::to_string(kMaxInFlightLimit));
    }
    return *count;
}

}  // namespace connsnoop

namespace connsnoop {

Result<ListenAddress> parse_listen_address(std::string_view text) {
    const auto colon = text.rfind(':');
    const auto bad = [&] {
        return invalid("--metrics", text, "expected ADDR:PORT, [IPV6]:PORT or :PORT, e.g. 127.0.0.1:9464");
    };
    if (colon == std::string_view::npos) return bad();
    const auto port = parse_integer<std::uint32_t>(text.substr(colon + 1));
    if (!port || *port > 65535) return bad();
    std::string_view host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
        const auto address = IpAddress::parse(host);
        if (!address || address->family != AddressFamily::ipv6) return bad();
    } else if (!host.empty()) {
        const auto address = IpAddress::parse(host);
        if (!address && host.find(':') == std::string_view::npos) {
            // No resolver: the static binary must not need the host's NSS or DNS.
            return invalid("--metrics", text,
                           "the address must be numeric (host names are not resolved), e.g. 127.0.0.1:9464, "
                           "[::1]:9464 or :9464");
        }
        if (!address || address->family != AddressFamily::ipv4) return bad();
    }
    return ListenAddress{host.empty() ? "0.0.0.0" : std::string(host), static_cast<std::uint16_t>(*port)};
}

Result<std::size_t> parse_max_series(std::string_view text) {
    const auto count = parse_integer<std::size_t>(text);
    if (!count || *count == 0 || *count > 1'000'000) {
        return invalid("--metrics-max-series", text, "expected a number of series from 1 to 1000000");
    }
    return *count;
}

Result<int> parse_ancestry_depth(std::string_view text) {
    const auto depth = parse_integer<int>(text);
    if (!depth || *depth < 0 || *depth > 16)
        return invalid("--ancestry", text, "expected a number of levels from 0 to 16");
    return *depth;
}

Result<AncestryChoice> parse_ancestry(std::string_view text) {
    AncestryChoice choice;
    bool detail_given = false;
    std::string_view rest = text;
    while (true) {
        const auto comma = rest.find(',');
        const auto part = rest.substr(0, comma);
        if ((part == "short" || part == "full") && !detail_given) {
            choice.detail = part == "short" ? AncestorDetail::pid_and_comm : AncestorDetail::full;
            detail_given = true;
        } else if (!part.empty() && !choice.depth && part.find_first_not_of("0123456789") == std::string_view::npos) {
            auto depth = parse_ancestry_depth(part);
            if (!depth)
                return invalid("--ancestry", text,
                               "expected a number of levels from 0 to 16, short, or both (4,short)");
            choice.depth = *depth;
        } else {
            return invalid("--ancestry", text, "expected a number of levels from 0 to 16, short, or both (4,short)");
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return choice;
}

Result<std::string> parse_unit_name(std::string_view text) {
    static constexpr std::string_view kUnitTypes[] = {".service", ".scope", ".slice", ".socket", ".target",   ".timer",
                                                      ".mount",   ".swap",  ".path",  ".device", ".automount"};
    if (text.empty() || text.size() > 255 || text.find('/') != std::string_view::npos) {
        return invalid("--unit", text, "expected a systemd unit name, e.g. nginx or nginx.service");
    }
    for (auto type : kUnitTypes) {
        if (text.size() > type.size() && text.ends_with(type)) return std::string(text);
    }
    return std::string(text) + ".service";  // as systemctl reads a name without a unit type
}

Result<std::string> parse_container_prefix(std::string_view text) {
    const bool hex =
        !text.empty() && text.size() <= 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
    if (!hex)
        return invalid("--container", text, "expected a container ID or its prefix (lower-case hex, up to 64 digits)");
    return std::string(text);
}

}  // namespace connsnoop

// ---------------------------------------------------------------------------
// top and --alert

namespace connsnoop {

namespace {
constexpr auto kMinInterval = std::chrono::milliseconds(100);  // the poll period: refreshing faster shows nothing new
}  // namespace

Result<std::chrono::milliseconds> parse_interval(std::string_view text) {
    auto interval = parse_duration(text);
    if (!interval || *interval < kMinInterval) {
        return invalid("--interval", text, "expected seconds between refreshes, at least 0.1, e.g. 1, 0.5, 2s");
    }
    return *interval;
}

Result<double> parse_alert_rate(std::string_view text) {
    double rate = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, rate);
    if (text.empty() || ec != std::errc{} || ptr != end || !std::isfinite(rate) || rate <= 0) {
        return invalid("--alert", text, "expected connection attempts per second, a positive number, e.g. 100 or 2.5");
    }
    return rate;
}

Result<std::size_t> parse_rows(std::string_view text) {
    const auto rows = parse_integer<std::size_t>(text);
    if (!rows) return invalid("--rows", text, "expected a number of rows (0: all)");
    return *rows;
}

Result<GroupBy> parse_grouping(std::string_view text) {
    if (auto by = parse_group_by(text)) return *by;
    return invalid("--by", text,
                   "expected command, pid, comm, user, cgroup, container, unit, dest, port, path, imds or qname");
}

Result<SortColumn> parse_sort_column(std::string_view text) {
    for (std::size_t i = 0; i < kSortColumns; ++i) {
        const auto column = static_cast<SortColumn>(i);
        if (sort_column_name(column) == text) return column;
    }
    return invalid("--sort", text, "expected 1s, 10s, 60s, total, failed, mean, p99, last or key");
}

}  // namespace connsnoop
