#pragma once
#include "dex/Market.h"

#include <QByteArray>
#include <optional>

namespace oee {

class RedisConnection;

// The simulated chain's ledger of landed transactions, in Redis so that every process and
// every restart sees it. A signature lands at most once: a resubmitted transaction (same
// signature, after a crash) is rejected as a duplicate and the first landing's fill returned —
// which the engine reports as confirmed ("already landed").
class SimulatedChain
{
public:
    struct Landing
    {
        bool duplicate = false; // it had landed before; `fill` is the original one
        Fill fill;
    };

    SimulatedChain(RedisConnection *redis, QByteArray prefix);

    // nullopt: Redis unreachable, try again with the same fill.
    std::optional<Landing> land(const QString &signature, const Fill &fill);
    // nullopt: Redis unreachable; an empty inner optional: never landed.
    std::optional<std::optional<Fill>> lookup(const QString &signature);

private:
    RedisConnection *m_redis;
    QByteArray m_prefix;
};

} // namespace oee
