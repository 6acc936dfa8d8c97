#include "queue/Worker.h"

#include "dex/Chain.h"
#include "dex/Signature.h"
#include "domain/Lifecycle.h"
#include "money/Tokens.h"
#include "queue/RedisConnection.h"
#include "runtime/Logging.h"
#include "store/EventWriter.h"
#include "store/OrderStore.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <atomic>
#include <cmath>
#include <csignal>
#include <unistd.h>

namespace oee {

namespace {

// An `open` event's data: the order as the RestingBook indexes it (in any process).
QJsonObject restingData(const OrderRequest &r)
{
    QJsonObject data = toJobPayload(r);
    data.remove(QStringLiteral("amount"));
    data.remove(QStringLiteral("slippage"));
    return data;
}

} // namespace

Worker::Worker(WorkerSettings settings, Market *market, QObject *parent)
    : QObject(parent), m_settings(std::move(settings)), m_market(market)
{
    m_connectionName = QStringLiteral("oee-worker-%1-%2")
                           .arg(m_settings.index)
                           .arg(quintptr(this), 0, 16);
    m_claimTimer.setSingleShot(true);
    m_settleTimer.setSingleShot(true);
    m_landTimer.setSingleShot(true);
    connect(&m_landTimer, &QTimer::timeout, this, &Worker::landBatch);
    connect(&m_claimTimer, &QTimer::timeout, this, &Worker::claim);
    connect(&m_settleTimer, &QTimer::timeout, this, &Worker::settlePending);
    connect(&m_leaseTimer, &QTimer::timeout, this, &Worker::renewLeases);
    connect(&m_recoveryTimer, &QTimer::timeout, this, &Worker::recover);
    connect(&m_reconcileTimer, &QTimer::timeout, this, &Worker::reconcile);
}

Worker::~Worker()
{
    m_writer = nullptr;
    m_store.reset();
    Database::remove(m_connectionName);
}

void Worker::start()
{
    m_redis = std::make_unique<RedisConnection>(m_settings.redis);
    m_store = std::make_unique<OrderStore>(Database::open(m_connectionName, m_settings.postgres));
    m_queue = std::make_unique<JobQueue>(m_redis.get(), m_settings.queue);
    m_chain = std::make_unique<SimulatedChain>(m_redis.get(), m_settings.queue.prefix.toUtf8());
    m_writer = new EventWriter(m_store.get(), m_redis.get(),
                               m_settings.queue.prefix.toUtf8() + "events",
                               m_settings.instanceId, this);
    connect(m_writer, &EventWriter::committed, this, &Worker::eventsCommitted);
    connect(m_writer, &EventWriter::dropped, this, &Worker::onDropped);
    // Tokens launched by other processes or earlier runs, before any job names one.
    m_market->discoverLaunches(m_redis.get(), m_settings.queue.prefix.toUtf8());
    m_leaseTimer.start(qMax(100, m_settings.queue.leaseMs / 3));
    if (m_settings.recoverStalledJobs) {
        m_recoveryTimer.start(qMax(250, m_settings.queue.leaseMs / 2));
        m_reconcileTimer.start(m_settings.reconcileMs);
    }
    scheduleClaim(0);
}

void Worker::wake()
{
    scheduleClaim(0);
}

void Worker::scheduleClaim(int delayMs)
{
    if (m_stopping)
        return;
    if (m_claimTimer.isActive() && m_claimTimer.remainingTime() <= delayMs)
        return;
    m_claimTimer.start(qMax(0, delayMs));
}

void Worker::claim()
{
    const int room = m_settings.capacity - int(m_inFlight.size());
    if (m_stopping || room <= 0)
        return; // a finishing order schedules the next claim
    const ClaimResult r = m_queue->claim(room);
    if (!r.ok) {
        qCWarning(lcQueue, "claim failed (%s); retrying", qPrintable(r.error));
        scheduleClaim(500);
        return;
    }
    if (!r.jobs.isEmpty())
        startJobs(r.jobs);
    if (r.rateLimitedForMs > 0) {
        scheduleClaim(int(qMin<qint64>(r.rateLimitedForMs, 60000)));
    } else if (r.waiting > 0 && m_inFlight.size() < m_settings.capacity) {
        scheduleClaim(0);
    } else {
        qint64 delay = m_settings.idlePollMs;
        if (r.nextDelayedInMs >= 0)
            delay = qMin(delay, r.nextDelayedInMs);
        scheduleClaim(int(delay));
    }
}

void Worker::startJobs(const QList<Job> &jobs)
{
    QStringList ids;
    for (const Job &j : jobs)
        ids << j.id;
    // Each claimed order takes the next fence on its row: from now on only this claim may
    // write it, whatever another worker that held it before (and stalled) still tries.
    const auto cursors = m_store->claim(ids);
    if (!cursors) {
        // PostgreSQL unreachable: hand the jobs back without spending an attempt.
        for (const Job &j : jobs)
            m_unsettled.append(SettleOp{Settle::Defer, j.id, 1000, j.token});
        settlePending();
        return;
    }
    for (const Job &job : jobs) {
        const auto it = cursors->find(job.id);
        if (it == cursors->end()) {
            // Its row is not committed yet (or the submission was rolled back): look again later.
            m_unsettled.append(SettleOp{Settle::Defer, job.id, 200, job.token});
            continue;
        }
        if (isTerminal(it->status)) {
            // Already finished (a duplicate or a recovered job): never execute twice. Its
            // worker may have died between committing the end and publishing it: announce it
            // again (streams drop what they already have, by seq).
            m_unsettled.append(SettleOp{Settle::Complete, job.id, 0, job.token});
            if (const auto events = m_store->events(job.id); events && !events->isEmpty())
                m_writer->announce({events->last()});
            continue;
        }
        if (const auto running = m_inFlight.find(job.id); running != m_inFlight.end()) {
            // Already running here: its lease lapsed (Redis was unreachable) and it was
            // requeued and claimed again. The run goes on under the new claim's token and fence.
            running->job.token = job.token;
            running->fence = it->fence;
            m_writer->refence(job.id, it->fence);
            continue;
        }
        InFlight f;
        f.job = job;
        f.fence = it->fence;
        f.seq = it->lastSeq;
        f.status = it->status;
        // Attempts are counted in PostgreSQL, not by claims: an order back to pending (new, or
        // after a failed attempt) starts the next attempt; one caught mid-attempt by a crash
        // (routing, building: nothing was sent) runs that attempt again; a submitted one is
        // resumed. A crash never spends a retry.
        f.attempt = it->status == OrderStatus::Pending || it->status == OrderStatus::Open
                        ? it->attempts + 1
                        : qMax(1, it->attempts);
        const QJsonObject payload = QJsonDocument::fromJson(job.payload).object();
        const auto request = fromJobPayload(payload);
        f.trigger = payload.value(QStringLiteral("trigger")).toObject();
        if (!request || !orderTypeNamed(request->orderType)) {
            // Written by this engine, so never expected: fail the order rather than guess.
            m_inFlight.insert(job.id, f);
            emitEvent(m_inFlight[job.id], OrderStatus::Failed,
                      {{QStringLiteral("attempt"), f.attempt},
                       {QStringLiteral("error"), QStringLiteral("unreadable job payload")}},
                      [this, id = job.id] { finish(id, Settle::Fail, 0); });
            continue;
        }
        f.request = *request;
        f.type = orderTypeNamed(request->orderType);
        if (it->status == OrderStatus::Submitted && !it->signature.isEmpty()) {
            // Its worker died after submitting: never build a second transaction; find out
            // whether the first one landed, and rebroadcast it (same signature) if not.
            f.signature = it->signature;
            f.minAmountOut = it->minAmountOut;
            m_inFlight.insert(job.id, f);
            qCInfo(lcQueue, "resuming order %s from its submitted transaction", qPrintable(job.id));
            resumeSubmitted(job.id);
            continue;
        }
        m_inFlight.insert(job.id, f);
        if ((f.status == OrderStatus::Pending || f.status == OrderStatus::Open) && expiredNow(f)) {
            expire(job.id);
            continue;
        }
        // A type that rests on a miss never exhausts its attempts: it ends by expiry or cancel.
        if (f.attempt > m_settings.maxAttempts && !f.type->restsOnMiss()) {
            InFlight &ref = m_inFlight[job.id];
            emitEvent(ref, OrderStatus::Failed,
                      {{QStringLiteral("attempt"), f.attempt - 1},
                       {QStringLiteral("error"), QStringLiteral("attempts exhausted")}},
                      [this, id = job.id] { finish(id, Settle::Fail, 0); });
            continue;
        }
        beginAttempt(job.id);
    }
    if (!m_unsettled.isEmpty())
        m_settleTimer.start(0);
}

void Worker::beginAttempt(const QString &id)
{
    // A resting order's trigger priced it on the pools as they are: no quote round to wait for.
    const auto it = m_inFlight.constFind(id);
    if (it != m_inFlight.cend() && it->status == OrderStatus::Open) {
        onQuoted(id);
        return;
    }
    QTimer::singleShot(m_market->config().quoteLatencyMs, this, [this, id] { onQuoted(id); });
}

bool Worker::expiredNow(const InFlight &f)
{
    return f.request.expiresAt.isValid() && f.request.expiresAt <= QDateTime::currentDateTimeUtc();
}

void Worker::expire(const QString &id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    emitEvent(*it, OrderStatus::Expired,
              {{QStringLiteral("attempt"), it->attempt},
               {QStringLiteral("expiresAt"), isoTime(it->request.expiresAt)}},
              [this, id] { finish(id, Settle::Complete, 0); });
}

void Worker::rest(const QString &id, const QString &why)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    if (f.status == OrderStatus::Open) {
        // A trigger that no longer holds (the price moved back, another fill took the
        // liquidity, another process fired first): it stays open, nothing to record.
        finish(id, Settle::Park, 0);
        return;
    }
    QJsonObject data = restingData(f.request);
    data.insert(QStringLiteral("waitingFor"), why);
    emitEvent(f, OrderStatus::Open, data, [this, id] { finish(id, Settle::Park, 0); });
}

