#include "EventFormat.h"

#include "domain/EventData.h"
#include "money/Amount.h"
#include "money/Tokens.h"

#include <QJsonArray>
#include <QLocale>

namespace oee::ui {

namespace {

QVariantMap fact(const QString &label, const QString &value, bool copy = false)
{
    return {{QStringLiteral("label"), label},
            {QStringLiteral("value"), value},
            {QStringLiteral("copy"), copy}};
}

QString percentOfPpm(quint32 ppm)
{
    // 10000 ppm → "1%", exact (ppm has at most 4 decimals in percent).
    QString s = formatTokenAmount(ppm, 4);
    return s + QLatin1Char('%');
}

int decimalsOf(const QString &symbol)
{
    const Token *t = TokenRegistry::instance().find(symbol);
    return t ? t->decimals : -1;
}

// The pool's two symbols from its id ("meteora-SOL-USDC"); empty if it does not read so.
QStringList poolTokens(const QString &poolId)
{
    const QStringList parts = poolId.split(QLatin1Char('-'));
    return parts.size() == 3 ? QStringList{parts[1], parts[2]} : QStringList{};
}

// Realised slippage of a fill against its attempt's quote, in bps (negative: less than quoted).
QString slippageBps(BaseUnits expected, BaseUnits actual)
{
    if (expected == 0)
        return {};
    const double bps = (double(actual) - double(expected)) / double(expected) * 10000.0;
    return QStringLiteral("%1 bps").arg(bps, 0, 'f', 1);
}

} // namespace

QString groupedAmount(const QString &exact)
{
    const qsizetype dot = exact.indexOf(QLatin1Char('.'));
    QString whole = dot < 0 ? exact : exact.left(dot);
    const QString rest = dot < 0 ? QString() : exact.mid(dot);
    const bool negative = whole.startsWith(QLatin1Char('-'));
    if (negative)
        whole.remove(0, 1);
    for (qsizetype i = whole.size() - 3; i > 0; i -= 3)
        whole.insert(i, QLatin1Char(','));
    return (negative ? QStringLiteral("-") : QString()) + whole + rest;
}

QString tokenAmount(const QString &raw, const QString &symbol)
{
    bool ok = false;
    const BaseUnits units = raw.toULongLong(&ok);
    const int decimals = decimalsOf(symbol);
    if (!ok || decimals < 0)
        return raw + QStringLiteral(" (base units) ") + symbol;
    return groupedAmount(formatTokenAmount(units, decimals)) + QLatin1Char(' ') + symbol;
}

FormattedEvent formatEvent(const QList<OrderEvent> &events, int index)
{
    FormattedEvent out;
    if (index < 0 || index >= events.size())
        return out;
    const OrderEvent &e = events[index];
    // The order's terms, from its first event.
    OrderRequest request;
    for (const OrderEvent &x : events) {
        if (x.seq != 1)
            continue;
        const EventData first = x.typed();
        if (const auto *s = std::get_if<SubmittedOrder>(&first))
            request = s->request;
        break;
    }
    const QString in = request.tokenIn;
    const QString outToken = request.tokenOut;
    // The quote of an attempt: its routing event's expected output.
    const auto quoted = [&](int attempt) -> BaseUnits {
        for (const OrderEvent &x : events) {
            const EventData d = x.typed();
            if (const auto *r = std::get_if<RoutingPlan>(&d); r && r->attempt == attempt)
                return r->plan.value(QStringLiteral("expectedAmountOutRaw"))
                    .toString()
                    .toULongLong();
        }
        return 0;
    };

    const EventData data = e.typed();
    if (const auto *d = std::get_if<SubmittedOrder>(&data)) {
        const OrderRequest &r = d->request;
        out.headline =
            QStringLiteral("%1 order: %2 → %3")
                .arg(r.orderType, tokenAmount(QString::number(r.amount), r.tokenIn), r.tokenOut);
        out.facts << fact(QStringLiteral("Slippage"), percentOfPpm(r.slippagePpm));
        if (!r.limitPrice.isEmpty())
            out.facts << fact(
                QStringLiteral("Limit price"),
                QStringLiteral("%1 %2 per %3").arg(r.limitPrice, r.tokenOut, r.tokenIn));
        if (r.limitMinOut > 0)
            out.facts << fact(QStringLiteral("Minimum out"),
                              tokenAmount(QString::number(r.limitMinOut), r.tokenOut));
        if (!r.maxPrice.isEmpty())
            out.facts << fact(QStringLiteral("Max price"),
                              QStringLiteral("%1 %2 per token").arg(r.maxPrice, r.tokenIn));
        if (r.expiresAt.isValid())
            out.facts << fact(
                QStringLiteral("Expires"),
                r.expiresAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd hh:mm:ss")));
        if (!r.retryOf.isEmpty())
            out.facts << fact(QStringLiteral("Retry of"), r.retryOf, true);
    } else if (const auto *d = std::get_if<RetryScheduled>(&data)) {
        out.headline = QStringLiteral("Attempt %1 failed on %2 — retrying in %3 ms")
                           .arg(d->attempt)
                           .arg(d->venue)
                           .arg(d->retryInMs);
        out.facts << fact(QStringLiteral("Error"), d->error)
                  << fact(QStringLiteral("Attempt"), QString::number(d->attempt));
    } else if (const auto *d = std::get_if<RoutingPlan>(&data)) {
        const QJsonArray candidates = d->plan.value(QStringLiteral("candidates")).toArray();
        out.headline = QStringLiteral("Attempt %1: %2 routes compared, %3 %4 chosen")
                           .arg(d->attempt)
                           .arg(candidates.size())
                           .arg(d->venue, d->plan.value(QStringLiteral("route")).toString());
        if (d->trigger)
            out.facts << fact(QStringLiteral("Fired by"),
                              d->trigger->reason == QLatin1String("launch")
                                  ? QStringLiteral("the launch of its token")
                                  : QStringLiteral("the price crossing its limit"));
        const QString expected = d->plan.value(QStringLiteral("expectedAmountOutRaw")).toString();
        if (!expected.isEmpty())
            out.facts << fact(QStringLiteral("Expected out"), tokenAmount(expected, outToken));
        bool first = true;
        for (const QJsonValue &v : candidates) {
            const QJsonObject c = v.toObject();
            const QJsonArray legs = c.value(QStringLiteral("legs")).toArray();
            const QString type = c.value(QStringLiteral("type")).toString();
            QStringList pools, fees, shares;
            double impact = 0;
            QString legIn = in;
            for (const QJsonValue &lv : legs) {
                const QJsonObject l = lv.toObject();
                const QString pool = l.value(QStringLiteral("pool")).toString();
                pools << pool;
                // A split's legs both take the order's input; a two-hop's second leg takes the
                // first's output.
                fees << tokenAmount(l.value(QStringLiteral("feeRaw")).toString(),
                                    type == QLatin1String("split") ? in : legIn);
                shares << QStringLiteral("%1%").arg(l.value(QStringLiteral("shareBps")).toInt() /
                                                    100.0);
                impact =
                    std::max(impact, l.value(QStringLiteral("impactBps")).toString().toDouble());
                const QStringList t = poolTokens(pool);
                if (type == QLatin1String("two-hop") && t.size() == 2)
                    legIn = t[0] == legIn ? t[1] : t[0];
            }
            out.routes << QVariantMap{
                {QStringLiteral("venue"), c.value(QStringLiteral("venue")).toString()},
                {QStringLiteral("type"), type},
                {QStringLiteral("pools"),
                 pools.join(type == QLatin1String("split") ? QStringLiteral(" + ")
                                                           : QStringLiteral(" → "))},
                {QStringLiteral("out"),
                 c.contains(QStringLiteral("amountOutRaw"))
                     ? tokenAmount(c.value(QStringLiteral("amountOutRaw")).toString(), outToken)
                     : QString()},
                {QStringLiteral("fees"), fees.join(QStringLiteral(" + "))},
                {QStringLiteral("impact"), QStringLiteral("%1 bps").arg(impact, 0, 'f', 2)},
                {QStringLiteral("share"), shares.join(QStringLiteral(" / "))},
                {QStringLiteral("chosen"), first && !c.contains(QStringLiteral("error"))},
                {QStringLiteral("error"), c.value(QStringLiteral("error")).toString()}};
            first = false;
        }
    } else if (const auto *d = std::get_if<TransactionBuilt>(&data)) {
        out.headline = QStringLiteral("Transaction built on %1 (%2)").arg(d->venue, d->route);
        out.facts << fact(QStringLiteral("Expected out"),
                          tokenAmount(QString::number(d->expectedOut), outToken))
                  << fact(QStringLiteral("Minimum out"),
                          tokenAmount(QString::number(d->minOut), outToken))
                  << fact(QStringLiteral("Slippage"),
                          [&] {
                              const auto ppm = parseSlippageFraction(d->slippage);
                              return std::holds_alternative<quint32>(ppm)
                                         ? percentOfPpm(std::get<quint32>(ppm))
                                         : d->slippage;
                          }())
                  << fact(QStringLiteral("Attempt"), QString::number(d->attempt));
    } else if (const auto *d = std::get_if<TransactionSubmitted>(&data)) {
        out.headline = QStringLiteral("Transaction sent to %1").arg(d->venue);
        out.facts << fact(QStringLiteral("Signature"), d->signature, true)
                  << fact(QStringLiteral("Attempt"), QString::number(d->attempt));
    } else if (const auto *d = std::get_if<FillReport>(&data)) {
        out.headline = QStringLiteral("Filled on %1: %2")
                           .arg(d->venue, tokenAmount(QString::number(d->amountOut), outToken));
        out.facts << fact(QStringLiteral("Amount in"),
                          tokenAmount(QString::number(d->amountIn), in))
                  << fact(QStringLiteral("Amount out"),
                          tokenAmount(QString::number(d->amountOut), outToken))
                  << fact(QStringLiteral("Executed price"),
                          QStringLiteral("%1 %2 per %3")
                              .arg(groupedAmount(d->executedPrice), outToken, in));
        const BaseUnits q = quoted(d->attempt);
        if (q > 0)
            out.facts << fact(QStringLiteral("Slippage vs quote"), slippageBps(q, d->amountOut));
        out.facts << fact(QStringLiteral("Signature"), d->signature, true)
                  << fact(QStringLiteral("Attempt"), QString::number(d->attempt));
        if (d->alreadyLanded)
            out.facts << fact(QStringLiteral("Note"), QStringLiteral("found landed on resume"));
    } else if (const auto *d = std::get_if<FailureReport>(&data)) {
        out.headline = QStringLiteral("Failed: %1").arg(d->error);
        out.facts << fact(QStringLiteral("Error"), d->error);
        if (d->attempts > 0)
            out.facts << fact(QStringLiteral("Attempts"), QString::number(d->attempts));
        if (!d->venue.isEmpty())
            out.facts << fact(QStringLiteral("Venue"), d->venue);
    } else if (const auto *d = std::get_if<RestingOrderData>(&data)) {
        out.headline = d->attempt > 0
                           ? QStringLiteral("Attempt %1 missed — resting again").arg(d->attempt)
                           : QStringLiteral("Resting: %1").arg(d->waitingFor);
        if (d->attempt > 0)
            out.facts << fact(QStringLiteral("Error"), d->error)
                      << fact(QStringLiteral("Venue"), d->venue);
    } else if (const auto *d = std::get_if<CancelReport>(&data)) {
        out.headline = QStringLiteral("Cancelled: %1").arg(d->reason);
    } else if (const auto *d = std::get_if<ExpiryReport>(&data)) {
        out.headline = QStringLiteral("Expired at %1")
                           .arg(d->expiresAt.toLocalTime().toString(QStringLiteral("hh:mm:ss")));
    } else {
        out.headline = describeEvent(e);
    }
    return out;
}

} // namespace oee::ui
