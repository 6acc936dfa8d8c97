#pragma once
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
    double slippage = 0;
};

// What the client did wrong, mapped 1:1 to the HTTP error body.
struct ApiError
{
    int httpStatus = 400;
    QString code;
    QString message;
    QString field;  // empty when the error is not about one field
};

inline constexpr double kMaxOrderAmount = 1e15;

// Pure: no I/O, so it is cheap on the HTTP thread and easy to fuzz.
[[nodiscard]] std::variant<OrderRequest, ApiError>
parseOrderRequest(const QByteArray &body, const QByteArray &contentType,
                  const QStringList &knownTokens, double defaultSlippage, int maxBodyBytes);

} // namespace oee
