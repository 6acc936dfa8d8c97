#pragma once
#include "dex/Market.h"
#include "domain/Order.h"
#include "domain/OrderRequest.h"
#include "execution/OrderType.h"
#include "queue/JobQueue.h"
#include "store/Database.h"

#include <QHash>
#include <QObject>
#include <QTimer>
#include <memory>

namespace oee {

class EventWriter;
class SimulatedChain;
class OrderStore;
class RedisConnection;

struct WorkerSettings
{
    int index = 0;
    int capacity = 10;          // orders in flight on this thread
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
    QByteArray instanceId; // this process, in what it publishes
};

// One worker thread's engine: claims jobs from Redis and drives each order through
// routing → building → submitted → confirmed | failed as an asynchronous state machine on
// timers, so an order waiting on a venue never holds the thread. Owns the thread's Redis and
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
    struct InFlight
    {
        Job job;
        int attempt = 0;      // the attempt this run belongs to
        OrderRequest request;
        const OrderType *type = nullptr;
        int seq = 0;
        OrderStatus status = OrderStatus::Pending; // the last status written (canFollow)
        RoutePlan route;      // priced at routing; empty after a crash (routed again)
        BaseUnits minAmountOut = 0;
        QString signature;
        Fill fill;            // computed at execution, landed on the chain
        qint64 fence = 0;     // this claim's fence on the order's row (PostgreSQL)
        QJsonObject trigger;  // a resting order brought back by the RestingBook: why and when
    };

    void scheduleClaim(int delayMs);
    void claim();
    void startJobs(const QList<Job> &jobs);
    void beginAttempt(const QString &id);
    void onQuoted(const QString &id);
    void onBuilt(const QString &id);
    void onSubmitted(const QString &id);
    void onExecuted(const QString &id);
    void resumeSubmitted(const QString &id);
    void land(const QString &id);      // queued: landBatch() lands this turn's fills together
    void landBatch();
    void confirm(const QString &id, const Fill &fill, bool alreadyLanded);
    // An attempt that did not fill: back to pending for the next one, or failed — or, for an
    // order type that rests, back to open (expired once its time is up).
    void attemptFailed(const QString &id, const QString &venue, const QString &error);
    // The order may not execute now: it rests in open, without a job (the RestingBook holds it).
    void rest(const QString &id, const QString &why);
    [[nodiscard]] static bool expiredNow(const InFlight &f);
    void expire(const QString &id);
    // Wait: continue once the event is committed. Batch: continue at once, the event joins
    // the same transaction as the next one(s); for steps that touch nothing outside
    // (routing → building → submitted). Either way nothing is announced before it is durable,
    // and execution starts only once `submitted` (with its signature) is committed.
    enum class Durability { Wait, Batch };
    void emitEvent(InFlight &order, OrderStatus status, QJsonObject data,
                   std::function<void()> next, Durability durability = Durability::Wait);
    void finish(const QString &id, Settle kind, qint64 delayMs);
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
    QHash<QString, InFlight> m_inFlight;
    QList<SettleOp> m_unsettled;
    QTimer m_claimTimer{this};
    QTimer m_settleTimer{this};
    QTimer m_landTimer{this};
    QStringList m_toLand;
    QTimer m_leaseTimer{this};
    QTimer m_recoveryTimer{this};
    QTimer m_reconcileTimer{this};
    bool m_stopping = false;
};

} // namespace oee
