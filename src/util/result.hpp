// Errors as values: every fallible step returns Result<T>, and the top of the
// program reports the Error once, with its hint.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace connsnoop {

struct Error {
    std::string message;  // what failed, with the value or object involved
    std::string hint;     // what the user can do about it; may be empty
    int errno_value = 0;  // the system error behind it, 0 if none

    // The same error with more context in front, e.g. "loading BPF: " + message.
    [[nodiscard]] Error with_context(const std::string& context) const {
        return Error{context + ": " + message, hint, errno_value};
    }
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool ok() const { return std::holds_alternative<T>(state_); }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<T>(state_); }
    const T& value() const& { return std::get<T>(state_); }
    T&& value() && { return std::get<T>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }

    [[nodiscard]] const Error& error() const { return std::get<Error>(state_); }

private:
    std::variant<T, Error> state_;
};

// Result of an operation that yields nothing but may fail.
struct Ok {};
using Status = Result<Ok>;

}  // namespace connsnoop
