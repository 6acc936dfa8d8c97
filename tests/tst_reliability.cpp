// Faults injected into a running engine: Redis and PostgreSQL outages with orders in flight,
// WebSocket clients that never read, thousands of idle connections, hostile input.
#include "TestSupport.h"

#include <QJsonArray>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <sys/resource.h>

using namespace oee;
using namespace oee::test;

class TestReliability : public QObject
{
    Q_OBJECT
    TestServers m_servers;
    std::unique_ptr<Engine> m_engine;

    void startEngine(const Config &c)
    {
        m_engine = std::make_unique<Engine>(c);
        QString error;
        QVERIFY2(m_engine->start(&error), qPrintable(error));
    }

    // Every order confirmed exactly once: one submitted transaction, one confirmation.
    void verifyExactlyOnce(int total)
    {
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM orders")), total);
        QCOMPARE(m_servers.count(
                     QStringLiteral("SELECT count(*) FROM orders WHERE status = 'confirmed'")),
                 total);
        QCOMPARE(m_servers.count(QStringLiteral(
                     "SELECT count(*) FROM order_events WHERE status = 'confirmed'")),
                 total);
        QCOMPARE(m_servers.count(QStringLiteral(
                     "SELECT count(*) FROM order_events WHERE status = 'submitted'")),
                 total);
        QCOMPARE(m_servers.count(
                     QStringLiteral("SELECT count(*) FROM orders o WHERE last_seq <> (SELECT "
                                    "count(*) FROM order_events e WHERE e.order_id = o.id)")),
                 0);
    }

    Config slowVenues()
    {
        Config c = fastConfig(m_servers);
        c.dex.executionLatencyMinMs = 800;
        c.dex.executionLatencyMaxMs = 1200;
        return c;
    }

private slots:
    void initTestCase()
    {
        // Thousands of sockets, both ends in this process.
        rlimit lim{};
        getrlimit(RLIMIT_NOFILE, &lim);
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
        QString error;
        QVERIFY2(m_servers.start(&error), qPrintable(error));
    }

    void init()
    {
        QString error;
        QVERIFY2(m_servers.reset(&error), qPrintable(error));
    }

    void cleanup() { m_engine.reset(); }

