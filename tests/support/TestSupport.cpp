#include "TestSupport.h"

#include "queue/RedisConnection.h"
#include "store/Database.h"

#include <QJsonArray>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSqlError>
#include <QSqlQuery>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QUuid>

namespace oee::test {

TestServers::TestServers() : m_servers(std::make_unique<ManagedServers>(m_dir.path())) {}

bool TestServers::clusterMode()
{
    return qEnvironmentVariable("OEE_TEST_REDIS") == QLatin1String("cluster");
}

TestServers::~TestServers()
{
    QSqlDatabase::removeDatabase(QStringLiteral("oee-test-sql"));
    m_servers->stop();
}

bool TestServers::start(QString *error)
{
    if (!m_dir.isValid()) {
        *error = QStringLiteral("no temporary directory");
        return false;
    }
    if (clusterMode()) {
        // The same tests against a real 3-master Redis Cluster (CTest's *_cluster entries).
        m_cluster = std::make_unique<LocalRedisCluster>(m_dir.path() + QStringLiteral("/cluster"));
        if (!m_cluster->start(3, error))
            return false;
        m_redisUrl = m_cluster->url();
    } else if (!m_servers->startRedis(&m_redisUrl, error)) {
        return false;
    }
    return m_servers->startPostgres(&m_databaseUrl, error);
}

bool TestServers::reset(QString *error)
{
    QString e;
    RedisConnection redis(*RedisEndpoint::fromUrl(m_redisUrl, &e));
    for (const RedisReply &r : redis.onEveryMaster({"FLUSHALL"})) {
        if (!r.ok()) {
            *error = QString::fromUtf8(r.str);
            return false;
        }
    }
    // The schema may not exist yet (before the first engine start): ignore that.
    sql(QStringLiteral("DO $$ BEGIN IF to_regclass('orders') IS NOT NULL THEN "
                       "TRUNCATE orders, order_events; END IF; "
                       "IF to_regclass('order_status_counts') IS NOT NULL THEN "
                       "TRUNCATE order_status_counts; END IF; "
                       "IF to_regclass('operator_actions') IS NOT NULL THEN "
                       "TRUNCATE operator_actions; END IF; END $$"));
    return true;
}

QStringList TestServers::sql(const QString &query)
{
    const QString name = QStringLiteral("oee-test-sql");
    QSqlDatabase db = QSqlDatabase::database(name, false);
    if (!db.isValid()) {
        QString e;
        db = Database::open(name, *PgEndpoint::fromUrl(m_databaseUrl, &e));
    }
    Database::ensureOpen(db);
    QSqlQuery q(db);
    QStringList out;
    if (!q.exec(query)) {
        qWarning() << "test SQL failed:" << query << q.lastError().text();
        db.close();
        return {QStringLiteral("<error>")};
    }
    while (q.next())
        out << q.value(0).toString();
    return out;
}

qint64 TestServers::count(const QString &query)
{
    const QStringList rows = sql(query);
    return rows.isEmpty() ? -1 : rows.first().toLongLong();
}

HttpResult Http::wait(QNetworkReply *reply)
{
    if (!reply->isFinished()) {
        QSignalSpy spy(reply, &QNetworkReply::finished);
        spy.wait(60000);
    }
    HttpResult r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    for (const auto &[name, value] : reply->rawHeaderPairs())
        r.headers.insert(name.toLower(), value);
    reply->deleteLater();
    return r;
}

HttpResult Http::get(const QString &path)
{
    QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path)));
    return wait(m_nam.get(req));
}

HttpResult Http::post(const QString &path, const QByteArray &body, const QByteArray &contentType)
{
    QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path)));
    if (!contentType.isEmpty())
        req.setRawHeader("Content-Type", contentType);
    return wait(m_nam.post(req, body));
}

HttpResult Http::del(const QString &path)
{
    return wait(m_nam.deleteResource(
        QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path)))));
}

HttpResult Http::raw(const QByteArray &request)
{
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), m_port);
    HttpResult r;
    if (!socket.waitForConnected(10000))
        return r;
    socket.write(request);
    QByteArray data;
    QDeadlineTimer deadline(30000);
    // Read until the full body (Content-Length) has arrived.
    while (!deadline.hasExpired()) {
        QSignalSpy spy(&socket, &QTcpSocket::readyRead);
        if (socket.bytesAvailable() == 0 && !spy.wait(1000) &&
            socket.state() != QAbstractSocket::ConnectedState)
            break;
        data += socket.readAll();
        if (auto answer = takeAnswer(data)) {
            r = std::move(*answer);
            break;
        }
    }
    return r;
}

std::optional<HttpResult> Http::takeAnswer(QByteArray &received)
{
    const qsizetype headerEnd = received.indexOf("\r\n\r\n");
    if (headerEnd < 0)
        return std::nullopt;
    const QByteArray head = received.left(headerEnd).toLower();
    const qsizetype cl = head.indexOf("content-length:");
    const qsizetype length =
        cl < 0 ? 0 : head.mid(cl + 15, head.indexOf("\r\n", cl) - cl - 15).trimmed().toLongLong();
    if (received.size() < headerEnd + 4 + length)
        return std::nullopt;
    HttpResult r;
    r.status = received.mid(9, 3).toInt();
    r.body = received.mid(headerEnd + 4, length);
    received.remove(0, headerEnd + 4 + length);
    return r;
}

