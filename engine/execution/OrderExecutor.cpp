#include "execution/OrderExecutor.h"

#include "runtime/Metrics.h"

#include "dex/Chain.h"
#include "dex/Signature.h"
#include "domain/Lifecycle.h"
#include "money/Tokens.h"
#include "runtime/Logging.h"
#include "store/EventWriter.h"
#include "store/OrderStore.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <atomic>
#include <csignal>
#include <unistd.h>

namespace oee {

OrderExecutor::OrderExecutor(Settings settings, Market *market, SimulatedChain *chain,
                             EventWriter *writer, Finished finished, QObject *parent)
    : QObject(parent), m_settings(settings), m_market(market), m_chain(chain), m_writer(writer),
      m_finished(std::move(finished))
{
    m_landTimer.setSingleShot(true);
    connect(&m_landTimer, &QTimer::timeout, this, &OrderExecutor::landBatch);
}

void OrderExecutor::reclaimed(const QString &id, const QByteArray &token, qint64 fence)
{
    const auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    it->token = token;
    it->fence = fence;
    m_writer->refence(id, fence);
}

QList<Lease> OrderExecutor::leases() const
{
    QList<Lease> out;
    for (const InFlight &f : m_inFlight)
        out.append(Lease{f.id, f.token});
    return out;
}

int OrderExecutor::drop(const QHash<QString, qint64> &fenceByOrder)
{
    int n = 0;
    for (auto it = fenceByOrder.cbegin(); it != fenceByOrder.cend(); ++it) {
        const auto f = m_inFlight.constFind(it.key());
        if (f == m_inFlight.cend() || f->fence != it.value())
            continue; // already gone, or a newer claim of ours runs it now
        qCWarning(lcQueue, "order %s: taken over by a later claim (or unwritable); letting it go",
                  qPrintable(it.key()));
        m_inFlight.erase(f);
        ++n;
    }
    return n;
}

QList<SettleOp> OrderExecutor::releaseAll()
{
    QList<SettleOp> out;
    for (const InFlight &f : std::as_const(m_inFlight))
        out.append(SettleOp{Settle::Release, f.id, 0, f.token});
    m_inFlight.clear();
    m_landTimer.stop();
    m_toLand.clear();
    return out;
}

void OrderExecutor::finish(const QString &id, Settle kind, qint64 delayMs)
{
    const auto it = m_inFlight.constFind(id);
    if (it == m_inFlight.cend())
        return;
    const SettleOp op{kind, id, delayMs, it->token};
    m_inFlight.erase(it);
    m_finished(op);
}

void OrderExecutor::run(const Job &job, const OrderCursor &cursor)
{
    const QString id = job.id;
    InFlight f;
    f.id = id;
    f.token = job.token;
    f.fence = cursor.fence;
    f.seq = cursor.lastSeq;
    f.status = cursor.status;
    f.createdAtMs = cursor.createdAtMs;
    f.statusSinceMs = cursor.statusSinceMs;
    // Attempts are counted in PostgreSQL, not by claims: an order back to pending (new, or
    // after a failed attempt) starts the next attempt; one caught mid-attempt by a crash
    // (routing, building: nothing was sent) runs that attempt again; a submitted one is
    // resumed. A crash never spends a retry.
    f.attempt = cursor.status == OrderStatus::Pending || cursor.status == OrderStatus::Open
                    ? cursor.attempts + 1
                    : qMax(1, cursor.attempts);
    const QJsonObject payload = QJsonDocument::fromJson(job.payload).object();
    const auto request = fromJobPayload(payload);
    f.trigger = payload.value(QStringLiteral("trigger")).toObject();
    if (!request || !orderTypeNamed(request->orderType)) {
        // Written by this engine, so never expected: fail the order rather than guess.
        m_inFlight.insert(id, f);
        emitEvent(m_inFlight[id], OrderStatus::Failed,
                  FailureReport{f.attempt, 0, {}, QStringLiteral("unreadable job payload")},
                  [this, id] { finish(id, Settle::Fail, 0); });
        return;
    }
    f.request = *request;
    f.type = orderTypeNamed(request->orderType);
    if (cursor.status == OrderStatus::Submitted && !cursor.signature.isEmpty()) {
        // Its worker died after submitting: never build a second transaction; find out
        // whether the first one landed, and rebroadcast it (same signature) if not.
        f.signature = cursor.signature;
        f.minAmountOut = cursor.minAmountOut;
        m_inFlight.insert(id, f);
        qCInfo(lcQueue, "resuming order %s from its submitted transaction", qPrintable(id));
        resumeSubmitted(id);
        return;
    }
    m_inFlight.insert(id, f);
    if ((f.status == OrderStatus::Pending || f.status == OrderStatus::Open) && expiredNow(f)) {
        expire(id);
        return;
    }
    // A type that rests on a miss never exhausts its attempts: it ends by expiry or cancel.
    if (f.attempt > m_settings.maxAttempts && !f.type->restsOnMiss()) {
        InFlight &ref = m_inFlight[id];
        emitEvent(ref, OrderStatus::Failed,
                  FailureReport{f.attempt - 1, 0, {}, QStringLiteral("attempts exhausted")},
                  [this, id] { finish(id, Settle::Fail, 0); });
        return;
    }
    beginAttempt(id);
}

void OrderExecutor::beginAttempt(const QString &id)
{
    // A resting order's trigger priced it on the pools as they are: no quote round to wait for.
    const auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    it->quoteAskedMs = QDateTime::currentMSecsSinceEpoch();
    if (it->status == OrderStatus::Open) {
        onQuoted(id);
        return;
    }
    QTimer::singleShot(m_market->config().quoteLatencyMs, this, [this, id] { onQuoted(id); });
}

void OrderExecutor::then(std::function<void()> next)
{
    if (m_batching)
        m_afterBatch.append(std::move(next));
    else
        next();
}

void OrderExecutor::endBatch()
{
    m_batching = false;
    const QList<std::function<void()>> held = std::exchange(m_afterBatch, {});
    for (const auto &next : held)
        next();
}

bool OrderExecutor::expiredNow(const InFlight &f)
{
    return f.request.expiresAt.isValid() && f.request.expiresAt <= QDateTime::currentDateTimeUtc();
}

void OrderExecutor::expire(const QString &id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    emitEvent(*it, OrderStatus::Expired, ExpiryReport{it->attempt, it->request.expiresAt},
              [this, id] { finish(id, Settle::Complete, 0); });
}

void OrderExecutor::rest(const QString &id, const QString &why)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    if (f.status == OrderStatus::Open) {
        // A trigger that no longer holds (the price moved back, another fill took the
        // liquidity, another process fired first): it stays open, nothing to record.
        finish(id, Settle::Park, 0);
        return;
    }
    emitEvent(f, OrderStatus::Open, RestingOrderData{f.request, why, 0, {}, {}},
              [this, id] { finish(id, Settle::Park, 0); });
}

