#include "QuoteFeed.h"

#include "dex/Market.h"
#include "money/Tokens.h"

#include <cmath>

#include <QDateTime>
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

void QuoteFeed::sample()
{
    const TokenRegistry &tokens = TokenRegistry::instance();
    const Token *in = tokens.find(m_tokenIn);
    const Token *out = tokens.find(m_tokenOut);
    if (!in || !out)
        return;
    // The chart is for the eye: exact amounts are routed, the plotted prices are doubles.
    const auto parsed = parseTokenAmount(QJsonValue(m_amount), in->decimals);
    const BaseUnits amount = std::holds_alternative<BaseUnits>(parsed) ? std::get<BaseUnits>(parsed) : 1;
    const RoutePlan plan = m_market->route(m_tokenIn, m_tokenOut, amount);
    const double scaleIn = std::pow(10.0, in->decimals), scaleOut = std::pow(10.0, out->decimals);
    m_raydium = m_meteora = m_raydiumFee = m_meteoraFee = m_raydiumImpact = m_meteoraImpact = 0;
    for (const RouteCandidate &c : plan.candidates) {
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
            const double spot = double(pool->spotPriceQ64(in->mint)) / 18446744073709551616.0 * scaleIn / scaleOut;
            (raydium ? m_raydiumImpact : m_meteoraImpact) = spot > 0 ? std::max(0.0, 1 - p / ((1 - fee) * spot)) : 0;
        }
    }
    m_chosen = plan.best.venue();
    const double now = double(QDateTime::currentMSecsSinceEpoch());
    m_windowEnd = now;
    m_windowStart = now - kWindowSeconds * 1000.0;
    double lo = std::min(m_raydium, m_meteora), hi = std::max(m_raydium, m_meteora);
    for (QXYSeries *s : {m_raydiumSeries.data(), m_meteoraSeries.data()}) {
        if (!s)
            continue;
        s->append(now, s == m_raydiumSeries ? m_raydium : m_meteora);
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
    const double pad = std::max((hi - lo) * 0.15, hi * 1e-5);
    m_min = lo - pad;
    m_max = hi + pad;
    emit updated();
}

} // namespace oee::ui
