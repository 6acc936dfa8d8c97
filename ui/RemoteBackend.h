#pragma once
#include "Backend.h"

#include <QNetworkAccessManager>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

namespace oee::ui {

// An engine elsewhere, started with --server: `oee --connect http://host:3000 [--api-key K]`.
// Orders, events, actions and reads go over its REST API; status changes come over
// /ws/orders?batch=1, resumed after a disconnect with ?since=<the last eventId seen> so nothing
// is missed or repeated; the quote chart prices on a copy of the pools read from GET /api/pools
// every second; the switches from GET /api/control. Reconnects by itself (1 s, doubling to 8 s).
class RemoteBackend : public Backend
{
    Q_OBJECT
public:
    RemoteBackend(const QUrl &base, const QString &apiKey, QObject *parent = nullptr);
    ~RemoteBackend() override;

    Market *market() override { return m_market.get(); }
    Controls *controls() override { return m_controls.get(); }
    QString restUrl() const override;
    QString wsUrl() const override;
    QString rateLimit() const override { return m_rateLimit; }
    bool isRemote() const override { return true; }
    bool isConnected() const override { return m_connected; }
    QString connectionState() const override { return m_state; }
    [[nodiscard]] qint64 lastEventId() const { return m_lastEventId; }
    [[nodiscard]] int reconnects() const { return m_reconnects; }

    void submit(const QJsonObject &order, const OrderRequest &request, QObject *context,
                std::function<void(const SubmitResult &)> done) override;
    void cancel(const QString &orderId, QObject *context,
                std::function<void(const Ingest::CancelResult &)> done) override;
    void launch(const QJsonObject &body, const LaunchSpec &spec, QObject *context,
                std::function<void(const Ingest::LaunchReply &)> done) override;
    void control(const ControlAction &action, QObject *context,
                 std::function<void(const ControlReply &)> done) override;
    void retry(const QString &orderId, QObject *context,
               std::function<void(const Ingest::RetryResult &)> done) override;
    void fetchOrderEvents(const QString &orderId, QObject *context,
                          std::function<void(const QList<oee::OrderEvent> &)> done) override;
    void fetchRecentOrders(int limit, QObject *context,
                           std::function<void(const QList<oee::Order> &)> done) override;
    void fetchQueueCounts(QObject *context, std::function<void(const QueueCounts &)> done) override;
    void
    checkHealth(QObject *context,
                std::function<void(bool, const QString &, bool, const QString &)> done) override;
    void fetchActions(int limit, QObject *context,
                      std::function<void(const QList<oee::OperatorAction> &)> done) override;

private:
    // One HTTP call; `done` gets the status (0: no answer), the JSON body and the error text.
    using Reply = std::function<void(int status, const QJsonDocument &body, const QString &error)>;
    void call(const QByteArray &method, const QString &path, const QJsonObject *body,
              QObject *context, Reply done);
    void openStream();
    void onStreamText(const QString &text);
    void setConnected(bool up, const QString &state);
    void pollPools();
    void pollControls();

    QUrl m_base;
    QString m_apiKey;
    QNetworkAccessManager m_nam;
    QWebSocket m_ws;
    std::unique_ptr<Market> m_market;
    std::unique_ptr<Controls> m_controls;
    QTimer m_reconnect;
    QTimer m_poll;
    qint64 m_lastEventId = 0;
    int m_backoffMs = 1000;
    int m_reconnects = 0;
    bool m_connected = false;
    bool m_everConnected = false;
    QString m_state = QStringLiteral("connecting…");
    QString m_rateLimit = QStringLiteral("rate limit: ?");
};

// An order row as GET /api/orders and the stream snapshot give it.
[[nodiscard]] Order orderFromJson(const QJsonObject &o);
// ControlState from GET /api/control.
[[nodiscard]] ControlState controlStateFromJson(const QJsonObject &o);

} // namespace oee::ui
