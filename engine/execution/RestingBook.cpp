#include "execution/RestingBook.h"
#include "queue/RedisKeys.h"

#include "dex/Market.h"
#include "dex/Route.h"
#include "execution/OrderType.h"
#include "money/Tokens.h"
#include "money/WideMath.h"
#include "queue/EventSubscriber.h"
#include "queue/Handoff.h"
#include "queue/JobQueue.h"
#include "runtime/Logging.h"
#include "store/OrderStore.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QMutexLocker>

namespace oee {

namespace {

constexpr qint64 kRefireMs = 1000; // an order brought back is not brought back again sooner
constexpr int kSweepMs = 1000;     // every pair looked at again, whatever changed

QString pairKey(const QString &in, const QString &out)
{
    return in + QLatin1Char('>') + out;
}

// An upper bound of what any route pays per base unit of `in`, in base units of `out`
// (Q64.64): the best mid price over the direct pools and the two-hop routes via the hubs.
// Fees only lower what a route pays, so the mid price bounds it from above.
u128 bestSpotBound(const PoolSet &pools, const Token &in, const Token &out)
{
    const auto best = [&](const QString &a, const QString &b) {
        u128 m = 0;
        for (const auto &p : pools)
            if (p->trades(a) && p->trades(b))
                m = qMax(m, p->spotPriceQ64(a));
        return m;
    };
    u128 bound = best(in.mint, out.mint);
    for (const char *hub : {"SOL", "USDC"}) {
        const Token *mid = TokenRegistry::instance().bySymbol(QLatin1String(hub));
        if (!mid || mid->mint == in.mint || mid->mint == out.mint)
            continue;
        const u128 a = best(in.mint, mid->mint);
        const u128 b = best(mid->mint, out.mint);
        if (a && b) {
            bool overflow = false;
            const u128 via = mulShr64(a, b, true, &overflow);
            bound = overflow ? kU128Max : qMax(bound, via);
        }
    }
    return bound == kU128Max ? bound : bound + 1;
}

} // namespace

RestingBook::RestingBook(RedisEndpoint redis, PgEndpoint postgres, JobQueue::Options queue,
                         Market *market, QByteArray instanceId, int reloadMs, Handoff *handoff,
                         QObject *parent)
    : QObject(parent), m_redisEndpoint(std::move(redis)), m_pgEndpoint(std::move(postgres)),
      m_queueOptions(std::move(queue)), m_prefix(m_queueOptions.prefix), m_market(market),
      m_handoff(handoff), m_instanceId(std::move(instanceId)), m_reloadMs(reloadMs)
{
    m_connectionName = QStringLiteral("oee-book-%1").arg(quintptr(this), 0, 16);
    m_evalTimer.setSingleShot(true);
    m_expiryTimer.setSingleShot(true);
    m_expiryTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_evalTimer, &QTimer::timeout, this, &RestingBook::evaluate);
    connect(&m_sweepTimer, &QTimer::timeout, this, &RestingBook::evaluate);
    connect(&m_expiryTimer, &QTimer::timeout, this, &RestingBook::expireDue);
    connect(&m_reloadTimer, &QTimer::timeout, this, &RestingBook::reload);
}

RestingBook::~RestingBook()
{
    m_store.reset();
    Database::remove(m_connectionName);
}

void RestingBook::start()
{
    m_redis = std::make_unique<RedisConnection>(m_redisEndpoint);
    m_store = std::make_unique<OrderStore>(
        Database::open(m_connectionName, m_pgEndpoint, Database::Plans::Generic));
    // The workers' options: the same shards (a job lives in its order's shard), the same lease.
    m_queue = std::make_unique<JobQueue>(m_redis.get(), m_queueOptions);
    MarketSignals *signals_ = m_market->signalsObject();
    connect(signals_, &MarketSignals::poolsChanged, this, [this] {
        m_poolChangeMs = QDateTime::currentMSecsSinceEpoch();
        scheduleEvaluation();
    });
    connect(signals_, &MarketSignals::launched, this, &RestingBook::onLaunched);
    m_market->discoverLaunches(m_redis.get(), m_prefix.toUtf8());
    reload();
    m_sweepTimer.start(kSweepMs);
    m_reloadTimer.start(m_reloadMs);
}

