#include "QuoteFeed.h"

#include "dex/Market.h"

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
    const Route r = m_market->route(m_tokenIn, m_tokenOut, m_amount);
    m_raydium = r.raydium.price;
    m_meteora = r.meteora.price;
    m_raydiumFee = r.raydium.feeRate;
    m_meteoraFee = r.meteora.feeRate;
    m_raydiumImpact = r.raydium.priceImpact;
    m_meteoraImpact = r.meteora.priceImpact;
    m_chosen = venueName(r.chosen);
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
