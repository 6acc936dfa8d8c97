// libFuzzer: the order-request parser and validator. Any input must give either a valid order
// (the invariants below) or an error with a status, a code and a message.
#include "domain/OrderRequest.h"
#include "money/Tokens.h"

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
    const auto result = oee::parseOrderRequest(body, type, 10000, 4096);
    if (const auto *order = std::get_if<oee::OrderRequest>(&result)) {
        const oee::TokenRegistry &tokens = oee::TokenRegistry::instance();
        const oee::Token *in = tokens.bySymbol(order->tokenIn);
        const bool valid = in && tokens.bySymbol(order->tokenOut) &&
                           order->tokenIn != order->tokenOut && order->amount > 0 &&
                           order->slippagePpm > 0 && order->slippagePpm <= oee::kMaxSlippagePpm &&
                           order->orderType == QStringLiteral("market") &&
                           // exact: the amount's text reads back to the same base units
                           oee::parseTokenAmount(order->amountText(), in->decimals) ==
                               std::variant<oee::BaseUnits, QString>(order->amount);
        if (!valid)
            std::abort();
    } else {
        const auto &e = std::get<oee::ApiError>(result);
        if (e.httpStatus() < 400 || e.httpStatus() > 499 || e.code().isEmpty() ||
            e.message.isEmpty())
            std::abort();
    }
    return 0;
}
