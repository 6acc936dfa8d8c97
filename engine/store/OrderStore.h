#pragma once
#include "domain/Order.h"
#include "domain/OrderRequest.h"
#include "queue/JobQueue.h"
#include "runtime/Controls.h"

#include <QHash>
#include <QMap>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <memory>
#include <optional>
#include <unordered_map>

namespace oee {

struct NewOrder
{
    QString id;
    OrderRequest request;
    QDateTime createdAt;
    QString idempotencyKey; // empty: none
    QString fingerprint;    // of the request, kept with the key (requestFingerprint)
};

// The order that holds an idempotency key.
struct KeyedOrder
{
    QString id;
    QDateTime createdAt;
    QString fingerprint; // empty for orders keyed before fingerprints were kept
};

// Where an order stands, as a worker that claims its job needs to know: to skip it if it has
// ended, or to resume a submitted transaction instead of executing a new one.
struct OrderCursor
{
    OrderStatus status;
    int lastSeq = 0;
    int attempts = 0;
    QString signature; // the submitted transaction, if any
    QString venue;
    quint64 minAmountOut = 0; // base units, of the submitted transaction (its building event)
    qint64 fence = 0;         // this claim's fence: the events it writes must carry it
    qint64 createdAtMs = 0;   // claim only: when it was accepted, and when its status was entered
    qint64 statusSinceMs = 0;
};

// A resting order as the RestingBook loads it: open, or pending with an expiry.
struct RestingOrder
{
    QString id;
    OrderRequest request;
    OrderStatus status = OrderStatus::Open;
    int lastSeq = 0;
};

// Consecutive event ids firstId..lastId, of these events (one row of event_log).
struct LoggedRange
{
    qint64 firstId = 0;
    qint64 lastId = 0;
    QStringList orderIds;
    QList<int> seqs;
    [[nodiscard]] bool isEmpty() const { return orderIds.isEmpty(); }
};

// What a batch of status changes came to.
struct AppendResult
{
    bool ok = false;          // false: nothing written (see lastError / lastErrorPermanent)
    QSet<QString> superseded; // orders whose fence was taken by a later claim: not written
};

// Every statement the engine runs against PostgreSQL. All values are bound parameters; batch
// writes pass PostgreSQL arrays to unnest(), so N orders cost one statement, not N.
class OrderStore
{
public:
    explicit OrderStore(QSqlDatabase db);

    [[nodiscard]] QSqlDatabase &database() { return m_db; }

    // The session of this store holds this advisory lock for as long as it lives (taken again
    // on every reconnection, before any statement): while it is held, a transaction of this
    // store may still commit. The Ingest's store holds its process's submitter lock.
    void holdSessionLock(qint64 key);
    // Whether the submitter behind `key` is gone (its session, and any transaction of it,
    // has ended): true if this session could take the lock. Taken and released at once.
    std::optional<bool> submitterGone(qint64 key);
    [[nodiscard]] static qint64 submitterLockKey(const QByteArray &submitter);
    [[nodiscard]] QString lastError() const { return m_lastError; }
    // The last failure can never succeed as it is (bad data, a violated constraint: SQLSTATE
    // classes 22 and 23), as opposed to a connection or server problem worth retrying.
    [[nodiscard]] bool lastErrorPermanent() const { return m_lastErrorPermanent; }

    // Ends pending or open orders (cancelled, expired): each row to `to` under a new fence (a
    // worker that had claimed it can no longer write it, and never sent anything: execution
    // starts only after `submitted` is committed) and its event, in one statement. With
    // expiredBy, only the orders whose expires_at is at or before it. Each id that exists comes
    // back: ended (with its event) or with its current status. nullopt on failure.
    struct EndOutcome
    {
        QString orderId;
        bool ended = false;
        std::optional<OrderStatus> current;
        OrderEvent event;
    };
    std::optional<QList<EndOutcome>> endResting(const QStringList &orderIds, OrderStatus to,
                                                const QJsonObject &data,
                                                const QDateTime &expiredBy = {});
    // The resting orders (open, or pending with an expiry), id → last_seq: what the
    // RestingBook compares its index with (cheap: no terms read).
    std::optional<QHash<QString, int>> restingSeqs();
    // Every order not yet begun (pending or open): what the kill switch ends. A scan.
    std::optional<QStringList> notStartedIds();
    // Those of `ids` that are resting, whole.
    std::optional<QList<RestingOrder>> restingOrders(const QStringList &ids);
    // Cancels a pending or open order (endResting). The order's current status when it was
    // not (nullopt: no such order).
    struct CancelOutcome
    {
        bool ok = false; // the statement ran
        bool cancelled = false;
        std::optional<OrderStatus> current; // when not cancelled; nullopt: no such order
        OrderEvent event;                   // the cancelled event
    };
    CancelOutcome cancel(const QString &orderId, const QString &reason);

