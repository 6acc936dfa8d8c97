#pragma once
#include "domain/EventData.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>
#include <optional>

namespace oee {

// The lifecycle: pending → routing → building → submitted → confirmed | failed.
// A failed attempt that will be retried returns the order to pending; a limit or sniper order
// rests in open until it may execute (and returns there when an attempt misses); pending and
// open orders may be cancelled or expire. domain/Lifecycle.h has the whole table.
enum class OrderStatus {
    Pending,
    Routing,
    Building,
    Submitted,
    Confirmed,
    Failed,
    Cancelled,
    Open,
    Expired
};

[[nodiscard]] QString statusName(OrderStatus s);
[[nodiscard]] std::optional<OrderStatus> statusFromName(const QString &name);
[[nodiscard]] inline bool isTerminal(OrderStatus s)
{
    return s == OrderStatus::Confirmed || s == OrderStatus::Failed || s == OrderStatus::Cancelled ||
           s == OrderStatus::Expired;
}
[[nodiscard]] const QList<OrderStatus> &allStatuses();

// One status change, exactly as persisted in order_events and streamed to clients.
struct OrderEvent
{
    QString orderId;
    int seq = 0;
    OrderStatus status = OrderStatus::Pending;
    QJsonObject data; // the payload's one JSON encoding (setPayload), or as received
    QDateTime at;
    QByteArray message; // toMessage(), filled once where the event is committed
    qint64 fence = 0;   // the writer's claim on the order (OrderStore::claim); not streamed
    mutable QByteArray dataJsonCache; // dataJson(); empty until asked for
    EventData payload;  // typed; monostate for an event known only as JSON (see typed())
    qint64 eventId = 0; // its global id in the event log (EventLog); 0 until logged

    // Sets the typed data and `data`, its encoding.
    void setPayload(EventData typedData);
    // The typed data: the payload, or read from `data` (events from PostgreSQL, from another
    // process, or built as JSON).
    [[nodiscard]] EventData typed() const;
    [[nodiscard]] EventFacts facts() const;

    // The stream message: type "status", seq, orderId, status, timestamp, data, and what
    // clients read at the top level: txHash, executedPrice / executionPrice, amountOut, venue,
    // error.
    [[nodiscard]] QJsonObject toJson() const;
    // toJson() without `data`.
    [[nodiscard]] QJsonObject head() const;
    // The same with a human data.message (describeEvent), for seed 001's dialect.
    [[nodiscard]] QJsonObject toJsonWithMessage() const;
    // The WebSocket message, serialised once and shared by every subscriber.
    [[nodiscard]] QByteArray toMessage() const;
    // `data` as compact JSON, serialised once for both the message and the order_events row.
    [[nodiscard]] const QByteArray &dataJson() const;
    // The inverse of toMessage() (events arriving from other processes); nullopt if the text
    // is not a status message.
    [[nodiscard]] static std::optional<OrderEvent> fromMessage(const QByteArray &json);
};

// The orders row.
struct Order
{
    QString id;
    qint64 orderNo = 0;
    QString orderType;
    QString tokenIn;
    QString tokenOut;
    QString amount; // NUMERIC as text: precision kept
    QString slippage;
    OrderStatus status = OrderStatus::Pending;
    int lastSeq = 0;
    int attempts = 0;
    QString dex;
    QString txSignature;
    QString executedPrice;
    QString amountOut;
    QString error;
    QDateTime createdAt;
    QDateTime updatedAt;
    QJsonObject terms; // an order type's terms (limitPrice, maxPrice, expiresAt, …)

    // A superset of the seeds' order rows: oee's camelCase fields and the snake_case columns
    // seeds 003 and 004 returned (tx_hash, updated_at, …).
    [[nodiscard]] QJsonObject toJson() const;
};

[[nodiscard]] QString isoTime(const QDateTime &t);

// An order id as oee stores it: a lowercase UUID without braces. Clients may send it in any
// case, with or without braces; anything that is not a UUID gives an empty string.
[[nodiscard]] QString canonicalOrderId(const QString &text);

// One human sentence for a status change ("Executed on raydium at 187.2: received 280.8"):
// the `data.message` of seed 001's stream messages, which its dashboard shows.
[[nodiscard]] QString describeEvent(const OrderEvent &event);

} // namespace oee

Q_DECLARE_METATYPE(oee::OrderEvent)
