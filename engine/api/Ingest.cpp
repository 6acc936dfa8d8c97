#include "api/Ingest.h"

#include "queue/RedisConnection.h"
#include "runtime/Logging.h"
#include "store/OrderStore.h"

#include <QJsonDocument>
#include <QUuid>

namespace oee {

namespace {
constexpr qsizetype kMaxBatch = 1000;
}

Ingest::Ingest(RedisEndpoint redis, PgEndpoint postgres, JobQueue::Options queue, QObject *parent)
    : QObject(parent), m_redisEndpoint(std::move(redis)), m_pgEndpoint(std::move(postgres)),
      m_queueOptions(std::move(queue)),
      m_connectionName(QStringLiteral("oee-ingest-%1").arg(quintptr(this), 0, 16))
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &Ingest::flush);
}

Ingest::~Ingest()
{
    m_store.reset();
    Database::remove(m_connectionName);
}

void Ingest::start()
{
    m_redis = std::make_unique<RedisConnection>(m_redisEndpoint);
    m_store = std::make_unique<OrderStore>(Database::open(m_connectionName, m_pgEndpoint));
    m_queue = std::make_unique<JobQueue>(m_redis.get(), m_queueOptions);
}

void Ingest::shutdown()
{
    m_timer.stop();
    while (!m_pending.isEmpty())
        flush();
}

void Ingest::submit(const OrderRequest &request, Reply reply)
{
    NewOrder order;
    order.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    order.request = request;
    QMetaObject::invokeMethod(
        this,
        [this, order, reply = std::move(reply)]() mutable {
            m_pending.append(Pending{std::move(order), std::move(reply)});
            if (!m_timer.isActive())
                m_timer.start(0);
        },
        Qt::QueuedConnection);
}

void Ingest::refuse(const QList<Pending> &batch, const QString &code, const QString &message)
{
    for (const Pending &p : batch) {
        SubmitResult r;
        r.error = ApiError{503, code, message, {}};
        p.reply(r);
    }
}

void Ingest::flush()
{
    if (m_pending.isEmpty())
        return;
    const QList<Pending> batch = m_pending.mid(0, kMaxBatch);
    m_pending.remove(0, batch.size());
    if (!m_pending.isEmpty())
        m_timer.start(0);

    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<NewOrder> orders;
    QList<OrderEvent> events;
    QList<Job> jobs;
    QStringList ids;
    for (const Pending &p : batch) {
        NewOrder o = p.order;
        o.createdAt = now;
        orders.append(o);
        ids << o.id;
        OrderEvent e;
        e.orderId = o.id;
        e.seq = 1;
        e.status = OrderStatus::Pending;
        e.at = now;
        e.data = QJsonObject{{QStringLiteral("orderType"), o.request.orderType},
                             {QStringLiteral("tokenIn"), o.request.tokenIn},
                             {QStringLiteral("tokenOut"), o.request.tokenOut},
                             {QStringLiteral("amount"), o.request.amount},
                             {QStringLiteral("slippage"), o.request.slippage}};
        jobs.append(Job{o.id, QJsonDocument(e.data).toJson(QJsonDocument::Compact), 0});
        events.append(e);
    }

    // 1. Stage the jobs in Redis: stored, not yet claimable.
    QString queueError;
    if (!m_queue->stage(jobs, &queueError)) {
        refuse(batch, QStringLiteral("queue_unavailable"),
               QStringLiteral("Redis is unavailable, the order was not accepted: ") + queueError);
        return;
    }
    // 2. Orders and their pending events: one statement, committed on its own.
    if (!m_store->insertOrders(orders, events)) {
        // No rows: take the staged jobs back (if that fails too, the stale-staged sweep drops
        // staged jobs that have no order row).
        m_queue->remove(ids);
        refuse(batch, QStringLiteral("database_unavailable"),
               QStringLiteral("PostgreSQL is unavailable, the order was not accepted: ") +
                   m_store->lastError());
        return;
    }
    // Durable now (rows committed, jobs staged): answer first, then make the jobs claimable.
    // If publishing fails (Redis gone this very moment), the stale-staged sweep of a worker
    // publishes them later, since their rows exist.
    for (qsizetype i = 0; i < batch.size(); ++i) {
        SubmitResult r;
        r.ok = true;
        r.orderId = orders[i].id;
        r.createdAt = now;
        batch[i].reply(r);
    }
    QList<QList<QByteArray>> commands;
    commands.reserve(events.size() + 1);
    QList<QByteArray> publish{"EVALSHA", JobQueue::publishScriptSha(), "0",
                              m_queueOptions.prefix.toUtf8()};
    for (const QString &id : std::as_const(ids))
        publish.append(id.toUtf8());
    commands.append(publish);
    const QByteArray channel = m_queueOptions.prefix.toUtf8() + "events";
    for (OrderEvent &e : events) {
        e.message = e.toMessage();
        commands.append({"PUBLISH", channel, e.message});
    }
    const QList<RedisReply> replies = m_redis->pipeline(commands);
    if (!replies.first().ok() && !m_queue->publish(ids, &queueError))
        qCWarning(lcQueue, "publishing %lld committed job(s) failed (%s); the sweep will",
                  qlonglong(ids.size()), qPrintable(queueError));
    emit jobsEnqueued();
    emit eventsCommitted(events);
}

} // namespace oee