void RestingBook::discoverLaunches()
{
    m_market->discoverLaunches(m_redis.get(), m_prefix.toUtf8());
}

RestingBook::Stats RestingBook::stats() const
{
    QMutexLocker lock(&m_statsMutex);
    return m_stats;
}

void RestingBook::add(const QString &id, const OrderRequest &request, OrderStatus status, int seq,
                      qint64 notBeforeMs)
{
    const OrderType *type = orderTypeNamed(request.orderType);
    if (!type)
        return;
    auto found = m_entries.find(id);
    if (found != m_entries.end()) {
        if (found->second.seq > seq)
            return; // a later event already moved it
        unindex(id, found->second);
    } else {
        found = m_entries.emplace(id, Entry{}).first;
    }
    Entry &e = found->second;
    e.request = request;
    e.type = type;
    e.status = status;
    e.seq = seq;
    e.expiresMs = request.expiresAt.isValid() ? request.expiresAt.toMSecsSinceEpoch() : 0;
    e.notBeforeMs = notBeforeMs;
    index(id, e);
}

void RestingBook::index(const QString &id, Entry &e)
{
    QMutexLocker lock(&m_statsMutex);
    if (e.expiresMs) {
        m_expiries.emplace(e.expiresMs, id);
        ++m_stats.withExpiry;
        armExpiry();
    }
    if (e.status != OrderStatus::Open)
        return; // pending: only its expiry is watched here
    const auto floor = e.type->restingFloor(e.request);
    const Token *in = TokenRegistry::instance().bySymbol(e.request.tokenIn);
    const Token *out = TokenRegistry::instance().find(e.request.tokenOut);
    if (!floor || !in || !out) {
        e.launchKey = e.request.tokenOut.toUpper();
        m_byLaunch[e.launchKey].insert(id);
        ++m_stats.awaitingLaunch;
        return;
    }
    const QString pair = pairKey(in->symbol, out->symbol);
    e.pair = m_pairNames.value(pair); // one string per pair, shared by its orders
    if (e.pair.isEmpty()) {
        m_pairNames.insert(pair, pair);
        e.pair = pair;
    }
    e.key = e.request.amount ? shlDiv64(*floor, e.request.amount, false) : 0;
    m_byPair[e.pair].emplace(e.key, id);
    ++m_stats.resting;
    scheduleEvaluation(); // it may cross already (the price moved since its worker looked)
}

void RestingBook::unindex(const QString &id, Entry &e)
{
    QMutexLocker lock(&m_statsMutex);
    if (e.expiresMs) {
        for (auto [it, end] = m_expiries.equal_range(e.expiresMs); it != end; ++it) {
            if (it->second == id) {
                m_expiries.erase(it);
                --m_stats.withExpiry;
                break;
            }
        }
    }
    if (!e.pair.isEmpty()) {
        auto &byKey = m_byPair[e.pair];
        for (auto [it, end] = byKey.equal_range(e.key); it != end; ++it) {
            if (it->second == id) {
                byKey.erase(it);
                --m_stats.resting;
                break;
            }
        }
        e.pair.clear();
    }
    if (!e.launchKey.isEmpty()) {
        if (m_byLaunch[e.launchKey].remove(id))
            --m_stats.awaitingLaunch;
        e.launchKey.clear();
    }
}

void RestingBook::remove(const QString &id)
{
    const auto it = m_entries.find(id);
    if (it == m_entries.end())
        return;
    unindex(id, it->second);
    m_entries.erase(it);
}

void RestingBook::onEvents(const QList<OrderEvent> &events)
{
    for (const OrderEvent &e : events) {
        if (e.status == OrderStatus::Open) {
            const EventData d = e.typed();
            const auto *resting = std::get_if<RestingOrderData>(&d);
            if (!resting || resting->request.tokenIn.isEmpty())
                continue;
            // An attempt that missed (the price moved back, the venue refused): not brought
            // back at once, 1 s, 2 s, 4 s … 30 s after it, however the pools move meanwhile.
            qint64 notBefore = 0;
            if (resting->attempt > 0) {
                const int attempt = qBound(1, resting->attempt, 6);
                notBefore = e.at.toMSecsSinceEpoch() + qMin<qint64>(30000, 1000LL << (attempt - 1));
            }
            add(e.orderId, resting->request, e.status, e.seq, notBefore);
            continue;
        }
        if (e.status == OrderStatus::Pending && e.seq == 1) {
            const EventData d = e.typed();
            if (const auto *submitted = std::get_if<SubmittedOrder>(&d);
                submitted && submitted->request.expiresAt.isValid())
                add(e.orderId, submitted->request, e.status, e.seq);
            continue;
        }
        const auto it = m_entries.find(e.orderId);
        if (it != m_entries.end() && it->second.seq <= e.seq)
            remove(e.orderId); // routing (fired), cancelled, expired, failed…
    }
}

