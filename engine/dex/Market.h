#pragma once
#include "dex/Route.h"
#include "domain/ApiError.h"
#include "runtime/Config.h"

#include <QJsonArray>
#include <QMutex>
#include <QObject>
#include <QSet>
#include <QStringList>
#include <atomic>
#include <random>
#include <variant>

namespace oee {

class RedisConnection;

// What an execution gave: amounts in base units, the legs as executed (JSON, as recorded).
struct Fill
{
    bool ok = false;
    BaseUnits amountIn = 0;
    BaseUnits amountOut = 0;
    QString tokenIn, tokenOut; // symbols
    QJsonArray legs;
    QString error;

    // Exact decimal text in token units, and the price (tokenOut per tokenIn).
    [[nodiscard]] QString amountOutText() const;
    [[nodiscard]] QString executedPriceText() const;
    [[nodiscard]] QByteArray encode() const;
    [[nodiscard]] static Fill decode(const QByteArray &text);
};

// A token launch: a new token and its first pool (POST /api/launches, DEX_LAUNCHES).
struct LaunchSpec
{
    QString symbol;
    QString quoteToken = QStringLiteral("SOL"); // symbol or mint of a trading token
    QString price = QStringLiteral("0.001");    // quoteToken per new token, exact decimal
    qint64 liquidityUsd = 50000;                // on each side of the pool
    int decimals = 6;
    QString mint;                              // empty: one is made up
    QString venue = QStringLiteral("raydium"); // raydium (CPMM) or meteora (DLMM)
};

// A launch as a client or DEX_LAUNCHES spells it: {"symbol","quoteToken","price"?,
// "liquidity"?,"decimals"?,"mint"?,"venue"?}; an ApiError names the field at fault.
[[nodiscard]] std::variant<LaunchSpec, ApiError> parseLaunchSpec(const QJsonObject &o);

struct LaunchResult
{
    QString symbol;
    QString mint;
    int decimals = 0;
    QString poolId;
    QString venue;
    QString quoteToken;
    QString price;
    [[nodiscard]] QJsonObject toJson() const;
};

// What the market announces, from whichever thread changed it (connect queued).
class MarketSignals : public QObject
{
    Q_OBJECT
signals:
    void poolsChanged();
    void launched(const QString &symbol, const QString &mint, const QString &poolId);
};

// The simulated market: Raydium CPMM and Meteora DLMM pools (resources/pools.json) whose state
// lives in Redis, shared by every process like accounts on a chain: PoolSync keeps this
// process's copy current, a fill is applied atomically there (SimulatedChain::execute:
// compare-and-set on each pool's slot, together with the landing of the transaction), and the
// routes are priced on the copy. Thread-safe; routing is pure computation on a snapshot.
class Market
{
public:
    explicit Market(const DexConfig &config);

    // Symbols of the registry's tokens (resources/tokens.json).
    [[nodiscard]] static QStringList tokens();

    [[nodiscard]] PoolSet pools() const;
    [[nodiscard]] std::shared_ptr<const Pool> pool(const QString &id) const;
    // Newer states (by slot) replace older ones.
    void update(const QList<std::shared_ptr<Pool>> &states);
    // States as Redis keeps them (Pool::encode()).
    void updateFromEncoded(const QList<QByteArray> &states);
    // Held around "price on this copy → land in Redis → update this copy": the fills of one
    // process never race each other for a pool (the compare-and-set is for other processes).
    [[nodiscard]] QMutex &executionMutex() { return m_executionMutex; }

    // Routes on the current snapshot at the engine's clock.
    [[nodiscard]] RoutePlan route(const QString &tokenIn, const QString &tokenOut,
                                  BaseUnits amount) const;
    // Executes on this process's copy only (no Redis): tests and tools.
    [[nodiscard]] Fill executeLocally(const RoutePlan &plan, BaseUnits minAmountOut);
    // What an execution of `plan` gave the order: the output after the chaos price shift
    // (DEX_EXECUTION_PRICE_SHIFT), refused below minAmountOut ("Slippage tolerance exceeded")
    // or when a leg could not fill; the legs as executed when it fills.
    [[nodiscard]] Fill fillOf(const RoutePlan &plan, const Router::Execution &ex,
                              BaseUnits minAmountOut) const;

    // Venues taken out of routing (operator control).
    void setVenueEnabled(const QString &venue, bool enabled);
    void setDisabledVenues(const QStringList &venues);
    [[nodiscard]] QStringList disabledVenues() const;
    // The reference walk's volatility (DEX_VOLATILITY until the operator sets another; a
    // simulation parameter, not money).
    void setVolatility(double perSqrtSecond) { m_volatility.store(perSqrtSecond); }
    [[nodiscard]] double volatility() const { return m_volatility.load(); }

    // The engine's clock (unix seconds): what DLMM fees decay by.
    [[nodiscard]] static qint64 now();

    // Redis: writes the genesis state of every pool Redis does not have yet (the first process
    // to start seeds the market; later ones and restarts keep its state); then reads all.
    bool seed(RedisConnection *redis, const QByteArray &prefix, QString *error);
    // Reads the pools whose slot changed since this copy. False if Redis is unreachable.
    bool sync(RedisConnection *redis, const QByteArray &prefix);
    [[nodiscard]] static QByteArray poolKey(const QByteArray &prefix, const QString &id);

    // One round of the arbitrage flow: every pool is traded toward the moving reference price
    // (a random walk per token, DEX_VOLATILITY per sqrt(second)); amounts found by bisection on
    // the pools' own integer math. Returns the trades to apply (new states).
    [[nodiscard]] QList<std::shared_ptr<Pool>> arbitrage(qint64 nowMs);

    // Launches a token: registers it, creates its first pool, and writes both to Redis (one
    // script: the first launch of a symbol wins, across processes), then announces it.
    // 409-like conflicts and bad specs come back as *error with *conflict set accordingly.
    std::optional<LaunchResult> launch(const LaunchSpec &spec, RedisConnection *redis,
                                       const QByteArray &prefix, QString *error, bool *conflict);
    // Picks up the launches other processes made (and, at start, earlier runs): registers their
    // tokens and pools and announces each once. False if Redis is unreachable.
    bool discoverLaunches(RedisConnection *redis, const QByteArray &prefix);
    [[nodiscard]] MarketSignals *signalsObject() { return &m_signals; }

    // True with probability failureRate: a simulated venue/transaction failure.
    [[nodiscard]] bool rollFailure();
    [[nodiscard]] int executionLatencyMs();
    [[nodiscard]] const DexConfig &config() const { return m_config; }

private:
    DexConfig m_config;
    mutable QMutex m_mutex;
    QMutex m_executionMutex;
    PoolSet m_pools;
    QStringList m_disabled;
    std::mt19937_64 m_rng;
    std::atomic<double> m_volatility{0};
    QHash<QString, qint64> m_ticks; // reference walk per token: log price in 0.01 bp ticks
    qint64 m_lastWalkMs = 0;
    MarketSignals m_signals;
    QMutex m_launchMutex;
    QSet<QString> m_launchedPools; // announced in this process
    qsizetype m_launchesSeen = 0;  // entries of <prefix>launches read
};

} // namespace oee
