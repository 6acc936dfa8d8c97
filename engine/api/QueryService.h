#pragma once
#include "queue/JobQueue.h"
#include "store/Database.h"

#include <QList>
#include <QObject>
#include <atomic>
#include <functional>
#include <memory>

namespace oee {

class OrderStore;
class RedisConnection;

// The read side: a thread with its own PostgreSQL and Redis connections on which API reads,
// WebSocket snapshots, metrics and health checks run, so the HTTP thread never waits on I/O.
class QueryService : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QueryService)
public:
    using Task = std::function<void(OrderStore &store, JobQueue &queue, RedisConnection &redis)>;

    QueryService(RedisEndpoint redis, PgEndpoint postgres, JobQueue::Options queue,
                 QObject *parent = nullptr);
    ~QueryService() override;

    // Thread-safe: runs `task` on the query thread.
    void post(Task task);

public slots:
    void start();

private:
    RedisEndpoint m_redisEndpoint;
    PgEndpoint m_pgEndpoint;
    JobQueue::Options m_queueOptions;
    QString m_connectionName;
    std::unique_ptr<RedisConnection> m_redis;
    std::unique_ptr<OrderStore> m_store;
    std::unique_ptr<JobQueue> m_queue;
};

// Reads spread over several query threads, and bounded: once `maxQueued` reads wait, post()
// refuses (the API answers 503 with Retry-After) instead of queueing without limit. /health has
// a QueryService of its own, so it never waits behind reads.
class ReadPool
{
public:
    ReadPool(QList<QueryService *> services, int maxQueued);
    // Thread-safe. False: too many reads are waiting; `task` will not run.
    [[nodiscard]] bool post(QueryService::Task task);
    [[nodiscard]] int queued() const { return m_queued.load(); }

private:
    QList<QueryService *> m_services;
    int m_maxQueued;
    std::atomic<int> m_queued{0};
    std::atomic<unsigned> m_next{0};
};

} // namespace oee
