#include "api/Ingest.h"

#include "queue/EventSubscriber.h"
#include "queue/RedisConnection.h"
#include "queue/RedisKeys.h"
#include "runtime/Logging.h"
#include "runtime/Metrics.h"
#include "store/OrderStore.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QUuid>

namespace oee {

namespace {
constexpr qsizetype kMaxBatch = 1000;
}

Ingest::Ingest(RedisEndpoint redis, PgEndpoint postgres, JobQueue::Options queue,
               QByteArray instanceId, QObject *parent)
    : QObject(parent), m_redisEndpoint(std::move(redis)), m_pgEndpoint(std::move(postgres)),
      m_queueOptions(std::move(queue)), m_instanceId(std::move(instanceId)),
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
    m_store = std::make_unique<OrderStore>(
        Database::open(m_connectionName, m_pgEndpoint, Database::Plans::Generic));
    // While this session lives, an INSERT of ours may still commit: the staged-job sweep
    // leaves our staged jobs alone as long as it cannot take this lock.
    m_store->holdSessionLock(OrderStore::submitterLockKey(m_instanceId));
    m_queue = std::make_unique<JobQueue>(m_redis.get(), m_queueOptions);
}

void Ingest::shutdown()
{
    m_timer.stop();
    while (!m_pending.isEmpty())
        flush();
}

void Ingest::submit(const OrderRequest &request, const QString &idempotencyKey, Reply reply)
{
    if (m_controls && m_controls->paused()) {
        const ControlState s = m_controls->state();
        SubmitResult r;
        r.error = ApiError{
            ErrorKind::Paused,
            QStringLiteral("intake is paused by the operator%1; orders in flight finish, "
                           "new ones are refused until it resumes")
                .arg(s.pausedReason.isEmpty() ? QString()
                                              : QStringLiteral(" (") + s.pausedReason + u')'),
            {},
            QStringLiteral("paused")};
        reply(r);
        return;
    }
    NewOrder order;
    order.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    order.request = request;
    order.idempotencyKey = idempotencyKey;
    if (!idempotencyKey.isEmpty())
        order.fingerprint = requestFingerprint(request);
    QMetaObject::invokeMethod(
        this,
        [this, order, reply = std::move(reply)]() mutable {
            m_pending.append(Pending{std::move(order), std::move(reply)});
            if (!m_timer.isActive())
                m_timer.start(0);
        },
        Qt::QueuedConnection);
}

void Ingest::cancel(const QString &orderId, std::function<void(const CancelResult &)> reply,
                    const QString &source)
{
    QMetaObject::invokeMethod(
        this,
        [this, orderId, source, reply = std::move(reply)] {
            CancelResult r;
            const OrderStore::CancelOutcome c =
                m_store->cancel(orderId, QStringLiteral("cancelled by the client"));
            r.ok = c.ok;
            r.cancelled = c.cancelled;
            r.current = c.current;
            if (!c.ok)
                r.error = m_store->lastError();
            if (c.cancelled) {
                QList<OrderEvent> committed{c.event};
                for (OrderEvent &e : committed)
                    e.message = e.toMessage();
                // Other processes' streams learn of it as of any event (best effort; the row is
                // the record, and a worker that claims the job finds it ended).
                m_redis->command({"PUBLISH", rkeys::eventsChannel(m_queueOptions.prefix.toUtf8()),
                                  publishedBatch(m_instanceId, committed)});
                emit eventsCommitted(committed);
                // The cancelled event is the order's record; the trail lists it with the rest.
                audit(QStringLiteral("cancel"), orderId, {}, source);
            }
            reply(r);
        },
        Qt::QueuedConnection);
}

void Ingest::launch(Market *market, const LaunchSpec &spec,
                    std::function<void(const LaunchReply &)> reply, const QString &source)
{
    QMetaObject::invokeMethod(
        this,
        [this, market, spec, source, reply = std::move(reply)] {
            LaunchReply r;
            r.launched = market->launch(spec, m_redis.get(), m_queueOptions.prefix.toUtf8(),
                                        &r.error, &r.conflict);
            if (r.launched)
                audit(QStringLiteral("launch"), r.launched->symbol, r.launched->toJson(), source);
            reply(r);
        },
        Qt::QueuedConnection);
}

