#include "runtime/Controls.h"

#include "dex/Market.h"
#include "dex/Venue.h"
#include "domain/Order.h"
#include "queue/RedisConnection.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <algorithm>

namespace oee {

QJsonObject OperatorAction::toJson() const
{
    return QJsonObject{{QStringLiteral("id"), double(id)},
                       {QStringLiteral("at"), isoTime(at)},
                       {QStringLiteral("action"), action},
                       {QStringLiteral("target"),
                        target.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(target)},
                       {QStringLiteral("detail"), detail},
                       {QStringLiteral("source"), source}};
}

QString ControlAction::name() const
{
    switch (kind) {
    case Kind::Pause:
        return QStringLiteral("pause");
    case Kind::Resume:
        return QStringLiteral("resume");
    case Kind::Venue:
        return QStringLiteral("venue");
    case Kind::Volatility:
        return QStringLiteral("volatility");
    case Kind::Kill:
        return QStringLiteral("kill");
    }
    return {};
}

namespace {

ApiError badField(const QString &field, const QString &message)
{
    return {ErrorKind::InvalidField, message, field, {}};
}

} // namespace

std::optional<ApiError> parseControlBody(const QByteArray &body, ControlAction *a)
{
    QJsonObject o;
    if (!body.trimmed().isEmpty()) {
        QJsonParseError pe{};
        const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
        if (pe.error != QJsonParseError::NoError || !doc.isObject())
            return ApiError{
                ErrorKind::InvalidJson, QStringLiteral("the body must be a JSON object"), {}, {}};
        o = doc.object();
    }
    QStringList allowed;
    switch (a->kind) {
    case ControlAction::Kind::Pause:
    case ControlAction::Kind::Kill:
        allowed = {QStringLiteral("reason")};
        break;
    case ControlAction::Kind::Resume:
        break;
    case ControlAction::Kind::Venue:
        allowed = {QStringLiteral("routing")};
        break;
    case ControlAction::Kind::Volatility:
        allowed = {QStringLiteral("volatility")};
        break;
    }
    for (auto it = o.constBegin(); it != o.constEnd(); ++it)
        if (!allowed.contains(it.key()))
            return ApiError{
                ErrorKind::UnknownField,
                QStringLiteral("unknown field '%1'%2")
                    .arg(it.key().left(64), allowed.isEmpty()
                                                ? QString()
                                                : QStringLiteral(" (this action takes: ") +
                                                      allowed.join(QStringLiteral(", ")) + u')'),
                it.key().left(64),
                {}};
    if (o.contains(QStringLiteral("reason"))) {
        const QJsonValue v = o.value(QStringLiteral("reason"));
        if (!v.isString() || v.toString().size() > 200)
            return badField(QStringLiteral("reason"),
                            QStringLiteral("reason must be a string of at most 200 characters"));
        a->reason = v.toString();
    }
    if (a->kind == ControlAction::Kind::Venue) {
        const QJsonValue v = o.value(QStringLiteral("routing"));
        if (!v.isBool())
            return badField(
                QStringLiteral("routing"),
                QStringLiteral(
                    "routing is required: true (the venue routes) or false (taken out)"));
        a->enabled = v.toBool();
    }
    if (a->kind == ControlAction::Kind::Volatility) {
        const QJsonValue v = o.value(QStringLiteral("volatility"));
        // Exact decimal text (or a JSON number), 0 to 0.05 per sqrt(second).
        const QString text = v.isString()   ? v.toString()
                             : v.isDouble() ? QString::number(v.toDouble(), 'g', 12)
                                            : QString();
        static const QRegularExpression decimal(
            QStringLiteral("^(0|[1-9][0-9]*)(\\.[0-9]{1,12})?$"));
        bool ok = false;
        const double x = text.toDouble(&ok);
        if (!decimal.match(text).hasMatch() || !ok || x < 0 || x > 0.05)
            return badField(
                QStringLiteral("volatility"),
                QStringLiteral("volatility must be a decimal from 0 to 0.05 (per sqrt(second); "
                               "DEX_VOLATILITY's default is 0.0002)"));
        a->volatility = text;
    }
    return std::nullopt;
}

Controls::Controls(Market *market, double configuredVolatility, QObject *parent)
    : QObject(parent), m_market(market), m_configuredVolatility(configuredVolatility)
{
}

ControlState Controls::state() const
{
    QMutexLocker lock(&m_mutex);
    return m_state;
}

void Controls::apply(const ControlState &s)
{
    {
        QMutexLocker lock(&m_mutex);
        if (s == m_state)
            return;
        m_state = s;
        m_paused.store(s.paused, std::memory_order_relaxed);
    }
    if (m_market) {
        m_market->setDisabledVenues(s.disabledVenues);
        m_market->setVolatility(s.volatility.isEmpty() ? m_configuredVolatility
                                                       : s.volatility.toDouble());
    }
    emit changed();
}

QJsonObject Controls::toJson() const
{
    const ControlState s = state();
    QJsonArray venues;
    for (const QByteArray &name : venueNames())
        venues.append(QJsonObject{
            {QStringLiteral("name"), QString::fromUtf8(name)},
            {QStringLiteral("routing"), !s.disabledVenues.contains(QString::fromUtf8(name))}});
    return QJsonObject{
        {QStringLiteral("success"), true},
        {QStringLiteral("intake"),
         QJsonObject{{QStringLiteral("paused"), s.paused},
                     {QStringLiteral("reason"),
                      s.paused ? QJsonValue(s.pausedReason) : QJsonValue(QJsonValue::Null)},
                     {QStringLiteral("since"), s.paused && s.pausedAt.isValid()
                                                   ? QJsonValue(isoTime(s.pausedAt))
                                                   : QJsonValue(QJsonValue::Null)}}},
        {QStringLiteral("venues"), venues},
        {QStringLiteral("simulator"),
         QJsonObject{{QStringLiteral("volatility"),
                      s.volatility.isEmpty() ? QString::number(m_configuredVolatility, 'g', 12)
                                             : s.volatility},
                     {QStringLiteral("volatilitySetByOperator"), !s.volatility.isEmpty()}}},
    };
}

QList<QByteArray> Controls::venueNames()
{
    QList<QByteArray> out;
    for (const Venue *v : venues())
        out << v->name().toUtf8();
    return out;
}

std::optional<ControlState> Controls::read(RedisConnection &redis, const QByteArray &prefix)
{
    const RedisReply r = redis.command({"HGETALL", key(prefix)});
    if (!r.ok() || r.type != RedisReply::Array)
        return std::nullopt;
    ControlState s;
    for (qsizetype i = 0; i + 1 < r.elements.size(); i += 2) {
        const QByteArray &field = r.elements[i].str;
        const QByteArray &value = r.elements[i + 1].str;
        if (field == "paused")
            s.paused = value == "1";
        else if (field == "pausedReason")
            s.pausedReason = QString::fromUtf8(value);
        else if (field == "pausedAt")
            s.pausedAt = QDateTime::fromString(QString::fromUtf8(value), Qt::ISODateWithMs);
        else if (field == "volatility")
            s.volatility = QString::fromUtf8(value);
        else if (field.startsWith("venue:") && value == "off")
            s.disabledVenues << QString::fromUtf8(field.mid(6));
    }
    if (!s.paused) {
        s.pausedReason.clear();
        s.pausedAt = {};
    }
    std::sort(s.disabledVenues.begin(), s.disabledVenues.end());
    return s;
}

QList<std::pair<QByteArray, QByteArray>> Controls::fieldsFor(const ControlAction &a,
                                                             const QDateTime &now)
{
    switch (a.kind) {
    case ControlAction::Kind::Pause:
    case ControlAction::Kind::Kill:
        return {{"paused", "1"},
                {"pausedReason", a.reason.toUtf8()},
                {"pausedAt", isoTime(now).toUtf8()}};
    case ControlAction::Kind::Resume:
        return {{"paused", "0"}, {"pausedReason", ""}, {"pausedAt", ""}};
    case ControlAction::Kind::Venue:
        return {{"venue:" + a.venue.toUtf8(), a.enabled ? "on" : "off"}};
    case ControlAction::Kind::Volatility:
        return {{"volatility", a.volatility.toUtf8()}};
    }
    return {};
}

} // namespace oee
