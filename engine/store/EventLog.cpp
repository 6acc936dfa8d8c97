#include "store/EventLog.h"

#include "runtime/Logging.h"

namespace oee {

static QString key(const QString &orderId, int seq)
{
    return orderId + QLatin1Char('/') + QString::number(seq);
}

EventLog::EventLog(PgEndpoint postgres, int pollMs, QObject *parent)
    : QObject(parent), m_pg(std::move(postgres)), m_pollMs(pollMs),
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
    m_store = std::make_unique<OrderStore>(Database::open(m_connectionName, m_pg));
    // Migrations ran a moment ago on another connection: PostgreSQL is up.
    if (const auto last = m_store->lastLoggedId())
        m_cursor = *last;
    else
        qCWarning(lcStore, "event log: cannot read the last id (%s); starting from 0",
                  qPrintable(m_store->lastError()));
    m_emitted.storeRelaxed(m_cursor);
    schedule(0); // what was committed but not logged before this process started
}

void EventLog::schedule(int ms)
{
    if (!m_timer.isActive() || m_timer.remainingTime() > ms)
        m_timer.start(ms);
}

void EventLog::onCommitted(const QList<OrderEvent> &events)
{
    // Bounded: events that will never be logged again (a terminal event re-announced after a
    // crash) must not pile up; anything dropped here is read from PostgreSQL instead.
    if (m_local.size() > 200000)
        m_local.clear();
    for (const OrderEvent &e : events)
        m_local.insert(key(e.orderId, e.seq), e);
    if (m_retryMs == 0)
        schedule(0);
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
    const std::optional<LoggedRange> ours = m_store->sequenceOutbox();
    if (!ours)
        return backOff();
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
    m_retryMs = 0;
    schedule(more ? 0 : m_pollMs);
}

bool EventLog::emitRanges(const QList<LoggedRange> &ranges)
{
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
                e = std::move(*local);
                m_local.erase(local);
            } else if (const auto it = read.constFind(k); it != read.cend()) {
                e = *it;
            } else {
                continue; // its order was deleted since: nothing to deliver, the id stays used
            }
            e.eventId = id;
            e.message = e.toMessage();
            out.append(std::move(e));
        }
        m_cursor = qMax(m_cursor, r.lastId);
    }
    m_emitted.storeRelaxed(m_cursor);
    if (!out.isEmpty())
        emit logged(out);
    return true;
}

} // namespace oee