void RestingBook::scheduleEvaluation()
{
    if (!m_evalTimer.isActive())
        m_evalTimer.start(0);
}

void RestingBook::evaluate()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QList<QString> ids;
    for (auto it = m_byPair.cbegin(); it != m_byPair.cend(); ++it)
        if (!it->empty())
            evaluatePair(it.key(), now, ids);
    {
        QMutexLocker lock(&m_statsMutex);
        ++m_stats.evaluations;
    }
    fire(ids, QStringLiteral("price"));
}

void RestingBook::evaluatePair(const QString &pair, qint64 nowMs, QList<QString> &fire)
{
    const auto found = m_byPair.constFind(pair);
    if (found == m_byPair.cend() || found->empty())
        return;
    const auto &byKey = *found;
    const Entry &first = m_entries.at(byKey.begin()->second);
    const Token *in = TokenRegistry::instance().bySymbol(first.request.tokenIn);
    const Token *out = TokenRegistry::instance().find(first.request.tokenOut);
    if (!in || !out)
        return;
    const u128 bound = bestSpotBound(m_market->pools(), *in, *out);
    qint64 priced = 0;
    for (auto it = byKey.begin(), end = byKey.upper_bound(bound); it != end; ++it) {
        Entry &e = m_entries.at(it->second);
        if (nowMs < e.notBeforeMs)
            continue;
        ++priced;
        const RoutePlan plan =
            m_market->route(e.request.tokenIn, e.request.tokenOut, e.request.amount);
        if (e.type->decide(e.request, plan).kind == Decision::Execute) {
            e.notBeforeMs = nowMs + kRefireMs;
            fire.append(it->second);
        }
    }
    QMutexLocker lock(&m_statsMutex);
    m_stats.candidates += priced;
}

void RestingBook::onLaunched(const QString &symbol, const QString &mint, const QString &)
{
    // The snipers waiting for this token fire now, on the launch itself.
    QSet<QString> waiting = m_byLaunch.take(symbol.toUpper());
    waiting.unite(m_byLaunch.take(mint.toUpper()));
    {
        QMutexLocker lock(&m_statsMutex);
        m_stats.awaitingLaunch -= waiting.size();
    }
    QList<QString> ids;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    m_poolChangeMs = now;
    for (const QString &id : std::as_const(waiting)) {
        auto it = m_entries.find(id);
        if (it == m_entries.end())
            continue;
        Entry &e = it->second;
        e.launchKey.clear();
        index(id, e); // by price now that the token trades (a maxPrice may hold it back)
        const RoutePlan plan =
            m_market->route(e.request.tokenIn, e.request.tokenOut, e.request.amount);
        if (e.type->decide(e.request, plan).kind == Decision::Execute) {
            e.notBeforeMs = now + kRefireMs;
            ids.append(id);
        }
    }
    fire(ids, QStringLiteral("launch"));
}

void RestingBook::fire(const QList<QString> &ids, const QString &reason)
{
    if (ids.isEmpty())
        return;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QList<Job> jobs;
    for (const QString &id : ids) {
        QJsonObject payload = toJobPayload(m_entries.at(id).request);
        payload.insert(QStringLiteral("trigger"),
                       QJsonObject{{QStringLiteral("reason"), reason},
                                   {QStringLiteral("poolChangedAtMs"),
                                    double(m_poolChangeMs ? m_poolChangeMs : now)},
                                   {QStringLiteral("firedAtMs"), double(now)}});
        jobs.append(Job{id, QJsonDocument(payload).toJson(QJsonDocument::Compact), 0, {}});
    }
    // Leased here, up to a bound: what the workers have no room for yet waits in memory, and
    // goes back to the queue once it waited half a lease. Under a rate limit every job goes
    // through claims (they take the limit).
    constexpr int kHandAtMost = 1024;
    const int leaseHere = m_handoff && m_queueOptions.ratePerWindow <= 0 ? kHandAtMost : 0;
    const JobQueue::Triggered t = m_queue->trigger(jobs, leaseHere);
    if (m_handoff)
        m_handoff->put(t.leased, QDateTime::currentMSecsSinceEpoch());
    const qsizetype brought = t.queued.size() + t.leased.size();
    {
        QMutexLocker lock(&m_statsMutex);
        m_stats.triggered += brought;
        m_stats.handed += t.leased.size();
    }
    if (brought > 0) {
        qCDebug(lcQueue, "resting book: %lld order(s) fired (%s), %lld leased here",
                qlonglong(brought), qPrintable(reason), qlonglong(t.leased.size()));
        emit triggered();
    }
}