void Worker::onQuoted(const QString &id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    f.route = m_market->route(f.request.tokenIn, f.request.tokenOut, f.request.amount);
    // The order type decides: execute (with the floor the transaction carries), rest, or fail.
    const Decision d = f.type->decide(f.request, f.route);
    if (d.kind == Decision::Fail) {
        attemptFailed(id, QString(), d.why);
        return;
    }
    if (d.kind == Decision::Rest) {
        rest(id, d.why);
        return;
    }
    f.minAmountOut = d.floor;
    QJsonObject data = f.route.toEventJson();
    if (f.status == OrderStatus::Open) {
        const auto at = [&](const char *key) {
            return isoTime(QDateTime::fromMSecsSinceEpoch(
                qint64(f.trigger.value(QLatin1String(key)).toDouble()), Qt::UTC));
        };
        QJsonObject trigger{{QStringLiteral("reason"), f.trigger.value(QStringLiteral("reason")).toString(QStringLiteral("price"))}};
        if (f.trigger.contains(QStringLiteral("firedAtMs"))) {
            trigger.insert(QStringLiteral("poolChangedAt"), at("poolChangedAtMs"));
            trigger.insert(QStringLiteral("firedAt"), at("firedAtMs"));
        }
        data.insert(QStringLiteral("trigger"), trigger);
    }
    data.insert(QStringLiteral("attempt"), f.attempt);
    data.insert(QStringLiteral("venue"), f.route.best.venue());
    emitEvent(f, OrderStatus::Routing, data,
              [this, id] { onBuilt(id); }, Durability::Batch);
}

