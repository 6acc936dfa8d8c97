#include "domain/Order.h"

#include <QJsonDocument>

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
