#include "Backend.h"

#include "Engine.h"

namespace oee::ui {

QString rateLimitText(int perWindow, int windowMs)
{
    if (perWindow <= 0)
        return QStringLiteral("no rate limit");
    return QStringLiteral("%1 orders / %2 s").arg(perWindow).arg(windowMs / 1000.0);
}

LocalBackend::LocalBackend(Engine *engine, QObject *parent) : Backend(parent), m_engine(engine)
{
    // Connecting here is what tells the engine someone listens (Engine::connectNotify).
    connect(engine, &Engine::orderEvents, this, &Backend::orderEvents);
}

Market *LocalBackend::market()
{
    return m_engine->market();
}

Controls *LocalBackend::controls()
{
    return m_engine->controls();
}

QString LocalBackend::restUrl() const
{
    return m_engine->restUrl();
}

QString LocalBackend::wsUrl() const
{
    return m_engine->wsUrl();
}

QString LocalBackend::rateLimit() const
{
    return rateLimitText(m_engine->config().ratePerWindow, m_engine->config().rateWindowMs);
}

quint32 LocalBackend::defaultSlippagePpm() const
{
    return m_engine->config().defaultSlippagePpm;
}

int LocalBackend::maxBodyBytes() const
{
    return m_engine->config().maxBodyBytes;
}

void LocalBackend::submit(const QJsonObject &, const OrderRequest &request, QObject *context,
                          std::function<void(const SubmitResult &)> done)
{
    m_engine->submitOrder(request, context, std::move(done));
}

void LocalBackend::cancel(const QString &orderId, QObject *context,
                          std::function<void(const Ingest::CancelResult &)> done)
{
    m_engine->cancelOrder(orderId, context, std::move(done));
}

void LocalBackend::launch(const QJsonObject &, const LaunchSpec &spec, QObject *context,
                          std::function<void(const Ingest::LaunchReply &)> done)
{
    m_engine->launchToken(spec, context, std::move(done));
}

void LocalBackend::control(const ControlAction &action, QObject *context,
                           std::function<void(const ControlReply &)> done)
{
    m_engine->control(action, context, std::move(done));
}

void LocalBackend::retry(const QString &orderId, QObject *context,
                         std::function<void(const Ingest::RetryResult &)> done)
{
    m_engine->retryOrder(orderId, context, std::move(done));
}

void LocalBackend::fetchOrderEvents(const QString &orderId, QObject *context,
                                    std::function<void(const QList<OrderEvent> &)> done)
{
    m_engine->fetchOrderEvents(orderId, context, std::move(done));
}

void LocalBackend::fetchRecentOrders(int limit, QObject *context,
                                     std::function<void(const QList<Order> &)> done)
{
    m_engine->fetchRecentOrders(limit, context, std::move(done));
}

void LocalBackend::fetchQueueCounts(QObject *context, std::function<void(const QueueCounts &)> done)
{
    m_engine->fetchQueueCounts(context, std::move(done));
}

void LocalBackend::checkHealth(
    QObject *context, std::function<void(bool, const QString &, bool, const QString &)> done)
{
    m_engine->checkHealth(context, std::move(done));
}

void LocalBackend::fetchActions(int limit, QObject *context,
                                std::function<void(const QList<OperatorAction> &)> done)
{
    m_engine->fetchActions(limit, context, std::move(done));
}

} // namespace oee::ui