void Worker::onBuilt(const QString &id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    f.signature = transactionSignature(f.job.id, f.attempt);
    const RoutePlan &r = f.route;
    emitEvent(f, OrderStatus::Building,
              {{QStringLiteral("attempt"), f.attempt},
               {QStringLiteral("venue"), r.best.venue()},
               {QStringLiteral("route"), r.best.typeName()},
               {QStringLiteral("expectedAmountOut"), formatTokenAmount(r.best.amountOut, r.out->decimals)},
               {QStringLiteral("expectedAmountOutRaw"), QString::number(r.best.amountOut)},
               {QStringLiteral("minAmountOut"), formatTokenAmount(f.minAmountOut, r.out->decimals)},
               {QStringLiteral("minAmountOutRaw"), QString::number(f.minAmountOut)},
               {QStringLiteral("slippage"), f.request.slippageText()}},
              [this, id] { onSubmitted(id); }, Durability::Batch);
}

void Worker::onSubmitted(const QString &id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    emitEvent(f, OrderStatus::Submitted,
              {{QStringLiteral("attempt"), f.attempt},
               {QStringLiteral("venue"), f.route.best.venue()},
               {QStringLiteral("signature"), f.signature}},
              [this, id] {
                  QTimer::singleShot(m_market->executionLatencyMs(), this,
                                     [this, id] { onExecuted(id); });
              });
}

