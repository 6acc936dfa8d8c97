#include "runtime/Metrics.h"

#include "domain/Order.h"

#include <cmath>

namespace oee::metrics {

std::vector<double> latencyBounds()
{
    return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

namespace {

const char *const kVenueNames[kVenues] = {"raydium", "meteora", "other"};

void number(QByteArray &out, double v)
{
    if (std::isinf(v))
        out.append(v > 0 ? "+Inf" : "-Inf");
    else
        out.append(QByteArray::number(v, 'g', 15));
}

void header(QByteArray &out, const char *name, const char *type, const char *help)
{
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
}

void sample(QByteArray &out, const char *name, const QByteArray &labels, double value)
{
    out.append(name);
    if (!labels.isEmpty())
        out.append('{').append(labels).append('}');
    out.append(' ');
    number(out, value);
    out.append('\n');
}

QByteArray label(const char *key, const QString &value)
{
    QByteArray v = value.toUtf8();
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    return QByteArray(key) + "=\"" + v + '"';
}

} // namespace

Histogram::Histogram(std::vector<double> bounds)
    : m_bounds(std::move(bounds)), m_counts(m_bounds.size() + 1)
{
}

void Histogram::observe(double value)
{
    size_t i = 0;
    while (i < m_bounds.size() && value > m_bounds[i])
        ++i;
    m_counts[i].fetch_add(1, std::memory_order_relaxed);
    m_sumMicros.fetch_add(quint64(std::llround(std::max(0.0, value) * 1e6)),
                          std::memory_order_relaxed);
}

void Histogram::render(QByteArray &out, const char *name, const QByteArray &labels) const
{
    const QByteArray bucket = QByteArray(name) + "_bucket";
    const QByteArray prefix = labels.isEmpty() ? QByteArray() : labels + ',';
    quint64 cumulative = 0;
    for (size_t i = 0; i <= m_bounds.size(); ++i) {
        cumulative += m_counts[i].load(std::memory_order_relaxed);
        QByteArray le;
        number(le, i < m_bounds.size() ? m_bounds[i] : INFINITY);
        sample(out, bucket.constData(), prefix + "le=\"" + le + '"', double(cumulative));
    }
    sample(out, (QByteArray(name) + "_sum").constData(), labels,
           double(m_sumMicros.load(std::memory_order_relaxed)) / 1e6);
    sample(out, (QByteArray(name) + "_count").constData(), labels, double(cumulative));
}

int venueIndex(const QString &venue)
{
    for (int i = 0; i < kVenues - 1; ++i)
        if (venue == QLatin1String(kVenueNames[i]))
            return i;
    return kVenues - 1;
}

Registry::Registry()
    : ingestBatchOrders({1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500}),
      pgBatchEvents({1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500})
{
}

Registry &registry()
{
    static Registry r;
    return r;
}

void countCommitted(const QList<OrderEvent> &events)
{
    Registry &r = registry();
    for (const OrderEvent &e : events) {
        const int s = int(e.status);
        if (s >= 0 && s < kStatuses)
            r.statusChanges[size_t(s)].fetch_add(1, std::memory_order_relaxed);
        if (e.status == OrderStatus::Pending && e.seq > 1)
            r.retries.fetch_add(1, std::memory_order_relaxed); // back to pending: a retry
    }
}

QByteArray render(const Gauges &g)
{
    Registry &r = registry();
    QByteArray out;
    out.reserve(32 * 1024);

    header(out, "oee_status_changes_total", "counter",
           "Status changes committed by this process, by the status entered.");
    for (OrderStatus s : allStatuses())
        sample(out, "oee_status_changes_total", label("status", statusName(s)),
               double(r.statusChanges[size_t(int(s))].load(std::memory_order_relaxed)));
    header(out, "oee_retries_total", "counter", "Failed attempts that were scheduled again.");
    sample(out, "oee_retries_total", {}, double(r.retries.load(std::memory_order_relaxed)));
    if (!g.ordersByStatus.isEmpty()) {
        header(out, "oee_orders", "gauge",
               "Orders in PostgreSQL by current status (all processes).");
        for (const auto &[status, n] : g.ordersByStatus)
            sample(out, "oee_orders", label("status", status), double(n));
    }
    header(out, "oee_order_duration_seconds", "histogram",
           "From acceptance to the terminal status, for orders ended by this process.");
    r.orderSeconds.render(out, "oee_order_duration_seconds");
    header(out, "oee_status_duration_seconds", "histogram",
           "Time an order spent in a status before its next one, by that status.");
    for (OrderStatus s : allStatuses())
        if (!isTerminal(s))
            r.statusSeconds[size_t(int(s))].render(out, "oee_status_duration_seconds",
                                                   label("status", statusName(s)));

    if (g.queueOk) {
        header(out, "oee_queue_jobs", "gauge", "Jobs in the Redis queue by state.");
        sample(out, "oee_queue_jobs", label("state", QStringLiteral("waiting")), double(g.waiting));
        sample(out, "oee_queue_jobs", label("state", QStringLiteral("active")), double(g.active));
        sample(out, "oee_queue_jobs", label("state", QStringLiteral("delayed")), double(g.delayed));
        sample(out, "oee_queue_jobs", label("state", QStringLiteral("stalled")), double(g.stalled));
    }
    if (g.restingOpen >= 0) {
        header(out, "oee_resting_orders", "gauge",
               "Limit and sniper orders resting in this process's book.");
        sample(out, "oee_resting_orders", {}, double(g.restingOpen));
    }

    header(out, "oee_venue_quote_seconds", "histogram",
           "From asking for quotes to having them, by venue quoted.");
    for (int v = 0; v < kVenues; ++v)
        r.quoteSeconds[size_t(v)].render(out, "oee_venue_quote_seconds",
                                         label("venue", QString::fromLatin1(kVenueNames[v])));
    header(out, "oee_venue_execution_seconds", "histogram",
           "From a transaction's submission to its result, by venue.");
    for (int v = 0; v < kVenues; ++v)
        r.executionSeconds[size_t(v)].render(out, "oee_venue_execution_seconds",
                                             label("venue", QString::fromLatin1(kVenueNames[v])));
    header(out, "oee_venue_failures_total", "counter", "Transactions a venue rejected, by venue.");
    for (int v = 0; v < kVenues; ++v)
        sample(out, "oee_venue_failures_total", label("venue", QString::fromLatin1(kVenueNames[v])),
               double(r.venueFailures[size_t(v)].load(std::memory_order_relaxed)));

    header(out, "oee_websocket_clients", "gauge", "WebSocket stream subscribers connected now.");
    sample(out, "oee_websocket_clients", {}, double(g.wsClients));
    header(out, "oee_websocket_dropped_total", "counter",
           "Subscribers dropped for falling too far behind.");
    sample(out, "oee_websocket_dropped_total", {},
           double(r.wsDropped.load(std::memory_order_relaxed)));
    header(out, "oee_websocket_frames_total", "counter",
           "WebSocket frames written to subscribers.");
    sample(out, "oee_websocket_frames_total", {},
           double(r.wsFrames.load(std::memory_order_relaxed)));
    header(out, "oee_websocket_sent_bytes_total", "counter", "Bytes written to subscribers.");
    sample(out, "oee_websocket_sent_bytes_total", {},
           double(r.wsBytes.load(std::memory_order_relaxed)));

    header(
        out, "oee_submit_seconds", "histogram",
        "Intake: a valid submission from its handler to its answer written (committed, queued).");
    r.submitSeconds.render(out, "oee_submit_seconds");
    header(out, "oee_ingest_stage_seconds", "histogram",
           "The ingest: staging one batch of jobs in Redis.");
    r.ingestStageSeconds.render(out, "oee_ingest_stage_seconds");
    header(out, "oee_ingest_commit_seconds", "histogram",
           "The ingest: inserting and committing one batch of orders in PostgreSQL.");
    r.ingestCommitSeconds.render(out, "oee_ingest_commit_seconds");
    header(out, "oee_ingest_batch_orders", "histogram", "Submissions per ingest batch.");
    r.ingestBatchOrders.render(out, "oee_ingest_batch_orders");
    header(out, "oee_pg_batch_events", "histogram",
           "Status changes per PostgreSQL batch written by the workers.");
    r.pgBatchEvents.render(out, "oee_pg_batch_events");
    header(out, "oee_pg_commit_seconds", "histogram",
           "Time to write and commit one batch of status changes.");
    r.pgCommitSeconds.render(out, "oee_pg_commit_seconds");
    header(out, "oee_pg_batch_failures_total", "counter",
           "Batches of status changes that failed and were retried.");
    sample(out, "oee_pg_batch_failures_total", {},
           double(r.pgBatchFailures.load(std::memory_order_relaxed)));
    header(out, "oee_redis_round_trips_total", "counter",
           "Round trips to Redis (a pipeline counts once).");
    sample(out, "oee_redis_round_trips_total", {},
           double(r.redisRoundTrips.load(std::memory_order_relaxed)));
    header(out, "oee_redis_redirections_total", "counter",
           "MOVED and ASK redirections followed (Redis Cluster).");
    sample(out, "oee_redis_redirections_total", {},
           double(r.redisRedirections.load(std::memory_order_relaxed)));
    return out;
}

} // namespace oee::metrics
