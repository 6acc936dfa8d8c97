#pragma once
#include <QString>

namespace oee {

// Every way a request can fail. The HTTP status and the machine-readable code of each kind are
// decided in one place (ApiError.cpp); nothing else maps errors to status codes.
enum class ErrorKind {
    MalformedRequest,     // 400 the HTTP request itself is malformed (framing)
    InvalidJson,          // 400 body is not a JSON object
    InvalidField,         // 400 a field is missing, of the wrong type or out of range
    UnknownField,         // 400 a field oee does not know (it would be silently ignored)
    UnknownToken,         // 400
    UnsupportedOrderType, // 400
    Unauthorized,         // 401
    NotFound,             // 404 no such path or not an order id
    OrderNotFound,        // 404 a well-formed order id with no order
    PoolNotFound,         // 404 no pool with that id
    NoRoute,              // 422 no pool or pair of pools fills the amount (insufficient liquidity)
    RequestTimeout,       // 408
    IdempotencyConflict,  // 409 the same Idempotency-Key is in flight in another request
    NotCancellable,       // 409 the order is past pending/open (routing or later, or ended)
    NotRetryable,         // 409 only a failed order can be retried
    TokenExists,          // 409 a launch of a symbol or mint that already trades
    PayloadTooLarge,      // 413
    UnsupportedMediaType, // 415
    IdempotencyKeyReused, // 422 the key was used for a different request
    UpgradeRequired,      // 426 a stream path asked for without a WebSocket upgrade
    HeadersTooLarge,      // 431
    QueueUnavailable,     // 503 Redis
    DatabaseUnavailable,  // 503 PostgreSQL
    NotServing,           // 503 this process accepts no orders (role worker)
    Overloaded,           // 503 too many reads waiting (with Retry-After)
    Paused,               // 503 the operator paused intake
};

// What went wrong, mapped 1:1 to the JSON error body
// {"success":false,"error":<summary>,"code":…,"message":…,"field":…}.
struct ApiError
{
    ErrorKind kind = ErrorKind::InvalidField;
    QString message; // the whole explanation
    QString field;   // empty when the error is not about one field
    QString summary; // the short `error` string clients compare ("Order not found"); empty: message

    [[nodiscard]] int httpStatus() const;
    [[nodiscard]] QString code() const;
    [[nodiscard]] QString errorText() const { return summary.isEmpty() ? message : summary; }
};

[[nodiscard]] int httpStatusOf(ErrorKind kind);
[[nodiscard]] QString codeOf(ErrorKind kind);

} // namespace oee
