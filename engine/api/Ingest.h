#pragma once
#include "dex/Market.h"
#include "domain/Order.h"
#include "domain/OrderRequest.h"
#include "queue/JobQueue.h"
#include "runtime/Controls.h"
#include "store/Database.h"
#include "store/OrderStore.h"

#include <QObject>
#include <QTimer>
#include <functional>
#include <memory>

namespace oee {

class OrderStore;
class RedisConnection;

struct SubmitResult
{
    bool ok = false;
    QString orderId;
    QDateTime createdAt;
    bool replayed = false; // the Idempotency-Key had been used: this is the original order
    ApiError error;
};

// Makes accepted orders durable, in batches: all submissions that arrive during one turn of
// its event loop become one Redis call that stages their jobs (stored, not claimable), one
// PostgreSQL statement (orders + pending events, committed) and one Redis call that publishes
// the jobs. So no worker sees a job before its row is committed, and no committed order lacks
// its job; a crash between the steps is repaired by the stale-staged sweep. Only then is
// each client answered.
// Lives on its own thread; submit() may be called from any thread.
class Ingest : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Ingest)
public:
    using Reply = std::function<void(const SubmitResult &)>;

    Ingest(RedisEndpoint redis, PgEndpoint postgres, JobQueue::Options queue, QByteArray instanceId,
           QObject *parent = nullptr);
    ~Ingest() override;

    // Thread-safe. `reply` runs on the ingest thread once the order is durable or refused.
    // With an idempotency key, a key seen before answers with the order it created.
    void submit(const OrderRequest &request, const QString &idempotencyKey, Reply reply);
    // Thread-safe. Cancels a pending order (OrderStore::cancel) and announces the event like a
    // worker's; `reply` runs on the ingest thread.
    struct CancelResult
    {
        bool ok = false; // answered by PostgreSQL
        bool cancelled = false;
        std::optional<OrderStatus> current; // not cancelled: the status it has (nullopt: none)
        QString error;
    };
    // `source` is who asked (the audit trail: "console", "rest <peer>").
    void cancel(const QString &orderId, std::function<void(const CancelResult &)> reply,
                const QString &source = {});
    // Thread-safe. Launches a token (Market::launch) over the ingest thread's Redis connection;
    // `reply` runs on the ingest thread.
    struct LaunchReply
    {
        std::optional<LaunchResult> launched;
        bool conflict = false;
        QString error;
    };
    void launch(Market *market, const LaunchSpec &spec,
                std::function<void(const LaunchReply &)> reply, const QString &source = {});

    // Thread-safe. The operator's switches (Controls): the Redis hash first (every process
    // reads it), then the audit row; if the row cannot be written the switch is put back and
    // the action refused (503), so nothing takes effect unrecorded. A kill pauses intake, then
    // cancels every resting order (open, or pending with an expiry) in one statement.
    void control(const ControlAction &action, std::function<void(const ControlReply &)> reply);
    // Thread-safe. A failed order again: a new order with the same terms, linked to it
    // (`retryOf` in its pending event; the original stays failed: its history is the record).
    // Keyed "retry:<id>", so asking twice gives the same new order (replayed).
    struct RetryResult
    {
        SubmitResult submit;                // the new order (or why there is none)
        std::optional<OrderStatus> current; // the original's status when it is not failed
    };
    void retry(const QString &orderId, const QString &source,
               std::function<void(const RetryResult &)> reply);
    // Set before start(): where a paused intake is read, and what a control changes.
    void setControls(Controls *controls) { m_controls = controls; }

public slots:
    void start();
    void shutdown();

signals:
    void eventsCommitted(const QList<oee::OrderEvent> &events);
    void jobsEnqueued();

private:
    struct Pending
    {
        NewOrder order;
        Reply reply;
    };
    void flush();

    RedisEndpoint m_redisEndpoint;
    PgEndpoint m_pgEndpoint;
    JobQueue::Options m_queueOptions;
    QByteArray m_instanceId;
    QString m_connectionName;
    std::unique_ptr<RedisConnection> m_redis;
    std::unique_ptr<OrderStore> m_store;
    std::unique_ptr<JobQueue> m_queue;
    QList<Pending> m_pending;
    QTimer m_timer{this};
    Controls *m_controls = nullptr;
    void audit(const QString &action, const QString &target, const QJsonObject &detail,
               const QString &source);
};

} // namespace oee
