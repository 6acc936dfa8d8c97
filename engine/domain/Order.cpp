#include "domain/Order.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUuid>
#include <cmath>
#include <limits>

namespace oee {

QString statusName(OrderStatus s)
{
    switch (s) {
    case OrderStatus::Pending:
        return QStringLiteral("pending");
    case OrderStatus::Routing:
        return QStringLiteral("routing");
    case OrderStatus::Building:
        return QStringLiteral("building");
    case OrderStatus::Submitted:
        return QStringLiteral("submitted");
    case OrderStatus::Confirmed:
        return QStringLiteral("confirmed");
    case OrderStatus::Failed:
        return QStringLiteral("failed");
    case OrderStatus::Cancelled:
        return QStringLiteral("cancelled");
    case OrderStatus::Open:
        return QStringLiteral("open");
    case OrderStatus::Expired:
        return QStringLiteral("expired");
    }
    return {};
}

const QList<OrderStatus> &allStatuses()
{
    static const QList<OrderStatus> all = {
        OrderStatus::Pending,   OrderStatus::Routing,   OrderStatus::Building,
        OrderStatus::Submitted, OrderStatus::Confirmed, OrderStatus::Failed,
        OrderStatus::Cancelled, OrderStatus::Open,      OrderStatus::Expired};
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
    // "2026-11-22T10:06:13.123Z", as Qt::ISODateWithMs writes it for UTC, without QDateTime's
    // formatting machinery (it ran for every event, twice): days to a civil date (H. Hinnant).
    if (!t.isValid())
        return QString();
    const qint64 ms = t.toMSecsSinceEpoch();
    qint64 days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
    const qint64 msOfDay = ms - days * 86400000;
    days += 719468;
    const qint64 era = (days >= 0 ? days : days - 146096) / 146097;
    const qint64 doe = days - era * 146097;
    const qint64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const qint64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const qint64 mp = (5 * doy + 2) / 153;
    const qint64 d = doy - (153 * mp + 2) / 5 + 1;
    const qint64 m = mp < 10 ? mp + 3 : mp - 9;
    const qint64 y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    if (y < 0 || y > 9999)
        return t.toUTC().toString(Qt::ISODateWithMs);
    char buf[24];
    const auto put = [&](int at, qint64 v, int width) {
        for (int i = width - 1; i >= 0; --i) {
            buf[at + i] = char('0' + v % 10);
            v /= 10;
        }
    };
    put(0, y, 4);
    buf[4] = '-';
    put(5, m, 2);
    buf[7] = '-';
    put(8, d, 2);
    buf[10] = 'T';
    put(11, msOfDay / 3600000, 2);
    buf[13] = ':';
    put(14, msOfDay / 60000 % 60, 2);
    buf[16] = ':';
    put(17, msOfDay / 1000 % 60, 2);
    buf[19] = '.';
    put(20, msOfDay % 1000, 3);
    buf[23] = 'Z';
    return QString::fromLatin1(buf, 24);
}

QString canonicalOrderId(const QString &text)
{
    if (text.size() != 36 && text.size() != 38)
        return {};
    const QUuid id = QUuid::fromString(text);
    return id.isNull() ? QString() : id.toString(QUuid::WithoutBraces);
}

QString describeEvent(const OrderEvent &e)
{
    // From the typed data: one sentence per kind of event.
    struct Describe
    {
        QString operator()(const std::monostate &) const { return {}; }
        QString operator()(const SubmittedOrder &d) const
        {
            if (d.request.orderType == QLatin1String("market"))
                return QStringLiteral("Order received, queued for execution");
            return QStringLiteral("%1 order received").arg(d.request.orderType);
        }
        QString operator()(const RetryScheduled &d) const
        {
            return QStringLiteral("Attempt %1 failed: %2. Retrying in %3 ms")
                .arg(d.attempt)
                .arg(d.error)
                .arg(d.retryInMs);
        }
        QString operator()(const RoutingPlan &d) const
        {
            const QString compared =
                QStringLiteral("Compared %1 routes: best is %2 (%3)")
                    .arg(d.plan.value(QStringLiteral("candidates")).toArray().size())
                    .arg(d.venue, d.plan.value(QStringLiteral("route")).toString());
            if (!d.trigger)
                return compared;
            return (d.trigger->reason == QLatin1String("launch")
                        ? QStringLiteral("Fired by the launch of its token. ")
                        : QStringLiteral("Fired: the price crossed its limit. ")) +
                   compared;
        }
        QString operator()(const TransactionBuilt &d) const
        {
            return QStringLiteral("Building the transaction on %1 (minimum out %2)")
                .arg(d.venue, d.minOutText);
        }
        QString operator()(const TransactionSubmitted &d) const
        {
            return QStringLiteral("Transaction submitted to %1: %2").arg(d.venue, d.signature);
        }
        QString operator()(const FillReport &d) const
        {
            return QStringLiteral("Executed on %1 at %2: received %3")
                .arg(d.venue, d.executedPrice, d.amountOutText);
        }
        QString operator()(const FailureReport &d) const
        {
            return QStringLiteral("Failed: %1").arg(d.error);
        }
        QString operator()(const RestingOrderData &d) const
        {
            if (d.attempt > 0)
                return QStringLiteral("Attempt %1 missed (%2): resting again")
                    .arg(d.attempt)
                    .arg(d.error);
            return QStringLiteral("Resting: %1").arg(d.waitingFor);
        }
        QString operator()(const CancelReport &d) const
        {
            return QStringLiteral("Cancelled: %1").arg(d.reason);
        }
        QString operator()(const ExpiryReport &d) const
        {
            return QStringLiteral("Expired at %1").arg(isoTime(d.expiresAt));
        }
    };
    return std::visit(Describe{}, e.typed());
}

void OrderEvent::setPayload(EventData typedData)
{
    payload = std::move(typedData);
    data = eventDataJson(payload);
    dataJsonCache.clear();
}

EventData OrderEvent::typed() const
{
    if (!std::holds_alternative<std::monostate>(payload))
        return payload;
    return eventDataFromJson(status, data);
}

EventFacts OrderEvent::facts() const
{
    return factsOf(typed());
}

QJsonObject OrderEvent::toJson() const
{
    QJsonObject o = head();
    o.insert(QStringLiteral("data"), data);
    return o;
}

QJsonObject OrderEvent::head() const
{
    QJsonObject o{{QStringLiteral("type"), QStringLiteral("status")},
                  {QStringLiteral("seq"), seq},
                  {QStringLiteral("orderId"), orderId},
                  {QStringLiteral("status"), statusName(status)},
                  {QStringLiteral("timestamp"), isoTime(at)}};
    if (eventId > 0)
        o.insert(QStringLiteral("eventId"), eventId); // exact: ids stay far below 2^53
    // Seeds 003 and 004 read these at the top level of a stream message. Amounts and prices
    // are exact decimal strings in `data`; the seeds' clients compute with numbers at the top
    // level (the same text whenever it has at most 15 significant digits), from the typed facts.
    const EventFacts f = facts();
    if (!f.signature.isEmpty())
        o.insert(QStringLiteral("txHash"), f.signature);
    if (!f.executedPrice.isEmpty()) {
        o.insert(QStringLiteral("executedPrice"), f.executedPrice.toDouble());
        o.insert(QStringLiteral("executionPrice"), f.executedPrice.toDouble());
    }
    if (!f.amountOut.isEmpty())
        o.insert(QStringLiteral("amountOut"), f.amountOut.toDouble());
    if (!f.venue.isEmpty())
        o.insert(QStringLiteral("venue"), f.venue);
    if (!f.error.isEmpty())
        o.insert(QStringLiteral("error"), f.error);
    return o;
}

QJsonObject OrderEvent::toJsonWithMessage() const
{
    QJsonObject o = toJson();
    QJsonObject d = data;
    d.insert(QStringLiteral("message"), describeEvent(*this));
    o.insert(QStringLiteral("data"), d);
    return o;
}

const QByteArray &OrderEvent::dataJson() const
{
    if (dataJsonCache.isEmpty())
        dataJsonCache = QJsonDocument(data).toJson(QJsonDocument::Compact);
    return dataJsonCache;
}

QByteArray OrderEvent::toMessage() const
{
    // The head without `data`, then `data` spliced in from its one serialisation. A logged
    // event's id comes first, as EventLog splices it in front of a writer's encoding: every
    // stream message starts {"eventId":N, so a client can follow ids without parsing.
    QJsonObject h = head();
    h.remove(QStringLiteral("eventId"));
    const QByteArray rest = QJsonDocument(h).toJson(QJsonDocument::Compact);
    const QByteArrayView fields = QByteArrayView(rest).sliced(1, rest.size() - 2); // no braces
    QByteArray out("{");
    if (eventId > 0)
        out.append("\"eventId\":").append(QByteArray::number(eventId)).append(',');
    out.append(fields);
    if (!fields.isEmpty())
        out.append(',');
    out.append("\"data\":").append(dataJson()).append('}');
    return out;
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
    e.at =
        QDateTime::fromString(o.value(QStringLiteral("timestamp")).toString(), Qt::ISODateWithMs);
    e.eventId = qint64(qMax(0.0, o.value(QStringLiteral("eventId")).toDouble()));
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
    QJsonObject o{
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
        {QStringLiteral("executionPrice"), numberOrNull(executedPrice)},
        {QStringLiteral("venue"), textOrNull(dex)},
        {QStringLiteral("inputMint"), tokenIn},
        {QStringLiteral("outputMint"), tokenOut},
        {QStringLiteral("slippage_pct"),
         slippage.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(slippage.toDouble() * 100)},
        // the seeds' snake_case columns
        {QStringLiteral("token_in"), tokenIn},
        {QStringLiteral("token_out"), tokenOut},
        {QStringLiteral("input_mint"), tokenIn},
        {QStringLiteral("output_mint"), tokenOut},
        {QStringLiteral("amount_in"), numberOrNull(amount)},
        {QStringLiteral("amount_out"), numberOrNull(amountOut)},
        {QStringLiteral("tx_hash"), textOrNull(txSignature)},
        {QStringLiteral("executed_price"), numberOrNull(executedPrice)},
        {QStringLiteral("execution_price"), numberOrNull(executedPrice)},
        {QStringLiteral("created_at"), isoTime(createdAt)},
        {QStringLiteral("updated_at"), isoTime(updatedAt)},
    };
    for (auto it = terms.begin(); it != terms.end(); ++it)
        o.insert(it.key(), it.value());
    return o;
}

} // namespace oee
