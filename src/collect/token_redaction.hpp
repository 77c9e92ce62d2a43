// IMDSv2 session tokens are secrets. Request heads are parsed in the kernel
// and never carry header values out, but a caller may put the token on its
// own command line (curl -H "X-aws-ec2-metadata-token: ..."), which connsnoop
// captures as argv. Such values are replaced right after decoding, before
// anything else sees the arguments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace connsnoop {

inline constexpr const char* kRedactedValue = "[redacted]";

// Every "X-aws-ec2-metadata-token: VALUE" (any case, any spaces around the
// colon) in `text` with VALUE, up to the end of its line, replaced. The TTL
// header is not a secret and stays.
std::string redact_imds_tokens(std::string text);
void redact_imds_tokens(std::vector<std::string>& argv);
// False when `text` holds no token header name (in any case), so nothing in
// it or in any part of it would be redacted.
bool may_hold_imds_token(std::string_view text);

}  // namespace connsnoop
