#include "api/QueryService.h"

#include "queue/RedisConnection.h"
#include "store/OrderStore.h"

namespace oee {

QueryService::QueryService(RedisEndpoint redis, PgEndpoint postgres, JobQueue::Options queue,
                           QObject *parent)
    : QObject(parent), m_redisEndpoint(std::move(redis)), m_pgEndpoint(std::move(postgres)),
      m_queueOptions(std::move(queue)),
      m_connectionName(QStringLiteral("oee-query-%1").arg(quintptr(this), 0, 16))
{
}

QueryService::~QueryService()
{
    m_store.reset();
    Database::remove(m_connectionName);
}

void QueryService::start()
{
    m_redis = std::make_unique<RedisConnection>(m_redisEndpoint, 1000);
    m_store = std::make_unique<OrderStore>(Database::open(m_connectionName, m_pgEndpoint));
    m_queue = std::make_unique<JobQueue>(m_redis.get(), m_queueOptions);
}

void QueryService::post(Task task)
{
    QMetaObject::invokeMethod(
        this, [this, task = std::move(task)] { task(*m_store, *m_queue, *m_redis); },
        Qt::QueuedConnection);
}

ReadPool::ReadPool(QList<QueryService *> services, int maxQueued)
    : m_services(std::move(services)), m_maxQueued(maxQueued)
{
}

bool ReadPool::post(QueryService::Task task)
{
    if (m_services.isEmpty() || m_queued.fetch_add(1) >= m_maxQueued) {
        m_queued.fetch_sub(1);
        return false;
    }
    QueryService *service = m_services[int(m_next.fetch_add(1) % unsigned(m_services.size()))];
    service->post(
        [this, task = std::move(task)](OrderStore &store, JobQueue &queue, RedisConnection &redis) {
            m_queued.fetch_sub(1);
            task(store, queue, redis);
        });
    return true;
}

} // namespace oee