void Ingest::audit(const QString &action, const QString &target, const QJsonObject &detail,
                   const QString &source)
{
    // Best effort for actions whose own record is elsewhere (an order's event, a pool): a
    // trail that misses one because PostgreSQL blinked is logged, not a refused action.
    OperatorAction a;
    a.action = action;
    a.target = target;
    a.detail = detail;
    a.source = source.isEmpty() ? QStringLiteral("rest") : source;
    if (!m_store->recordAction(a))
        qCWarning(lcStore, "operator action %s %s not recorded: %s", qPrintable(action),
                  qPrintable(target), qPrintable(m_store->lastError()));
}

void Ingest::control(const ControlAction &action, std::function<void(const ControlReply &)> reply)
{
    QMetaObject::invokeMethod(
        this,
        [this, action, reply = std::move(reply)] {
            ControlReply r;
            const QByteArray prefix = m_queueOptions.prefix.toUtf8();
            const QByteArray key = Controls::key(prefix);
            const QDateTime now = QDateTime::currentDateTimeUtc();
            const auto fields = Controls::fieldsFor(action, now);
            // 1. The switch, where every process reads it; what it was, to put it back.
            QList<QByteArray> get{"HMGET", key};
            QList<QByteArray> set{"HSET", key};
            for (const auto &[field, value] : fields) {
                get << field;
                set << field << value;
            }
            const QList<RedisReply> replies = m_redis->pipeline({get, set});
            if (!replies.value(1).ok()) {
                r.error = {ErrorKind::QueueUnavailable,
                           QStringLiteral("Redis is unavailable, nothing was changed: ") +
                               QString::fromUtf8(replies.value(1).str),
                           {},
                           {}};
                reply(r);
                return;
            }
            // 2. The record. Without it, the switch goes back: nothing changes unrecorded.
            OperatorAction audit;
            audit.at = now;
            audit.action = action.name();
            audit.source = action.source;
            switch (action.kind) {
            case ControlAction::Kind::Pause:
            case ControlAction::Kind::Kill:
                audit.detail.insert(QStringLiteral("reason"), action.reason);
                break;
            case ControlAction::Kind::Resume:
                break;
            case ControlAction::Kind::Venue:
                audit.target = action.venue;
                audit.detail.insert(QStringLiteral("routing"), action.enabled);
                break;
            case ControlAction::Kind::Volatility:
                audit.detail.insert(QStringLiteral("volatility"), action.volatility);
                break;
            }
            const auto id = m_store->recordAction(audit);
            if (!id) {
                QList<QByteArray> undo{"HSET", key};
                QList<QByteArray> drop{"HDEL", key};
                const RedisReply &was = replies.value(0);
                for (qsizetype i = 0; i < fields.size(); ++i) {
                    const RedisReply old = was.elements.value(i);
                    if (old.type == RedisReply::Nil)
                        drop << fields[i].first;
                    else
                        undo << fields[i].first << old.str;
                }
                if (undo.size() > 2)
                    m_redis->command(undo);
                if (drop.size() > 2)
                    m_redis->command(drop);
                r.error = {ErrorKind::DatabaseUnavailable,
                           QStringLiteral("PostgreSQL is unavailable, so the action could not be "
                                          "recorded and was not applied: ") +
                               m_store->lastError(),
                           {},
                           {}};
                reply(r);
                return;
            }
            r.auditId = *id;
            // This process at once; the others at their next pool sync.
            if (m_controls) {
                if (const auto state = Controls::read(*m_redis, prefix))
                    m_controls->apply(*state);
            }
            if (action.kind == ControlAction::Kind::Kill) {
                // Orders accepted just before the pause and not yet written are written now, so
                // the scan below sees (and cancels) them too.
                while (!m_pending.isEmpty())
                    flush();
                // Intake is paused: no new order appears while these are ended. Every order
                // that has not begun (resting limit and sniper orders, and market orders still
                // queued) is cancelled; those already routing finish (nothing can call back a
                // transaction that may have been sent).
                const auto ids = m_store->notStartedIds();
                bool failed = !ids;
                QList<OrderEvent> committed;
                const QJsonObject why{{QStringLiteral("reason"), QStringLiteral("kill switch")}};
                for (qsizetype at = 0; ids && at < ids->size() && !failed; at += 5000) {
                    const auto part =
                        m_store->endResting(ids->mid(at, 5000), OrderStatus::Cancelled, why);
                    failed = !part;
                    for (const OrderStore::EndOutcome &e :
                         part.value_or(QList<OrderStore::EndOutcome>{}))
                        if (e.ended) {
                            committed << e.event;
                            r.cancelled << e.orderId;
                        }
                }
                // What was cancelled is announced even if a later part failed.
                if (!committed.isEmpty()) {
                    for (OrderEvent &e : committed)
                        e.message = e.toMessage();
                    emit eventsCommitted(committed);
                    m_redis->command({"PUBLISH", rkeys::eventsChannel(prefix),
                                      publishedBatch(m_instanceId, committed)});
                }
                this->audit(QStringLiteral("kill-cancelled"), {},
                            QJsonObject{{QStringLiteral("cancelled"), qint64(r.cancelled.size())},
                                        {QStringLiteral("complete"), !failed},
                                        {QStringLiteral("killId"), double(*id)}},
                            action.source);
                if (failed) {
                    r.error = {
                        ErrorKind::DatabaseUnavailable,
                        QStringLiteral(
                            "intake is paused and %1 order(s) were cancelled, but not all "
                            "orders not yet begun could be (PostgreSQL: %2); pull the switch again")
                            .arg(r.cancelled.size())
                            .arg(m_store->lastError()),
                        {},
                        {}};
                    reply(r);
                    return;
                }
            }
            r.ok = true;
            reply(r);
        },
        Qt::QueuedConnection);
}