void OrderExecutor::onQuoted(const QString &id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    f.route = m_market->route(f.request.tokenIn, f.request.tokenOut, f.request.amount);
    if (f.quoteAskedMs > 0) {
        const double seconds =
            double(QDateTime::currentMSecsSinceEpoch() - f.quoteAskedMs) / 1000.0;
        quint32 seen = 0; // each venue quoted once per attempt
        for (const RouteCandidate &c : std::as_const(f.route.candidates))
            for (const RouteLeg &leg : c.legs)
                if (const int v = metrics::venueIndex(leg.venue); !(seen & (1u << v))) {
                    seen |= 1u << v;
                    metrics::registry().quoteSeconds[size_t(v)].observe(seconds);
                }
    }
    // The order type decides: execute (with the floor the transaction carries), rest, or fail.
    const Decision d = f.type->decide(f.request, f.route);
    if (d.kind == Decision::Fail) {
        attemptFailed(id, QString(), d.why);
        return;
    }
    if (d.kind == Decision::Rest) {
        rest(id, d.why);
        return;
    }
    f.minAmountOut = d.floor;
    RoutingPlan routing{f.attempt, f.route.best.venue(), f.route.toEventJson(), std::nullopt};
    if (f.status == OrderStatus::Open) {
        const auto at = [&](const char *key) {
            return f.trigger.contains(QLatin1String(key))
                       ? QDateTime::fromMSecsSinceEpoch(
                             qint64(f.trigger.value(QLatin1String(key)).toDouble()), Qt::UTC)
                       : QDateTime();
        };
        routing.trigger =
            TriggerInfo{f.trigger.value(QStringLiteral("reason")).toString(QStringLiteral("price")),
                        at("poolChangedAtMs"), at("firedAtMs")};
    }
    emitEvent(
        f, OrderStatus::Routing, routing, [this, id] { onBuilt(id); }, Durability::Batch);
}

