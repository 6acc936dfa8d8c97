#pragma once
#include "api/Ingest.h"
#include "domain/Order.h"
#include "queue/JobQueue.h"
#include "runtime/Config.h"
#include "runtime/Controls.h"

#include <QJsonObject>
#include <QObject>
#include <functional>
#include <memory>

namespace oee {
class Engine;
class Market;
} // namespace oee

namespace oee::ui {

// Where the console's models get the engine from: the engine in this process (LocalBackend:
// signals and direct calls), or a remote one started with --server (RemoteBackend: its REST API
// and its resumable WebSocket stream). The same QML and the same models sit on either.
// Every callback runs on `context`'s thread (the GUI thread) and not at all if it is gone.
class Backend : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    // The market the quote chart prices on: the engine's own, or a copy kept from GET /api/pools.
    [[nodiscard]] virtual Market *market() = 0;
    // The operator's switches as last known.
    [[nodiscard]] virtual Controls *controls() = 0;
    [[nodiscard]] virtual QString restUrl() const = 0;
    [[nodiscard]] virtual QString wsUrl() const = 0;
    [[nodiscard]] virtual QString rateLimit() const = 0;
    // How the console parses what the operator typed (as the engine's REST API would).
    [[nodiscard]] virtual quint32 defaultSlippagePpm() const { return Config().defaultSlippagePpm; }
    [[nodiscard]] virtual int maxBodyBytes() const { return Config().maxBodyBytes; }
    [[nodiscard]] virtual bool isRemote() const { return false; }
    // Remote: whether the stream is up (local: always).
    [[nodiscard]] virtual bool isConnected() const { return true; }
    [[nodiscard]] virtual QString connectionState() const { return {}; }

    // `order` is the REST body the form made (the remote engine parses it), `request` the same
    // parsed here (the local engine takes it as is).
    virtual void submit(const QJsonObject &order, const OrderRequest &request, QObject *context,
                        std::function<void(const SubmitResult &)> done) = 0;
    virtual void cancel(const QString &orderId, QObject *context,
                        std::function<void(const Ingest::CancelResult &)> done) = 0;
    virtual void launch(const QJsonObject &body, const LaunchSpec &spec, QObject *context,
                        std::function<void(const Ingest::LaunchReply &)> done) = 0;
    virtual void control(const ControlAction &action, QObject *context,
                         std::function<void(const ControlReply &)> done) = 0;
    virtual void retry(const QString &orderId, QObject *context,
                       std::function<void(const Ingest::RetryResult &)> done) = 0;
    virtual void fetchOrderEvents(const QString &orderId, QObject *context,
                                  std::function<void(const QList<oee::OrderEvent> &)> done) = 0;
    virtual void fetchRecentOrders(int limit, QObject *context,
                                   std::function<void(const QList<oee::Order> &)> done) = 0;
    virtual void fetchQueueCounts(QObject *context,
                                  std::function<void(const QueueCounts &)> done) = 0;
    // (redis up, its detail, postgres up, its detail)
    virtual void
    checkHealth(QObject *context,
                std::function<void(bool, const QString &, bool, const QString &)> done) = 0;
    virtual void fetchActions(int limit, QObject *context,
                              std::function<void(const QList<oee::OperatorAction> &)> done) = 0;

signals:
    // Committed status changes, in the event log's order.
    void orderEvents(const QList<oee::OrderEvent> &events);
    void connectionChanged();
    // Remote: the stream could not resume (the log was pruned past it): reload the orders.
    void resynced();
};

// The engine in this process.
class LocalBackend : public Backend
{
    Q_OBJECT
public:
    explicit LocalBackend(Engine *engine, QObject *parent = nullptr);
    Market *market() override;
    Controls *controls() override;
    QString restUrl() const override;
    QString wsUrl() const override;
    QString rateLimit() const override;
    quint32 defaultSlippagePpm() const override;
    int maxBodyBytes() const override;
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
    Engine *m_engine;
};

// "rate limit" text from the engine's limits.
[[nodiscard]] QString rateLimitText(int perWindow, int windowMs);

} // namespace oee::ui