void Worker::onExecuted(const QString &id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    if (!f.route.in) {
        // Resumed after a crash: the signed transaction's floor stands; its route is priced
        // again on the pools as they are now.
        f.route = m_market->route(f.request.tokenIn, f.request.tokenOut, f.request.amount);
    }
    const DexConfig &dex = m_market->config();
    if (f.attempt <= dex.failAttempts || m_market->rollFailure()) {
        attemptFailed(id, f.route.best.venue(),
                      QStringLiteral("%1 rejected the transaction (simulated venue failure)")
                          .arg(f.route.best.venue()));
        return;
    }
    land(id);
}

void Worker::attemptFailed(const QString &id, const QString &venue, const QString &error)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    if (f.type->restsOnMiss()) {
        if (expiredNow(f)) {
            expire(id);
            return;
        }
        QJsonObject data = restingData(f.request);
        data.insert(QStringLiteral("attempt"), f.attempt);
        data.insert(QStringLiteral("venue"), venue);
        data.insert(QStringLiteral("error"), error);
        emitEvent(f, OrderStatus::Open, data, [this, id] { finish(id, Settle::Park, 0); });
        return;
    }
    if (f.attempt < m_settings.maxAttempts) {
        const qint64 delay =
            qint64(m_settings.retryBackoffMs) * (qint64(1) << qMin(20, f.attempt - 1));
        emitEvent(f, OrderStatus::Pending,
                  {{QStringLiteral("attempt"), f.attempt},
                   {QStringLiteral("venue"), venue},
                   {QStringLiteral("error"), error},
                   {QStringLiteral("retryInMs"), double(delay)},
                   {QStringLiteral("nextAttempt"), f.attempt + 1}},
                  [this, id, delay] { finish(id, Settle::Retry, delay); });
    } else {
        emitEvent(f, OrderStatus::Failed,
                  {{QStringLiteral("attempt"), f.attempt},
                   {QStringLiteral("attempts"), f.attempt},
                   {QStringLiteral("venue"), venue},
                   {QStringLiteral("error"), error}},
                  [this, id] { finish(id, Settle::Fail, 0); });
    }
}

void Worker::resumeSubmitted(const QString &id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    const auto landed = m_chain->lookup(it->signature);
    if (!landed) {
        QTimer::singleShot(500, this, [this, id] { resumeSubmitted(id); });
        return;
    }
    if (*landed) {
        confirm(id, **landed, true);
        return;
    }
    QTimer::singleShot(m_market->executionLatencyMs(), this, [this, id] { onExecuted(id); });
}

void Worker::land(const QString &id)
{
    if (!m_toLand.contains(id))
        m_toLand.append(id);
    if (!m_landTimer.isActive())
        m_landTimer.start(0);
}

void Worker::landBatch()
{
    QStringList ids;
    QList<SimulatedChain::Request> requests;
    for (const QString &id : std::as_const(m_toLand)) {
        auto it = m_inFlight.find(id);
        if (it == m_inFlight.end())
            continue;
        if (!it->route.ok()) {
            attemptFailed(id, QString(), it->route.error());
            continue;
        }
        ids << id;
        requests.append(SimulatedChain::Request{it->signature, &it->route, it->minAmountOut});
    }
    m_toLand.clear();
    if (requests.isEmpty())
        return;
    const auto landings = m_chain->executeBatch(requests, m_market);
    if (!landings) {
        // Redis unreachable: the chain's answer is unknown; ask again (same signatures).
        for (const QString &id : std::as_const(ids))
            QTimer::singleShot(500, this, [this, id] { land(id); });
        return;
    }
    for (qsizetype i = 0; i < ids.size(); ++i) {
        const QString &id = ids[i];
        const SimulatedChain::Landing &landing = (*landings)[i];
        auto it = m_inFlight.find(id);
        if (it == m_inFlight.end())
            continue;
        if (!landing.fill.ok) {
            attemptFailed(id, it->route.best.venue(), landing.fill.error);
            continue;
        }
        if (m_settings.chaosCrashAfterLandings > 0 && !landing.duplicate) {
            static std::atomic<int> landed{0};
            if (++landed == m_settings.chaosCrashAfterLandings) {
                qCCritical(lcQueue, "chaos: killing the process after landing %s", qPrintable(it->signature));
                ::kill(::getpid(), SIGKILL);
            }
        }
        confirm(id, landing.fill, landing.duplicate);
    }
}