    void redisOutageWithOrdersInFlight()
    {
        startEngine(slowVenues());
        Http http(m_engine->port());
        for (int i = 0; i < 20; ++i)
            QVERIFY(!http.submit(order(1 + i)).isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(m_servers.count(QStringLiteral(
                                      "SELECT count(*) FROM orders WHERE status = 'submitted'")),
                                  20, 30000);

        m_servers.servers().stopRedis();
        const HttpResult refused =
            http.post(QStringLiteral("/api/orders/execute"), QJsonDocument(order()).toJson());
        QCOMPARE(refused.status, 503);
        QCOMPARE(refused.json().value(QStringLiteral("code")).toString(),
                 QStringLiteral("queue_unavailable"));
        QCOMPARE(http.get(QStringLiteral("/health")).status, 503);
        // The outage itself lasts longer than the executions in flight, so they land during it.
        QTest::qWait(1500);
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM orders")), 20);

        QString url, error;
        QVERIFY2(m_servers.servers().startRedis(&url, &error), qPrintable(error));
        QTRY_COMPARE_WITH_TIMEOUT(m_servers.count(QStringLiteral(
                                      "SELECT count(*) FROM orders WHERE status = 'confirmed'")),
                                  20, 60000);
        verifyExactlyOnce(20);
        QTRY_COMPARE_WITH_TIMEOUT(http.get(QStringLiteral("/health")).status, 200, 30000);
        const QJsonObject queue = http.get(QStringLiteral("/api/metrics"))
                                      .json()
                                      .value(QStringLiteral("queue"))
                                      .toObject();
        QCOMPARE(queue.value(QStringLiteral("completed")).toInt(), 20);
        QCOMPARE(queue.value(QStringLiteral("active")).toInt(), 0);
        // And it takes orders again.
        QVERIFY(!http.submit(order()).isEmpty());
    }

    void postgresOutageWithOrdersInFlight()
    {
        startEngine(slowVenues());
        Http http(m_engine->port());
        QString first;
        for (int i = 0; i < 20; ++i) {
            const QString id = http.submit(order(1 + i));
            QVERIFY(!id.isEmpty());
            if (first.isEmpty())
                first = id;
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_servers.count(QStringLiteral(
                                      "SELECT count(*) FROM orders WHERE status = 'submitted'")),
                                  20, 30000);

        m_servers.servers().stopPostgres();
        // Reads say which dependency is down.
        for (const QString &path :
             {QStringLiteral("/api/orders/") + first, QStringLiteral("/api/orders")}) {
            const HttpResult read = http.get(path);
            QCOMPARE(read.status, 503);
            QCOMPARE(read.json().value(QStringLiteral("code")).toString(),
                     QStringLiteral("database_unavailable"));
        }
        const HttpResult refused =
            http.post(QStringLiteral("/api/orders/execute"), QJsonDocument(order()).toJson());
        QCOMPARE(refused.status, 503);
        QCOMPARE(refused.json().value(QStringLiteral("code")).toString(),
                 QStringLiteral("database_unavailable"));
        const HttpResult health = http.get(QStringLiteral("/health"));
        QCOMPARE(health.status, 503);
        QVERIFY(health.json()
                    .value(QStringLiteral("postgres"))
                    .toString()
                    .startsWith(QStringLiteral("down")));
        // The refused order left no job behind.
        const QJsonObject queue = http.get(QStringLiteral("/api/metrics"))
                                      .json()
                                      .value(QStringLiteral("queue"))
                                      .toObject();
        QCOMPARE(queue.value(QStringLiteral("waiting")).toInt() +
                     queue.value(QStringLiteral("active")).toInt(),
                 20);
        QTest::qWait(1500); // the outage outlasts the executions in flight

        QString url, error;
        QVERIFY2(m_servers.servers().startPostgres(&url, &error), qPrintable(error));
        QTRY_COMPARE_WITH_TIMEOUT(m_servers.count(QStringLiteral(
                                      "SELECT count(*) FROM orders WHERE status = 'confirmed'")),
                                  20, 60000);
        verifyExactlyOnce(20);
        QTRY_COMPARE_WITH_TIMEOUT(http.get(QStringLiteral("/health")).status, 200, 30000);
        QVERIFY(!http.submit(order()).isEmpty());
    }

    void webSocketClientThatNeverReadsIsDropped()
    {
        Config c = fastConfig(m_servers);
        // Room for a burst of 50 orders (each routing event lists every candidate route) for a
        // subscriber that reads; a client that never reads passes it all the same.
        c.wsMaxBufferBytes = 512 * 1024;
        startEngine(c);
        Http http(m_engine->port());
        // A raw WebSocket handshake, then never read again.
        QTcpSocket lazy;
        lazy.setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 4096);
        lazy.setReadBufferSize(4096); // Qt would otherwise drain the kernel buffer for us
        lazy.connectToHost(QStringLiteral("127.0.0.1"), m_engine->port());
        QVERIFY(lazy.waitForConnected(5000));
        lazy.write(
            "GET /ws/orders HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        lazy.flush();
        // A well-behaved subscriber next to it keeps receiving.
        WsClient good(QStringLiteral("ws://127.0.0.1:%1/ws/orders").arg(m_engine->port()));
        QVERIFY(good.waitConnected());
        QNetworkAccessManager nam;
        int submitted = 0;
        const bool dropped = waitUntil(
            [&] {
                QList<QNetworkReply *> replies;
                for (int i = 0; i < 50; ++i) {
                    QNetworkRequest req(
                        QUrl(QStringLiteral("http://127.0.0.1:%1/api/orders/execute")
                                 .arg(m_engine->port())));
                    req.setRawHeader("Content-Type", "application/json");
                    replies.append(nam.post(req, QJsonDocument(order()).toJson()));
                }
                for (QNetworkReply *r : replies) {
                    if (!r->isFinished())
                        QSignalSpy(r, &QNetworkReply::finished).wait(30000);
                    submitted +=
                        r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 200;
                    r->deleteLater();
                }
                return http.get(QStringLiteral("/api/metrics"))
                           .json()
                           .value(QStringLiteral("webSocketDropped"))
                           .toInt() == 1;
            },
            120000);
        QVERIFY2(dropped, qPrintable(QStringLiteral("not dropped after %1 orders").arg(submitted)));
        QTRY_COMPARE_WITH_TIMEOUT(m_servers.count(QStringLiteral(
                                      "SELECT count(*) FROM orders WHERE status = 'confirmed'")),
                                  submitted, 60000);
        QVERIFY(good.waitFor(
            [&](const QList<QJsonObject> &m) {
                return statusesOf(m).count(QStringLiteral("confirmed")) == submitted;
            },
            60000));
    }

    void thousandsOfIdleConnectionsAreFine()
    {
        startEngine(fastConfig(m_servers));
        std::vector<std::unique_ptr<QTcpSocket>> idle;
        for (int i = 0; i < 2000; ++i) {
            auto s = std::make_unique<QTcpSocket>();
            s->connectToHost(QStringLiteral("127.0.0.1"), m_engine->port());
            idle.push_back(std::move(s));
        }
        // The server accepts on this thread: wait with the event loop running.
        QVERIFY(waitUntil(
            [&] {
                return std::all_of(idle.begin(), idle.end(), [](const auto &s) {
                    return s->state() == QAbstractSocket::ConnectedState;
                });
            },
            60000));
        Http http(m_engine->port());
        const QString id = http.submit(order());
        QVERIFY(!id.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(http.get(QStringLiteral("/api/orders/") + id)
                                      .json()
                                      .value(QStringLiteral("order"))
                                      .toObject()
                                      .value(QStringLiteral("status"))
                                      .toString(),
                                  QStringLiteral("confirmed"), 30000);
    }

    void oversizedSlowAndTruncatedRequests()
    {
        Config c = fastConfig(m_servers);
        c.requestTimeoutMs = 500;
        startEngine(c);
        // Sends `request` on a fresh connection and returns everything until the server closes.
        const auto exchange = [&](const QByteArray &request) {
            QTcpSocket s;
            s.connectToHost(QStringLiteral("127.0.0.1"), m_engine->port());
            if (!s.waitForConnected(5000))
                return QByteArray();
            s.write(request);
            QByteArray data;
            waitUntil(
                [&] {
                    data += s.readAll();
                    return s.state() != QAbstractSocket::ConnectedState;
                },
                30000);
            return data + s.readAll();
        };
        // A declared 100 MB body is refused before a byte of it is sent.
        const QByteArray big =
            exchange("POST /api/orders/execute HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n");
        QVERIFY2(big.startsWith("HTTP/1.1 413"), big.constData());
        QVERIFY(big.contains("payload_too_large"));
        // A head that never ends, and a body shorter than declared, time out.
        const QByteArray slow =
            exchange("POST /api/orders/execute HTTP/1.1\r\nHost: x\r\nContent-Ty");
        QVERIFY2(slow.startsWith("HTTP/1.1 408"), slow.constData());
        const QByteArray truncated =
            exchange("POST /api/orders/execute HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"tokenIn\":");
        QVERIFY2(truncated.startsWith("HTTP/1.1 408"), truncated.constData());
        // A head of 20 KiB is refused.
        const QByteArray huge =
            exchange("GET /health HTTP/1.1\r\nX-Filler: " + QByteArray(20000, 'a'));
        QVERIFY2(huge.startsWith("HTTP/1.1 431"), huge.left(200).constData());
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM orders")), 0);
        // Normal requests on keep-alive connections are unaffected.
        Http http(m_engine->port());
        QVERIFY(!http.submit(order()).isEmpty());
        QCOMPARE(http.get(QStringLiteral("/health")).status, 200);
    }

    void injectionStringsAreJustData()
    {
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const QStringList hostile = {QStringLiteral("'; DROP TABLE orders; --"),
                                     QStringLiteral("\" OR 1=1 --"),
                                     QStringLiteral("SOL'); DELETE FROM order_events; --"),
                                     QStringLiteral("{\"a\":\"}\\\\"),
                                     QStringLiteral("$1::text"),
                                     QStringLiteral("\\x00\\u0000"),
                                     QString(300, QLatin1Char('\''))};
        const QString id = http.submit(order());
        QVERIFY(!id.isEmpty());
        for (const QString &h : hostile) {
            for (const char *field : {"tokenIn", "tokenOut", "orderType"}) {
                QJsonObject o = order();
                o.insert(QLatin1String(field), h);
                QCOMPARE(http.post(QStringLiteral("/api/orders/execute"), QJsonDocument(o).toJson())
                             .status,
                         400);
            }
            const QString enc = QString::fromUtf8(QUrl::toPercentEncoding(h));
            QCOMPARE(http.get(QStringLiteral("/api/orders/") + enc).status, 404);
            QCOMPARE(http.get(QStringLiteral("/api/orders/%1/events").arg(enc)).status, 404);
            QCOMPARE(http.get(QStringLiteral("/api/orders?status=") + enc).status, 400);
            QCOMPARE(http.get(QStringLiteral("/api/orders?before=") + enc).status, 400);
            QCOMPARE(
                http.get(QStringLiteral("/api/quotes?tokenIn=%1&tokenOut=USDC&amount=1").arg(enc))
                    .status,
                400);
        }
        // Everything is still there.
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM orders")), 1);
        QTRY_COMPARE_WITH_TIMEOUT(
            m_servers.count(QStringLiteral("SELECT count(*) FROM order_events")), 5, 30000);
    }
};

QTEST_GUILESS_MAIN(TestReliability)
#include "tst_reliability.moc"
