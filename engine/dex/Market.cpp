#include "dex/Market.h"

#include <QDateTime>
#include <QMutexLocker>
#include <cmath>

namespace oee {

namespace {

struct TokenSpec
{
    const char *symbol;
    double usd;         // reference price
    double volScale;    // relative volatility
};

constexpr TokenSpec kTokens[] = {
    {"SOL", 150.0, 1.0}, {"USDC", 1.0, 0.02}, {"USDT", 1.0, 0.02},
    {"BONK", 0.00002, 2.0}, {"JUP", 0.8, 1.5},
};

const TokenSpec &spec(const QString &symbol)
{
    for (const TokenSpec &t : kTokens)
        if (symbol == QLatin1String(t.symbol))
            return t;
    return kTokens[0];
}

// Raydium CPMM pool: USD depth per side, fee.
constexpr double kRaydiumDepthUsd = 20e6;
constexpr double kRaydiumFee = 0.0025;
// Meteora DLMM pool: liquidity per bin, bin step, base fee, variable fee per bin crossed.
constexpr double kMeteoraBinUsd = 250e3;
constexpr double kMeteoraBinStep = 0.0010;
constexpr double kMeteoraBaseFee = 0.0020;
constexpr double kMeteoraVariableFeePerBin = 0.0001;
constexpr double kMeteoraMaxFee = 0.01;
// Venue basis: mean reversion rate (1/s); its noise is a multiple of the token volatility.
constexpr double kBasisReversion = 0.2;
constexpr double kBasisNoiseScale = 5.0;

} // namespace

QString venueName(VenueId v)
{
    return v == VenueId::Raydium ? QStringLiteral("raydium") : QStringLiteral("meteora");
}

QJsonObject Quote::toJson() const
{
    return QJsonObject{{QStringLiteral("venue"), venueName(venue)},
                       {QStringLiteral("tokenIn"), tokenIn},
                       {QStringLiteral("tokenOut"), tokenOut},
                       {QStringLiteral("amountIn"), amountIn},
                       {QStringLiteral("amountOut"), amountOut},
                       {QStringLiteral("price"), price},
                       {QStringLiteral("midPrice"), midPrice},
                       {QStringLiteral("fee"), feeRate},
                       {QStringLiteral("feeAmount"), feeAmount},
                       {QStringLiteral("priceImpact"), priceImpact},
                       {QStringLiteral("quotedAt"), at.toUTC().toString(Qt::ISODateWithMs)}};
}

QJsonObject Route::toJson() const
{
    const Quote &b = best();
    const Quote &other = chosen == VenueId::Raydium ? meteora : raydium;
    const double advantage = other.amountOut > 0 ? (b.amountOut / other.amountOut - 1.0) : 0.0;
    return QJsonObject{{QStringLiteral("raydium"), raydium.toJson()},
                       {QStringLiteral("meteora"), meteora.toJson()},
                       {QStringLiteral("chosen"), venueName(chosen)},
                       {QStringLiteral("amountOut"), b.amountOut},
                       {QStringLiteral("advantageBps"), advantage * 1e4}};
}

Market::Market(const DexConfig &config)
    : m_config(config),
      m_rng(config.seed ? config.seed : quint64(QDateTime::currentMSecsSinceEpoch()))
{
}

const QStringList &Market::tokens()
{
    static const QStringList list = [] {
        QStringList l;
        for (const TokenSpec &t : kTokens)
            l << QString::fromLatin1(t.symbol);
        return l;
    }();
    return list;
}

double Market::gaussianLocked()
{
    std::normal_distribution<double> n(0.0, 1.0);
    return n(m_rng);
}

double Market::tokenUsdLocked(const QString &token, qint64 nowMs)
{
    const TokenSpec &s = spec(token);
    Walk &w = m_tokenWalks[token];
    if (w.updatedMs == 0)
        w.updatedMs = nowMs;
    const double sigma = m_config.volatility * s.volScale;
    if (nowMs > w.updatedMs && sigma > 0) {
        const double dt = double(nowMs - w.updatedMs) / 1000.0;
        w.value += sigma * std::sqrt(dt) * gaussianLocked();
        w.value = std::clamp(w.value, -1.0, 1.0); // keep the simulation within e^±1 of reference
    }
    w.updatedMs = nowMs;
    return s.usd * std::exp(w.value);
}

double Market::basisLocked(VenueId venue, const QString &pairKey, qint64 nowMs)
{
    const QString key = venueName(venue) + QLatin1Char('|') + pairKey;
    const double sigma = m_config.volatility * kBasisNoiseScale;
    auto it = m_venueBasis.find(key);
    if (it == m_venueBasis.end()) {
        // Start from the stationary distribution so spreads exist from the first quote.
        const double stationary = sigma / std::sqrt(2 * kBasisReversion);
        it = m_venueBasis.insert(key, Walk{stationary * gaussianLocked(), nowMs});
    }
    Walk &w = *it;
    if (nowMs > w.updatedMs && sigma > 0) {
        const double dt = double(nowMs - w.updatedMs) / 1000.0;
        const double decay = std::exp(-kBasisReversion * dt);
        w.value = w.value * decay + sigma * std::sqrt((1 - decay * decay) / (2 * kBasisReversion)) *
                                        gaussianLocked();
    }
    w.updatedMs = nowMs;
    return w.value + m_bias[int(venue)];
}

Quote Market::quoteLocked(VenueId venue, const QString &tokenIn, const QString &tokenOut,
                          double amount, qint64 nowMs)
{
    const double usdIn = tokenUsdLocked(tokenIn, nowMs);
    const double usdOut = tokenUsdLocked(tokenOut, nowMs);
    const QString pairKey = tokenIn < tokenOut ? tokenIn + QLatin1Char('/') + tokenOut
                                               : tokenOut + QLatin1Char('/') + tokenIn;
    const double mid = usdIn / usdOut * std::exp(basisLocked(venue, pairKey, nowMs));

    Quote q;
    q.venue = venue;
    q.tokenIn = tokenIn;
    q.tokenOut = tokenOut;
    q.amountIn = amount;
    q.midPrice = mid;
    q.at = QDateTime::fromMSecsSinceEpoch(nowMs, Qt::UTC);

    const double amountUsd = amount * usdIn;
    double outBeforeFeeImpact = 0;
    if (venue == VenueId::Raydium) {
        q.feeRate = kRaydiumFee;
        const double inNet = amount * (1 - q.feeRate);
        const double reserveIn = kRaydiumDepthUsd / usdIn;
        const double reserveOut = reserveIn * mid;
        q.amountOut = reserveOut * inNet / (reserveIn + inNet);
        outBeforeFeeImpact = inNet * mid;
    } else {
        const double bins = amountUsd / kMeteoraBinUsd;
        q.feeRate = std::min(kMeteoraMaxFee, kMeteoraBaseFee + kMeteoraVariableFeePerBin * bins);
        const double inNet = amount * (1 - q.feeRate);
        // Walking up `bins` bins of kMeteoraBinStep each: the average price is half-way.
        const double impact = std::min(0.9, bins * kMeteoraBinStep / 2);
        q.amountOut = inNet * mid * (1 - impact);
        outBeforeFeeImpact = inNet * mid;
    }
    q.feeAmount = amount * q.feeRate;
    q.priceImpact = outBeforeFeeImpact > 0 ? 1 - q.amountOut / outBeforeFeeImpact : 0;
    q.price = amount > 0 ? q.amountOut / amount : 0;
    return q;
}

Quote Market::quote(VenueId venue, const QString &tokenIn, const QString &tokenOut, double amount)
{
    QMutexLocker lock(&m_mutex);
    return quoteLocked(venue, tokenIn, tokenOut, amount, QDateTime::currentMSecsSinceEpoch());
}

Route Market::route(const QString &tokenIn, const QString &tokenOut, double amount)
{
    QMutexLocker lock(&m_mutex);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    Route r;
    r.raydium = quoteLocked(VenueId::Raydium, tokenIn, tokenOut, amount, now);
    r.meteora = quoteLocked(VenueId::Meteora, tokenIn, tokenOut, amount, now);
    r.chosen = r.meteora.amountOut > r.raydium.amountOut ? VenueId::Meteora : VenueId::Raydium;
    return r;
}

Fill Market::execute(VenueId venue, const QString &tokenIn, const QString &tokenOut,
                     double amount, double minAmountOut)
{
    Quote q = quote(venue, tokenIn, tokenOut, amount);
    Fill f;
    f.amountOut = q.amountOut * (1 + m_config.executionPriceShift);
    f.executedPrice = amount > 0 ? f.amountOut / amount : 0;
    if (f.amountOut < minAmountOut) {
        f.error = QStringLiteral("Slippage tolerance exceeded: would receive %1 %2, minimum %3")
                      .arg(f.amountOut, 0, 'g', 10)
                      .arg(tokenOut)
                      .arg(minAmountOut, 0, 'g', 10);
        return f;
    }
    f.ok = true;
    return f;
}

bool Market::rollFailure()
{
    if (m_config.failureRate <= 0)
        return false;
    QMutexLocker lock(&m_mutex);
    return std::uniform_real_distribution<double>(0, 1)(m_rng) < m_config.failureRate;
}

int Market::executionLatencyMs()
{
    if (m_config.executionLatencyMaxMs <= m_config.executionLatencyMinMs)
        return m_config.executionLatencyMinMs;
    QMutexLocker lock(&m_mutex);
    return std::uniform_int_distribution<int>(m_config.executionLatencyMinMs,
                                              m_config.executionLatencyMaxMs)(m_rng);
}

void Market::setVenueBias(VenueId venue, double bias)
{
    QMutexLocker lock(&m_mutex);
    m_bias[int(venue)] = bias;
}

} // namespace oee
