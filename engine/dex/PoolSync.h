#pragma once
#include "queue/RedisConnection.h"

#include <QObject>
#include <QTimer>
#include <memory>

namespace oee {

class Controls;
class Market;
class SimulatedChain;

// Keeps this process's copy of the pools current (their state lives in Redis), on a thread of
// its own with its own Redis connection: seeds the market on first start, reads the pools that
// changed every `syncMs`, and — in one process at a time (a Redis lease) — runs the arbitrage
// flow that pulls the pools toward the moving reference price (DEX_VOLATILITY > 0).
class PoolSync : public QObject
{
    Q_OBJECT
public:
    PoolSync(RedisEndpoint redis, QByteArray prefix, Market *market, int syncMs, int arbitrageMs,
             QObject *parent = nullptr);
    ~PoolSync() override;

    // Before start: the operator's switches, read from Redis with the pools.
    void setControls(Controls *controls) { m_controls = controls; }

public slots:
    void start();

private:
    void tick();
    void arbitrage();

    RedisEndpoint m_endpoint;
    QByteArray m_prefix;
    Market *m_market;
    int m_syncMs;
    int m_arbitrageMs;
    std::unique_ptr<RedisConnection> m_redis;
    std::unique_ptr<SimulatedChain> m_chain;
    QTimer m_syncTimer{this};
    QTimer m_arbitrageTimer{this};
    QByteArray m_instance;
    bool m_seeded = false;
    Controls *m_controls = nullptr;
};

} // namespace oee
