#include "queue/Worker.h"
#include "queue/RedisKeys.h"

#include "dex/Chain.h"
#include "execution/OrderExecutor.h"
#include "queue/Handoff.h"
#include "queue/RedisConnection.h"
#include "runtime/Logging.h"
#include "store/EventWriter.h"
#include "store/OrderStore.h"

#include <QDateTime>
#include <QJsonDocument>

namespace oee {

Worker::Worker(WorkerSettings settings, Market *market, QObject *parent)
    : QObject(parent), m_settings(std::move(settings)), m_market(market)
{
    m_connectionName =
        QStringLiteral("oee-worker-%1-%2").arg(m_settings.index).arg(quintptr(this), 0, 16);
    m_claimTimer.setSingleShot(true);
    m_settleTimer.setSingleShot(true);
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
    m_store = std::make_unique<OrderStore>(
        Database::open(m_connectionName, m_settings.postgres, Database::Plans::Generic));
    m_queue = std::make_unique<JobQueue>(m_redis.get(), m_settings.queue);
    m_chain = std::make_unique<SimulatedChain>(m_redis.get(), m_settings.queue.prefix.toUtf8());
    m_writer = new EventWriter(m_store.get(), m_redis.get(),
                               rkeys::eventsChannel(m_settings.queue.prefix.toUtf8()),
                               m_settings.instanceId, this);
    m_writer->setChaosExitAfterCommits(m_settings.chaosExitAfterCommits);
    connect(m_writer, &EventWriter::committed, this, &Worker::eventsCommitted);
    m_executor = new OrderExecutor(
        OrderExecutor::Settings{m_settings.maxAttempts, m_settings.retryBackoffMs,
                                m_settings.chaosCrashAfterLandings},
        m_market, m_chain.get(), m_writer,
        [this](const SettleOp &op) {
            m_unsettled.append(op);
            if (!m_settleTimer.isActive())
                m_settleTimer.start(0);
            scheduleClaim(0);
        },
        this);
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
    // At most kClaimBatch at a time: a burst (a trigger firing hundreds of resting orders)
    // is shared by the threads woken with this one instead of landing on the first.
    constexpr int kClaimBatch = 128;
    const int room = qMin(kClaimBatch, m_settings.capacity - int(m_executor->count()));
    if (m_stopping || room <= 0)
        return; // a finishing order schedules the next claim
    if (m_settings.handoff && !m_settings.handoff->isEmpty()) {
        // Triggered orders this process's book leased for its threads: a share now, the next
        // share (if no other thread took it) on the next turn, before anything from Redis.
        QList<Job> stale;
        const QList<Job> handed = m_settings.handoff->take(
            room, QDateTime::currentMSecsSinceEpoch(), m_settings.queue.leaseMs / 2, &stale);
        for (const Job &j : std::as_const(stale))
            m_unsettled.append(SettleOp{Settle::Release, j.id, 0, j.token});
        if (!stale.isEmpty() && !m_settleTimer.isActive())
            m_settleTimer.start(0);
        if (!handed.isEmpty()) {
            startJobs(handed);
            scheduleClaim(0);
            return;
        }
    }
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
    } else if (r.waiting > 0 && m_executor->count() < m_settings.capacity) {
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
    m_executor->beginBatch();
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
        if (m_executor->isRunning(job.id)) {
            // Already running here: its lease lapsed (Redis was unreachable) and it was
            // requeued and claimed again. The run goes on under the new claim's token and fence.
            m_executor->reclaimed(job.id, job.token, it->fence);
            continue;
        }
        m_executor->run(job, *it);
    }
    m_executor->endBatch();
    if (!m_unsettled.isEmpty())
        m_settleTimer.start(0);
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
    QList<Lease> leases = m_executor->leases();
    for (const SettleOp &op : std::as_const(m_unsettled))
        leases.append(Lease{op.id, op.token});
    m_queue->renew(leases);
}

void Worker::onDropped(const QHash<QString, qint64> &fenceByOrder)
{
    m_executor->drop(fenceByOrder);
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
        qCWarning(lcQueue,
                  "%lld unfinished order(s) had no job in Redis (Redis lost data?); "
                  "their jobs were recreated",
                  qlonglong(recreated.size()));
}

void Worker::drain()
{
    m_stopping = true;
    m_claimTimer.stop();
    checkDrained();
}

void Worker::checkDrained()
{
    if (m_stopping && (!m_executor || m_executor->count() == 0) && m_unsettled.isEmpty() &&
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
    if (m_executor)
        m_unsettled.append(m_executor->releaseAll());
    if (m_settings.handoff) // leased for this process and not taken: back to the queue
        for (const Job &j : m_settings.handoff->takeAll())
            m_unsettled.append(SettleOp{Settle::Release, j.id, 0, j.token});
    m_settleTimer.stop();
    settlePending();
    if (!m_unsettled.isEmpty())
        qCWarning(lcQueue, "%lld job(s) not handed back; their leases will expire",
                  qlonglong(m_unsettled.size()));
}

} // namespace oee
