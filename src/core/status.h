#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace strata {

// Expected failures (I/O errors, Kafka errors, commit conflicts, bad input) are values of
// Status or Result<T>; bugs are assertions. A Status must be looked at: it is [[nodiscard]].
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad config, bad SQL, bad user input
  kNotFound,         // missing table, file, key
  kAlreadyExists,    // e.g. a Delta commit file that another writer created first
  kConflict,         // a logical conflict between concurrent transactions
  kCorruption,       // a log entry, checkpoint or state file that cannot be understood
  kIOError,          // file system failure
  kUnavailable,      // a broker or service that cannot be reached (retryable)
  kDataLoss,         // requested offsets are no longer in the source
  kNotSupported,     // a protocol feature or operation strata does not implement
  kInternal,         // an invariant broke in a dependency
  kCancelled,        // the caller asked to stop
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NotFound: table catalog.streaming.x does not exist"
  std::string ToString() const;

  // Returns a copy whose message is prefixed by `context`: "context: message".
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status AlreadyExists(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status Conflict(std::string m) {
  return {StatusCode::kConflict, std::move(m)};
}
inline Status Corruption(std::string m) {
  return {StatusCode::kCorruption, std::move(m)};
}
inline Status IOError(std::string m) {
  return {StatusCode::kIOError, std::move(m)};
}
inline Status Unavailable(std::string m) {
  return {StatusCode::kUnavailable, std::move(m)};
}
inline Status DataLoss(std::string m) {
  return {StatusCode::kDataLoss, std::move(m)};
}
inline Status NotSupported(std::string m) {
  return {StatusCode::kNotSupported, std::move(m)};
}
inline Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}
inline Status Cancelled(std::string m) {
  return {StatusCode::kCancelled, std::move(m)};
}

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace strata

#define STRATA_CONCAT_INNER(a, b) a##b
#define STRATA_CONCAT(a, b) STRATA_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define STRATA_RETURN_IF_ERROR(expr) \
  do {                               \
    ::strata::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)

// Declares `lhs` from a Result expression, or returns its Status.
#define STRATA_ASSIGN_OR_RETURN(lhs, expr)                                                  \
  auto STRATA_CONCAT(_res_, __LINE__) = (expr);                                             \
  if (!STRATA_CONCAT(_res_, __LINE__).ok()) return STRATA_CONCAT(_res_, __LINE__).status(); \
  lhs = std::move(STRATA_CONCAT(_res_, __LINE__)).value()
