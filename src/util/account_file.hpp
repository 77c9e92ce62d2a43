// /etc/passwd and /etc/group read directly, without NSS: the release binary
// is static, and glibc's NSS would dlopen modules of the host's glibc version
// (LDAP or SSSD accounts, which a tracer should not wait on, are not needed
// to name local services). Shared by the CLI (--uid NAME) and enrichment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace connsnoop {

inline constexpr const char* kPasswdPath = "/etc/passwd";
inline constexpr const char* kGroupPath = "/etc/group";

// The text of /etc/passwd or /etc/group ("name:password:ID:..."), name by ID.
// The first entry for an ID wins (as getpwuid does); lines that are blank,
// comments, NIS "+"/"-" entries or malformed are skipped.
std::unordered_map<std::uint32_t, std::string> parse_account_names(std::string_view text);

// The ID of the first entry named name in such a text.
std::optional<std::uint32_t> find_account_id(std::string_view text, std::string_view name);

// The whole file, or nullopt when it cannot be read.
std::optional<std::string> read_account_file(const std::string& path);

}  // namespace connsnoop
