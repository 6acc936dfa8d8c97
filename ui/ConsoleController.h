#pragma once
#include "Backend.h"
#include "OrdersModel.h"
#include "QueueMonitor.h"
#include "QuoteFeed.h"
#include "VenueStats.h"

#include <QObject>
#include <QStringList>
#include <QTimer>

#include "runtime/Controls.h"

namespace oee::ui {

// What the QML console binds to: the engine's models and actions, in process (never HTTP).
class ConsoleController : public QObject
{
    Q_OBJECT
    Q_PROPERTY(oee::ui::OrdersModel *orders READ orders CONSTANT)
    Q_PROPERTY(oee::ui::OrderFilter *filteredOrders READ filteredOrders CONSTANT)
    Q_PROPERTY(oee::ui::EventsModel *history READ history CONSTANT)
    Q_PROPERTY(oee::ui::QuoteFeed *quotes READ quotes CONSTANT)
    Q_PROPERTY(oee::ui::QueueMonitor *queue READ queue CONSTANT)
    Q_PROPERTY(oee::ui::LatencyHistogram *latency READ latency CONSTANT)
    Q_PROPERTY(QStringList tokens READ tokens NOTIFY tokensChanged)
    Q_PROPERTY(oee::ui::OrderFilter *openOrders READ openOrders CONSTANT)
    Q_PROPERTY(QStringList launches READ launches NOTIFY tokensChanged)
    Q_PROPERTY(QVariantList limitLevels READ limitLevels NOTIFY limitLevelsChanged)
    Q_PROPERTY(QString restUrl READ restUrl CONSTANT)
    Q_PROPERTY(QString wsUrl READ wsUrl CONSTANT)
    Q_PROPERTY(QString rateLimit READ rateLimit NOTIFY connectionChanged)
    Q_PROPERTY(bool redisUp READ redisUp NOTIFY healthChanged)
    Q_PROPERTY(bool postgresUp READ postgresUp NOTIFY healthChanged)
    Q_PROPERTY(QString redisState READ redisState NOTIFY healthChanged)
    Q_PROPERTY(QString postgresState READ postgresState NOTIFY healthChanged)
    Q_PROPERTY(QString lastMessage READ lastMessage NOTIFY lastMessageChanged)
    // The operator's switches (Controls), live from every process.
    Q_PROPERTY(bool paused READ paused NOTIFY controlsChanged)
    Q_PROPERTY(QString pausedReason READ pausedReason NOTIFY controlsChanged)
    Q_PROPERTY(QVariantList venues READ venues NOTIFY controlsChanged) // [{name, routing}]
    Q_PROPERTY(QString volatility READ volatility NOTIFY controlsChanged)
    Q_PROPERTY(oee::ui::VenueStats *venueStats READ venueStats CONSTANT)
    // The audit trail, newest first: [{time, action, target, detail, source}].
    Q_PROPERTY(QVariantList actions READ actions NOTIFY actionsChanged)
    // The lower-left tab shown first (OEE_CONSOLE_TAB: 0 queue, 1 lifecycles, 2 venues, 3 audit).
    Q_PROPERTY(int startTab READ startTab CONSTANT)
    // Attached to a remote engine (--connect), and whether its stream is up.
    Q_PROPERTY(bool remote READ remote CONSTANT)
    Q_PROPERTY(bool connected READ connected NOTIFY connectionChanged)
    Q_PROPERTY(QString connectionState READ connectionState NOTIFY connectionChanged)
public:
    explicit ConsoleController(Backend *backend, QObject *parent = nullptr);

    // `amount` as the operator typed it (token units, read exactly).
    Q_INVOKABLE void submit(const QString &tokenIn, const QString &tokenOut, const QString &amount,
                            double slippage);
    Q_INVOKABLE void burst(int count, const QString &tokenIn, const QString &tokenOut,
                           const QString &amount, double slippage);
    Q_INVOKABLE void selectOrder(const QString &orderId);
    // Any order type: `price` is the limit price (limit, tokenOut per tokenIn) or the maximum
    // price (sniper, tokenIn per tokenOut; empty: none); ttlSeconds 0: no expiry.
    Q_INVOKABLE void submitOrder(const QString &orderType, const QString &tokenIn,
                                 const QString &tokenOut, const QString &amount, double slippage,
                                 const QString &price, int ttlSeconds);
    Q_INVOKABLE void cancel(const QString &orderId);
    // A simulated token launch: `symbol` and its first pool against `quoteToken`.
    Q_INVOKABLE void launch(const QString &symbol, const QString &quoteToken, const QString &price);

