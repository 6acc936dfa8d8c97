#pragma once
#include "Engine.h"
#include "runtime/LocalRedisCluster.h"
#include "runtime/ManagedServers.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QNetworkAccessManager>
#include <QProcess>
#include <QSqlDatabase>
#include <QTemporaryDir>
#include <QWebSocket>
#include <memory>
#include <optional>

namespace oee::test {

// Real redis-server and PostgreSQL for one test executable, in a throwaway directory.
class TestServers
{
public:
    TestServers();
    ~TestServers();
    bool start(QString *error);
    [[nodiscard]] QString redisUrl() const { return m_redisUrl; }
    [[nodiscard]] QString databaseUrl() const { return m_databaseUrl; }
    [[nodiscard]] ManagedServers &servers() { return *m_servers; }
    // OEE_TEST_REDIS=cluster: Redis is a real 3-master Redis Cluster on loopback.
    [[nodiscard]] static bool clusterMode();
    [[nodiscard]] LocalRedisCluster *cluster() { return m_cluster.get(); }
    // Empties Redis and the order tables between test cases.
    bool reset(QString *error);
    // Runs one SQL query on a test-side connection; returns the first column of each row.
    QStringList sql(const QString &query);
    qint64 count(const QString &query);

private:
    QTemporaryDir m_dir;
    std::unique_ptr<ManagedServers> m_servers;
    std::unique_ptr<LocalRedisCluster> m_cluster;
    QString m_redisUrl;
    QString m_databaseUrl;
};

struct HttpResult
{
    int status = 0;
    QByteArray body;
    QMap<QByteArray, QByteArray> headers; // lower-case names (QNetworkAccessManager calls only)
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

// Blocking HTTP calls that spin the event loop, so an in-process engine keeps serving.
class Http
{
public:
    explicit Http(quint16 port) : m_port(port) {}
    HttpResult get(const QString &path);
    HttpResult post(const QString &path, const QByteArray &body,
                    const QByteArray &contentType = "application/json");
    HttpResult raw(const QByteArray &request); // a raw request over a fresh TCP connection
    // Takes the first whole answer (its head and its Content-Length body) off `received`;
    // nullopt while it is incomplete.
    static std::optional<HttpResult> takeAnswer(QByteArray &received);
    HttpResult del(const QString &path);
    QString submit(const QJsonObject &order); // POST /api/orders/execute → orderId ("" on error)

private:
    HttpResult wait(class QNetworkReply *reply);
    quint16 m_port;
    QNetworkAccessManager m_nam;
};

// A WebSocket client that records every message it receives.
class WsClient : public QObject
{
    Q_OBJECT
public:
    explicit WsClient(const QString &url);
    bool waitConnected(int timeoutMs = 10000);
    // Waits until the predicate holds over the received messages.
    bool waitFor(const std::function<bool(const QList<QJsonObject> &)> &done,
                 int timeoutMs = 30000);
    [[nodiscard]] const QList<QJsonObject> &messages() const { return m_messages; }
    [[nodiscard]] QWebSocket &socket() { return m_socket; }
    // Waits until the server has closed the connection; true if it did.
    bool waitClosed(int timeoutMs = 30000);

private:
    QWebSocket m_socket;
    QList<QJsonObject> m_messages;
};

// Polls a condition (which may have side effects: it runs until it first holds, unlike QTRY_*,
// which evaluates its expression once more at the end) with a generous deadline.
bool waitUntil(const std::function<bool()> &condition, int timeoutMs = 30000);

// A loopback port nobody listens on right now.
quint16 freePort();

// Starts the real `oee --server` (OEE_BINARY) on a free port with its private servers under
// dataDir and the given extra environment; returns the port (1 for the worker role, which
// serves no HTTP), 0 on failure.
quint16 launchOee(QProcess &process, const QString &dataDir,
                  const QMap<QString, QString> &environment);

// A SOL → USDC market order of `amount` SOL, as a client submits it.
QJsonObject order(double amount = 1);

// An in-process engine, started (a test that cannot start one has nothing to test: qFatal).
std::unique_ptr<Engine> startedEngine(const Config &config);

// Engine configuration for tests: private servers given by URL, any free port, no latency.
Config fastConfig(const TestServers &servers);
// A QStringList from ASCII literals (QT_NO_CAST_FROM_ASCII: no implicit const char * → QString).
QStringList latin1List(std::initializer_list<const char *> items);

// Statuses of the "status" messages of one order in the order received.
QStringList statusesOf(const QList<QJsonObject> &messages, const QString &orderId = {});

} // namespace oee::test
