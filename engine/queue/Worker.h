#pragma once
#include "domain/Order.h"
#include "queue/JobQueue.h"
#include "store/Database.h"

#include <QHash>
#include <QObject>
#include <QTimer>
#include <memory>

namespace oee {

class EventWriter;
class Handoff;
class Market;
class OrderExecutor;
class SimulatedChain;
class OrderStore;
class RedisConnection;

struct WorkerSettings
{
    int index = 0;
    int capacity = 10; // orders in flight on this thread
    RedisEndpoint redis;
    PgEndpoint postgres;
    JobQueue::Options queue;
    int maxAttempts = 3;
    int retryBackoffMs = 1000;
    bool recoverStalledJobs = false; // one worker per process sweeps expired leases
    int stagedSweepMs = 10000;       // a staged job this old is looked at by the sweep
    int reconcileMs = 10000;         // how often unfinished orders are checked for a job
    int idlePollMs = 250;
    int chaosCrashAfterLandings = 0;
    int chaosExitAfterCommits = 0;
    QByteArray instanceId;      // this process, in what it publishes
    Handoff *handoff = nullptr; // jobs the process's resting book leased for its workers
};

// One worker thread's queue mechanics: claims jobs from Redis (fencing each order's row in
// PostgreSQL), renews their leases, settles them, recovers expired leases and reconciles jobs
// Redis lost — and hands each claimed order to its OrderExecutor (execution/), which runs the
// order's lifecycle, as a BullMQ worker calls its processor. Owns the thread's Redis and
// PostgreSQL connections. Lives (and must be called) on its own QThread.
class Worker : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Worker)
public:
    Worker(WorkerSettings settings, Market *market, QObject *parent = nullptr);
    ~Worker() override;

public slots:
    void start();
    void wake();
    // Stops claiming; in-flight orders go on. Emits drained() once none is left.
    void drain();
    // Stops claiming, writes what is pending, hands in-flight jobs back to the queue.
    void shutdown();

signals:
    void eventsCommitted(const QList<oee::OrderEvent> &events);
    void drained();

private:
    void scheduleClaim(int delayMs);
    void claim();
    void startJobs(const QList<Job> &jobs);
    void settlePending();
    void renewLeases();
    void checkDrained();
    // The writer refused these orders' events: another claim owns them now (this worker
    // stalled past its lease) or they can never be written. Let them go, without settling.
    void onDropped(const QHash<QString, qint64> &fenceByOrder);
    void recover();
    // PostgreSQL is the record: an unfinished order whose job Redis lost gets it back.
    void reconcile();

    WorkerSettings m_settings;
    Market *m_market;
    QString m_connectionName;
    std::unique_ptr<RedisConnection> m_redis;
    std::unique_ptr<OrderStore> m_store;
    std::unique_ptr<JobQueue> m_queue;
    std::unique_ptr<SimulatedChain> m_chain;
    EventWriter *m_writer = nullptr;
    OrderExecutor *m_executor = nullptr; // the order lifecycle (execution/)
    QList<SettleOp> m_unsettled;
    QTimer m_claimTimer{this};
    QTimer m_settleTimer{this};
    QTimer m_leaseTimer{this};
    QTimer m_recoveryTimer{this};
    QTimer m_reconcileTimer{this};
    bool m_stopping = false;
};

} // namespace oee
