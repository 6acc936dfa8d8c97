#include "ConsoleController.h"

#include "dex/Market.h"
#include "domain/OrderRequest.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTime>
#include <memory>

namespace oee::ui {

ConsoleController::ConsoleController(Backend *backend, QObject *parent)
    : QObject(parent), m_backend(backend), m_quotes(backend->market()), m_queue(backend)
{
    m_filter.setSourceModel(&m_orders);
    m_open.setSourceModel(&m_orders);
    m_open.setStatus(QStringLiteral("open"));
    connect(backend->market()->signalsObject(), &MarketSignals::launched, this,
            [this](const QString &symbol, const QString &, const QString &poolId) {
                m_launches.prepend(
                    QStringLiteral("%1  %2 launched (%3)")
                        .arg(QTime::currentTime().toString(QStringLiteral("HH:mm:ss")), symbol,
                             poolId));
                while (m_launches.size() > 20)
                    m_launches.removeLast();
                emit tokensChanged();
            });
    // Events are applied to the models at most 10 times a second: under load thousands arrive
    // per second, and each model change costs a re-render.
    connect(backend, &Backend::orderEvents, this, [this](const QList<OrderEvent> &events) {
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
        m_venueStats.applyEvents(events);
        refreshLimitLevels();
    });
    connect(&m_quotes, &QuoteFeed::pairChanged, this, &ConsoleController::refreshLimitLevels);
    connect(&m_orders, &OrdersModel::orderFinished, this,
            [this](const QString &, bool confirmed, qint64 latencyMs) {
                m_latency.add(latencyMs);
                m_queue.orderFinished(confirmed);
            });
    // The switches: changed by this console, by REST, or by another process (read with the
    // pools); `changed` comes from whichever thread applied it.
    connect(
        backend->controls(), &Controls::changed, this,
        [this] {
            m_venueStats.setDisabled(m_backend->controls()->state().disabledVenues);
            emit controlsChanged();
            refreshActions();
        },
        Qt::QueuedConnection);
    m_venueStats.setDisabled(backend->controls()->state().disabledVenues);
    // Remote: the connection's state shows; after a reconnect that could not resume, the
    // orders are read again.
    connect(backend, &Backend::connectionChanged, this, &ConsoleController::connectionChanged);
    connect(backend, &Backend::resynced, this, [this] {
        m_backend->fetchRecentOrders(200, this,
                                     [this](const QList<Order> &orders) { m_orders.seed(orders); });
    });
    connect(&m_actionsTimer, &QTimer::timeout, this, &ConsoleController::refreshActions);
    m_actionsTimer.start(5000);
    refreshActions();
    backend->fetchRecentOrders(200, this,
                               [this](const QList<Order> &orders) { m_orders.seed(orders); });
    const auto checkHealth = [this] {
        m_backend->checkHealth(
            this, [this](bool redisUp, const QString &redis, bool pgUp, const QString &pg) {
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
    return m_backend->restUrl();
}

QString ConsoleController::wsUrl() const
{
    return m_backend->wsUrl();
}

QString ConsoleController::rateLimit() const
{
    return m_backend->rateLimit();
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
    submitParsed(QJsonObject{{QStringLiteral("tokenIn"), tokenIn},
                             {QStringLiteral("tokenOut"), tokenOut},
                             {QStringLiteral("amount"), amount},
                             {QStringLiteral("slippage"), slippage}},
                 count);
}

void ConsoleController::submitOrder(const QString &orderType, const QString &tokenIn,
                                    const QString &tokenOut, const QString &amount, double slippage,
                                    const QString &price, int ttlSeconds)
{
    QJsonObject o{{QStringLiteral("orderType"), orderType},
                  {QStringLiteral("tokenIn"), tokenIn},
                  {QStringLiteral("tokenOut"), tokenOut},
                  {QStringLiteral("amount"), amount},
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
    const auto parsed =
        parseOrderRequest(QJsonDocument(order).toJson(QJsonDocument::Compact), "application/json",
                          m_backend->defaultSlippagePpm(), m_backend->maxBodyBytes());
    if (const auto *e = std::get_if<ApiError>(&parsed)) {
        setMessage(e->message);
        return;
    }
    const int n = qBound(1, count, 1000);
    auto accepted = std::make_shared<int>(0);
    auto answered = std::make_shared<int>(0);
    for (int i = 0; i < n; ++i) {
        m_backend->submit(
            order, std::get<OrderRequest>(parsed), this,
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
    m_backend->cancel(orderId, this, [this, orderId](const Ingest::CancelResult &r) {
        if (!r.ok)
            setMessage(QStringLiteral("cancel failed: ") + r.error);
        else if (r.cancelled)
            setMessage(QStringLiteral("order %1 cancelled").arg(orderId.left(8)));
        else if (r.current)
            setMessage(
                QStringLiteral("order %1 is %2: only a pending or open order can be cancelled")
                    .arg(orderId.left(8), statusName(*r.current)));
        else
            setMessage(QStringLiteral("no order %1").arg(orderId.left(8)));
    });
}

void ConsoleController::launch(const QString &symbol, const QString &quoteToken,
                               const QString &price)
{
    QJsonObject o{{QStringLiteral("symbol"), symbol.trimmed()},
                  {QStringLiteral("quoteToken"), quoteToken}};
    if (!price.trimmed().isEmpty())
        o.insert(QStringLiteral("price"), price.trimmed());
    const auto spec = parseLaunchSpec(o);
    if (const auto *e = std::get_if<ApiError>(&spec)) {
        setMessage(e->message);
        return;
    }
    m_backend->launch(o, std::get<LaunchSpec>(spec), this, [this](const Ingest::LaunchReply &r) {
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
        m_backend->fetchOrderEvents(orderId, this,
                                    [this, orderId](const QList<OrderEvent> &events) {
                                        if (m_history.orderId() == orderId)
                                            m_history.show(orderId, events);
                                    });
    }
}

bool ConsoleController::paused() const
{
    return m_backend->controls()->paused();
}

QString ConsoleController::pausedReason() const
{
    return m_backend->controls()->state().pausedReason;
}

QVariantList ConsoleController::venues() const
{
    QVariantList out;
    for (const QJsonValue &v :
         m_backend->controls()->toJson().value(QStringLiteral("venues")).toArray())
        out << v.toObject().toVariantMap();
    return out;
}

QString ConsoleController::volatility() const
{
    return m_backend->controls()
        ->toJson()
        .value(QStringLiteral("simulator"))
        .toObject()
        .value(QStringLiteral("volatility"))
        .toString();
}

void ConsoleController::refreshActions()
{
    m_backend->fetchActions(50, this, [this](const QList<OperatorAction> &actions) {
        QVariantList list;
        for (const OperatorAction &a : actions) {
            QStringList detail;
            for (auto it = a.detail.constBegin(); it != a.detail.constEnd(); ++it)
                detail << it.key() + QLatin1Char('=') + it.value().toVariant().toString();
            list << QVariantMap{
                {QStringLiteral("time"), a.at.toLocalTime().toString(QStringLiteral("hh:mm:ss"))},
                {QStringLiteral("action"), a.action},
                {QStringLiteral("target"), a.target.size() == 36 ? a.target.left(8) : a.target},
                {QStringLiteral("detail"), detail.join(QStringLiteral(" "))},
                {QStringLiteral("source"), a.source}};
        }
        if (list != m_actions) {
            m_actions = list;
            emit actionsChanged();
        }
    });
}

void ConsoleController::control(ControlAction action, const QString &done)
{
    action.source = QStringLiteral("console");
    m_backend->control(action, this, [this, done](const ControlReply &r) {
        if (!r.ok) {
            setMessage(r.error.message);
            return;
        }
        setMessage(
            r.cancelled.isEmpty()
                ? done
                : QStringLiteral("%1; %2 order(s) cancelled").arg(done).arg(r.cancelled.size()));
        emit controlsChanged();
        refreshActions();
    });
}

void ConsoleController::pauseIntake(const QString &reason)
{
    ControlAction a;
    a.kind = ControlAction::Kind::Pause;
    a.reason =
        reason.trimmed().isEmpty() ? QStringLiteral("paused from the console") : reason.trimmed();
    control(a, QStringLiteral("intake paused: new orders are refused, orders in flight finish"));
}

void ConsoleController::resumeIntake()
{
    ControlAction a;
    a.kind = ControlAction::Kind::Resume;
    control(a, QStringLiteral("intake resumed"));
}

void ConsoleController::killSwitch()
{
    ControlAction a;
    a.kind = ControlAction::Kind::Kill;
    a.reason = QStringLiteral("kill switch");
    control(a, QStringLiteral("kill switch: intake paused"));
}

void ConsoleController::setVenueRouting(const QString &venue, bool routing)
{
    ControlAction a;
    a.kind = ControlAction::Kind::Venue;
    a.venue = venue;
    a.enabled = routing;
    control(a, routing ? QStringLiteral("%1 routes again").arg(venue)
                       : QStringLiteral("%1 taken out of routing").arg(venue));
}

void ConsoleController::setVolatility(const QString &volatility)
{
    ControlAction a;
    a.kind = ControlAction::Kind::Volatility;
    // The REST body's rules, so the console refuses what the API refuses.
    const QByteArray body =
        QJsonDocument(QJsonObject{{QStringLiteral("volatility"), volatility.trimmed()}}).toJson();
    if (const auto error = parseControlBody(body, &a)) {
        setMessage(error->message);
        return;
    }
    control(a, QStringLiteral("volatility set to %1").arg(a.volatility));
}

void ConsoleController::retry(const QString &orderId)
{
    if (orderId.isEmpty())
        return;
    m_backend->retry(orderId, this, [this, orderId](const Ingest::RetryResult &r) {
        if (!r.submit.ok) {
            setMessage(QStringLiteral("retry of %1 refused: %2")
                           .arg(orderId.left(8), r.submit.error.message));
            return;
        }
        setMessage(r.submit.replayed ? QStringLiteral("%1 was already retried as %2")
                                           .arg(orderId.left(8), r.submit.orderId.left(8))
                                     : QStringLiteral("%1 retried as new order %2")
                                           .arg(orderId.left(8), r.submit.orderId.left(8)));
        refreshActions();
    });
}

void ConsoleController::copyText(const QString &text)
{
    if (QClipboard *c = QGuiApplication::clipboard())
        c->setText(text);
    setMessage(QStringLiteral("copied %1")
                   .arg(text.left(16) + (text.size() > 16 ? QStringLiteral("…") : QString())));
}

} // namespace oee::ui
