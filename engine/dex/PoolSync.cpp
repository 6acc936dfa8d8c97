#include "dex/PoolSync.h"
#include "queue/RedisKeys.h"

#include "dex/Chain.h"
#include "dex/Market.h"
#include "runtime/Controls.h"
#include "runtime/Logging.h"

#include <QDateTime>
#include <QJsonObject>
#include <QUuid>

namespace oee {

PoolSync::PoolSync(RedisEndpoint redis, QByteArray prefix, Market *market, int syncMs,
                   int arbitrageMs, QObject *parent)
    : QObject(parent), m_endpoint(std::move(redis)), m_prefix(std::move(prefix)), m_market(market),
      m_syncMs(syncMs), m_arbitrageMs(arbitrageMs),
      m_instance(QUuid::createUuid().toByteArray(QUuid::WithoutBraces))
{
    connect(&m_syncTimer, &QTimer::timeout, this, &PoolSync::tick);
    connect(&m_arbitrageTimer, &QTimer::timeout, this, &PoolSync::arbitrage);
}

PoolSync::~PoolSync() = default;

void PoolSync::start()
{
    m_redis = std::make_unique<RedisConnection>(m_endpoint);
    m_chain = std::make_unique<SimulatedChain>(m_redis.get(), m_prefix);
    tick();
    m_syncTimer.start(m_syncMs);
    // Scheduled launches: each process tries; the first launch of a symbol wins in Redis, and
    // the others learn of it as of any other process's launch.
    for (const QJsonValue &v : m_market->config().launches) {
        const QJsonObject o = v.toObject();
        const int after =
            int(qBound<qint64>(0LL, o.value(QStringLiteral("afterMs")).toInteger(), 86400000LL));
        QTimer::singleShot(after, this, [this, o] {
            const auto spec = parseLaunchSpec(o);
            if (const auto *e = std::get_if<ApiError>(&spec)) {
                qCWarning(lcEngine, "DEX_LAUNCHES: %s", qPrintable(e->message));
                return;
            }
            QString error;
            bool conflict = false;
            if (!m_market->launch(std::get<LaunchSpec>(spec), m_redis.get(), m_prefix, &error,
                                  &conflict) &&
                !conflict)
                qCWarning(lcEngine, "scheduled launch failed: %s", qPrintable(error));
        });
    }
    // Always ticking: the operator may turn the walk on at run time (Controls); a tick with
    // volatility 0 does nothing.
    if (m_arbitrageMs > 0)
        m_arbitrageTimer.start(m_arbitrageMs);
}

void PoolSync::tick()
{
    if (!m_seeded) {
        QString error;
        m_seeded = m_market->seed(m_redis.get(), m_prefix, &error);
        if (!m_seeded)
            qCWarning(lcEngine, "pools not seeded yet (%s); retrying", qPrintable(error));
        return;
    }
    if (m_market->sync(m_redis.get(), m_prefix))
        m_market->discoverLaunches(m_redis.get(), m_prefix);
    if (m_controls) {
        if (const auto state = Controls::read(*m_redis, m_prefix))
            m_controls->apply(*state);
    }
}

void PoolSync::arbitrage()
{
    if (!m_seeded || m_market->volatility() <= 0)
        return;
    // One arbitrageur at a time across processes: a lease renewed while this process holds it.
    const QByteArray key = rkeys::arbitrageur(m_prefix);
    const QByteArray ttl = QByteArray::number(m_arbitrageMs * 4);
    RedisReply r = m_redis->command({"SET", key, m_instance, "NX", "PX", ttl});
    if (!r.ok())
        return;
    if (r.type == RedisReply::Nil) {
        const RedisReply holder = m_redis->command({"GET", key});
        if (!holder.ok() || holder.str != m_instance)
            return;
        m_redis->command({"PEXPIRE", key, ttl});
    }
    const auto trades = m_market->arbitrage(QDateTime::currentMSecsSinceEpoch());
    if (!trades.isEmpty())
        m_chain->apply(trades, m_market);
}

} // namespace oee
