#pragma once
#include <QByteArray>
#include <QList>
#include <QString>

#include <array>
#include <atomic>
#include <vector>

namespace oee {

struct OrderEvent;
enum class OrderStatus;

// What GET /metrics exposes (Prometheus text format 0.0.4). Counters and histograms are kept
// here, process-wide, by the threads that do the work: a relaxed atomic add each, no lock on
// any hot path. Gauges (queue depth, subscribers, orders by status) are read at scrape time.
namespace metrics {

// Upper bounds for durations in seconds, 1 ms … 60 s.
[[nodiscard]] std::vector<double> latencyBounds();

// A histogram with fixed upper bounds (by default latencyBounds()); observe() from any thread.
class Histogram
{
public:
    explicit Histogram(std::vector<double> bounds = latencyBounds());
    void observe(double value);
    // `name`'s _bucket, _sum and _count lines, with `labels` (`key="value",…` or empty).
    void render(QByteArray &out, const char *name, const QByteArray &labels = {}) const;

private:
    std::vector<double> m_bounds;
    std::vector<std::atomic<quint64>> m_counts; // per bucket (not cumulative), +Inf last
    std::atomic<quint64> m_sumMicros{0};        // the sum in millionths of the unit
};

inline constexpr int kStatuses = 9; // OrderStatus values
inline constexpr int kVenues = 3;   // raydium, meteora, any other
[[nodiscard]] int venueIndex(const QString &venue);

struct Registry
{
    std::array<std::atomic<quint64>, kStatuses> statusChanges{};
    std::atomic<quint64> retries{0};
    Histogram orderSeconds;                         // accepted → terminal
    std::array<Histogram, kStatuses> statusSeconds; // time spent in each status
    std::array<Histogram, kVenues> quoteSeconds;
    std::array<Histogram, kVenues> executionSeconds;
    std::array<std::atomic<quint64>, kVenues> venueFailures{};
    std::atomic<quint64> wsFrames{0};
    std::atomic<quint64> wsBytes{0};
    std::atomic<quint64> wsDropped{0};
    Histogram submitSeconds;       // a valid submission: handler → answer written (HTTP thread)
    Histogram ingestStageSeconds;  // the ingest's Redis staging of one batch of submissions
    Histogram ingestCommitSeconds; // its PostgreSQL insert (and commit) of that batch
    Histogram ingestBatchOrders;   // submissions per ingest batch
    Histogram pgBatchEvents;
    Histogram pgCommitSeconds;
    std::atomic<quint64> pgBatchFailures{0};
    std::atomic<quint64> redisRoundTrips{0};
    std::atomic<quint64> redisRedirections{0}; // MOVED and ASK followed (Redis Cluster)

    Registry();
};

Registry &registry();

// Counts committed status changes (and the retries among them).
void countCommitted(const QList<OrderEvent> &events);

// Read at scrape time.
struct Gauges
{
    bool queueOk = false;
    qint64 waiting = 0, active = 0, delayed = 0, stalled = 0;
    QList<QPair<QString, qint64>> ordersByStatus; // cluster-wide, from PostgreSQL
    int wsClients = 0;
    qint64 restingOpen = -1; // -1: no resting book in this process
};

// The whole exposition.
[[nodiscard]] QByteArray render(const Gauges &gauges);

} // namespace metrics
} // namespace oee
