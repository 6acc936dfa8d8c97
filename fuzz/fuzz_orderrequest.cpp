// libFuzzer: the order-request parser and validator. Any input must give either a valid order
// (the invariants below) or an error with a status, a code and a message.
#include "dex/Market.h"
#include "domain/OrderRequest.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    // The first byte picks a Content-Type, so that check is fuzzed too.
    static const QByteArray types[] = {"application/json", "application/json; charset=utf-8",
                                       "text/plain", "", "APPLICATION/JSON"};
    const QByteArray type = types[data[0] % 5];
    const QByteArray body(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    const auto result = oee::parseOrderRequest(body, type, oee::Market::tokens(), 0.01, 4096);
    if (const auto *order = std::get_if<oee::OrderRequest>(&result)) {
        const bool valid = oee::Market::tokens().contains(order->tokenIn) &&
                           oee::Market::tokens().contains(order->tokenOut) &&
                           order->tokenIn != order->tokenOut && order->amount > 0 &&
                           order->amount <= oee::kMaxOrderAmount && order->slippage > 0 &&
                           order->slippage <= 0.5 && order->orderType == QStringLiteral("market");
        if (!valid)
            std::abort();
    } else {
        const auto &e = std::get<oee::ApiError>(result);
        if (e.httpStatus() < 400 || e.httpStatus() > 499 || e.code().isEmpty() || e.message.isEmpty())
            std::abort();
    }
    return 0;
}
