#include "dex/Venue.h"

#include "dex/meteora/MeteoraDlmm.h"
#include "dex/raydium/RaydiumCpmm.h"
#include "money/WideMath.h"

namespace oee {

const QList<const Venue *> &venues()
{
    // One line per venue.
    static const RaydiumCpmmVenue raydium;
    static const MeteoraDlmmVenue meteora;
    static const QList<const Venue *> list{&raydium, &meteora};
    return list;
}

const Venue *venueNamed(const QString &name)
{
    for (const Venue *v : venues())
        if (v->name() == name)
            return v;
    return nullptr;
}

std::unique_ptr<Pool> poolFromJson(const QJsonObject &state, QString *error)
{
    const Venue *venue = venueNamed(state.value(QStringLiteral("venue")).toString());
    if (!venue) {
        if (error)
            *error = QStringLiteral("unknown venue");
        return nullptr;
    }
    return venue->fromJson(state, error);
}

std::unique_ptr<Pool> decodePool(const QByteArray &encoded)
{
    const QList<QByteArray> fields = encoded.split(' ');
    const Venue *venue = venueNamed(QString::fromLatin1(fields.value(0)));
    return venue ? venue->decode(fields) : nullptr;
}

QString SwapResult::error() const
{
    switch (failure) {
    case Failure::None:
        return {};
    case Failure::InsufficientLiquidity:
        return QStringLiteral("insufficient liquidity");
    case Failure::ZeroOutput:
        return QStringLiteral("amount too small: the swap would return 0");
    case Failure::Overflow:
        return QStringLiteral("amount too large for the pool");
    case Failure::UnknownMint:
        return QStringLiteral("the pool does not trade this token");
    }
    return {};
}

QJsonObject SwapResult::toJson(quint64 slot, qint64 now) const
{
    QJsonObject o{{QStringLiteral("slot"), QString::number(slot)},
                  {QStringLiteral("now"), QString::number(now)},
                  {QStringLiteral("inAmount"), QString::number(inAmount)},
                  {QStringLiteral("outAmount"), QString::number(outAmount)},
                  {QStringLiteral("fee"), QString::number(fee)},
                  {QStringLiteral("protocolFee"), QString::number(protocolFee)},
                  {QStringLiteral("fundFee"), QString::number(fundFee)},
                  {QStringLiteral("consumedInAmount"), QString::number(consumedInAmount)}};
    if (endActiveId)
        o.insert(QStringLiteral("endActiveId"), *endActiveId);
    if (!ok())
        o.insert(QStringLiteral("error"), error());
    return o;
}

std::optional<quint64> u64Field(const QJsonObject &o, const QString &key)
{
    const QJsonValue v = o.value(key);
    if (v.isDouble()) {
        const double d = v.toDouble();
        if (d < 0 || d > 9007199254740992.0 || d != double(qint64(d)))
            return std::nullopt;
        return quint64(d);
    }
    if (!v.isString())
        return std::nullopt;
    bool ok = false;
    const quint64 x = v.toString().toULongLong(&ok);
    return ok ? std::optional<quint64>(x) : std::nullopt;
}

std::optional<qint64> intField(const QJsonObject &o, const QString &key)
{
    const QJsonValue v = o.value(key);
    if (v.isDouble()) {
        const double d = v.toDouble();
        if (d != double(qint64(d)))
            return std::nullopt;
        return qint64(d);
    }
    if (!v.isString())
        return std::nullopt;
    bool ok = false;
    const qint64 x = v.toString().toLongLong(&ok);
    return ok ? std::optional<qint64>(x) : std::nullopt;
}

DecimalRatio decimalRatio(const QString &text)
{
    DecimalRatio r;
    bool dot = false;
    for (QChar c : text.trimmed()) {
        if (c == QLatin1Char('.')) {
            dot = true;
            continue;
        }
        if (!c.isDigit())
            break;
        r.numerator = r.numerator * 10 + u128(c.unicode() - '0');
        if (dot)
            r.denominator *= 10;
    }
    return r;
}

} // namespace oee
