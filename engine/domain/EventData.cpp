#include "domain/EventData.h"

#include "domain/Order.h"

namespace oee {

namespace {

QString iso(const QDateTime &t)
{
    return isoTime(t);
}

QDateTime fromIso(const QJsonValue &v)
{
    const QDateTime t = QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
    return t.isValid() ? t.toUTC() : t;
}

BaseUnits raw(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toString().toULongLong();
}

QString text(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toString();
}

int integer(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toInt();
}

// The order as a resting order's event carries it: the job payload without the text forms
// (the raw amount and ppm say the same).
QJsonObject restingJson(const OrderRequest &r)
{
    QJsonObject o = toJobPayload(r);
    o.remove(QStringLiteral("amount"));
    o.remove(QStringLiteral("slippage"));
    return o;
}

struct ToJson
{
    QJsonObject operator()(const std::monostate &) const { return {}; }
    QJsonObject operator()(const SubmittedOrder &d) const { return toJobPayload(d.request); }
    QJsonObject operator()(const RetryScheduled &d) const
    {
        return {{QStringLiteral("attempt"), d.attempt},
                {QStringLiteral("venue"), d.venue},
                {QStringLiteral("error"), d.error},
                {QStringLiteral("retryInMs"), double(d.retryInMs)},
                {QStringLiteral("nextAttempt"), d.attempt + 1}};
    }
    QJsonObject operator()(const RoutingPlan &d) const
    {
        QJsonObject o = d.plan;
        o.insert(QStringLiteral("attempt"), d.attempt);
        o.insert(QStringLiteral("venue"), d.venue);
        if (d.trigger) {
            QJsonObject t{{QStringLiteral("reason"), d.trigger->reason}};
            if (d.trigger->firedAt.isValid()) {
                t.insert(QStringLiteral("poolChangedAt"), iso(d.trigger->poolChangedAt));
                t.insert(QStringLiteral("firedAt"), iso(d.trigger->firedAt));
            }
            o.insert(QStringLiteral("trigger"), t);
        }
        return o;
    }
    QJsonObject operator()(const TransactionBuilt &d) const
    {
        return {{QStringLiteral("attempt"), d.attempt},
                {QStringLiteral("venue"), d.venue},
                {QStringLiteral("route"), d.route},
                {QStringLiteral("expectedAmountOut"), d.expectedOutText},
                {QStringLiteral("expectedAmountOutRaw"), QString::number(d.expectedOut)},
                {QStringLiteral("minAmountOut"), d.minOutText},
                {QStringLiteral("minAmountOutRaw"), QString::number(d.minOut)},
                {QStringLiteral("slippage"), d.slippage}};
    }
    QJsonObject operator()(const TransactionSubmitted &d) const
    {
        return {{QStringLiteral("attempt"), d.attempt},
                {QStringLiteral("venue"), d.venue},
                {QStringLiteral("signature"), d.signature}};
    }
    QJsonObject operator()(const FillReport &d) const
    {
        QJsonObject o{{QStringLiteral("attempt"), d.attempt},
                      {QStringLiteral("venue"), d.venue},
                      {QStringLiteral("signature"), d.signature},
                      {QStringLiteral("amountIn"), d.amountInText},
                      {QStringLiteral("amountInRaw"), QString::number(d.amountIn)},
                      {QStringLiteral("amountOut"), d.amountOutText},
                      {QStringLiteral("amountOutRaw"), QString::number(d.amountOut)},
                      {QStringLiteral("executedPrice"), d.executedPrice},
                      {QStringLiteral("legs"), d.legs}};
        if (d.alreadyLanded)
            o.insert(QStringLiteral("alreadyLanded"), true);
        return o;
    }
    QJsonObject operator()(const FailureReport &d) const
    {
        QJsonObject o{{QStringLiteral("attempt"), d.attempt}, {QStringLiteral("error"), d.error}};
        if (d.attempts > 0)
            o.insert(QStringLiteral("attempts"), d.attempts);
        if (!d.venue.isEmpty())
            o.insert(QStringLiteral("venue"), d.venue);
        return o;
    }
    QJsonObject operator()(const RestingOrderData &d) const
    {
        QJsonObject o = restingJson(d.request);
        if (d.attempt > 0) {
            o.insert(QStringLiteral("attempt"), d.attempt);
            o.insert(QStringLiteral("venue"), d.venue);
            o.insert(QStringLiteral("error"), d.error);
        } else {
            o.insert(QStringLiteral("waitingFor"), d.waitingFor);
        }
        return o;
    }
    QJsonObject operator()(const CancelReport &d) const
    {
        return {{QStringLiteral("reason"), d.reason}};
    }
    QJsonObject operator()(const ExpiryReport &d) const
    {
        QJsonObject o{{QStringLiteral("expiresAt"), iso(d.expiresAt)}};
        if (d.attempt > 0)
            o.insert(QStringLiteral("attempt"), d.attempt);
        return o;
    }
};

struct Facts
{
    EventFacts operator()(const std::monostate &) const { return {}; }
    EventFacts operator()(const SubmittedOrder &) const { return {}; }
    EventFacts operator()(const RetryScheduled &d) const
    {
        return {d.attempt, d.venue, {}, {}, {}, d.error};
    }
    EventFacts operator()(const RoutingPlan &d) const
    {
        return {d.attempt, d.venue, {}, {}, {}, {}};
    }
    EventFacts operator()(const TransactionBuilt &d) const
    {
        return {d.attempt, d.venue, {}, {}, {}, {}};
    }
    EventFacts operator()(const TransactionSubmitted &d) const
    {
        return {d.attempt, d.venue, d.signature, {}, {}, {}};
    }
    EventFacts operator()(const FillReport &d) const
    {
        return {d.attempt, d.venue, d.signature, d.executedPrice, d.amountOutText, {}};
    }
    EventFacts operator()(const FailureReport &d) const
    {
        return {d.attempt, d.venue, {}, {}, {}, d.error};
    }
    EventFacts operator()(const RestingOrderData &d) const
    {
        if (d.attempt > 0)
            return {d.attempt, d.venue, {}, {}, {}, d.error};
        return {};
    }
    EventFacts operator()(const CancelReport &) const { return {}; }
    EventFacts operator()(const ExpiryReport &d) const
    {
        EventFacts f;
        if (d.attempt > 0)
            f.attempt = d.attempt;
        return f;
    }
};

} // namespace

QJsonObject eventDataJson(const EventData &data)
{
    return std::visit(ToJson{}, data);
}

EventFacts factsOf(const EventData &data)
{
    return std::visit(Facts{}, data);
}

EventData eventDataFromJson(OrderStatus status, const QJsonObject &o)
{
    switch (status) {
    case OrderStatus::Pending:
        if (o.contains(QStringLiteral("error")))
            return RetryScheduled{integer(o, "attempt"), text(o, "venue"), text(o, "error"),
                                  qint64(o.value(QStringLiteral("retryInMs")).toDouble())};
        if (const auto r = fromJobPayload(o))
            return SubmittedOrder{*r};
        return std::monostate{};
    case OrderStatus::Routing: {
        RoutingPlan d;
        d.attempt = integer(o, "attempt");
        d.venue = text(o, "venue");
        d.plan = o;
        d.plan.remove(QStringLiteral("attempt"));
        d.plan.remove(QStringLiteral("venue"));
        d.plan.remove(QStringLiteral("trigger"));
        if (o.contains(QStringLiteral("trigger"))) {
            const QJsonObject t = o.value(QStringLiteral("trigger")).toObject();
            d.trigger = TriggerInfo{t.value(QStringLiteral("reason")).toString(),
                                    fromIso(t.value(QStringLiteral("poolChangedAt"))),
                                    fromIso(t.value(QStringLiteral("firedAt")))};
        }
        return d;
    }
    case OrderStatus::Building:
        return TransactionBuilt{integer(o, "attempt"),
                                text(o, "venue"),
                                text(o, "route"),
                                raw(o, "expectedAmountOutRaw"),
                                text(o, "expectedAmountOut"),
                                raw(o, "minAmountOutRaw"),
                                text(o, "minAmountOut"),
                                text(o, "slippage")};
    case OrderStatus::Submitted:
        return TransactionSubmitted{integer(o, "attempt"), text(o, "venue"), text(o, "signature")};
    case OrderStatus::Confirmed:
        return FillReport{integer(o, "attempt"),
                          text(o, "venue"),
                          text(o, "signature"),
                          raw(o, "amountInRaw"),
                          text(o, "amountIn"),
                          raw(o, "amountOutRaw"),
                          text(o, "amountOut"),
                          text(o, "executedPrice"),
                          o.value(QStringLiteral("legs")).toArray(),
                          o.value(QStringLiteral("alreadyLanded")).toBool()};
    case OrderStatus::Failed:
        return FailureReport{integer(o, "attempt"), integer(o, "attempts"), text(o, "venue"),
                             text(o, "error")};
    case OrderStatus::Open: {
        RestingOrderData d;
        if (const auto r = fromJobPayload(o))
            d.request = *r;
        d.waitingFor = text(o, "waitingFor");
        d.attempt = integer(o, "attempt");
        d.venue = text(o, "venue");
        d.error = text(o, "error");
        return d;
    }
    case OrderStatus::Cancelled:
        return CancelReport{text(o, "reason")};
    case OrderStatus::Expired:
        return ExpiryReport{integer(o, "attempt"), fromIso(o.value(QStringLiteral("expiresAt")))};
    }
    return std::monostate{};
}

} // namespace oee
