#pragma once
#include "domain/ApiError.h"
#include "money/Amount.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <optional>
#include <variant>

namespace oee {

// A validated order submission. Exact: the amount in base units of tokenIn, the tolerance in
// parts per million, prices as exact decimals. What each order type adds is read by its
// strategy (execution/OrderType.h).
struct OrderRequest
{
    QString orderType = QStringLiteral("market");
    QString tokenIn;      // symbol from the token registry (clients may send the mint)
    QString tokenOut;     // symbol; a sniper's may be a symbol or mint not launched yet, as given
    BaseUnits amount = 0; // base units of tokenIn
    quint32 slippagePpm = 0; // 10000 is 1 %
    // limit: the least output the whole amount must fetch (base units of tokenOut), from
    // limitPrice (kept as given, exact) or minAmountOut.
    BaseUnits limitMinOut = 0;
    QString limitPrice;
    // sniper: the most it pays per token bought (tokenIn per tokenOut); empty: any.
    QString maxPrice;
    QDateTime expiresAt; // UTC; invalid: never
    QString retryOf;     // the failed order this one retries (operator retry); empty: none

    // Token units as exact decimal text ("1.5"), as PostgreSQL's NUMERIC keeps it.
    [[nodiscard]] QString amountText() const;
    // The tolerance as an exact fraction ("0.01").
    [[nodiscard]] QString slippageText() const;
};

inline constexpr quint32 kPpm = 1'000'000;
inline constexpr quint32 kMaxSlippagePpm = 500'000; // 50 %

// The request fields that name order-type terms (limitPrice, maxPrice, expiresAt, …), in the
// job payload and the orders row's `terms` column.
[[nodiscard]] QJsonObject termsJson(const OrderRequest &request);
// Reads termsJson() back into `request`; false if a term is unreadable.
bool readTerms(const QJsonObject &terms, OrderRequest &request);

// "0.01" (a fraction) → 10000 ppm; more than 6 decimal places, ≤ 0 or > 0.5 is an error.
[[nodiscard]] std::variant<quint32, QString> parseSlippageFraction(const QString &text);

// The job's payload and the pending event's data: the order in exact text ("amount": "1.5",
// "slippage": "0.01") and in base units / ppm (amountRaw, slippagePpm). fromJobPayload also
// reads a payload with the text only (the reconciler rebuilds jobs from the orders row).
[[nodiscard]] QJsonObject toJobPayload(const OrderRequest &request);
[[nodiscard]] std::optional<OrderRequest> fromJobPayload(const QJsonObject &payload);

// What the request asks for, whatever dialect spelled it (amount or amountIn, slippage or
// slippage_pct): two submissions under one Idempotency-Key must have the same fingerprint.
[[nodiscard]] QString requestFingerprint(const OrderRequest &request);

// Pure: no I/O, so it is cheap on the HTTP thread and easy to fuzz. Accepts every seed
// dialect's field names (tokenIn/inputMint, amount/amountIn, slippage as a fraction or
// slippage_pct in percent, side); any other field is refused rather than ignored. Tokens by
// symbol or mint (TokenRegistry); amounts as numbers or decimal strings in token units, never
// rounded: more decimals than the token has is a 400.
[[nodiscard]] std::variant<OrderRequest, ApiError> parseOrderRequest(const QByteArray &body,
                                                                     const QByteArray &contentType,
                                                                     quint32 defaultSlippagePpm,
                                                                     int maxBodyBytes);

} // namespace oee
