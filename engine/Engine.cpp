#include "Engine.h"

#include "api/HttpApi.h"
#include "api/Ingest.h"
#include "api/QueryService.h"
#include "api/Reads.h"
#include "api/WsHub.h"
#include "dex/Market.h"
#include "dex/PoolSync.h"
#include "execution/RestingBook.h"
#include "queue/EventSubscriber.h"
#include "queue/Handoff.h"
#include "queue/RedisConnection.h"
#include "queue/Worker.h"
#include "runtime/Logging.h"
#include "runtime/ManagedServers.h"
#include "runtime/Metrics.h"
#include "store/Database.h"
#include "store/EventLog.h"
#include "store/OrderStore.h"

#include <QEventLoop>
#include <QMetaMethod>
#include <QPointer>
#include <QSet>
#include <QThread>
#include <QTimer>
#include <QUuid>

namespace oee {

Engine::Engine(Config config, QObject *parent) : QObject(parent), m_config(std::move(config))
{
    qRegisterMetaType<oee::OrderEvent>();
    qRegisterMetaType<QList<oee::OrderEvent>>();
}

Engine::~Engine()
{
    stop();
}

QString Engine::restUrl() const
{
    return QStringLiteral("http://%1:%2/api").arg(m_config.host).arg(m_port);
}

QString Engine::wsUrl() const
{
    return QStringLiteral("ws://%1:%2/ws/orders").arg(m_config.host).arg(m_port);
}

template <typename T> T *Engine::spawn(T *object, const QString &name)
{
    auto *thread = new QThread;
    thread->setObjectName(name);
    object->moveToThread(thread);
    thread->start();
    m_threads.append(thread);
    m_threadObjects.append(object);
    QMetaObject::invokeMethod(object, &T::start, Qt::BlockingQueuedConnection);
    return object;
}

bool Engine::start(QString *error)
{
    if (m_config.redisUrl.isEmpty() || m_config.databaseUrl.isEmpty())
        m_servers = std::make_unique<ManagedServers>(m_config.resolvedDataDir());
    m_redisUrl = m_config.redisUrl;
    m_databaseUrl = m_config.databaseUrl;
    if (m_redisUrl.isEmpty() && !m_servers->startRedis(&m_redisUrl, error))
        return false;
    if (m_databaseUrl.isEmpty() && !m_servers->startPostgres(&m_databaseUrl, error))
        return false;
    if (m_servers)
        m_servers->supervise(); // a private server that dies is started again

    const auto redis = RedisEndpoint::fromUrl(m_redisUrl, error);
    const auto pg = PgEndpoint::fromUrl(m_databaseUrl, error);
    if (!redis || !pg)
        return false;

    {
        const QString name = QStringLiteral("oee-migrate");
        QSqlDatabase db = Database::open(name, *pg);
        const bool ok = Database::migrate(db, error);
        db = QSqlDatabase();
        Database::remove(name);
        if (!ok) {
            *error = QStringLiteral("PostgreSQL at %1: %2").arg(m_databaseUrl, *error);
            return false;
        }
    }
    // One start-up connection: is Redis there, does its queue have our shard count, and how
    // do the operator's switches stand (a pause outlives a restart), before any order.
    RedisConnection probe(*redis);
    const RedisReply pong = probe.command({"PING"});
    if (!pong.ok()) {
        *error = QStringLiteral("Redis at %1: %2").arg(m_redisUrl, QString::fromUtf8(pong.str));
        return false;
    }

    m_market = std::make_unique<Market>(m_config.dex);
    JobQueue::Options queue;
    queue.prefix = m_config.queuePrefix;
    queue.shards = m_config.queueShards > 0 ? m_config.queueShards : (redis->isCluster() ? 8 : 1);
    // Every process on this Redis must put a job where the others look for it.
    if (!JobQueue(&probe, queue).checkShardCount(error))
        return false;
    m_controls = std::make_unique<Controls>(m_market.get(), m_config.dex.volatility);
    if (const auto state = Controls::read(probe, queue.prefix.toUtf8()))
        m_controls->apply(*state);
    probe.disconnect();
    // The pools' shared state: seeded (first start) and read before anything routes; the
    // switches read with them.
    auto *pools = new PoolSync(*redis, queue.prefix.toUtf8(), m_market.get(),
                               m_config.dex.poolSyncMs, m_config.dex.arbitrageMs);
    pools->setControls(m_controls.get());
    spawn(pools, QStringLiteral("oee-pools"));
    queue.leaseMs = m_config.leaseMs;
    queue.ratePerWindow = m_config.ratePerWindow;
    queue.rateWindowMs = m_config.rateWindowMs;

    const bool serves = m_config.role != QLatin1String("worker");
    const bool executes = m_config.role != QLatin1String("api") && m_config.runWorkers;
    const QByteArray instanceId = QUuid::createUuid().toByteArray(QUuid::WithoutBraces);

    if (serves) {
        // Every stream is fed from the event log, whichever process wrote the events.
        m_log = spawn(new EventLog(*pg, kLogPollMs, m_config.eventLogRetentionS),
                      QStringLiteral("oee-log"));
        connect(m_log, &EventLog::logged, this, &Engine::orderEvents);
        for (int i = 0; i < m_config.readThreads; ++i)
            m_queries << spawn(new QueryService(*redis, *pg, queue),
                               QStringLiteral("oee-query-%1").arg(i));
        m_reads = std::make_unique<ReadPool>(m_queries, m_config.maxQueuedReads);
        m_health = spawn(new QueryService(*redis, *pg, queue), QStringLiteral("oee-health"));
        auto *ingest = new Ingest(*redis, *pg, queue, instanceId);
        ingest->setControls(m_controls.get());
        m_ingest = spawn(ingest, QStringLiteral("oee-ingest"));
        connect(m_ingest, &Ingest::eventsCommitted, m_log, &EventLog::onCommitted,
                Qt::DirectConnection);
    }

    if (executes) {
        const int threads = m_config.effectiveWorkerThreads();
        m_handoff = std::make_unique<Handoff>(threads);
        for (int i = 0; i < threads; ++i) {
            WorkerSettings s;
            s.index = i;
            // Concurrency is orders in flight per process, spread over the threads.
            s.capacity =
                m_config.concurrency / threads + (i < m_config.concurrency % threads ? 1 : 0);
            if (s.capacity == 0)
                continue;
            s.redis = *redis;
            s.postgres = *pg;
            s.queue = queue;
            s.maxAttempts = m_config.maxAttempts;
            s.retryBackoffMs = m_config.retryBackoffMs;
            s.recoverStalledJobs = i == 0;
            s.stagedSweepMs = m_config.stagedSweepMs;
            s.reconcileMs = m_config.reconcileMs;
            s.chaosCrashAfterLandings = m_config.chaosCrashAfterLandings;
            s.chaosExitAfterCommits = m_config.chaosExitAfterCommits;
            s.instanceId = instanceId;
            s.handoff = m_handoff.get();
            auto *worker = new Worker(s, m_market.get());
            if (m_log)
                connect(worker, &Worker::eventsCommitted, m_log, &EventLog::onCommitted,
                        Qt::DirectConnection);
            else // the worker role: no streams, the console (if any) sees its own events
                connect(worker, &Worker::eventsCommitted, this, &Engine::orderEvents);
            if (m_ingest)
                connect(m_ingest, &Ingest::jobsEnqueued, worker, &Worker::wake);
            m_workers.append(spawn(worker, QStringLiteral("oee-worker-%1").arg(i)));
        }
    }

    // Other processes: that they committed events (the log has more: a hint, at most once;
    // the log is polled besides), their new jobs (for our workers). Our own are skipped by
    // instance id.
    m_subscriber = new EventSubscriber(*redis, queue.prefix.toUtf8(), instanceId, serves,
                                       !m_workers.isEmpty(), this);
    if (m_log)
        connect(m_subscriber, &EventSubscriber::remoteEvents, m_log, &EventLog::hint);
    for (Worker *w : std::as_const(m_workers))
        connect(m_subscriber, &EventSubscriber::wake, w, &Worker::wake);
    m_subscriber->start();

    if (!m_workers.isEmpty()) {
        // Resting orders (limit, sniper) and expiries: on their own thread, fed straight by the
        // threads that commit or receive events.
        m_book = new RestingBook(*redis, *pg, queue, m_market.get(), instanceId,
                                 m_config.restingReloadMs, m_handoff.get());
        if (m_ingest)
            connect(m_ingest, &Ingest::eventsCommitted, m_book, &RestingBook::onEvents);
        for (Worker *w : std::as_const(m_workers)) {
            connect(w, &Worker::eventsCommitted, m_book, &RestingBook::onEvents);
            connect(m_book, &RestingBook::triggered, w, &Worker::wake);
        }
        connect(m_subscriber, &EventSubscriber::remoteEvents, m_book, &RestingBook::onEvents);
        connect(m_subscriber, &EventSubscriber::launched, m_book, &RestingBook::discoverLaunches);
        if (m_log)
            connect(m_book, &RestingBook::eventsCommitted, m_log, &EventLog::onCommitted,
                    Qt::DirectConnection);
        else
            connect(m_book, &RestingBook::eventsCommitted, this, &Engine::orderEvents);
        spawn(m_book, QStringLiteral("oee-book"));
    }

    // /metrics counts the status changes this process commits, on the committing threads.
    const auto count = [](const QList<OrderEvent> &events) { metrics::countCommitted(events); };
    if (m_ingest)
        connect(m_ingest, &Ingest::eventsCommitted, m_ingest, count, Qt::DirectConnection);
    for (Worker *w : std::as_const(m_workers))
        connect(w, &Worker::eventsCommitted, w, count, Qt::DirectConnection);
    if (m_book)
        connect(m_book, &RestingBook::eventsCommitted, m_book, count, Qt::DirectConnection);

    if (serves) {
        // HTTP and WebSocket get a thread of their own: the thread that called start() (the
        // console's GUI thread) only renders, and a burst of requests cannot stall it.
        m_httpThread = new QThread;
        m_httpThread->setObjectName(QStringLiteral("oee-http"));
        m_httpThread->start();
        QObject context;
        context.moveToThread(m_httpThread);
        QString listenError;
        // Fan-out to the streams on a thread of its own: a thousand subscribers never make
        // the thread that accepts orders wait.
        m_hub = new WsHub(m_reads.get());
        m_hub->setMaxUnsentBytes(m_config.wsMaxBufferBytes);
        m_hub->setApiKey(m_config.apiKey);
        spawn(m_hub, QStringLiteral("oee-ws"));
        QMetaObject::invokeMethod(
            &context,
            [&] {
                m_http =
                    new HttpApi(m_config, m_ingest, m_reads.get(), m_health, m_market.get(), m_hub);
                m_http->setRestingBook(m_book);
                m_http->setControls(m_controls.get());
                m_port = m_http->listen(m_config.host, m_config.port, &listenError);
                m_wsPort = m_http->wsPort();
            },
            Qt::BlockingQueuedConnection);
        // From the log's thread straight to the hub's: in log order, one hop. Only while
        // anyone listens: a stream subscriber, or the console (connectNotify).
        connect(m_log, &EventLog::logged, m_hub, &WsHub::publish);
        m_log->setAudience(
            [subscribers = m_hub->subscriberCounter(), listening = m_consoleListening] {
                return subscribers->loadRelaxed() > 0 || listening->load(std::memory_order_relaxed);
            });
        if (!m_port) {
            *error = listenError;
            return false;
        }
        m_config.port = m_port;
    }
    m_started = true;
    qCInfo(lcEngine,
           "engine started (role %s): %d worker thread(s), concurrency %d, rate %d per %d ms",
           qPrintable(m_config.role), int(m_workers.size()), m_config.concurrency,
           m_config.ratePerWindow, m_config.rateWindowMs);
    return true;
}

void Engine::connectNotify(const QMetaMethod &signal)
{
    if (signal == QMetaMethod::fromSignal(&Engine::orderEvents))
        m_consoleListening->store(true, std::memory_order_relaxed);
    QObject::connectNotify(signal);
}

// The ingest's reply, delivered on `context`'s thread (dropped if it is gone).
template <typename Result>
static std::function<void(const Result &)> onContext(QObject *context,
                                                     std::function<void(const Result &)> done)
{
    QPointer<QObject> guard(context);
    return [guard, done = std::move(done)](const Result &r) {
        if (guard)
            QMetaObject::invokeMethod(
                guard, [done, r] { done(r); }, Qt::QueuedConnection);
    };
}

void Engine::submitOrder(const OrderRequest &request, QObject *context,
                         std::function<void(const SubmitResult &)> done)
{
    if (!m_ingest) {
        SubmitResult r;
        r.error = ApiError{ErrorKind::NotServing,
                           QStringLiteral("this process does not accept orders (role worker)"),
                           {},
                           {}};
        done(r);
        return;
    }
    m_ingest->submit(request, {}, onContext(context, std::move(done)));
}

void Engine::cancelOrder(const QString &orderId, QObject *context,
                         std::function<void(const Ingest::CancelResult &)> done)
{
    if (!m_ingest) {
        Ingest::CancelResult r;
        r.error = QStringLiteral("this process does not accept orders (role worker)");
        done(r);
        return;
    }
    m_ingest->cancel(orderId, onContext(context, std::move(done)), QStringLiteral("console"));
}

void Engine::launchToken(const LaunchSpec &spec, QObject *context,
                         std::function<void(const Ingest::LaunchReply &)> done)
{
    if (!m_ingest) {
        Ingest::LaunchReply r;
        r.error = QStringLiteral("this process does not accept writes (role worker)");
        done(r);
        return;
    }
    m_ingest->launch(m_market.get(), spec, onContext(context, std::move(done)),
                     QStringLiteral("console"));
}

void Engine::control(ControlAction action, QObject *context,
                     std::function<void(const ControlReply &)> done)
{
    if (!m_ingest) {
        ControlReply r;
        r.error = {ErrorKind::NotServing,
                   QStringLiteral("this process takes no actions (role worker)"),
                   {},
                   {}};
        done(r);
        return;
    }
    action.source = QStringLiteral("console");
    m_ingest->control(action, onContext(context, std::move(done)));
}

void Engine::retryOrder(const QString &orderId, QObject *context,
                        std::function<void(const Ingest::RetryResult &)> done)
{
    if (!m_ingest) {
        Ingest::RetryResult r;
        r.submit.error = {ErrorKind::NotServing,
                          QStringLiteral("this process accepts no orders (role worker)"),
                          {},
                          {}};
        done(r);
        return;
    }
    m_ingest->retry(orderId, QStringLiteral("console"), onContext(context, std::move(done)));
}

template <typename Result, typename Work, typename Queue>
static void queryThen(Queue *queries, QObject *context, Work work,
                      std::function<void(const Result &)> done)
{
    if (!queries)
        return;
    QPointer<QObject> guard(context);
    // A refused read (too many waiting) is dropped: the console asks again on its next tick.
    (void)queries->post(
        [guard, work, done](OrderStore &store, JobQueue &queue, RedisConnection &redis) {
            Result result = work(store, queue, redis);
            if (guard)
                QMetaObject::invokeMethod(
                    guard, [done, result] { done(result); }, Qt::QueuedConnection);
        });
}

void Engine::fetchOrderEvents(const QString &orderId, QObject *context,
                              std::function<void(const QList<OrderEvent> &)> done)
{
    queryThen<QList<OrderEvent>>(
        m_reads.get(), context,
        [orderId](OrderStore &store, JobQueue &, RedisConnection &) {
            return reads::order(store, orderId, true).events;
        },
        std::move(done));
}

void Engine::fetchRecentOrders(int limit, QObject *context,
                               std::function<void(const QList<Order> &)> done)
{
    queryThen<QList<Order>>(
        m_reads.get(), context,
        [limit](OrderStore &store, JobQueue &, RedisConnection &) {
            return reads::orders(store, std::nullopt, limit, 0).orders;
        },
        std::move(done));
}

void Engine::fetchActions(int limit, QObject *context,
                          std::function<void(const QList<OperatorAction> &)> done)
{
    queryThen<QList<OperatorAction>>(
        m_reads.get(), context,
        [limit](OrderStore &store, JobQueue &, RedisConnection &) {
            return store.recentActions(limit).value_or(QList<OperatorAction>{});
        },
        std::move(done));
}

void Engine::fetchQueueCounts(QObject *context, std::function<void(const QueueCounts &)> done)
{
    queryThen<QueueCounts>(
        m_reads.get(), context,
        [](OrderStore &, JobQueue &queue, RedisConnection &) { return queue.counts(); },
        std::move(done));
}

void Engine::checkHealth(QObject *context,
                         std::function<void(bool, const QString &, bool, const QString &)> done)
{
    queryThen<reads::Health>(
        m_health, context,
        [](OrderStore &store, JobQueue &, RedisConnection &redis) {
            return reads::health(store, redis);
        },
        std::function<void(const reads::Health &)>([done](const reads::Health &h) {
            done(h.redisUp, h.redis, h.postgresUp, h.postgres);
        }));
}

void Engine::stop()
{
    if (m_httpThread) {
        // No new requests or streams (HttpApi is deleted on its thread; the hub, with the other
        // threads' objects below, after the in-flight orders have had their grace period).
        QObject context;
        context.moveToThread(m_httpThread);
        QMetaObject::invokeMethod(
            &context, [this] { delete m_http; }, Qt::BlockingQueuedConnection);
        m_http = nullptr;
        m_httpThread->quit();
        m_httpThread->wait();
        delete m_httpThread;
        m_httpThread = nullptr;
    }
    delete m_subscriber;
    m_subscriber = nullptr;
    if (!m_workers.isEmpty() && m_config.shutdownGraceMs > 0) {
        // Let in-flight orders finish their steps, up to the grace period; the rest are
        // handed back to the queue below.
        QEventLoop loop;
        QSet<Worker *> drainedWorkers;
        for (Worker *w : std::as_const(m_workers)) {
            connect(
                w, &Worker::drained, &loop,
                [&, w] {
                    drainedWorkers.insert(w);
                    if (drainedWorkers.size() == m_workers.size())
                        loop.quit();
                },
                Qt::QueuedConnection);
            QMetaObject::invokeMethod(w, &Worker::drain, Qt::QueuedConnection);
        }
        QTimer::singleShot(m_config.shutdownGraceMs, &loop, &QEventLoop::quit);
        loop.exec();
        qCInfo(lcEngine, "%lld of %lld worker thread(s) drained within the grace period",
               qlonglong(drainedWorkers.size()), qlonglong(m_workers.size()));
    }
    for (Worker *w : std::as_const(m_workers))
        QMetaObject::invokeMethod(w, &Worker::shutdown, Qt::BlockingQueuedConnection);
    if (m_ingest)
        QMetaObject::invokeMethod(m_ingest, &Ingest::shutdown, Qt::BlockingQueuedConnection);
    // Delete each object on its own thread, then stop the thread: the last spawned first, so
    // that nothing outlives what it calls (the writers call the event log directly).
    for (qsizetype i = m_threads.size() - 1; i >= 0; --i) {
        QObject *object = m_threadObjects[i];
        QMetaObject::invokeMethod(
            object, [object] { delete object; }, Qt::BlockingQueuedConnection);
        m_threads[i]->quit();
        m_threads[i]->wait();
        delete m_threads[i];
    }
    m_threads.clear();
    m_threadObjects.clear();
    m_workers.clear();
    m_book = nullptr; // deleted on its thread with the others above
    m_hub = nullptr;
    m_ingest = nullptr;
    m_queries.clear();
    m_health = nullptr;
    m_reads.reset();
    if (m_servers)
        m_servers->stop();
    if (m_started)
        qCInfo(lcEngine, "engine stopped");
    m_started = false;
}

} // namespace oee
