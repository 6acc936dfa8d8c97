// The clients of the five Node.js systems oee replaces (shared/seeds/), each spoken in its own
// dialect over real HTTP and WebSocket against a running engine: the paths, request fields and
// response shapes their READMEs document and their clients and test suites read. A case here
// fails when oee stops serving a seed's client unchanged.
#include "TestSupport.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace oee;
using namespace oee::test;

namespace {

const QStringList kLifecycle = {QStringLiteral("pending"), QStringLiteral("routing"),
                                QStringLiteral("building"), QStringLiteral("submitted"),
                                QStringLiteral("confirmed")};

QString str(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toString();
}

// Statuses of an order over a stream, from the snapshot's events and the live messages of the
// given type.
QStringList lifecycle(const QList<QJsonObject> &messages, const QString &type)
{
    QStringList out;
    for (const QJsonObject &m : messages) {
        if (str(m, "type") == QStringLiteral("snapshot")) {
            for (const QJsonValue &e : m.value(QStringLiteral("events")).toArray())
                out << str(e.toObject(), "status");
        } else if (str(m, "type") == type) {
            out << str(m, "status");
        }
    }
    return out;
}

// Warnings printed while a case runs: the server log must stay free of Qt's warnings under
// these clients (it printed "QIODevice::peek … device not open" and "WebSocket received but no
// slots connected" before).
QStringList g_warnings;
QtMessageHandler g_previous = nullptr;
void captureWarnings(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (type >= QtWarningMsg && !QByteArray(context.category).startsWith("oee."))
        g_warnings << message;
    g_previous(type, context, message);
}

// A WebSocket upgrade written by hand, so the raw answer can be read: the status lines and the
// first frame the server sends.
struct RawUpgrade
{
    QByteArray head;      // everything before the first frame
    QByteArray firstText; // the payload of the first server frame
};

RawUpgrade rawUpgrade(quint16 port, const QByteArray &target)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(10000))
        return {};
    socket.write("GET " + target +
                 " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n");
    QByteArray data;
    RawUpgrade r;
    QDeadlineTimer deadline(15000);
    while (!deadline.hasExpired()) {
        const qsizetype headEnd = data.indexOf("\r\n\r\n");
        if (headEnd >= 0 && data.size() >= headEnd + 6) {
            // Either a frame (0x81 = final text frame) or, wrongly, more HTTP.
            r.head = data.left(headEnd + 4);
            const QByteArray rest = data.mid(headEnd + 4);
            if (quint8(rest[0]) != 0x81) {
                r.head = data; // not a frame: keep all of it for the assertion message
                return r;
            }
            qsizetype length = quint8(rest[1]) & 0x7f;
            qsizetype offset = 2;
            if (length == 126) {
                length = (quint8(rest[2]) << 8) | quint8(rest[3]);
                offset = 4;
            }
            if (rest.size() >= offset + length) {
                r.firstText = rest.mid(offset, length);
                return r;
            }
        }
        if (!socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
            break;
        data += socket.readAll();
    }
    r.head = data;
    return r;
}

} // namespace

class TestSeeds : public QObject
{
    Q_OBJECT
    TestServers m_servers;
    std::unique_ptr<Engine> m_engine;

    // Venue latencies long enough that a stream opened after the POST sees the order live.
    Config liveConfig()
    {
        Config c = fastConfig(m_servers);
        c.dex.quoteLatencyMs = 100;
        c.dex.executionLatencyMinMs = 300;
        c.dex.executionLatencyMaxMs = 400;
        return c;
    }

    void startEngine(const Config &config) { m_engine = startedEngine(config); }

    QString ws(const QString &path) const
    {
        return QStringLiteral("ws://127.0.0.1:%1%2").arg(m_engine->port()).arg(path);
    }