    // Orders rows (status pending, seq 1) and their pending events: one statement. An order
    // whose idempotency key is already taken (by another process, a moment ago) is skipped.
    // Returns the ids inserted; nullopt on failure.
    std::optional<QSet<QString>> insertOrders(const QList<NewOrder> &orders,
                                              const QList<OrderEvent> &pendingEvents);
    // Idempotency key → the order that holds it.
    std::optional<QHash<QString, KeyedOrder>> ordersByKey(const QStringList &keys);
    // Event rows, and each order's row brought to its latest event: one statement, atomic on
    // its own (no transaction needed), one round trip whatever the batch size. An order is
    // written only if its events carry the order's current fence; the others are reported.
    AppendResult appendEvents(const QList<OrderEvent> &events);

    // Claims orders for a worker: each existing row takes the next fence, and its cursor is
    // returned with that fence. Ids without a row (not committed yet) are absent.
    std::optional<QHash<QString, OrderCursor>> claim(const QStringList &ids);
    // The same cursors without taking a fence (the staged-job sweep, reads).
    std::optional<QHash<QString, OrderCursor>> cursors(const QStringList &ids);
    std::optional<std::optional<Order>> order(const QString &id);
    std::optional<QList<Order>> orders(std::optional<OrderStatus> status, int limit,
                                       qint64 beforeOrderNo);
    // An order's events in seq order, each with its eventId once the log has numbered it;
    // loggedOnly: only those (a stream's snapshot, which continues with the log).
    std::optional<QList<OrderEvent>> events(const QString &orderId, bool loggedOnly = false);

    // The event log (migration 8). The sequencer: moves the committed outbox rows into the
    // log (numbering their events after the last logged one) in one transaction under an
    // advisory lock, so only one sequencer in all processes numbers at a time. Returns what
    // it logged (empty: nothing was waiting); nullopt on failure.
    std::optional<LoggedRange> sequenceOutbox();
    // The log after `lastId`, in order (nullopt on failure); the last logged id.
    std::optional<QList<LoggedRange>> logAfter(qint64 lastId);
    std::optional<qint64> lastLoggedId();
    // Drops log entries older than retentionS, never the newest (the numbering goes on from it).
    bool pruneLog(int retentionS);
    // The events named by (orderId, seq) pairs, in no particular order.
    std::optional<QList<OrderEvent>> eventsAt(const QStringList &orderIds, const QList<int> &seqs);
    // Logged events with an id above `since`, in order: at most about `limit` (whole log rows
    // are read up to it). `more` is set if the log goes on after them; `gone` if events after
    // `since` were pruned (the log now starts later): nothing is returned then.
    std::optional<QList<OrderEvent>> loggedEvents(qint64 since, int limit, bool *more, bool *gone);
    std::optional<QMap<QString, qint64>> countsByStatus();

    // The operator's audit trail (migration 10): appends one action, returns its id.
    std::optional<qint64> recordAction(const OperatorAction &action);
    // The latest `limit` actions, newest first (id below `before` when it is > 0).
    std::optional<QList<OperatorAction>> recentActions(int limit, qint64 before = 0);
    // What a retry of an order starts from: its status and the order as submitted (the
    // pending event's data). `found` false: no such order.
    struct RetrySource
    {
        bool found = false;
        OrderStatus status = OrderStatus::Pending;
        QJsonObject submitted;
    };
    std::optional<RetrySource> retrySource(const QString &orderId);
    // Orders not finished whose row has not changed for idleMs: the reconciler's candidates,
    // as the job payloads that would run them.
    std::optional<QList<Job>> idleUnfinished(int idleMs, int limit);
    bool ping();

private:
    bool fail(const QSqlQuery &q, const char *what);
    // A server-side prepared statement, prepared once per connection and reused (prepared
    // again once the tables have doubled: see replanIfGrown). The pointer is valid until the
    // next call.
    QSqlQuery *statement(const QString &sql);
    // At most once a second: if orders and order_events together have doubled in size since
    // the statements were prepared, they are dropped and prepared again. PostgreSQL plans a
    // prepared statement generically once, after five runs, for the tables as they are then;
    // on a new database that is empty, and the plan for "these ids" is a hash join over a
    // scan of every order, kept (until an ANALYZE) however large the table grows.
    void replanIfGrown();
    void resetConnection();

    std::unordered_map<QString, std::unique_ptr<QSqlQuery>> m_statements;
    qint64 m_plannedForBytes = -1; // the tables' size when the statements were prepared
    qint64 m_sizeCheckedAt = 0;    // ms since the epoch

    QSqlDatabase m_db;
    QString m_lastError;
    bool m_lastErrorPermanent = false;
    qint64 m_sessionLock = 0; // 0: none
    int m_countSlot = 0;      // this connection's row per status in order_status_counts
};

} // namespace oee