void RestingBook::armExpiry()
{
    if (m_expiries.empty()) {
        m_expiryTimer.stop();
        return;
    }
    const qint64 wait = m_expiries.begin()->first - QDateTime::currentMSecsSinceEpoch();
    m_expiryTimer.start(int(qBound<qint64>(0LL, wait, 3600000LL)));
}

void RestingBook::expireDue()
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QStringList due;
    for (auto it = m_expiries.begin();
         it != m_expiries.end() && it->first <= now.toMSecsSinceEpoch(); ++it)
        due << it->second;
    if (!due.isEmpty()) {
        const auto ended = m_store->endResting(due, OrderStatus::Expired, QJsonObject{}, now);
        if (!ended) {
            qCWarning(lcStore, "expiring %lld order(s) failed (%s); retrying",
                      qlonglong(due.size()), qPrintable(m_store->lastError()));
            m_expiryTimer.start(1000);
            return;
        }
        QList<OrderEvent> events;
        QSet<QString> answered;
        for (const OrderStore::EndOutcome &o : *ended) {
            answered.insert(o.orderId);
            if (o.ended) {
                OrderEvent e = o.event;
                e.message = e.toMessage();
                events.append(e);
            }
            // Not ended: in flight (its worker expires it if its attempt misses) or already
            // over. Either way nothing is left to watch here.
            remove(o.orderId);
        }
        for (const QString &id : std::as_const(due))
            if (!answered.contains(id))
                remove(id); // no such order
        if (!events.isEmpty()) {
            {
                QMutexLocker lock(&m_statsMutex);
                m_stats.expired += events.size();
            }
            m_redis->command({"PUBLISH", rkeys::eventsChannel(m_prefix.toUtf8()),
                              publishedBatch(m_instanceId, events)});
            emit eventsCommitted(events);
        }
    }
    armExpiry();
}

void RestingBook::reload()
{
    // Compare by (id, last_seq) first; read whole only what this book lacks or has older.
    const auto seqs = m_store->restingSeqs();
    if (!seqs) {
        qCWarning(lcStore, "resting orders not loaded (%s); retrying",
                  qPrintable(m_store->lastError()));
        QTimer::singleShot(1000, this, &RestingBook::reload);
        return;
    }
    QStringList wanted;
    for (auto it = seqs->cbegin(); it != seqs->cend(); ++it) {
        const auto e = m_entries.find(it.key());
        if (e == m_entries.end() || e->second.seq < it.value())
            wanted << it.key();
    }
    QStringList gone;
    for (const auto &[id, e] : m_entries)
        if (!seqs->contains(id))
            gone << id;
    for (const QString &id : std::as_const(gone))
        remove(id);
    constexpr qsizetype kChunk = 5000; // rows per statement; events are handled in between
    for (qsizetype i = 0; i < wanted.size(); i += kChunk) {
        const auto rows = m_store->restingOrders(wanted.mid(i, kChunk));
        if (!rows) {
            QTimer::singleShot(1000, this, &RestingBook::reload);
            return;
        }
        for (const RestingOrder &r : *rows)
            add(r.id, r.request, r.status, r.lastSeq);
    }
    if (!wanted.isEmpty() || !gone.isEmpty())
        qCInfo(lcQueue, "resting book: %lld order(s) read, %lld dropped, %lld resting",
               qlonglong(wanted.size()), qlonglong(gone.size()), qlonglong(m_entries.size()));
    expireDue(); // what expired while nobody watched (a restart that spanned it)
    scheduleEvaluation();
}

} // namespace oee
