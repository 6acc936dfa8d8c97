#include "domain/ApiError.h"

namespace oee {

int httpStatusOf(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::MalformedRequest:
    case ErrorKind::InvalidJson:
    case ErrorKind::InvalidField:
    case ErrorKind::UnknownField:
    case ErrorKind::UnknownToken:
    case ErrorKind::UnsupportedOrderType:
        return 400;
    case ErrorKind::Unauthorized:
        return 401;
    case ErrorKind::NotFound:
    case ErrorKind::OrderNotFound:
    case ErrorKind::PoolNotFound:
        return 404;
    case ErrorKind::NoRoute:
        return 422;
    case ErrorKind::RequestTimeout:
        return 408;
    case ErrorKind::IdempotencyConflict:
    case ErrorKind::NotCancellable:
    case ErrorKind::NotRetryable:
        return 409;
    case ErrorKind::TokenExists:
        return 409;
    case ErrorKind::PayloadTooLarge:
        return 413;
    case ErrorKind::UnsupportedMediaType:
        return 415;
    case ErrorKind::IdempotencyKeyReused:
        return 422;
    case ErrorKind::UpgradeRequired:
        return 426;
    case ErrorKind::HeadersTooLarge:
        return 431;
    case ErrorKind::QueueUnavailable:
    case ErrorKind::DatabaseUnavailable:
    case ErrorKind::NotServing:
    case ErrorKind::Overloaded:
    case ErrorKind::Paused:
        return 503;
    }
    return 500;
}

QString codeOf(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::MalformedRequest:
        return QStringLiteral("bad_request");
    case ErrorKind::InvalidJson:
        return QStringLiteral("invalid_json");
    case ErrorKind::InvalidField:
        return QStringLiteral("invalid_field");
    case ErrorKind::UnknownField:
        return QStringLiteral("unknown_field");
    case ErrorKind::UnknownToken:
        return QStringLiteral("unknown_token");
    case ErrorKind::PoolNotFound:
        return QStringLiteral("pool_not_found");
    case ErrorKind::NotCancellable:
        return QStringLiteral("not_cancellable");
    case ErrorKind::NotRetryable:
        return QStringLiteral("not_retryable");
    case ErrorKind::TokenExists:
        return QStringLiteral("token_exists");
    case ErrorKind::NoRoute:
        return QStringLiteral("no_route");
    case ErrorKind::UnsupportedOrderType:
        return QStringLiteral("unsupported_order_type");
    case ErrorKind::Unauthorized:
        return QStringLiteral("unauthorized");
    case ErrorKind::NotFound:
        return QStringLiteral("not_found");
    case ErrorKind::OrderNotFound:
        return QStringLiteral("order_not_found");
    case ErrorKind::RequestTimeout:
        return QStringLiteral("request_timeout");
    case ErrorKind::IdempotencyConflict:
        return QStringLiteral("conflict");
    case ErrorKind::PayloadTooLarge:
        return QStringLiteral("payload_too_large");
    case ErrorKind::UnsupportedMediaType:
        return QStringLiteral("unsupported_media_type");
    case ErrorKind::IdempotencyKeyReused:
        return QStringLiteral("idempotency_key_reused");
    case ErrorKind::UpgradeRequired:
        return QStringLiteral("upgrade_required");
    case ErrorKind::HeadersTooLarge:
        return QStringLiteral("headers_too_large");
    case ErrorKind::QueueUnavailable:
        return QStringLiteral("queue_unavailable");
    case ErrorKind::DatabaseUnavailable:
        return QStringLiteral("database_unavailable");
    case ErrorKind::NotServing:
        return QStringLiteral("not_serving");
    case ErrorKind::Overloaded:
        return QStringLiteral("overloaded");
    case ErrorKind::Paused:
        return QStringLiteral("paused");
    }
    return QStringLiteral("internal_error");
}

int ApiError::httpStatus() const
{
    return httpStatusOf(kind);
}

QString ApiError::code() const
{
    return codeOf(kind);
}

} // namespace oee