void OrderExecutor::onBuilt(const QString &id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    f.signature = transactionSignature(f.id, f.attempt);
    const RoutePlan &r = f.route;
    emitEvent(
        f, OrderStatus::Building,
        TransactionBuilt{f.attempt, r.best.venue(), r.best.typeName(), r.best.amountOut,
                         formatTokenAmount(r.best.amountOut, r.out->decimals), f.minAmountOut,
                         formatTokenAmount(f.minAmountOut, r.out->decimals),
                         f.request.slippageText()},
        [this, id] { onSubmitted(id); }, Durability::Batch);
}

void OrderExecutor::onSubmitted(const QString &id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    f.submittedAtMs = QDateTime::currentMSecsSinceEpoch();
    emitEvent(f, OrderStatus::Submitted,
              TransactionSubmitted{f.attempt, f.route.best.venue(), f.signature}, [this, id] {
                  QTimer::singleShot(m_market->executionLatencyMs(), this,
                                     [this, id] { onExecuted(id); });
              });
}

void OrderExecutor::onExecuted(const QString &id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    if (!f.route.in) {
        // Resumed after a crash: the signed transaction's floor stands; its route is priced
        // again on the pools as they are now.
        f.route = m_market->route(f.request.tokenIn, f.request.tokenOut, f.request.amount);
    }
    const DexConfig &dex = m_market->config();
    const int venue = metrics::venueIndex(f.route.best.venue());
    if (f.submittedAtMs > 0)
        metrics::registry().executionSeconds[size_t(venue)].observe(
            double(QDateTime::currentMSecsSinceEpoch() - f.submittedAtMs) / 1000.0);
    if (f.attempt <= dex.failAttempts || m_market->rollFailure()) {
        metrics::registry().venueFailures[size_t(venue)].fetch_add(1, std::memory_order_relaxed);
        attemptFailed(id, f.route.best.venue(),
                      QStringLiteral("%1 rejected the transaction (simulated venue failure)")
                          .arg(f.route.best.venue()));
        return;
    }
    land(id);
}

void OrderExecutor::attemptFailed(const QString &id, const QString &venue, const QString &error)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    if (f.type->restsOnMiss()) {
        if (expiredNow(f)) {
            expire(id);
            return;
        }
        emitEvent(f, OrderStatus::Open, RestingOrderData{f.request, {}, f.attempt, venue, error},
                  [this, id] { finish(id, Settle::Park, 0); });
        return;
    }
    if (f.attempt < m_settings.maxAttempts) {
        const qint64 delay =
            qint64(m_settings.retryBackoffMs) * (qint64(1) << qMin(20, f.attempt - 1));
        emitEvent(f, OrderStatus::Pending, RetryScheduled{f.attempt, venue, error, delay},
                  [this, id, delay] { finish(id, Settle::Retry, delay); });
    } else {
        emitEvent(f, OrderStatus::Failed, FailureReport{f.attempt, f.attempt, venue, error},
                  [this, id] { finish(id, Settle::Fail, 0); });
    }
}

void OrderExecutor::resumeSubmitted(const QString &id)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    const auto landed = m_chain->lookup(it->signature);
    if (!landed) {
        QTimer::singleShot(500, this, [this, id] { resumeSubmitted(id); });
        return;
    }
    if (*landed) {
        confirm(id, **landed, true);
        return;
    }
    QTimer::singleShot(m_market->executionLatencyMs(), this, [this, id] { onExecuted(id); });
}

void OrderExecutor::land(const QString &id)
{
    if (!m_toLand.contains(id))
        m_toLand.append(id);
    if (!m_landTimer.isActive())
        m_landTimer.start(0);
}

