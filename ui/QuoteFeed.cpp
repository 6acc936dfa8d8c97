#include "QuoteFeed.h"

#include <limits>

#include "dex/Market.h"
#include "dex/meteora/MeteoraDlmm.h"
#include "dex/raydium/RaydiumCpmm.h"
#include "money/Tokens.h"

#include <cmath>

#include <QDateTime>
#include <QJsonArray>
#include <QXYSeries>

namespace oee::ui {

namespace {
constexpr int kWindowSeconds = 60;
constexpr int kSampleMs = 250;
} // namespace

QuoteFeed::QuoteFeed(Market *market, QObject *parent) : QObject(parent), m_market(market)
{
    connect(&m_timer, &QTimer::timeout, this, &QuoteFeed::sample);
    m_timer.start(kSampleMs);
}

void QuoteFeed::setPair(const QString &tokenIn, const QString &tokenOut)
{
    if (tokenIn == tokenOut || (tokenIn == m_tokenIn && tokenOut == m_tokenOut))
        return;
    m_tokenIn = tokenIn;
    m_tokenOut = tokenOut;
    for (QXYSeries *s : {m_raydiumSeries.data(), m_meteoraSeries.data()})
        if (s)
            s->clear();
    emit pairChanged();
    sample();
}

void QuoteFeed::attach(QAbstractSeries *raydium, QAbstractSeries *meteora)
{
    m_raydiumSeries = qobject_cast<QXYSeries *>(raydium);
    m_meteoraSeries = qobject_cast<QXYSeries *>(meteora);
    sample();
}

void QuoteFeed::setAmount(double amount)
{
    if (amount <= 0 || amount == m_amount)
        return;
    m_amount = amount;
    emit amountChanged();
    sample();
}

double QuoteFeed::spreadBps() const
{
    const double lo = std::min(m_raydium, m_meteora);
    return lo > 0 ? (std::max(m_raydium, m_meteora) / lo - 1) * 1e4 : 0;
}

int QuoteFeed::points() const
{
    return m_raydiumSeries ? m_raydiumSeries->count() : 0;
}

void QuoteFeed::describePlan(const RoutePlan &plan)
{
    const TokenRegistry &tokens = TokenRegistry::instance();
    QStringList legs;
    QStringList poolIds;
    for (const RouteLeg &l : plan.best.legs) {
        poolIds << l.poolId;
        switch (plan.best.type) {
        case RouteCandidate::Type::Split:
            legs << QStringLiteral("%1% %2").arg(l.shareBps / 100.0, 0, 'f', 2).arg(l.poolId);
            break;
        case RouteCandidate::Type::TwoHop:
            legs << QStringLiteral("%1 → %2 %3")
                        .arg(l.poolId, formatTokenAmount(l.result.outAmount, l.output->decimals),
                             l.output->symbol);
            break;
        case RouteCandidate::Type::Direct:
            legs << l.poolId;
            break;
        }
    }
    m_planText = plan.ok() ? QStringLiteral("plan: %1 %2 ⇒ %3 %4")
                                 .arg(plan.best.typeName(), legs.join(QStringLiteral(" + ")),
                                      formatTokenAmount(plan.best.amountOut, plan.out->decimals),
                                      plan.out->symbol)
                           : QStringLiteral("plan: none (%1)").arg(plan.error());
    // The pair's own pools, or the plan's when it has none (two hops).
    QList<std::shared_ptr<const Pool>> shown;
    for (const auto &p : m_market->pools())
        if (p->trades(plan.in->mint) && p->trades(plan.out->mint))
            shown << p;
    if (shown.isEmpty())
        for (const QString &id : std::as_const(poolIds))
            if (auto p = m_market->pool(id))
                shown << p;
    std::sort(shown.begin(), shown.end(),
              [](const auto &a, const auto &b) { return a->id < b->id; });
    m_pools.clear();
    for (const auto &p : std::as_const(shown)) {
        // Read the venues' state directly (no JSON round trip on the GUI thread).
        QVariantMap m{{QStringLiteral("id"), p->id},
                      {QStringLiteral("venue"), p->venue()},
                      {QStringLiteral("kind"), p->kind()}};
        if (const auto *cpmm = dynamic_cast<const RaydiumCpmmPool *>(p.get())) {
            const CpmmState &s = cpmm->state();
            const Token *a = tokens.find(s.mintA);
            const Token *b = tokens.find(s.mintB);
            m.insert(QStringLiteral("summary"),
                     QStringLiteral("%1: %2 %3 / %4 %5 · slot %6")
                         .arg(p->id, formatTokenAmount(s.vaultA, a->decimals), a->symbol,
                              formatTokenAmount(s.vaultB, b->decimals), b->symbol)
                         .arg(p->slot));
        } else if (const auto *dlmm = dynamic_cast<const MeteoraDlmmPool *>(p.get())) {
            const DlmmState &s = dlmm->state();
            const Token *x = tokens.find(s.mintX);
            const Token *y = tokens.find(s.mintY);
            const double base = 1.0 + s.binStep / 10000.0;
            // Display only: each bin's liquidity in Y, X valued at the bin's price.
            QList<double> liquidity;
            double top = 0;
            for (qint32 id = s.activeId - 20; id <= s.activeId + 20; ++id) {
                double l = 0;
                if (!s.bins.isEmpty() && id >= s.bins.lowerId() && id <= s.bins.upperId()) {
                    const DlmmBin &b = s.bins.at(id);
                    l = double(b.amountY) + double(b.amountX) * std::pow(base, id);
                }
                liquidity << l;
                top = std::max(top, l);
            }
            QVariantList bins;
            for (int k = 0; k < liquidity.size(); ++k)
                bins.append(QVariantMap{{QStringLiteral("h"), top > 0 ? liquidity[k] / top : 0.0},
                                        {QStringLiteral("active"), k == 20}});
            m.insert(QStringLiteral("bins"), bins);
            m.insert(
                QStringLiteral("summary"),
                QStringLiteral("%1: active bin %2 at %3 %4/%5 · slot %6")
                    .arg(p->id)
                    .arg(s.activeId)
                    .arg(std::pow(base, s.activeId) * std::pow(10.0, x->decimals - y->decimals), 0,
                         'g', 8)
                    .arg(y->symbol, x->symbol)
                    .arg(p->slot));
        }
        m_pools.append(m);
    }
}

void QuoteFeed::sample()
{
    const TokenRegistry &tokens = TokenRegistry::instance();
    const Token *in = tokens.find(m_tokenIn);
    const Token *out = tokens.find(m_tokenOut);
    if (!in || !out)
        return;
    // The chart is for the eye: exact amounts are routed, the plotted prices are doubles.
    const auto parsed = parseTokenAmount(QJsonValue(m_amount), in->decimals);
    const BaseUnits amount =
        std::holds_alternative<BaseUnits>(parsed) ? std::get<BaseUnits>(parsed) : 1;
    // What the router would do now (venues out of routing left out), and each venue's own
    // price whether or not it routes (a venue taken out still shows its quote).
    const RoutePlan plan = m_market->route(m_tokenIn, m_tokenOut, amount);
    const RoutePlan every = Router::route(m_market->pools(), *in, *out, amount, Market::now());
    const double scaleIn = std::pow(10.0, in->decimals), scaleOut = std::pow(10.0, out->decimals);
    m_raydium = m_meteora = m_raydiumFee = m_meteoraFee = m_raydiumImpact = m_meteoraImpact = 0;
    for (const RouteCandidate &c : every.candidates) {
        if (c.type != RouteCandidate::Type::Direct || !c.ok())
            continue;
        const RouteLeg &leg = c.legs.first();
        const bool raydium = leg.venue == QLatin1String("raydium");
        double &price = raydium ? m_raydium : m_meteora;
        const double p = (double(leg.result.outAmount) / scaleOut) / (double(amount) / scaleIn);
        if (p <= price)
            continue;
        price = p;
        const double fee = double(leg.result.fee) / double(amount);
        (raydium ? m_raydiumFee : m_meteoraFee) = fee;
        if (const auto pool = m_market->pool(leg.poolId)) {
            const double spot =
                double(pool->spotPriceQ64(in->mint)) / 18446744073709551616.0 * scaleIn / scaleOut;
            (raydium ? m_raydiumImpact : m_meteoraImpact) =
                spot > 0 ? std::max(0.0, 1 - p / ((1 - fee) * spot)) : 0;
        }
    }
    m_chosen = plan.best.venue();
    describePlan(plan);
    const double now = double(QDateTime::currentMSecsSinceEpoch());
    m_windowEnd = now;
    m_windowStart = now - kWindowSeconds * 1000.0;
    // A venue with no direct pool for the pair has no price: no point (not a drop to 0).
    double lo = std::numeric_limits<double>::max(), hi = 0;
    for (double p : {m_raydium, m_meteora})
        if (p > 0) {
            lo = std::min(lo, p);
            hi = std::max(hi, p);
        }
    for (QXYSeries *s : {m_raydiumSeries.data(), m_meteoraSeries.data()}) {
        if (!s)
            continue;
        const double price = s == m_raydiumSeries ? m_raydium : m_meteora;
        if (price > 0)
            s->append(now, price);
        int expired = 0;
        while (expired < s->count() && s->at(expired).x() < m_windowStart)
            ++expired;
        if (expired)
            s->removePoints(0, expired);
        for (int i = 0; i < s->count(); ++i) {
            lo = std::min(lo, s->at(i).y());
            hi = std::max(hi, s->at(i).y());
        }
    }
    if (hi <= 0)
        lo = hi = 0;
    const double pad = std::max((hi - lo) * 0.15, hi * 1e-5);
    m_min = lo - pad;
    m_max = hi + pad;
    emit updated();
}

} // namespace oee::ui
