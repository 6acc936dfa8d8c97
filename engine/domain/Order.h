#pragma once
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>
#include <optional>

namespace oee {

// The lifecycle: pending → routing → building → submitted → confirmed | failed.
// A failed attempt that will be retried returns the order to pending.
enum class OrderStatus { Pending, Routing, Building, Submitted, Confirmed, Failed };

[[nodiscard]] QString statusName(OrderStatus s);
[[nodiscard]] std::optional<OrderStatus> statusFromName(const QString &name);
[[nodiscard]] inline bool isTerminal(OrderStatus s)
{
    return s == OrderStatus::Confirmed || s == OrderStatus::Failed;
}
[[nodiscard]] const QList<OrderStatus> &allStatuses();

// One status change, exactly as persisted in order_events and streamed to clients.
struct OrderEvent
{
    QString orderId;
    int seq = 0;
    OrderStatus status = OrderStatus::Pending;
    QJsonObject data;
    QDateTime at;
    QByteArray message;  // toMessage(), filled once where the event is committed

    [[nodiscard]] QJsonObject toJson() const;
    // The WebSocket message, serialised once and shared by every subscriber.
    [[nodiscard]] QByteArray toMessage() const;
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
    QString amount;      // NUMERIC as text: precision kept
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

    [[nodiscard]] QJsonObject toJson() const;
};

[[nodiscard]] QString isoTime(const QDateTime &t);

} // namespace oee

Q_DECLARE_METATYPE(oee::OrderEvent)
