#pragma once
#include "dex/Market.h"
#include "domain/Order.h"
#include "domain/OrderRequest.h"
#include "execution/OrderType.h"
#include "queue/JobQueue.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QTimer>
#include <functional>

namespace oee {

class EventWriter;
class SimulatedChain;
struct OrderCursor;

// The order lifecycle, apart from the queue: what a worker thread does with an order once its
// job is claimed, the way a BullMQ worker calls its processor. Drives each order through
// routing → building → submitted → confirmed | failed — or rests it in open, or expires it —
// as an asynchronous state machine on timers (an order waiting on a venue never holds the
// thread), asks its order type (execution/OrderType.h) when it may execute and at what floor,
// and sends every status change through the transition table (domain/Lifecycle.h). Tells the
// queue how each job ends (finished) and nothing else. Lives on its worker's thread.
class OrderExecutor : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OrderExecutor)
public:
    struct Settings
    {
        int maxAttempts = 3;
        int retryBackoffMs = 1000;
        int chaosCrashAfterLandings = 0;
    };
    // How a job ends: the queue settles it (token: the claim's).
    using Finished = std::function<void(const SettleOp &op)>;

    OrderExecutor(Settings settings, Market *market, SimulatedChain *chain, EventWriter *writer,
                  Finished finished, QObject *parent = nullptr);

    // A claimed job whose order is not finished, with its row as the claim found it.
    void run(const Job &job, const OrderCursor &cursor);
    // Runs between beginBatch() and endBatch() take their first step each before any takes
    // its second: the steps that follow a status change at once (routing → building →
    // submitted) wait until endBatch(). A burst of triggered orders is routed, every one on
    // the pools as they are, before the first is built, instead of order by order; what
    // becomes durable, and when, is the same (the writer flushes after the batch either way).
    void beginBatch() { m_batching = true; }
    void endBatch();
    [[nodiscard]] bool isRunning(const QString &id) const { return m_inFlight.contains(id); }
    // The same order claimed again while it runs here (its lease lapsed): the run goes on
    // under the new claim.
    void reclaimed(const QString &id, const QByteArray &token, qint64 fence);
    [[nodiscard]] QList<Lease> leases() const;
    [[nodiscard]] qsizetype count() const { return m_inFlight.size(); }
    // The writer refused these orders' events (a later claim owns them): let them go.
    // Returns how many were dropped.
    int drop(const QHash<QString, qint64> &fenceByOrder);
    // Shutdown: every order in flight, to hand back to the queue; none is left.
    QList<SettleOp> releaseAll();

private:
    struct InFlight
    {
        QString id;
        QByteArray token; // the claim's
        int attempt = 0;  // the attempt this run belongs to
        OrderRequest request;
        const OrderType *type = nullptr;
        int seq = 0;
        OrderStatus status = OrderStatus::Pending; // the last status written (canFollow)
        RoutePlan route; // priced at routing; empty after a crash (routed again)
        BaseUnits minAmountOut = 0;
        QString signature;
        qint64 fence = 0;    // this claim's fence on the order's row (PostgreSQL)
        QJsonObject trigger; // a resting order brought back by the RestingBook: why and when
        // For /metrics (milliseconds since the epoch; 0: unknown).
        qint64 createdAtMs = 0;
        qint64 statusSinceMs = 0; // when the current status was entered
        qint64 quoteAskedMs = 0;
        qint64 submittedAtMs = 0;
    };

    void beginAttempt(const QString &id);
    void then(std::function<void()> next);
    void onQuoted(const QString &id);
    void onBuilt(const QString &id);
    void onSubmitted(const QString &id);
    void onExecuted(const QString &id);
    void resumeSubmitted(const QString &id);
    void land(const QString &id); // queued: landBatch() lands this turn's fills together
    void landBatch();
    void confirm(const QString &id, const Fill &fill, bool alreadyLanded);
    // An attempt that did not fill: back to pending for the next one, or failed — or, for an
    // order type that rests, back to open (expired once its time is up).
    void attemptFailed(const QString &id, const QString &venue, const QString &error);
    // The order may not execute now: it rests in open, without a job (the RestingBook holds it).
    void rest(const QString &id, const QString &why);
    [[nodiscard]] static bool expiredNow(const InFlight &f);
    void expire(const QString &id);
    // Wait: continue once the event is committed. Batch: continue at once, the event joins
    // the same transaction as the next one(s); for steps that touch nothing outside
    // (routing → building → submitted). Either way nothing is announced before it is durable,
    // and execution starts only once `submitted` (with its signature) is committed.
    enum class Durability { Wait, Batch };
    void emitEvent(InFlight &order, OrderStatus status, EventData data, std::function<void()> next,
                   Durability durability = Durability::Wait);
    void finish(const QString &id, Settle kind, qint64 delayMs);

    Settings m_settings;
    Market *m_market;
    SimulatedChain *m_chain;
    EventWriter *m_writer;
    Finished m_finished;
    QHash<QString, InFlight> m_inFlight;
    QTimer m_landTimer{this};
    QStringList m_toLand;
    bool m_batching = false;
    QList<std::function<void()>> m_afterBatch; // second steps held by beginBatch()
};

} // namespace oee