    static HttpResult post(Http &http, const QByteArray &json)
    {
        return http.post(QStringLiteral("/api/orders/execute"), json);
    }

private slots:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_servers.start(&error), qPrintable(error));
        g_previous = qInstallMessageHandler(captureWarnings);
    }

    void init()
    {
        QString error;
        QVERIFY2(m_servers.reset(&error), qPrintable(error));
        g_warnings.clear();
    }

    void cleanup()
    {
        m_engine.reset();
        QVERIFY2(g_warnings.isEmpty(), qPrintable(g_warnings.join(QLatin1Char('\n'))));
    }

    // Seed 000: POST answers 200 with message and orderId; the stream lives on a second port
    // (ws://host:3001/ws/:orderId) and ends with the order.
    void seed000_secondPortStreamEndsWithTheOrder()
    {
        {
            Engine plain(fastConfig(m_servers));
            QString error;
            QVERIFY2(plain.start(&error), qPrintable(error));
            QCOMPARE(plain.wsPort(), quint16(0)); // off unless configured
        }
        Config c = liveConfig();
        c.wsPort = freePort();
        startEngine(c);
        QCOMPARE(m_engine->wsPort(), c.wsPort);
        Http http(m_engine->port());
        const HttpResult created =
            post(http, R"({"orderType":"market","tokenIn":"SOL","tokenOut":"USDC","amount":1})");
        QCOMPARE(created.status, 200);
        const QString id = str(created.json(), "orderId");
        QVERIFY(!id.isEmpty());
        QVERIFY(!str(created.json(), "message").isEmpty());

        WsClient stream(QStringLiteral("ws://127.0.0.1:%1/ws/%2").arg(c.wsPort).arg(id));
        QVERIFY(stream.waitConnected());
        QVERIFY(stream.waitClosed(30000));
        QCOMPARE(int(stream.socket().closeCode()), int(QWebSocketProtocol::CloseCodeNormal));
        QCOMPARE(lifecycle(stream.messages(), QStringLiteral("status")), kLifecycle);
        // Each message names the order and its status, as the seed's messages did.
        for (const QJsonObject &m : stream.messages())
            QCOMPARE(str(m, "orderId"), id);
        QCOMPARE(str(stream.messages().last(), "status"), QStringLiteral("confirmed"));
    }

    // Seed 001: its dashboard at /, submissions with amountIn/slippage, the relative
    // websocketUrl, "connected" then "status_update" frames with data.message, ping/pong,
    // {success, order} reads and the metrics cards.
    void seed001_dashboardDialect()
    {
        startEngine(liveConfig());
        Http http(m_engine->port());

        const HttpResult page = http.get(QStringLiteral("/"));
        QCOMPARE(page.status, 200);
        QVERIFY(page.headers.value("content-type").startsWith("text/html"));
        QVERIFY(page.body.contains("oee") && page.body.contains("/api/orders/execute"));

        WsClient all(ws(QStringLiteral("/api/orders/stream/all")));
        QVERIFY(all.waitConnected());
        QVERIFY(all.waitFor([](const QList<QJsonObject> &m) { return !m.isEmpty(); }));
        QCOMPARE(str(all.messages().first(), "type"), QStringLiteral("connected"));
        all.socket().sendTextMessage(QStringLiteral(R"({"type":"ping"})"));
        QVERIFY(all.waitFor([](const QList<QJsonObject> &m) {
            return std::any_of(m.begin(), m.end(), [](const QJsonObject &o) {
                return str(o, "type") == QStringLiteral("pong") && !str(o, "timestamp").isEmpty();
            });
        }));

        const HttpResult created = post(
            http,
            R"({"orderType":"market","tokenIn":"SOL","tokenOut":"USDC","amountIn":1.0,"slippage":0.01})");
        QCOMPARE(created.status, 200);
        const QJsonObject body = created.json();
        const QString id = str(body, "orderId");
        QCOMPARE(body.value(QStringLiteral("success")).toBool(), true);
        QCOMPARE(str(body, "status"), QStringLiteral("pending"));
        QVERIFY(!str(body, "message").isEmpty());
        QCOMPARE(str(body, "websocketUrl"), QStringLiteral("/api/orders/%1/stream").arg(id));

        WsClient one(ws(str(body, "websocketUrl")));
        QVERIFY(one.waitConnected());
        QVERIFY(one.waitFor([](const QList<QJsonObject> &m) { return !m.isEmpty(); }));
        QCOMPARE(str(one.messages().first(), "type"), QStringLiteral("connected"));
        QCOMPARE(str(one.messages().first(), "orderId"), id);
        one.socket().sendTextMessage(QStringLiteral(R"({"type":"ping"})"));
        QVERIFY(one.waitClosed(30000));
        QCOMPARE(int(one.socket().closeCode()), int(QWebSocketProtocol::CloseCodeNormal));
        QCOMPARE(lifecycle(one.messages(), QStringLiteral("status_update")), kLifecycle);

        // The global stream: every status of the order as a status_update with a message (the
        // dashboard's table follows exactly these), never oee's own "status" type.
        QVERIFY(all.waitFor([id](const QList<QJsonObject> &m) {
            return std::any_of(m.begin(), m.end(), [id](const QJsonObject &o) {
                return str(o, "orderId") == id && str(o, "status") == QStringLiteral("confirmed");
            });
        }));
        QStringList seen;
        for (const QJsonObject &m : all.messages()) {
            QVERIFY2(str(m, "type") != QStringLiteral("status"), "oee's type on a seed 001 stream");
            if (str(m, "type") != QStringLiteral("status_update") || str(m, "orderId") != id)
                continue;
            seen << str(m, "status");
            QVERIFY2(!m.value(QStringLiteral("data"))
                          .toObject()
                          .value(QStringLiteral("message"))
                          .toString()
                          .isEmpty(),
                     qPrintable(str(m, "status")));
        }
        QCOMPARE(seen, kLifecycle);

        const QJsonObject got = http.get(QStringLiteral("/api/orders/") + id).json();
        QCOMPARE(got.value(QStringLiteral("success")).toBool(), true);
        QCOMPARE(str(got.value(QStringLiteral("order")).toObject(), "id"), id);
        QCOMPARE(str(got.value(QStringLiteral("order")).toObject(), "status"),
                 QStringLiteral("confirmed"));
        const HttpResult missing =
            http.get(QStringLiteral("/api/orders/6f1c0a52-8d4b-4d8e-9a57-3c1f8e0b2d11"));
        QCOMPARE(missing.status, 404);
        QCOMPARE(missing.json().value(QStringLiteral("success")).toBool(true), false);
        QCOMPARE(str(missing.json(), "error"), QStringLiteral("Order not found"));

        const QJsonObject metrics = http.get(QStringLiteral("/api/metrics")).json();
        QCOMPARE(metrics.value(QStringLiteral("success")).toBool(), true);
        const QJsonObject orders = metrics.value(QStringLiteral("orders")).toObject();
        QCOMPARE(orders.value(QStringLiteral("completed")).toInt(-1), 1);
        QCOMPARE(orders.value(QStringLiteral("processing")).toInt(-1), 0);
        QCOMPARE(orders.value(QStringLiteral("total")).toInt(-1), 1);
        for (const char *key : {"waiting", "active", "completed", "failed", "delayed"})
            QVERIFY2(metrics.value(QStringLiteral("queue")).toObject().contains(QLatin1String(key)),
                     key);
    }

    // Seed 002: {tokenIn, tokenOut, amount, side} and a relative wsUrl to /ws/orders/<id>.
    void seed002_sideAndRelativeWsUrl()
    {
        startEngine(liveConfig());
        Http http(m_engine->port());
        const HttpResult created =
            post(http, R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1.5,"side":"buy"})");
        QCOMPARE(created.status, 200);
        const QString id = str(created.json(), "orderId");
        QCOMPARE(str(created.json(), "wsUrl"), QStringLiteral("/ws/orders/") + id);
        QVERIFY(!str(created.json(), "message").isEmpty());
        // An id in another case is the same order, live events included.
        WsClient stream(ws(QStringLiteral("/ws/orders/") + id.toUpper()));
        QVERIFY(stream.waitConnected());
        QVERIFY(stream.waitClosed(30000));
        QCOMPARE(int(stream.socket().closeCode()), int(QWebSocketProtocol::CloseCodeNormal));
        QCOMPARE(lifecycle(stream.messages(), QStringLiteral("status")), kLifecycle);
    }

    // Seed 003: amountIn/slippage, GET /api/orders as an array of rows, the row's fields at the
    // top level of GET /api/orders/:id, txHash and executedPrice at the top of stream messages.
    void seed003_rowsAndTopLevelFields()
    {
        startEngine(liveConfig());
        Http http(m_engine->port());
        const HttpResult created =
            post(http, R"({"tokenIn":"SOL","tokenOut":"USDC","amountIn":100,"slippage":0.01})");
        QCOMPARE(created.status, 200);
        const QString id = str(created.json(), "orderId");
        // Not executed yet: no amount out, no price (null, not 0).
        const QJsonObject pending = http.get(QStringLiteral("/api/orders/") + id).json();
        QVERIFY2(pending.value(QStringLiteral("amountOut")).isNull(),
                 QJsonDocument(pending).toJson().constData());
        QVERIFY(pending.value(QStringLiteral("executedPrice")).isNull());
        QVERIFY(pending.value(QStringLiteral("tx_hash")).isNull());
        WsClient stream(ws(QStringLiteral("/ws/orders/") + id));
        QVERIFY(stream.waitConnected());
        QVERIFY(stream.waitClosed(30000));
        const QJsonObject last = stream.messages().last();
        QCOMPARE(str(last, "status"), QStringLiteral("confirmed"));
        QVERIFY(!str(last, "txHash").isEmpty());
        QVERIFY(last.value(QStringLiteral("executedPrice")).toDouble() > 0);
        QCOMPARE(last.value(QStringLiteral("executionPrice")),
                 last.value(QStringLiteral("executedPrice")));

        const QJsonObject row = http.get(QStringLiteral("/api/orders/") + id).json();
        QCOMPARE(str(row, "id"), id);
        QCOMPARE(str(row, "status"), QStringLiteral("confirmed"));
        QCOMPARE(str(row, "txHash"), str(last, "txHash"));
        QCOMPARE(str(row, "tx_hash"), str(last, "txHash"));
        QCOMPARE(row.value(QStringLiteral("amount_in")).toDouble(), 100.0);

        const HttpResult list = http.get(QStringLiteral("/api/orders"));
        QCOMPARE(list.status, 200);
        const QJsonDocument doc = QJsonDocument::fromJson(list.body);
        QVERIFY(doc.isArray());
        QCOMPARE(doc.array().size(), 1);
        const QJsonObject first = doc.array().first().toObject();
        for (const char *key :
             {"id", "status", "tx_hash", "token_in", "token_out", "updated_at", "created_at"})
            QVERIFY2(first.contains(QLatin1String(key)), key);
    }

    // Seed 004: its black-box suite's requests, in order (vitest + supertest + ws against a
    // running server), and the answers it compares.
    void seed004_blackBoxSuite()
    {
        startEngine(liveConfig());
        Http http(m_engine->port());
        const HttpResult test = http.get(QStringLiteral("/api/test"));
        QCOMPARE(test.status, 200);
        QCOMPARE(test.json(),
                 QJsonObject({{QStringLiteral("msg"), QStringLiteral("Server working!")}}));

        QCOMPARE(post(http, R"({"inputMint":"SOL","outputMint":"USDC","amount":1.5})").status, 200);
        QCOMPARE(post(http, R"({"outputMint":"BTC"})").status, 400);
        QCOMPARE(
            post(http, R"({"inputMint":"BTC","outputMint":"not-a-number","amount":"buy"})").status,
            400);
        QCOMPARE(
            post(http,
                 R"({"inputMint":"BTC","outputMint":"not-a-number","amount":1.5,"slippage_pct":0})")
                .status,
            400);
        QCOMPARE(
            post(
                http,
                R"({"inputMint":"BTC","outputMint":"not-a-number","amount":1.5,"slippage_pct":-1})")
                .status,
            400);
        const HttpResult zero =
            post(http, R"({"inputMint":"SOL","outputMint":"USDC","amount":1.5,"slippage_pct":0})");
        QCOMPARE(zero.status, 400);
        QCOMPARE(str(zero.json(), "field"), QStringLiteral("slippage_pct"));

        // The full flow: snapshot first, the terminal status last, then the server closes.
        const HttpResult created =
            post(http, R"({"inputMint":"SOL","outputMint":"USDC","amount":1.5})");
        QCOMPARE(created.status, 200);
        const QString id = str(created.json(), "orderId");
        const QString url = ws(QStringLiteral("/api/orders/ws?orderId=") + id);
        {
            WsClient stream(url);
            QVERIFY(stream.waitConnected());
            QVERIFY(stream.waitClosed(30000));
            QCOMPARE(int(stream.socket().closeCode()), int(QWebSocketProtocol::CloseCodeNormal));
            QCOMPARE(str(stream.messages().first(), "type"), QStringLiteral("snapshot"));
            QCOMPARE(str(stream.messages().last(), "status"), QStringLiteral("confirmed"));
            QCOMPARE(lifecycle(stream.messages(), QStringLiteral("status")), kLifecycle);
        }
        // The same order again, now that it has ended.
        {
            WsClient again(url);
            QVERIFY(again.waitConnected());
            QVERIFY(again.waitClosed(30000));
            QCOMPARE(str(again.messages().first(), "type"), QStringLiteral("snapshot"));
            QCOMPARE(str(again.messages().last(), "error"),
                     QStringLiteral("Order already processed"));
        }

        QCOMPARE(http.get(QStringLiteral("/api/orders/")).status, 404);
        const QJsonObject row = http.get(QStringLiteral("/api/orders/") + id).json();
        QCOMPARE(str(row, "id"), id);
        const HttpResult notFound = http.get(QStringLiteral("/api/orders/non_existing_id_12345"));
        QCOMPARE(notFound.status, 404);
        QCOMPARE(str(notFound.json(), "error"), QStringLiteral("Not found"));

        const auto refused = [this](const QString &path, const QString &error) {
            WsClient client(ws(path));
            if (!client.waitConnected())
                return QStringLiteral("no upgrade");
            if (!client.waitClosed(10000))
                return QStringLiteral("not closed");
            if (client.messages().size() != 1 || str(client.messages().first(), "error") != error)
                return QStringLiteral("messages: %1").arg(client.messages().size());
            return QString();
        };
        QCOMPARE(
            refused(QStringLiteral("/api/orders/ws?orderId="), QStringLiteral("Missing orderId")),
            QString());
        QCOMPARE(refused(QStringLiteral("/api/orders/ws"), QStringLiteral("Missing orderId")),
                 QString());
        QCOMPARE(refused(QStringLiteral("/api/orders/ws?orderId=random-orderId12121"),
                         QStringLiteral("Order not found")),
                 QString());
        QCOMPARE(
            refused(QStringLiteral("/api/orders/ws?orderId=6f1c0a52-8d4b-4d8e-9a57-3c1f8e0b2d11"),
                    QStringLiteral("Order not found")),
            QString());

        const HttpResult list = http.get(QStringLiteral("/api/orders"));
        const QJsonArray rows = QJsonDocument::fromJson(list.body).array();
        QCOMPARE(rows.size(), 2); // the one valid submission above and the full-flow order
        for (const QJsonValue &r : rows) {
            QVERIFY(r.toObject().contains(QStringLiteral("id")));
            QVERIFY(r.toObject().contains(QStringLiteral("status")));
            QVERIFY(!str(r.toObject(), "updated_at").isEmpty());
        }
    }

    // slippage_pct is a tolerance in percent, and it is used: with every fill 5 % worse than its
    // quote, 0.001 % and the default (1 %) fail saying so, 10 % confirms.
    void seed004_slippagePctIsPercentAndDecides()
    {
        Config c = liveConfig();
        c.dex.executionPriceShiftPpm = -50000;
        c.maxAttempts = 1;
        startEngine(c);
        Http http(m_engine->port());
        const auto run = [&](const QByteArray &json) {
            const HttpResult created = post(http, json);
            WsClient stream(
                ws(QStringLiteral("/api/orders/ws?orderId=") + str(created.json(), "orderId")));
            stream.waitConnected();
            stream.waitClosed(30000);
            return stream.messages().isEmpty() ? QJsonObject() : stream.messages().last();
        };
        const QJsonObject tight =
            run(R"({"inputMint":"SOL","outputMint":"USDC","amount":1.5,"slippage_pct":0.001})");
        QCOMPARE(str(tight, "status"), QStringLiteral("failed"));
        QVERIFY2(str(tight, "error").contains(QStringLiteral("Slippage tolerance")),
                 qPrintable(str(tight, "error")));
        QCOMPARE(str(run(R"({"inputMint":"SOL","outputMint":"USDC","amount":1.5})"), "status"),
                 QStringLiteral("failed"));
        QCOMPARE(
            str(run(R"({"inputMint":"SOL","outputMint":"USDC","amount":1.5,"slippage_pct":10})"),
                "status"),
            QStringLiteral("confirmed"));
        QCOMPARE(
            m_servers.count(QStringLiteral("SELECT count(*) FROM orders WHERE slippage = 0.1")), 1);
    }

    // A WebSocket upgrade gets exactly one answer whatever its path: 101 and an error frame,
    // never an HTTP 404 followed by a 101 (browsers and Node's ws reject that). A plain GET on a
    // stream path is a 426.
    void upgradeGetsExactlyOneAnswer()
    {
        startEngine(fastConfig(m_servers));
        const struct
        {
            QByteArray target;
            const char *key; // of the first frame
            QString value;
        } cases[] = {
            // seed 001's dialect says "connected" first, then the error
            {"/api/orders/not-a-uuid/stream", "type", QStringLiteral("connected")},
            {"/api/orders/ws?orderId=abc", "error", QStringLiteral("Order not found")},
            {"/ws/orders/abc", "error", QStringLiteral("Order not found")},
            {"/api/orders/abc", "error", QStringLiteral("Not found")},
            {"/nowhere/at/all", "error", QStringLiteral("Not found")},
        };
        for (const auto &k : cases) {
            const RawUpgrade r = rawUpgrade(m_engine->port(), k.target);
            QVERIFY2(r.head.startsWith("HTTP/1.1 101"), r.head.constData());
            QCOMPARE(r.head.count("HTTP/1.1"), 1);
            QVERIFY2(str(QJsonDocument::fromJson(r.firstText).object(), k.key) == k.value,
                     (k.target + ": " + r.head.toHex() + " | " + r.firstText).constData());
        }
        Http http(m_engine->port());
        const HttpResult plain = http.get(QStringLiteral("/api/orders/ws?orderId=abc"));
        QCOMPARE(plain.status, 426);
        QCOMPARE(str(plain.json(), "code"), QStringLiteral("upgrade_required"));
    }
};

QTEST_GUILESS_MAIN(TestSeeds)
#include "tst_seeds.moc"
