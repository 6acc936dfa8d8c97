#pragma once
#include "domain/ApiError.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <variant>

namespace oee {

// A validated market-order submission.
struct OrderRequest
{
    QString orderType = QStringLiteral("market");
    QString tokenIn;
    QString tokenOut;
    double amount = 0;
    double slippage = 0;  // a fraction: 0.01 is 1 %
};

inline constexpr double kMaxOrderAmount = 1e15;

// What the request asks for, whatever dialect spelled it (amount or amountIn, slippage or
// slippage_pct): two submissions under one Idempotency-Key must have the same fingerprint.
[[nodiscard]] QString requestFingerprint(const OrderRequest &request);

// Pure: no I/O, so it is cheap on the HTTP thread and easy to fuzz. Accepts every seed
// dialect's field names (tokenIn/inputMint, amount/amountIn, slippage as a fraction or
// slippage_pct in percent, side); any other field is refused rather than ignored.
[[nodiscard]] std::variant<OrderRequest, ApiError>
parseOrderRequest(const QByteArray &body, const QByteArray &contentType,
                  const QStringList &knownTokens, double defaultSlippage, int maxBodyBytes);

} // namespace oee