void Ingest::retry(const QString &orderId, const QString &source,
                   std::function<void(const RetryResult &)> reply)
{
    QMetaObject::invokeMethod(
        this,
        [this, orderId, source, reply = std::move(reply)]() mutable {
            RetryResult r;
            const auto found = m_store->retrySource(orderId);
            if (!found) {
                r.submit.error = {ErrorKind::DatabaseUnavailable,
                                  QStringLiteral("PostgreSQL is unavailable: ") +
                                      m_store->lastError(),
                                  {},
                                  {}};
                reply(r);
                return;
            }
            if (!found->found) {
                r.submit.error = {
                    ErrorKind::OrderNotFound, QStringLiteral("Order not found"), {}, {}};
                reply(r);
                return;
            }
            if (found->status != OrderStatus::Failed) {
                r.current = found->status;
                r.submit.error = {ErrorKind::NotRetryable,
                                  QStringLiteral("order is %1: only a failed order can be retried")
                                      .arg(statusName(found->status)),
                                  QStringLiteral("status"),
                                  {}};
                reply(r);
                return;
            }
            std::optional<OrderRequest> request = fromJobPayload(found->submitted);
            if (!request) {
                r.submit.error = {
                    ErrorKind::NotRetryable,
                    QStringLiteral("the order as submitted cannot be read back (its token "
                                   "may no longer trade)"),
                    {},
                    {}};
                reply(r);
                return;
            }
            request->retryOf = orderId;
            submit(*request, QStringLiteral("retry:") + orderId,
                   [this, orderId, source, reply = std::move(reply)](const SubmitResult &s) {
                       if (s.ok && !s.replayed)
                           audit(QStringLiteral("retry"), orderId,
                                 QJsonObject{{QStringLiteral("newOrderId"), s.orderId}}, source);
                       RetryResult out;
                       out.submit = s;
                       reply(out);
                   });
        },
        Qt::QueuedConnection);
}

