#include "ConsoleController.h"

#include "Engine.h"
#include "dex/Market.h"
#include "domain/OrderRequest.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTime>
#include <memory>

namespace oee::ui {

ConsoleController::ConsoleController(Engine *engine, QObject *parent)
    : QObject(parent), m_engine(engine), m_quotes(engine->market()), m_queue(engine)
{
    m_filter.setSourceModel(&m_orders);
    m_open.setSourceModel(&m_orders);
    m_open.setStatus(QStringLiteral("open"));
    connect(engine->market()->signalsObject(), &MarketSignals::launched, this,
            [this](const QString &symbol, const QString &, const QString &poolId) {
                m_launches.prepend(QStringLiteral("%1  %2 launched (%3)")
                                       .arg(QTime::currentTime().toString(QStringLiteral("HH:mm:ss")), symbol, poolId));
                while (m_launches.size() > 20)
                    m_launches.removeLast();
                emit tokensChanged();
            });
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
        refreshLimitLevels();
    });
    connect(&m_quotes, &QuoteFeed::pairChanged, this, &ConsoleController::refreshLimitLevels);
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

void ConsoleController::refreshLimitLevels()
{
    QVariantList levels;
    for (double p : m_orders.openLimitPrices(m_quotes.tokenIn(), m_quotes.tokenOut()))
        levels << p;
    if (levels != m_limitLevels) {
        m_limitLevels = levels;
        emit limitLevelsChanged();
    }
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
    submitParsed(QJsonObject{{QStringLiteral("tokenIn"), tokenIn}, {QStringLiteral("tokenOut"), tokenOut},
                             {QStringLiteral("amount"), amount}, {QStringLiteral("slippage"), slippage}},
                 count);
}

void ConsoleController::submitOrder(const QString &orderType, const QString &tokenIn,
                                    const QString &tokenOut, const QString &amount, double slippage,
                                    const QString &price, int ttlSeconds)
{
    QJsonObject o{{QStringLiteral("orderType"), orderType}, {QStringLiteral("tokenIn"), tokenIn},
                  {QStringLiteral("tokenOut"), tokenOut}, {QStringLiteral("amount"), amount},
                  {QStringLiteral("slippage"), slippage}};
    if (orderType == QLatin1String("limit"))
        o.insert(QStringLiteral("limitPrice"), price);
    else if (orderType == QLatin1String("sniper") && !price.trimmed().isEmpty())
        o.insert(QStringLiteral("maxPrice"), price);
    if (orderType != QLatin1String("market") && ttlSeconds > 0)
        o.insert(QStringLiteral("ttlSeconds"), ttlSeconds);
    submitParsed(o, 1);
}

void ConsoleController::submitParsed(const QJsonObject &order, int count)
{
    // The same validation as the REST API.
    const auto parsed = parseOrderRequest(QJsonDocument(order).toJson(QJsonDocument::Compact),
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

void ConsoleController::cancel(const QString &orderId)
{
    if (orderId.isEmpty())
        return;
    m_engine->cancelOrder(orderId, this, [this, orderId](const Ingest::CancelResult &r) {
        if (!r.ok)
            setMessage(QStringLiteral("cancel failed: ") + r.error);
        else if (r.cancelled)
            setMessage(QStringLiteral("order %1 cancelled").arg(orderId.left(8)));
        else if (r.current)
            setMessage(QStringLiteral("order %1 is %2: only a pending or open order can be cancelled")
                           .arg(orderId.left(8), statusName(*r.current)));
        else
            setMessage(QStringLiteral("no order %1").arg(orderId.left(8)));
    });
}

void ConsoleController::launch(const QString &symbol, const QString &quoteToken, const QString &price)
{
    QJsonObject o{{QStringLiteral("symbol"), symbol.trimmed()}, {QStringLiteral("quoteToken"), quoteToken}};
    if (!price.trimmed().isEmpty())
        o.insert(QStringLiteral("price"), price.trimmed());
    const auto spec = parseLaunchSpec(o);
    if (const auto *e = std::get_if<ApiError>(&spec)) {
        setMessage(e->message);
        return;
    }
    m_engine->launchToken(std::get<LaunchSpec>(spec), this, [this](const Ingest::LaunchReply &r) {
        if (r.launched)
            setMessage(QStringLiteral("%1 launched: pool %2, mint %3")
                           .arg(r.launched->symbol, r.launched->poolId, r.launched->mint));
        else
            setMessage(QStringLiteral("launch refused: ") + r.error);
    });
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
