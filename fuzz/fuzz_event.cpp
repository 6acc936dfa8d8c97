// libFuzzer: the event-message parser (events arriving from other processes over Redis, the
// same JSON as the WebSocket messages). A parsed event must survive a round trip.
#include "domain/Order.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray text(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto event = oee::OrderEvent::fromMessage(text);
    if (!event)
        return 0;
    oee::OrderEvent copy = *event;
    copy.message.clear();
    const auto again = oee::OrderEvent::fromMessage(copy.toMessage());
    if (!again || again->orderId != event->orderId || again->seq != event->seq ||
        again->status != event->status || again->data != event->data)
        std::abort();
    return 0;
}
