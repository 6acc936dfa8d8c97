#pragma once
#include "domain/Order.h"
#include "store/Database.h"
#include "store/OrderStore.h"

#include <QHash>
#include <QMutex>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <atomic>
#include <functional>
#include <memory>

namespace oee {

// Follows the event log (migration 8) on a thread of its own ("oee-log"), with its own
// PostgreSQL connection, and hands every committed event to the streams in log order, each
// with its global eventId: the one way events reach the streams, whichever process wrote them.
//
// It is also a sequencer: when it is told that events were committed (by this process's
// writers, or by a hint from another process over Redis), and every `pollMs` regardless (a
// writer that died between its commit and its hint), it moves the committed outbox into the
// log. Sequencers of all processes take turns under an advisory lock, so ids follow commit
// order with no gap and no reuse: a reader that has seen id N has seen everything below it.
//
// Events this process committed are kept until the log names them (no read back from
// PostgreSQL); the others are read by key.
class EventLog : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventLog)
public:
    // retentionS: how long the log keeps what it numbered (pruned by whichever process's log
    // runs; the newest entry always stays, it carries the numbering on).
    EventLog(PgEndpoint postgres, int pollMs, int retentionS, QObject *parent = nullptr);
    ~EventLog() override;

    // On the log's thread (Engine::spawn): connects and starts after the last logged id, so
    // only events logged from now on are emitted (earlier ones are in the store, for replay).
    void start();
    // Events committed in this process, called on the committing thread (a direct
    // connection): kept for the log, and a run soon.
    void onCommitted(const QList<oee::OrderEvent> &events);
    // Another process committed events: a run soon.
    void hint();

    // Who is listening (any thread; called on the log's): while nobody is, the log
    // is still numbered, but its events are neither kept nor read nor emitted — a subscriber
    // that arrives reads what it needs from the store (snapshot or replay) first.
    void setAudience(std::function<bool()> anyoneListening);

signals:
    // In eventId order, consecutive, each with eventId and its stream message set.
    void logged(const QList<oee::OrderEvent> &events);

private:
    void run();
    // False if the events could not be read (nothing emitted, the cursor unchanged).
    bool emitRanges(const QList<LoggedRange> &ranges);
    void schedule(int ms);

    PgEndpoint m_pg;
    int m_pollMs;
    int m_retentionS;
    QString m_connectionName;
    std::unique_ptr<OrderStore> m_store;
    void forgetOld();
    bool findCursor();
    void wakeUp();
    // Moves what the committing threads announced into m_local (on the log's thread).
    void takeInbox();

    QMutex m_inboxLock;
    QList<OrderEvent> m_inbox;
    std::atomic<bool> m_wakePending{false};
    [[nodiscard]] bool listened() const;

    mutable QMutex m_audienceLock;
    std::function<bool()> m_audience;
    struct Local
    {
        OrderEvent event;
        qint64 since = 0; // ms, when its commit was announced here
    };
    QHash<QString, Local> m_local;              // "orderId/seq" → committed here, not yet logged
    QSet<QString> m_readBack, m_readBackBefore; // logged from PostgreSQL in the last 2–4 s
    qint64 m_lastForget = 0;
    qint64 m_lastPrune = 0;
    qint64 m_lastRun = 0;
    static constexpr qint64 kKeepMs = 30000;
    static constexpr int kMinGapMs = 10;
    qint64 m_cursor = -1; // the last id emitted (-1: not known yet)
    int m_retryMs = 0;
    QTimer m_timer{this};
};

} // namespace oee
