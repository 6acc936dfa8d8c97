#include "store/EventLog.h"

#include "runtime/Logging.h"

#include <QDateTime>

namespace oee {

static QString key(const QString &orderId, int seq)
{
    return orderId + QLatin1Char('/') + QString::number(seq);
}

EventLog::EventLog(PgEndpoint postgres, int pollMs, int retentionS, QObject *parent)
    : QObject(parent), m_pg(std::move(postgres)), m_pollMs(pollMs), m_retentionS(retentionS),
      m_connectionName(QStringLiteral("oee-log-%1").arg(quintptr(this), 0, 16))
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &EventLog::run);
}

EventLog::~EventLog()
{
    m_store.reset();
    Database::remove(m_connectionName);
}

void EventLog::start()
{
    m_store = std::make_unique<OrderStore>(
        Database::open(m_connectionName, m_pg, Database::Plans::Generic));
    findCursor();
    schedule(0); // what was committed but not logged before this process started
}

bool EventLog::findCursor()
{
    // Where the log ends now: only what is logged from here on is emitted (the rest is in the
    // store for snapshots and replays). Not known yet (PostgreSQL unreachable): -1, and run()
    // asks again — never 0, which would send the whole history to every stream.
    if (const auto last = m_store->lastLoggedId()) {
        m_cursor = *last;
        return true;
    }
    m_cursor = -1;
    return false;
}

void EventLog::schedule(int ms)
{
    // Runs at least kMinGapMs apart: under load each run takes what several commits wrote,
    // not one sequencer transaction (and its fsync) per writer's commit.
    const qint64 sinceLast = QDateTime::currentMSecsSinceEpoch() - m_lastRun;
    ms = qMax<qint64>(ms, kMinGapMs - sinceLast);
    if (!m_timer.isActive() || m_timer.remainingTime() > ms)
        m_timer.start(ms);
}

void EventLog::setAudience(std::function<bool()> anyoneListening)
{
    // Not through the log's thread: it may be waiting on PostgreSQL (a lock, an outage).
    QMutexLocker lock(&m_audienceLock);
    m_audience = std::move(anyoneListening);
}

bool EventLog::listened() const
{
    QMutexLocker lock(&m_audienceLock);
    return !m_audience || m_audience();
}

void EventLog::onCommitted(const QList<OrderEvent> &events)
{
    // On the committing thread: into the inbox, and one wake-up of the log's thread at a time.
    {
        QMutexLocker lock(&m_inboxLock);
        m_inbox.append(events);
    }
    if (!m_wakePending.exchange(true))
        QMetaObject::invokeMethod(this, &EventLog::wakeUp, Qt::QueuedConnection);
}

void EventLog::wakeUp()
{
    m_wakePending = false;
    takeInbox();
    hint();
}

void EventLog::takeInbox()
{
    QList<OrderEvent> events;
    {
        QMutexLocker lock(&m_inboxLock);
        events = std::exchange(m_inbox, {});
    }
    if (events.isEmpty() || !listened())
        return;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (const OrderEvent &e : std::as_const(events)) {
        const QString k = key(e.orderId, e.seq);
        // Logged (and read back) before this news of its commit arrived: nothing to keep.
        if (m_readBack.remove(k) || m_readBackBefore.remove(k))
            continue;
        m_local.insert(k, Local{e, now});
    }
}

void EventLog::forgetOld()
{
    // Every couple of seconds: the keys read back age out, and so do kept events the log never
    // named (a terminal event re-announced after a crash was logged long ago): anything
    // forgotten here that is logged after all is read from PostgreSQL instead.
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (now - m_lastForget < 2000)
        return;
    m_lastForget = now;
    m_readBackBefore = std::exchange(m_readBack, {});
    for (auto it = m_local.begin(); it != m_local.end();)
        it = now - it->since > kKeepMs ? m_local.erase(it) : std::next(it);
}

void EventLog::hint()
{
    if (m_retryMs == 0)
        schedule(0);
}

