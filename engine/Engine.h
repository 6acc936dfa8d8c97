#pragma once
#include "api/Ingest.h"
#include "domain/Order.h"
#include "queue/JobQueue.h"
#include "runtime/Config.h"
#include "runtime/Controls.h"

#include <QList>
#include <QObject>
#include <atomic>
#include <functional>
#include <memory>

class QThread;

namespace oee {

class HttpApi;
class EventLog;
class EventSubscriber;
class Ingest;
class ManagedServers;
class Market;
class QueryService;
class RestingBook;
class ReadPool;
class Worker;
class Handoff;
class WsHub;

// The whole engine in one object: servers (private or given by URL), migrations, the ingest,
// query and worker threads, and the HTTP/WS front on the calling thread. The console, the
// headless server and the tests all drive this class.
class Engine : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Engine)
public:
    explicit Engine(Config config, QObject *parent = nullptr);
    ~Engine() override;

    bool start(QString *error);
    // Graceful: stops taking jobs, writes what is pending, hands in-flight jobs back.
    void stop();

    [[nodiscard]] quint16 port() const { return m_port; }     // 0 in the worker role
    [[nodiscard]] quint16 wsPort() const { return m_wsPort; } // WS_PORT's bound port, or 0
    [[nodiscard]] QString restUrl() const;
    [[nodiscard]] QString wsUrl() const;
    [[nodiscard]] const Config &config() const { return m_config; }
    [[nodiscard]] QString redisUrl() const { return m_redisUrl; }
    [[nodiscard]] QString databaseUrl() const { return m_databaseUrl; }
    [[nodiscard]] Market *market() const { return m_market.get(); }
    // The resting orders' index (null in the api role).
    [[nodiscard]] RestingBook *restingBook() const { return m_book; }
    // The worker threads' objects (none in the api role), each living on its own thread.
    [[nodiscard]] const QList<Worker *> &workers() const { return m_workers; }
    // The streams' fan-out (its own thread), when this process serves HTTP.
    [[nodiscard]] WsHub *streamHub() const { return m_hub; }

    // Asynchronous access for in-process clients (the console): work runs on the engine's
    // threads, `done` is called on `context`'s thread. Never blocks the caller.
    void submitOrder(const OrderRequest &request, QObject *context,
                     std::function<void(const SubmitResult &)> done);
    void cancelOrder(const QString &orderId, QObject *context,
                     std::function<void(const Ingest::CancelResult &)> done);
    void launchToken(const LaunchSpec &spec, QObject *context,
                     std::function<void(const Ingest::LaunchReply &)> done);
    // The operator's switches (pause, venues, volatility, kill) and a failed order's retry.
    void control(ControlAction action, QObject *context,
                 std::function<void(const ControlReply &)> done);
    void retryOrder(const QString &orderId, QObject *context,
                    std::function<void(const Ingest::RetryResult &)> done);
    void fetchActions(int limit, QObject *context,
                      std::function<void(const QList<oee::OperatorAction> &)> done);
    // The switches as this process sees them (changed is emitted from other threads).
    [[nodiscard]] Controls *controls() const { return m_controls.get(); }
    void fetchOrderEvents(const QString &orderId, QObject *context,
                          std::function<void(const QList<oee::OrderEvent> &)> done);
    void fetchRecentOrders(int limit, QObject *context,
                           std::function<void(const QList<oee::Order> &)> done);
    void fetchQueueCounts(QObject *context, std::function<void(const QueueCounts &)> done);
    // (redis up, its detail, postgres up, its detail)
    void checkHealth(QObject *context,
                     std::function<void(bool, const QString &, bool, const QString &)> done);

signals:
    // Every committed status change, on the engine's thread: in the event log's order with
    // eventId where this process serves (from every process), else this process's own.
    void orderEvents(const QList<oee::OrderEvent> &events);

protected:
    void connectNotify(const QMetaMethod &signal) override;

private:
    template <typename T> T *spawn(T *object, const QString &name);

    Config m_config;
    std::unique_ptr<ManagedServers> m_servers;
    std::unique_ptr<Market> m_market;
    std::unique_ptr<Controls> m_controls;
    QString m_redisUrl;
    QString m_databaseUrl;
    QList<QThread *> m_threads;
    QList<QObject *> m_threadObjects;
    Ingest *m_ingest = nullptr;
    QList<QueryService *> m_queries;  // the read pool's threads
    QueryService *m_health = nullptr; // /health and the console's health check only
    std::unique_ptr<ReadPool> m_reads;
    QList<Worker *> m_workers;
    std::unique_ptr<Handoff> m_handoff; // the book's leased jobs for m_workers (outlives them)
    WsHub *m_hub = nullptr;
    EventLog *m_log = nullptr; // when this process serves streams
    // Someone connected to orderEvents (the console): the log emits whatever the streams do.
    std::shared_ptr<std::atomic<bool>> m_consoleListening =
        std::make_shared<std::atomic<bool>>(false);
    static constexpr int kLogPollMs = 50; // for writers that died before their hint
    EventSubscriber *m_subscriber = nullptr;
    RestingBook *m_book = nullptr;
    HttpApi *m_http = nullptr;
    QThread *m_httpThread = nullptr;
    quint16 m_port = 0;
    quint16 m_wsPort = 0;
    bool m_started = false;
};

} // namespace oee
