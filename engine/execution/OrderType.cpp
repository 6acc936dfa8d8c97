#include "execution/OrderType.h"

#include "execution/LimitOrder.h"
#include "execution/MarketOrder.h"
#include "execution/SniperOrder.h"

namespace oee {

std::optional<ApiError> OrderType::parse(const QJsonObject &, OrderRequest &) const
{
    return std::nullopt;
}

std::optional<BaseUnits> OrderType::restingFloor(const OrderRequest &) const
{
    return BaseUnits(0);
}

const QList<const OrderType *> &orderTypes()
{
    // One line per order type.
    static const MarketOrder market;
    static const LimitOrder limit;
    static const SniperOrder sniper;
    static const QList<const OrderType *> all{&market, &limit, &sniper};
    return all;
}

const OrderType *orderTypeNamed(const QString &name)
{
    for (const OrderType *t : orderTypes())
        if (t->name() == name)
            return t;
    return nullptr;
}

QStringList orderTypeNames()
{
    QStringList out;
    for (const OrderType *t : orderTypes())
        out << t->name();
    return out;
}

std::optional<ApiError> parseExpiry(const QJsonObject &o, OrderRequest &r)
{
    const QJsonValue at = o.value(QStringLiteral("expiresAt"));
    const QJsonValue ttl = o.value(QStringLiteral("ttlSeconds"));
    const bool hasAt = !at.isUndefined() && !at.isNull();
    const bool hasTtl = !ttl.isUndefined() && !ttl.isNull();
    const auto error = [](const QString &field, const QString &message) {
        return ApiError{ErrorKind::InvalidField, message, field, {}};
    };
    if (hasAt && hasTtl)
        return error(QStringLiteral("ttlSeconds"),
                     QStringLiteral("give expiresAt or ttlSeconds, not both"));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (hasAt) {
        const QDateTime t =
            at.isString() ? QDateTime::fromString(at.toString(), Qt::ISODateWithMs) : QDateTime();
        if (!t.isValid() || t.timeSpec() == Qt::LocalTime)
            return error(QStringLiteral("expiresAt"),
                         QStringLiteral("expiresAt must be an ISO-8601 time with a zone, e.g. "
                                        "\"2026-11-22T12:00:00Z\""));
        if (t <= now)
            return error(QStringLiteral("expiresAt"), QStringLiteral("expiresAt is in the past"));
        r.expiresAt = t.toUTC();
    } else if (hasTtl) {
        const qint64 seconds = ttl.toInteger(-1); // -1 too for a fraction or a non-number
        if (seconds < 1 || seconds > 365 * 86400)
            return error(
                QStringLiteral("ttlSeconds"),
                QStringLiteral("ttlSeconds must be a whole number of seconds from 1 to 31536000"));
        r.expiresAt = now.addSecs(seconds);
    }
    return std::nullopt;
}

} // namespace oee