void EventLog::run()
{
    const auto backOff = [this] {
        m_retryMs = qBound(100, m_retryMs * 2, 2000);
        qCWarning(lcStore, "event log: %s; trying again in %d ms", qPrintable(m_store->lastError()),
                  m_retryMs);
        m_timer.start(m_retryMs);
    };
    if (m_cursor < 0 && !findCursor())
        return backOff();
    forgetOld();
    m_lastRun = QDateTime::currentMSecsSinceEpoch();
    const std::optional<LoggedRange> ours = m_store->sequenceOutbox();
    if (!ours)
        return backOff();
    // News of the commits it just numbered: most has arrived by now, and their events are then
    // taken from here rather than read back from PostgreSQL.
    takeInbox();
    QList<LoggedRange> ranges;
    bool more = false;
    if (!ours->isEmpty() && ours->firstId == m_cursor + 1) {
        ranges << *ours; // nobody logged in between: no need to read it back
    } else {
        const auto after = m_store->logAfter(m_cursor);
        if (!after)
            return backOff();
        ranges = *after;
        more = ranges.size() >= 1000;
    }
    if (!ranges.isEmpty() && !emitRanges(ranges))
        return backOff(); // the log is read again from the same cursor
    // Pruned now and then (every minute, or as often as the retention if shorter).
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (now - m_lastPrune >= qMin<qint64>(60000, qint64(m_retentionS) * 1000)) {
        m_lastPrune = now;
        if (!m_store->pruneLog(m_retentionS))
            qCWarning(lcStore, "event log: pruning failed (%s)", qPrintable(m_store->lastError()));
    }
    m_retryMs = 0;
    schedule(more ? 0 : m_pollMs);
}

bool EventLog::emitRanges(const QList<LoggedRange> &ranges)
{
    if (!listened()) {
        for (const LoggedRange &r : ranges) {
            if (!m_local.isEmpty())
                for (qsizetype i = 0; i < r.orderIds.size(); ++i)
                    m_local.remove(key(r.orderIds[i], r.seqs.value(i)));
            m_cursor = qMax(m_cursor, r.lastId);
        }
        return true;
    }
    // Events written by other processes (or forgotten here): read by key, in one statement.
    QStringList ids;
    QList<int> seqs;
    for (const LoggedRange &r : ranges)
        for (qsizetype i = 0; i < r.orderIds.size(); ++i)
            if (!m_local.contains(key(r.orderIds[i], r.seqs.value(i))))
                ids << r.orderIds[i], seqs << r.seqs.value(i);
    QHash<QString, OrderEvent> read;
    if (!ids.isEmpty()) {
        const auto rows = m_store->eventsAt(ids, seqs);
        if (!rows)
            return false;
        for (const OrderEvent &e : *rows)
            read.insert(key(e.orderId, e.seq), e);
    }
    QList<OrderEvent> out;
    for (const LoggedRange &r : ranges) {
        for (qsizetype i = 0; i < r.orderIds.size(); ++i) {
            const qint64 id = r.firstId + i;
            if (id <= m_cursor)
                continue; // a row another reader of ours already covered
            const QString k = key(r.orderIds[i], r.seqs.value(i));
            auto local = m_local.find(k);
            OrderEvent e;
            if (local != m_local.end()) {
                e = std::move(local->event);
                m_local.erase(local);
            } else if (const auto it = read.constFind(k); it != read.cend()) {
                e = *it;
                m_readBack.insert(k); // its news may still be on its way here
            } else {
                continue; // its order was deleted since: nothing to deliver, the id stays used
            }
            e.eventId = id;
            // The message its writer encoded, with the id spliced in first (an object's keys
            // have no order), rather than encoded again.
            e.message = e.message.startsWith('{')
                            ? "{\"eventId\":" + QByteArray::number(id) + ',' + e.message.sliced(1)
                            : e.toMessage();
            out.append(std::move(e));
        }
        m_cursor = qMax(m_cursor, r.lastId);
    }
    if (!out.isEmpty())
        emit logged(out);
    return true;
}

} // namespace oee