void Worker::confirm(const QString &id, const Fill &fill, bool alreadyLanded)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    const Token *in = TokenRegistry::instance().bySymbol(fill.tokenIn);
    QString venue = f.route.in ? f.route.best.venue() : QString();
    if (venue.isEmpty() && !fill.legs.isEmpty())
        venue = fill.legs.first().toObject().value(QStringLiteral("venue")).toString();
    QJsonObject data{{QStringLiteral("attempt"), f.attempt},
                     {QStringLiteral("venue"), venue},
                     {QStringLiteral("signature"), f.signature},
                     {QStringLiteral("amountIn"), formatTokenAmount(fill.amountIn, in ? in->decimals : 0)},
                     {QStringLiteral("amountInRaw"), QString::number(fill.amountIn)},
                     {QStringLiteral("amountOut"), fill.amountOutText()},
                     {QStringLiteral("amountOutRaw"), QString::number(fill.amountOut)},
                     {QStringLiteral("executedPrice"), fill.executedPriceText()},
                     {QStringLiteral("legs"), fill.legs}};
    if (alreadyLanded)
        data.insert(QStringLiteral("alreadyLanded"), true);
    emitEvent(f, OrderStatus::Confirmed, data,
              [this, id] { finish(id, Settle::Complete, 0); });
}

void Worker::emitEvent(InFlight &order, OrderStatus status, QJsonObject data,
                       std::function<void()> next, Durability durability)
{
    if (!canFollow(order.status, status)) {
        // A bug, never a client's doing: refuse it, say so, and end the order in a valid state.
        qCCritical(lcQueue, "order %s: refused the impossible transition %s -> %s",
                   qPrintable(order.job.id), qPrintable(statusName(order.status)),
                   qPrintable(statusName(status)));
        if (isTerminal(order.status) || status == OrderStatus::Failed) {
            finish(order.job.id, Settle::Complete, 0);
            return;
        }
        status = OrderStatus::Failed;
        data = QJsonObject{{QStringLiteral("attempt"), order.attempt},
                           {QStringLiteral("error"), QStringLiteral("internal error: refused an impossible status change")}};
        next = [this, id = order.job.id] { finish(id, Settle::Fail, 0); };
        durability = Durability::Wait;
    }
    order.status = status;
    OrderEvent e;
    e.orderId = order.job.id;
    e.seq = ++order.seq;
    e.status = status;
    e.data = std::move(data);
    e.at = QDateTime::currentDateTimeUtc();
    e.fence = order.fence;
    if (durability == Durability::Batch) {
        m_writer->append(e, {});
        next();
    } else {
        m_writer->append(e, std::move(next));
    }
}

void Worker::finish(const QString &id, Settle kind, qint64 delayMs)
{
    const auto it = m_inFlight.constFind(id);
    if (it == m_inFlight.cend())
        return;
    m_unsettled.append(SettleOp{kind, id, delayMs, it->job.token});
    m_inFlight.erase(it);
    if (!m_settleTimer.isActive())
        m_settleTimer.start(0);
    scheduleClaim(0);
}

void Worker::settlePending()
{
    if (m_unsettled.isEmpty())
        return;
    QString error;
    if (!m_queue->settle(m_unsettled, &error)) {
        qCWarning(lcQueue, "settling %lld job(s) failed (%s); retrying",
                  qlonglong(m_unsettled.size()), qPrintable(error));
        m_settleTimer.start(500);
        return;
    }
    m_unsettled.clear();
    checkDrained();
}

void Worker::renewLeases()
{
    QList<Lease> leases;
    for (const InFlight &f : std::as_const(m_inFlight))
        leases.append(Lease{f.job.id, f.job.token});
    for (const SettleOp &op : std::as_const(m_unsettled))
        leases.append(Lease{op.id, op.token});
    m_queue->renew(leases);
}

