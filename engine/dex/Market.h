#pragma once
#include "runtime/Config.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QMutex>
#include <QStringList>
#include <random>

namespace oee {

enum class VenueId { Raydium, Meteora };
[[nodiscard]] QString venueName(VenueId v);

// A venue's price for one amount: output after fee and price impact.
struct Quote
{
    VenueId venue = VenueId::Raydium;
    QString tokenIn;
    QString tokenOut;
    double amountIn = 0;
    double amountOut = 0;    // net of fee and impact
    double price = 0;        // effective: amountOut / amountIn
    double midPrice = 0;     // tokenOut per tokenIn before fee and impact
    double feeRate = 0;
    double feeAmount = 0;    // in tokenIn
    double priceImpact = 0;  // fraction lost to the pool's curve
    QDateTime at;

    [[nodiscard]] QJsonObject toJson() const;
};

struct Route
{
    Quote raydium;
    Quote meteora;
    VenueId chosen = VenueId::Raydium;

    [[nodiscard]] const Quote &best() const { return chosen == VenueId::Raydium ? raydium : meteora; }
    [[nodiscard]] QJsonObject toJson() const;
};

struct Fill
{
    bool ok = false;
    double amountOut = 0;
    double executedPrice = 0;
    QString error;
};

// The simulated market: one Raydium pool (constant product) and one Meteora pool (binned
// liquidity with a size-dependent fee) per pair of known tokens. Token prices follow a random
// walk and each venue's price has its own mean-reverting basis, so either venue can be best.
// Thread-safe; every call is a few microseconds under one mutex.
class Market
{
public:
    explicit Market(const DexConfig &config);

    [[nodiscard]] static const QStringList &tokens();

    [[nodiscard]] Route route(const QString &tokenIn, const QString &tokenOut, double amount);
    [[nodiscard]] Quote quote(VenueId venue, const QString &tokenIn, const QString &tokenOut,
                              double amount);
    // Re-prices at execution time; below minAmountOut the fill fails with "Slippage tolerance exceeded".
    [[nodiscard]] Fill execute(VenueId venue, const QString &tokenIn, const QString &tokenOut,
                               double amount, double minAmountOut);
    // True with probability failureRate: a simulated venue/transaction failure.
    [[nodiscard]] bool rollFailure();
    [[nodiscard]] int executionLatencyMs();

    // Fixed relative price offset of a venue (tests, what-if analysis).
    void setVenueBias(VenueId venue, double bias);
    [[nodiscard]] const DexConfig &config() const { return m_config; }

private:
    struct Walk
    {
        double value = 0;
        qint64 updatedMs = 0;
    };
    double tokenUsdLocked(const QString &token, qint64 nowMs);
    double basisLocked(VenueId venue, const QString &pairKey, qint64 nowMs);
    Quote quoteLocked(VenueId venue, const QString &tokenIn, const QString &tokenOut,
                      double amount, qint64 nowMs);
    double gaussianLocked();

    DexConfig m_config;
    QMutex m_mutex;
    std::mt19937_64 m_rng;
    QHash<QString, Walk> m_tokenWalks;   // log-price offsets from the reference price
    QHash<QString, Walk> m_venueBasis;   // "venue|A/B" → log basis
    double m_bias[2] = {0, 0};
};

} // namespace oee
