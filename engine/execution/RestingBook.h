#pragma once
#include "domain/Order.h"
#include "domain/OrderRequest.h"
#include "money/WideMath.h"
#include "queue/JobQueue.h"
#include "queue/RedisConnection.h"
#include "store/Database.h"

#include <QElapsedTimer>
#include <QHash>
#include <QMutex>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <map>
#include <memory>
#include <unordered_map>

namespace oee {

class Handoff;
class Market;
class OrderStore;
class OrderType;

// Where resting orders wait: limit orders indexed by pair and price, sniper orders by the token
// they wait for, expiries in time order. A resting order holds no worker slot, no lease and no
// timer of its own: one index per process, on its own thread with its own Redis and PostgreSQL
// connections.
//
// A pool change (a fill here, another process's fill read by PoolSync, the arbitrage flow, a
// launch) finds the orders it may have crossed in O(log n + k): per pair, the orders whose
// price key (floor / amount, Q64.64 in base units) is at most the best spot price over the
// pair's direct and two-hop routes, an upper bound of what any route can pay. Each candidate
// is then priced exactly (the router, the order type's decide()); the ones that may execute
// get their job back (JobQueue::trigger: never twice at once), leased at once for this
// process's workers through the Handoff (no claim round trip), or queued under a rate limit,
// and the workers are woken. Firing is only a wake-up: the worker that runs the job decides
// again on the pools as they are then, under the order's fence, so an order executes at most
// once however many processes fire it, and a cancel racing a trigger has one winner
// (PostgreSQL's row).
//
// The book learns of resting orders from the committed events of every process (`open`
// arrives with the order's terms), reloads them from PostgreSQL at start and every reloadMs
// (healing what pub/sub lost), and expires pending and open orders at their expiresAt.
class RestingBook : public QObject
{
    Q_OBJECT
public:
    // `queue`: the queue as the workers see it (prefix, shards, lease, rate limit). Jobs of
    // fired orders are leased straight into `handoff` for this process's workers when it is
    // given and no rate limit applies (the limit is taken by claims), else queued.
    RestingBook(RedisEndpoint redis, PgEndpoint postgres, JobQueue::Options queue, Market *market,
                QByteArray instanceId, int reloadMs = 60000, Handoff *handoff = nullptr,
                QObject *parent = nullptr);
    ~RestingBook() override;

    struct Stats
    {
        qint64 resting = 0; // open orders indexed
        qint64 awaitingLaunch = 0;
        qint64 withExpiry = 0;
        qint64 triggered = 0;   // jobs brought back
        qint64 handed = 0;      // of them, leased straight to this process's workers
        qint64 candidates = 0;  // orders priced exactly after an index hit
        qint64 evaluations = 0; // passes over the index (a pool change, the sweep)
        qint64 expired = 0;
    };

    // Thread-safe snapshot of the counters (for /api/metrics and the tests).
    [[nodiscard]] Stats stats() const;

public slots:
    void start();
    void onEvents(const QList<oee::OrderEvent> &events);
    // Another process launched a token: read it now, so its snipers fire on the launch, not
    // on PoolSync's next tick.
    void discoverLaunches();

signals:
    // Jobs were brought back: workers should claim.
    void triggered();
    // Orders it ended (expired), committed; to be streamed like any other event.
    void eventsCommitted(const QList<oee::OrderEvent> &events);

private:
    struct Entry
    {
        OrderRequest request;
        const OrderType *type = nullptr;
        OrderStatus status = OrderStatus::Open;
        int seq = 0;
        QString pair; // "IN>OUT" while indexed by price
        u128 key = 0;
        QString launchKey;      // the token it waits for, while it waits
        qint64 expiresMs = 0;   // 0: never
        qint64 notBeforeMs = 0; // not brought back before (just fired, or its attempt missed)
    };

    void add(const QString &id, const OrderRequest &request, OrderStatus status, int seq,
             qint64 notBeforeMs = 0);
    void unindex(const QString &id, Entry &e);
    void remove(const QString &id);
    void index(const QString &id, Entry &e);
    void scheduleEvaluation();
    void evaluate(); // every pair whose pools changed (or all, on the sweep)
    void evaluatePair(const QString &pair, qint64 nowMs, QList<QString> &fire);
    void onLaunched(const QString &symbol, const QString &mint, const QString &poolId);
    void fire(const QList<QString> &ids, const QString &reason);
    void armExpiry();
    void expireDue();
    void reload();

    RedisEndpoint m_redisEndpoint;
    PgEndpoint m_pgEndpoint;
    JobQueue::Options m_queueOptions;
    QString m_prefix;
    Market *m_market;
    Handoff *m_handoff;
    QByteArray m_instanceId;
    int m_reloadMs;
    QString m_connectionName;
    std::unique_ptr<RedisConnection> m_redis;
    std::unique_ptr<OrderStore> m_store;
    std::unique_ptr<JobQueue> m_queue;

    std::unordered_map<QString, Entry> m_entries;
    QHash<QString, std::multimap<u128, QString>> m_byPair;
    QHash<QString, QSet<QString>> m_byLaunch; // upper-case symbol or mint → ids
    QHash<QString, QString> m_pairNames;
    std::multimap<qint64, QString> m_expiries;
    qint64 m_poolChangeMs = 0; // when the pools last changed, for the trigger's record
    QTimer m_evalTimer{this};
    QTimer m_sweepTimer{this};
    QTimer m_expiryTimer{this};
    QTimer m_reloadTimer{this};
    mutable QMutex m_statsMutex;
    Stats m_stats;
};

} // namespace oee
