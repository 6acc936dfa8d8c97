#include "domain/Order.h"

#include <QJsonDocument>
#include <cmath>
#include <limits>

namespace oee {

QString statusName(OrderStatus s)
{
    switch (s) {
    case OrderStatus::Pending: return QStringLiteral("pending");
    case OrderStatus::Routing: return QStringLiteral("routing");
    case OrderStatus::Building: return QStringLiteral("building");
    case OrderStatus::Submitted: return QStringLiteral("submitted");
    case OrderStatus::Confirmed: return QStringLiteral("confirmed");
    case OrderStatus::Failed: return QStringLiteral("failed");
    }
    return {};
}

const QList<OrderStatus> &allStatuses()
{
    static const QList<OrderStatus> all = {OrderStatus::Pending,   OrderStatus::Routing,
                                           OrderStatus::Building,  OrderStatus::Submitted,
                                           OrderStatus::Confirmed, OrderStatus::Failed};
    return all;
}

std::optional<OrderStatus> statusFromName(const QString &name)
{
    for (OrderStatus s : allStatuses())
        if (statusName(s) == name)
            return s;
    return std::nullopt;
}

QString isoTime(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

QJsonObject OrderEvent::toJson() const
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("status")},
                       {QStringLiteral("seq"), seq},
                       {QStringLiteral("orderId"), orderId},
                       {QStringLiteral("status"), statusName(status)},
                       {QStringLiteral("data"), data},
                       {QStringLiteral("timestamp"), isoTime(at)}};
}

QByteArray OrderEvent::toMessage() const
{
    return QJsonDocument(toJson()).toJson(QJsonDocument::Compact);
}

std::optional<OrderEvent> OrderEvent::fromMessage(const QByteArray &json)
{
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    if (o.value(QStringLiteral("type")).toString() != QStringLiteral("status"))
        return std::nullopt;
    const auto status = statusFromName(o.value(QStringLiteral("status")).toString());
    const QString orderId = o.value(QStringLiteral("orderId")).toString();
    const QJsonValue seq = o.value(QStringLiteral("seq"));
    // seq: a positive integer (the fuzzer found 9999.99 turning into 0).
    if (!status || orderId.isEmpty() || !seq.isDouble() || seq.toDouble() < 1 ||
        seq.toDouble() > std::numeric_limits<int>::max() ||
        seq.toDouble() != std::floor(seq.toDouble()))
        return std::nullopt;
    OrderEvent e;
    e.orderId = orderId;
    e.seq = seq.toInt();
    e.status = *status;
    e.data = o.value(QStringLiteral("data")).toObject();
    e.at = QDateTime::fromString(o.value(QStringLiteral("timestamp")).toString(), Qt::ISODateWithMs);
    e.message = json;
    return e;
}

static QJsonValue numberOrNull(const QString &text)
{
    if (text.isEmpty())
        return QJsonValue::Null;
    return text.toDouble();
}

static QJsonValue textOrNull(const QString &text)
{
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

QJsonObject Order::toJson() const
{
    return QJsonObject{
        {QStringLiteral("id"), id},
        {QStringLiteral("orderId"), id},
        {QStringLiteral("orderType"), orderType},
        {QStringLiteral("tokenIn"), tokenIn},
        {QStringLiteral("tokenOut"), tokenOut},
        {QStringLiteral("amount"), numberOrNull(amount)},
        {QStringLiteral("amountIn"), numberOrNull(amount)},
        {QStringLiteral("slippage"), numberOrNull(slippage)},
        {QStringLiteral("status"), statusName(status)},
        {QStringLiteral("seq"), lastSeq},
        {QStringLiteral("attempts"), attempts},
        {QStringLiteral("dex"), textOrNull(dex)},
        {QStringLiteral("txSignature"), textOrNull(txSignature)},
        {QStringLiteral("txHash"), textOrNull(txSignature)},
        {QStringLiteral("executedPrice"), numberOrNull(executedPrice)},
        {QStringLiteral("amountOut"), numberOrNull(amountOut)},
        {QStringLiteral("error"), textOrNull(error)},
        {QStringLiteral("createdAt"), isoTime(createdAt)},
        {QStringLiteral("updatedAt"), isoTime(updatedAt)},
    };
}

} // namespace oee
