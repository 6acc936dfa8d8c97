#pragma once
#include "dex/Market.h"

#include <QByteArray>
#include <optional>

namespace oee {

class RedisConnection;

// The simulated chain: the ledger of landed transactions and the pools' shared state, in Redis
// so that every process and every restart sees it. A transaction lands at most once: a
// resubmitted one (same signature, after a crash) is a duplicate and the first landing's fill is
// returned — which the engine reports as confirmed ("already landed"). Landing a swap and moving
// its pools is one atomic step (a Lua script that compares each pool's slot and sets the new
// states together with the ledger entry), so two processes never both spend the same liquidity
// and a crash cannot move a pool without recording the transaction, or the reverse.
class SimulatedChain
{
public:
    struct Landing
    {
        bool duplicate = false; // it had landed before; `fill` is the original one
        Fill fill; // !fill.ok: the venue refused it (slippage, liquidity): nothing moved
    };

    SimulatedChain(RedisConnection *redis, QByteArray prefix);

    // Prices `plan` on the current pool states and, unless it comes out below minAmountOut or
    // a pool cannot fill it, lands it. nullopt: Redis unreachable (or the pools kept changing
    // under it); try again with the same signature.
    std::optional<Landing> execute(const QString &signature, const RoutePlan &plan,
                                   BaseUnits minAmountOut, Market *market);
    // The same for several transactions at once (one worker's event-loop turn): each is priced
    // on the pools as the ones before it left them, and all of them land (or are refused, or
    // turn out to have landed before) in one atomic step — one Redis round trip instead of one
    // per fill, which is what a hot pool's throughput is bound by. Results in request order;
    // nullopt for all of them when Redis is unreachable.
    struct Request
    {
        QString signature;
        const RoutePlan *plan = nullptr;
        BaseUnits minAmountOut = 0;
    };
    std::optional<QList<Landing>> executeBatch(const QList<Request> &requests, Market *market);
    // nullopt: Redis unreachable; an empty inner optional: never landed.
    std::optional<std::optional<Fill>> lookup(const QString &signature);
    // Applies pool states computed elsewhere (the arbitrage flow) if their pools did not move
    // meanwhile. False when Redis is unreachable.
    bool apply(const QList<std::shared_ptr<Pool>> &states, Market *market);

private:
    RedisConnection *m_redis;
    QByteArray m_prefix;
};

} // namespace oee
