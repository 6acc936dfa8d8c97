#include "domain/OrderRequest.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>

namespace oee {

namespace {

ApiError fieldError(const QString &field, const QString &message)
{
    return ApiError{400, QStringLiteral("invalid_field"), message, field};
}

std::variant<QString, ApiError> tokenField(const QJsonObject &o, const QString &field,
                                           const QStringList &known)
{
    const QJsonValue v = o.value(field);
    if (v.isUndefined() || v.isNull())
        return fieldError(field, field + QStringLiteral(" is required"));
    if (!v.isString())
        return fieldError(field, field + QStringLiteral(" must be a string (a token symbol)"));
    const QString symbol = v.toString().trimmed().toUpper();
    if (symbol.isEmpty())
        return fieldError(field, field + QStringLiteral(" must not be empty"));
    if (!known.contains(symbol)) {
        return ApiError{400, QStringLiteral("unknown_token"),
                        QStringLiteral("%1: unknown token '%2'; supported: %3")
                            .arg(field, v.toString().left(32), known.join(QStringLiteral(", "))),
                        field};
    }
    return symbol;
}

} // namespace

std::variant<OrderRequest, ApiError>
parseOrderRequest(const QByteArray &body, const QByteArray &contentType,
                  const QStringList &knownTokens, double defaultSlippage, int maxBodyBytes)
{
    if (body.size() > maxBodyBytes) {
        return ApiError{413, QStringLiteral("payload_too_large"),
                        QStringLiteral("request body of %1 bytes exceeds the limit of %2 bytes")
                            .arg(body.size())
                            .arg(maxBodyBytes),
                        {}};
    }
    const QByteArray mime = contentType.split(';').first().trimmed().toLower();
    if (mime != "application/json") {
        return ApiError{415, QStringLiteral("unsupported_media_type"),
                        QStringLiteral("Content-Type must be application/json, got '%1'")
                            .arg(QString::fromLatin1(contentType.left(64))),
                        {}};
    }
    QJsonParseError parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return ApiError{400, QStringLiteral("invalid_json"),
                        QStringLiteral("malformed JSON at offset %1: %2")
                            .arg(parseError.offset)
                            .arg(parseError.errorString()),
                        {}};
    }
    if (!doc.isObject()) {
        return ApiError{400, QStringLiteral("invalid_json"),
                        QStringLiteral("request body must be a JSON object"), {}};
    }
    const QJsonObject o = doc.object();
    OrderRequest r;

    const QJsonValue type = o.value(QStringLiteral("orderType"));
    if (!type.isUndefined() && !type.isNull()) {
        if (!type.isString())
            return fieldError(QStringLiteral("orderType"),
                              QStringLiteral("orderType must be a string"));
        if (type.toString() != QStringLiteral("market")) {
            return ApiError{400, QStringLiteral("unsupported_order_type"),
                            QStringLiteral("orderType '%1' is not supported; use 'market'")
                                .arg(type.toString().left(32)),
                            QStringLiteral("orderType")};
        }
    }

    auto in = tokenField(o, QStringLiteral("tokenIn"), knownTokens);
    if (auto *e = std::get_if<ApiError>(&in))
        return *e;
    auto out = tokenField(o, QStringLiteral("tokenOut"), knownTokens);
    if (auto *e = std::get_if<ApiError>(&out))
        return *e;
    r.tokenIn = std::get<QString>(in);
    r.tokenOut = std::get<QString>(out);
    if (r.tokenIn == r.tokenOut)
        return fieldError(QStringLiteral("tokenOut"),
                          QStringLiteral("tokenOut must differ from tokenIn"));

    // `amountIn` is what some existing clients send.
    QString amountField = QStringLiteral("amount");
    QJsonValue amount = o.value(amountField);
    const QJsonValue amountIn = o.value(QStringLiteral("amountIn"));
    if (amount.isUndefined() || amount.isNull()) {
        amountField = QStringLiteral("amountIn");
        amount = amountIn;
    } else if (!amountIn.isUndefined() && !amountIn.isNull() && amountIn != amount) {
        return fieldError(QStringLiteral("amountIn"),
                          QStringLiteral("amount and amountIn are both given and differ"));
    }
    if (amount.isUndefined() || amount.isNull())
        return fieldError(QStringLiteral("amount"), QStringLiteral("amount is required"));
    if (!amount.isDouble())
        return fieldError(amountField, amountField + QStringLiteral(" must be a number"));
    r.amount = amount.toDouble();
    if (!std::isfinite(r.amount) || r.amount <= 0)
        return fieldError(amountField, amountField + QStringLiteral(" must be greater than 0"));
    if (r.amount > kMaxOrderAmount)
        return fieldError(amountField, amountField + QStringLiteral(" exceeds the maximum of %1")
                                                         .arg(kMaxOrderAmount, 0, 'g'));

    const QJsonValue slippage = o.value(QStringLiteral("slippage"));
    if (slippage.isUndefined() || slippage.isNull()) {
        r.slippage = defaultSlippage;
    } else {
        if (!slippage.isDouble())
            return fieldError(QStringLiteral("slippage"),
                              QStringLiteral("slippage must be a number (a fraction, e.g. 0.01)"));
        r.slippage = slippage.toDouble();
        if (!(r.slippage > 0 && r.slippage <= 0.5))
            return fieldError(QStringLiteral("slippage"),
                              QStringLiteral("slippage must be in (0, 0.5], e.g. 0.01 for 1%"));
    }
    return r;
}

} // namespace oee