    // Operator actions (each audited; the same as the REST endpoints under /api/control).
    Q_INVOKABLE void pauseIntake(const QString &reason = {});
    Q_INVOKABLE void resumeIntake();
    Q_INVOKABLE void killSwitch();
    Q_INVOKABLE void setVenueRouting(const QString &venue, bool routing);
    Q_INVOKABLE void setVolatility(const QString &volatility);
    Q_INVOKABLE void retry(const QString &orderId);
    Q_INVOKABLE void copyText(const QString &text);

    [[nodiscard]] bool paused() const;
    [[nodiscard]] QString pausedReason() const;
    [[nodiscard]] QVariantList venues() const;
    [[nodiscard]] QString volatility() const;
    [[nodiscard]] VenueStats *venueStats() { return &m_venueStats; }
    [[nodiscard]] QVariantList actions() const { return m_actions; }
    [[nodiscard]] bool remote() const { return m_backend->isRemote(); }
    [[nodiscard]] bool connected() const { return m_backend->isConnected(); }
    [[nodiscard]] QString connectionState() const { return m_backend->connectionState(); }
    [[nodiscard]] static int startTab()
    {
        return qBound(0, qEnvironmentVariableIntValue("OEE_CONSOLE_TAB"), 3);
    }
    [[nodiscard]] OrdersModel *orders() { return &m_orders; }
    [[nodiscard]] OrderFilter *filteredOrders() { return &m_filter; }
    [[nodiscard]] OrderFilter *openOrders() { return &m_open; }
    [[nodiscard]] QStringList launches() const { return m_launches; }
    // Open limit orders on the quote chart's pair: their prices (display only).
    [[nodiscard]] QVariantList limitLevels() const { return m_limitLevels; }
    [[nodiscard]] EventsModel *history() { return &m_history; }
    [[nodiscard]] QuoteFeed *quotes() { return &m_quotes; }
    [[nodiscard]] QueueMonitor *queue() { return &m_queue; }
    [[nodiscard]] LatencyHistogram *latency() { return &m_latency; }
    [[nodiscard]] QStringList tokens() const;
    [[nodiscard]] QString restUrl() const;
    [[nodiscard]] QString wsUrl() const;
    [[nodiscard]] QString rateLimit() const;
    [[nodiscard]] bool redisUp() const { return m_redisUp; }
    [[nodiscard]] bool postgresUp() const { return m_postgresUp; }
    [[nodiscard]] QString redisState() const { return m_redisState; }
    [[nodiscard]] QString postgresState() const { return m_postgresState; }
    [[nodiscard]] QString lastMessage() const { return m_lastMessage; }

signals:
    void healthChanged();
    void lastMessageChanged();
    void tokensChanged();
    void limitLevelsChanged();
    void controlsChanged();
    void connectionChanged();
    void actionsChanged();

private:
    void setMessage(const QString &message);
    void control(ControlAction action, const QString &done);
    void refreshActions();
    void submitParsed(const QJsonObject &order, int count);

    Backend *m_backend;
    OrdersModel m_orders;
    OrderFilter m_filter;
    OrderFilter m_open;
    QStringList m_launches; // "HH:mm:ss SYMBOL on pool", newest first
    QVariantList m_limitLevels;
    void refreshLimitLevels();
    EventsModel m_history;
    QuoteFeed m_quotes;
    QueueMonitor m_queue;
    LatencyHistogram m_latency;
    bool m_redisUp = false;
    bool m_postgresUp = false;
    QString m_redisState = QStringLiteral("checking…");
    QString m_postgresState = QStringLiteral("checking…");
    QString m_lastMessage;
    QTimer m_healthTimer{this};
    QTimer m_applyTimer{this};
    QList<OrderEvent> m_pendingEvents;
    VenueStats m_venueStats;
    QVariantList m_actions;
    QTimer m_actionsTimer{this};
};

} // namespace oee::ui