QString Http::submit(const QJsonObject &order)
{
    const HttpResult r = post(QStringLiteral("/api/orders/execute"),
                              QJsonDocument(order).toJson(QJsonDocument::Compact));
    if (r.status != 200 || r.json().value(QStringLiteral("orderId")).toString().isEmpty()) {
        qWarning() << "submit failed" << r.status << r.body;
        return {};
    }
    return r.json().value(QStringLiteral("orderId")).toString();
}

WsClient::WsClient(const QString &url)
{
    connect(&m_socket, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
        m_messages.append(QJsonDocument::fromJson(text.toUtf8()).object());
    });
    m_socket.open(QUrl(url));
}

bool WsClient::waitClosed(int timeoutMs)
{
    if (m_socket.state() == QAbstractSocket::UnconnectedState)
        return true;
    QSignalSpy spy(&m_socket, &QWebSocket::disconnected);
    return spy.wait(timeoutMs) || m_socket.state() == QAbstractSocket::UnconnectedState;
}

bool WsClient::waitConnected(int timeoutMs)
{
    if (m_socket.state() == QAbstractSocket::ConnectedState)
        return true;
    QSignalSpy spy(&m_socket, &QWebSocket::connected);
    return spy.wait(timeoutMs);
}

bool WsClient::waitFor(const std::function<bool(const QList<QJsonObject> &)> &done, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!done(m_messages)) {
        if (deadline.hasExpired())
            return false;
        QSignalSpy spy(&m_socket, &QWebSocket::textMessageReceived);
        spy.wait(200);
    }
    return true;
}

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

bool waitUntil(const std::function<bool()> &condition, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!condition()) {
        if (deadline.hasExpired())
            return false;
        QTest::qWait(20);
    }
    return true;
}

quint16 launchOee(QProcess &process, const QString &dataDir,
                  const QMap<QString, QString> &environment)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("REDIS_URL"));
    env.remove(QStringLiteral("DATABASE_URL"));
    env.insert(QStringLiteral("OEE_DATA_DIR"), dataDir);
    env.insert(QStringLiteral("DEX_FAILURE_RATE"), QStringLiteral("0"));
    for (auto it = environment.cbegin(); it != environment.cend(); ++it)
        env.insert(it.key(), it.value());
    process.setProcessEnvironment(env);
    process.setProgram(qEnvironmentVariable("OEE_BINARY"));
    process.setArguments(
        {QStringLiteral("--server"), QStringLiteral("--port"), QStringLiteral("0")});
    process.setProcessChannelMode(QProcess::SeparateChannels);
    process.start();
    if (!process.waitForStarted(10000))
        return 0;
    static const QRegularExpression rest(QStringLiteral("REST\\s+http://[^:]+:(\\d+)/api"));
    QByteArray out;
    QDeadlineTimer deadline(120000);
    while (!deadline.hasExpired() && process.state() == QProcess::Running) {
        process.waitForReadyRead(500);
        out += process.readAllStandardOutput();
        const auto m = rest.match(QString::fromUtf8(out));
        if (m.hasMatch())
            return quint16(m.captured(1).toUInt());
        if (out.contains("oee worker ready"))
            return 1; // the worker role serves no HTTP
    }
    qWarning() << "oee did not start:" << out << process.readAllStandardError();
    return 0;
}

QJsonObject order(double amount)
{
    return {{QStringLiteral("tokenIn"), QStringLiteral("SOL")},
            {QStringLiteral("tokenOut"), QStringLiteral("USDC")},
            {QStringLiteral("amount"), amount}};
}

std::unique_ptr<Engine> startedEngine(const Config &config)
{
    auto engine = std::make_unique<Engine>(config);
    QString error;
    if (!engine->start(&error))
        qFatal("engine did not start: %s", qPrintable(error));
    return engine;
}

Config fastConfig(const TestServers &servers)
{
    Config c;
    c.redisUrl = servers.redisUrl();
    c.databaseUrl = servers.databaseUrl();
    c.port = 0;
    c.concurrency = 50;
    c.workerThreads = 2;
    c.ratePerWindow = 0;
    c.retryBackoffMs = 50;
    c.leaseMs = 30000;
    c.dex.quoteLatencyMs = 0;
    c.dex.executionLatencyMinMs = 0;
    c.dex.executionLatencyMaxMs = 0;
    c.dex.failureRate = 0;
    c.dex.volatility = 0;
    c.dex.seed = 42;
    return c;
}

QStringList latin1List(std::initializer_list<const char *> items)
{
    QStringList out;
    for (const char *item : items)
        out << QLatin1String(item);
    return out;
}

QStringList statusesOf(const QList<QJsonObject> &messages, const QString &orderId)
{
    QStringList out;
    for (const QJsonObject &m : messages) {
        if (m.value(QStringLiteral("type")).toString() != QStringLiteral("status"))
            continue;
        if (!orderId.isEmpty() && m.value(QStringLiteral("orderId")).toString() != orderId)
            continue;
        out << m.value(QStringLiteral("status")).toString();
    }
    return out;
}

} // namespace oee::test