void Ingest::flush()
{
    if (m_pending.isEmpty())
        return;
    QList<Pending> batch = m_pending.mid(0, kMaxBatch);
    m_pending.remove(0, batch.size());
    if (!m_pending.isEmpty())
        m_timer.start(0);

    // Idempotency keys: a key repeated within the batch follows its first submission; a key
    // already in PostgreSQL answers with its order.
    QHash<QString, qsizetype> firstWithKey;
    QHash<qsizetype, QList<std::pair<Reply, QString>>> followers; // reply, fingerprint
    QStringList keys;
    QList<Pending> fresh;
    for (Pending &p : batch) {
        const QString &key = p.order.idempotencyKey;
        if (!key.isEmpty()) {
            if (auto it = firstWithKey.find(key); it != firstWithKey.end()) {
                followers[*it].append({std::move(p.reply), p.order.fingerprint});
                continue;
            }
            firstWithKey.insert(key, fresh.size());
            keys << key;
        }
        fresh.append(std::move(p));
    }
    const auto reused = [](const QString &key) {
        SubmitResult r;
        r.error = ApiError{ErrorKind::IdempotencyKeyReused,
                           QStringLiteral("Idempotency-Key '%1' was used for a different request; "
                                          "use a new key for a new order")
                               .arg(key.left(64)),
                           QStringLiteral("Idempotency-Key"),
                           {}};
        return r;
    };
    const auto replyAll = [&](qsizetype i, const SubmitResult &r) {
        fresh[i].reply(r);
        SubmitResult again = r;
        again.replayed = r.ok;
        for (const auto &[reply, fingerprint] : followers.value(i))
            reply(fingerprint == fresh[i].order.fingerprint
                      ? again
                      : reused(fresh[i].order.idempotencyKey));
    };
    const auto refuseAll = [&](const QList<qsizetype> &which, ErrorKind kind,
                               const QString &message) {
        for (qsizetype i : which) {
            SubmitResult r;
            r.error = ApiError{kind, message, {}, {}};
            replyAll(i, r);
        }
    };
    const auto replay = [&](qsizetype i, const KeyedOrder &original) {
        if (!original.fingerprint.isEmpty() && original.fingerprint != fresh[i].order.fingerprint) {
            replyAll(i, reused(fresh[i].order.idempotencyKey));
            return;
        }
        SubmitResult r;
        r.ok = true;
        r.replayed = true;
        r.orderId = original.id;
        r.createdAt = original.createdAt;
        replyAll(i, r);
    };

    QHash<QString, KeyedOrder> known;
    if (!keys.isEmpty()) {
        const auto found = m_store->ordersByKey(keys);
        if (!found) {
            QList<qsizetype> all;
            for (qsizetype i = 0; i < fresh.size(); ++i)
                all << i;
            refuseAll(all, ErrorKind::DatabaseUnavailable,
                      QStringLiteral("PostgreSQL is unavailable, the order was not accepted: ") +
                          m_store->lastError());
            return;
        }
        known = *found;
    }

    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<qsizetype> index; // position in `fresh` of each new order
    QList<NewOrder> orders;
    QList<OrderEvent> events;
    QList<Job> jobs;
    QStringList ids;
    for (qsizetype i = 0; i < fresh.size(); ++i) {
        if (const auto it = known.constFind(fresh[i].order.idempotencyKey); it != known.cend()) {
            replay(i, *it);
            continue;
        }
        NewOrder o = fresh[i].order;
        o.createdAt = now;
        index << i;
        orders.append(o);
        ids << o.id;
        OrderEvent e;
        e.orderId = o.id;
        e.seq = 1;
        e.status = OrderStatus::Pending;
        e.at = now;
        e.setPayload(SubmittedOrder{o.request});
        jobs.append(Job{o.id, QJsonDocument(e.data).toJson(QJsonDocument::Compact), 0, {}});
        events.append(e);
    }
    if (orders.isEmpty())
        return;

    // 1. Stage the jobs in Redis: stored, not yet claimable.
    metrics::Registry &m = metrics::registry();
    QElapsedTimer step;
    step.start();
    QString queueError;
    const bool staged = m_queue->stage(jobs, m_instanceId, &queueError);
    m.ingestStageSeconds.observe(double(step.nsecsElapsed()) / 1e9);
    if (!staged) {
        refuseAll(index, ErrorKind::QueueUnavailable,
                  QStringLiteral("Redis is unavailable, the order was not accepted: ") +
                      queueError);
        return;
    }
    // 2. Orders and their pending events: one statement, committed on its own.
    step.restart();
    const auto inserted = m_store->insertOrders(orders, events);
    m.ingestCommitSeconds.observe(double(step.nsecsElapsed()) / 1e9);
    m.ingestBatchOrders.observe(double(orders.size()));
    if (!inserted) {
        // No rows: take the staged jobs back (if that fails too, the stale-staged sweep drops
        // staged jobs that have no order row).
        m_queue->remove(ids);
        refuseAll(index, ErrorKind::DatabaseUnavailable,
                  QStringLiteral("PostgreSQL is unavailable, the order was not accepted: ") +
                      m_store->lastError());
        return;
    }
    // Another process took one of these keys a moment ago: its order is the answer.
    QStringList lost, lostKeys;
    for (const NewOrder &o : std::as_const(orders))
        if (!inserted->contains(o.id)) {
            lost << o.id;
            lostKeys << o.idempotencyKey;
        }
    if (!lost.isEmpty()) {
        m_queue->remove(lost);
        known = m_store->ordersByKey(lostKeys).value_or(decltype(known){});
    }

    // Durable now (rows committed, jobs staged): answer first, then make the jobs claimable.
    // If publishing fails (Redis gone this very moment), the stale-staged sweep of a worker
    // publishes them later, since their rows exist.
    QList<OrderEvent> committed;
    QStringList committedIds;
    for (qsizetype n = 0; n < orders.size(); ++n) {
        const qsizetype i = index[n];
        if (!inserted->contains(orders[n].id)) {
            if (const auto it = known.constFind(orders[n].idempotencyKey); it != known.cend())
                replay(i, *it);
            else
                refuseAll({i}, ErrorKind::IdempotencyConflict,
                          QStringLiteral("the Idempotency-Key is being used by another request"));
            continue;
        }
        SubmitResult r;
        r.ok = true;
        r.orderId = orders[n].id;
        r.createdAt = now;
        replyAll(i, r);
        committed << events[n];
        committedIds << orders[n].id;
    }
    if (committedIds.isEmpty())
        return;
    // The jobs made claimable (one script per shard) and the events announced: one round trip.
    QList<QList<QByteArray>> commands = m_queue->publishCommands(committedIds);
    const qsizetype publishes = commands.size();
    const QByteArray channel = rkeys::eventsChannel(m_queueOptions.prefix.toUtf8());
    for (OrderEvent &e : committed)
        e.message = e.toMessage();
    // Announced in process before the Redis round trip: the event log keeps them (no read
    // back) if it hears of them before it numbers them.
    emit eventsCommitted(committed);
    commands.append({"PUBLISH", channel, publishedBatch(m_instanceId, committed)});
    const QList<RedisReply> replies = m_redis->pipeline(commands);
    bool published = true;
    for (qsizetype i = 0; i < publishes; ++i)
        published = published && replies[i].ok();
    // A NOSCRIPT (a Redis that restarted) or an error: publishing again is harmless (a job
    // already published is not staged any more, so it is not pushed twice).
    if (!published && !m_queue->publish(committedIds, &queueError))
        qCWarning(lcQueue, "publishing %lld committed job(s) failed (%s); the sweep will",
                  qlonglong(committedIds.size()), qPrintable(queueError));
    emit jobsEnqueued();
}

} // namespace oee