void OrderExecutor::landBatch()
{
    QStringList ids;
    QList<SimulatedChain::Request> requests;
    for (const QString &id : std::as_const(m_toLand)) {
        auto it = m_inFlight.find(id);
        if (it == m_inFlight.end())
            continue;
        if (!it->route.ok()) {
            attemptFailed(id, QString(), it->route.error());
            continue;
        }
        ids << id;
        requests.append(SimulatedChain::Request{it->signature, &it->route, it->minAmountOut});
    }
    m_toLand.clear();
    if (requests.isEmpty())
        return;
    const auto landings = m_chain->executeBatch(requests, m_market);
    if (!landings) {
        // Redis unreachable: the chain's answer is unknown; ask again (same signatures).
        for (const QString &id : std::as_const(ids))
            QTimer::singleShot(500, this, [this, id] { land(id); });
        return;
    }
    for (qsizetype i = 0; i < ids.size(); ++i) {
        const QString &id = ids[i];
        const SimulatedChain::Landing &landing = (*landings)[i];
        auto it = m_inFlight.find(id);
        if (it == m_inFlight.end())
            continue;
        if (!landing.fill.ok) {
            attemptFailed(id, it->route.best.venue(), landing.fill.error);
            continue;
        }
        if (m_settings.chaosCrashAfterLandings > 0 && !landing.duplicate) {
            static std::atomic<int> landed{0};
            if (++landed == m_settings.chaosCrashAfterLandings) {
                qCCritical(lcQueue, "chaos: killing the process after landing %s",
                           qPrintable(it->signature));
                ::kill(::getpid(), SIGKILL);
            }
        }
        confirm(id, landing.fill, landing.duplicate);
    }
}

void OrderExecutor::confirm(const QString &id, const Fill &fill, bool alreadyLanded)
{
    auto it = m_inFlight.find(id);
    if (it == m_inFlight.end())
        return;
    InFlight &f = *it;
    const Token *in = TokenRegistry::instance().bySymbol(fill.tokenIn);
    QString venue = f.route.in ? f.route.best.venue() : QString();
    if (venue.isEmpty() && !fill.legs.isEmpty())
        venue = fill.legs.first().toObject().value(QStringLiteral("venue")).toString();
    const FillReport fillReport{f.attempt,
                                venue,
                                f.signature,
                                fill.amountIn,
                                formatTokenAmount(fill.amountIn, in ? in->decimals : 0),
                                fill.amountOut,
                                fill.amountOutText(),
                                fill.executedPriceText(),
                                fill.legs,
                                alreadyLanded};
    emitEvent(f, OrderStatus::Confirmed, fillReport,
              [this, id] { finish(id, Settle::Complete, 0); });
}

void OrderExecutor::emitEvent(InFlight &order, OrderStatus status, EventData data,
                              std::function<void()> next, Durability durability)
{
    if (!canFollow(order.status, status)) {
        // A bug, never a client's doing: refuse it, say so, and end the order in a valid state.
        qCCritical(lcQueue, "order %s: refused the impossible transition %s -> %s",
                   qPrintable(order.id), qPrintable(statusName(order.status)),
                   qPrintable(statusName(status)));
        if (isTerminal(order.status) || status == OrderStatus::Failed) {
            finish(order.id, Settle::Complete, 0);
            return;
        }
        status = OrderStatus::Failed;
        data = FailureReport{order.attempt,
                             0,
                             {},
                             QStringLiteral("internal error: refused an impossible status change")};
        next = [this, id = order.id] { finish(id, Settle::Fail, 0); };
        durability = Durability::Wait;
    }
    const qint64 nowMs = QDateTime::currentMSecsSinceEpoch();
    if (order.statusSinceMs > 0 && !isTerminal(order.status))
        metrics::registry().statusSeconds[size_t(int(order.status))].observe(
            double(nowMs - order.statusSinceMs) / 1000.0);
    order.statusSinceMs = nowMs;
    if (isTerminal(status) && order.createdAtMs > 0)
        metrics::registry().orderSeconds.observe(double(nowMs - order.createdAtMs) / 1000.0);
    order.status = status;
    OrderEvent e;
    e.orderId = order.id;
    e.seq = ++order.seq;
    e.status = status;
    e.setPayload(std::move(data));
    e.at = QDateTime::fromMSecsSinceEpoch(nowMs, Qt::UTC); // the clock read once per change
    e.fence = order.fence;
    if (durability == Durability::Batch) {
        m_writer->append(e, {});
        then(std::move(next));
    } else {
        m_writer->append(e, std::move(next));
    }
}

} // namespace oee