void Worker::onDropped(const QHash<QString, qint64> &fenceByOrder)
{
    for (auto it = fenceByOrder.cbegin(); it != fenceByOrder.cend(); ++it) {
        const auto f = m_inFlight.constFind(it.key());
        if (f == m_inFlight.cend() || f->fence != it.value())
            continue; // already gone, or a newer claim of ours runs it now
        qCWarning(lcQueue, "order %s: taken over by a later claim (or unwritable); letting it go",
                  qPrintable(it.key()));
        m_inFlight.erase(f);
    }
    scheduleClaim(0);
    checkDrained();
}

void Worker::recover()
{
    if (const int n = m_queue->recoverStalled())
        qCWarning(lcQueue, "recovered %d job(s) whose lease expired", n);
    // Jobs staged and never published: their submitter died between its commit and its
    // publish (publish them: their rows exist), or its INSERT failed or is still running.
    // A staged job without a row is dropped only once its submitter's PostgreSQL session is
    // gone (its advisory lock is free): until then that INSERT may still commit, however slow.
    const auto bySubmitter = m_queue->staleStagedBySubmitter(m_settings.stagedSweepMs);
    for (auto it = bySubmitter.cbegin(); it != bySubmitter.cend(); ++it) {
        const QStringList &stale = it.value();
        const auto rows = m_store->cursors(stale);
        if (!rows)
            return;
        QStringList committed, orphaned;
        for (const QString &id : stale)
            (rows->contains(id) ? committed : orphaned) << id;
        if (!orphaned.isEmpty()) {
            const auto gone = it.key().isEmpty()
                                  ? std::optional<bool>(true) // staged by an older version
                                  : m_store->submitterGone(OrderStore::submitterLockKey(it.key()));
            if (!gone)
                return;
            if (!*gone) {
                // Alive: its INSERT may be waiting on a lock or a slow disk. Leave them.
                m_queue->countStat("stagedWaiting", orphaned.size());
                orphaned.clear();
            } else if (const auto again = m_store->cursors(orphaned); again) {
                // Gone: whatever it committed before it went is visible now.
                QStringList none;
                for (const QString &id : std::as_const(orphaned))
                    (again->contains(id) ? committed : none) << id;
                orphaned = none;
            } else {
                return;
            }
        }
        m_queue->publish(committed);
        m_queue->remove(orphaned);
        if (!committed.isEmpty() || !orphaned.isEmpty())
            qCWarning(lcQueue, "staged jobs swept: %lld published, %lld without an order dropped",
                      qlonglong(committed.size()), qlonglong(orphaned.size()));
    }
}

void Worker::reconcile()
{
    // Idle for two reconcile periods and a lease: no worker is moving it.
    const int idleMs = 2 * m_settings.reconcileMs + m_settings.queue.leaseMs;
    const auto unfinished = m_store->idleUnfinished(idleMs, 1000);
    if (!unfinished || unfinished->isEmpty())
        return;
    const QStringList recreated = m_queue->ensureJobs(*unfinished);
    if (!recreated.isEmpty())
        qCWarning(lcQueue, "%lld unfinished order(s) had no job in Redis (Redis lost data?); "
                           "their jobs were recreated", qlonglong(recreated.size()));
}

void Worker::drain()
{
    m_stopping = true;
    m_claimTimer.stop();
    checkDrained();
}

void Worker::checkDrained()
{
    if (m_stopping && m_inFlight.isEmpty() && m_unsettled.isEmpty() &&
        (!m_writer || m_writer->pendingCount() == 0))
        emit drained();
}

void Worker::shutdown()
{
    m_stopping = true;
    m_claimTimer.stop();
    m_leaseTimer.stop();
    m_recoveryTimer.stop();
    m_reconcileTimer.stop();
    if (m_writer)
        m_writer->flushNow();
    for (auto it = m_inFlight.cbegin(); it != m_inFlight.cend(); ++it)
        m_unsettled.append(SettleOp{Settle::Release, it.key(), 0, it->job.token});
    m_inFlight.clear();
    m_settleTimer.stop();
    settlePending();
    if (!m_unsettled.isEmpty())
        qCWarning(lcQueue, "%lld job(s) not handed back; their leases will expire",
                  qlonglong(m_unsettled.size()));
}

} // namespace oee
