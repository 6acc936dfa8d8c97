#include "ConsoleController.h"

#include "Engine.h"
#include "dex/Market.h"
#include "domain/OrderRequest.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <memory>

namespace oee::ui {

ConsoleController::ConsoleController(Engine *engine, QObject *parent)
    : QObject(parent), m_engine(engine), m_quotes(engine->market()), m_queue(engine)
{
    m_filter.setSourceModel(&m_orders);
    // Events are applied to the models at most 10 times a second: under load thousands arrive
    // per second, and each model change costs a re-render.
    connect(engine, &Engine::orderEvents, this, [this](const QList<OrderEvent> &events) {
        m_pendingEvents += events;
        if (!m_applyTimer.isActive())
            m_applyTimer.start();
    });
    m_applyTimer.setSingleShot(true);
    m_applyTimer.setInterval(100);
    connect(&m_applyTimer, &QTimer::timeout, this, [this] {
        const QList<OrderEvent> events = std::exchange(m_pendingEvents, {});
        m_orders.applyEvents(events);
        m_history.append(events);
    });
    connect(&m_orders, &OrdersModel::orderFinished, this,
            [this](const QString &, bool confirmed, qint64 latencyMs) {
                m_latency.add(latencyMs);
                m_queue.orderFinished(confirmed);
            });
    engine->fetchRecentOrders(200, this, [this](const QList<Order> &orders) { m_orders.seed(orders); });
    const auto checkHealth = [this] {
        m_engine->checkHealth(this, [this](bool redisUp, const QString &redis, bool pgUp,
                                           const QString &pg) {
            m_redisUp = redisUp;
            m_postgresUp = pgUp;
            m_redisState = redis;
            m_postgresState = pg;
            emit healthChanged();
        });
    };
    connect(&m_healthTimer, &QTimer::timeout, this, checkHealth);
    m_healthTimer.start(2000);
    checkHealth();
}

QStringList ConsoleController::tokens() const
{
    return Market::tokens();
}

QString ConsoleController::restUrl() const
{
    return m_engine->restUrl();
}

QString ConsoleController::wsUrl() const
{
    return m_engine->wsUrl();
}

QString ConsoleController::rateLimit() const
{
    const Config &c = m_engine->config();
    if (c.ratePerWindow <= 0)
        return QStringLiteral("no rate limit");
    return QStringLiteral("%1 orders / %2 s").arg(c.ratePerWindow).arg(c.rateWindowMs / 1000.0);
}

void ConsoleController::setMessage(const QString &message)
{
    m_lastMessage = message;
    emit lastMessageChanged();
}

void ConsoleController::submit(const QString &tokenIn, const QString &tokenOut,
                               const QString &amount, double slippage)
{
    burst(1, tokenIn, tokenOut, amount, slippage);
}

void ConsoleController::burst(int count, const QString &tokenIn, const QString &tokenOut,
                              const QString &amount, double slippage)
{
    // The same validation as the REST API.
    QJsonObject o{{QStringLiteral("tokenIn"), tokenIn}, {QStringLiteral("tokenOut"), tokenOut},
                  {QStringLiteral("amount"), amount}, {QStringLiteral("slippage"), slippage}};
    const auto parsed = parseOrderRequest(QJsonDocument(o).toJson(QJsonDocument::Compact),
                                          "application/json",
                                          m_engine->config().defaultSlippagePpm,
                                          m_engine->config().maxBodyBytes);
    if (const auto *e = std::get_if<ApiError>(&parsed)) {
        setMessage(e->message);
        return;
    }
    const int n = qBound(1, count, 1000);
    auto accepted = std::make_shared<int>(0);
    auto answered = std::make_shared<int>(0);
    for (int i = 0; i < n; ++i) {
        m_engine->submitOrder(std::get<OrderRequest>(parsed), this,
                              [this, n, accepted, answered](const SubmitResult &r) {
            ++*answered;
            if (r.ok)
                ++*accepted;
            else
                setMessage(r.error.message);
            if (*answered == n && *accepted == n)
                setMessage(n == 1 ? QStringLiteral("order %1 accepted").arg(r.orderId.left(8))
                                  : QStringLiteral("%1 orders accepted").arg(n));
        });
    }
}

void ConsoleController::selectOrder(const QString &orderId)
{
    const QList<OrderEvent> known = m_orders.eventsOf(orderId);
    m_history.show(orderId, known);
    if (known.isEmpty() || known.first().seq != 1) {
        // Not seen live (from before the console started): read its history.
        m_engine->fetchOrderEvents(orderId, this, [this, orderId](const QList<OrderEvent> &events) {
            if (m_history.orderId() == orderId)
                m_history.show(orderId, events);
        });
    }
}

} // namespace oee::ui
