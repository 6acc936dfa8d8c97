// The engine end to end over real Redis and PostgreSQL, driven as an external client would:
// HTTP requests and WebSocket subscriptions against an in-process Engine.
#include "TestSupport.h"
#include "api/WsHub.h"
#include "dex/Market.h"
#include "dex/Signature.h"
#include "money/Amount.h"
#include "queue/RedisConnection.h"
#include "queue/RedisKeys.h"
#include "store/Database.h"

#include <QFile>
#include <QJsonArray>
#include <QNetworkReply>
#include <QProcess>
#include <QSemaphore>
#include <QSet>
#include <QSignalSpy>
#include <QSqlError>
#include <QSqlQuery>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>
#include <QWebSocket>

using namespace oee;
using namespace oee::test;

namespace {
const QStringList kHappyPath = {QStringLiteral("pending"), QStringLiteral("routing"),
                                QStringLiteral("building"), QStringLiteral("submitted"),
                                QStringLiteral("confirmed")};

QJsonObject solUsdc(double amount = 1.5)
{
    return {{QStringLiteral("orderType"), QStringLiteral("market")},
            {QStringLiteral("tokenIn"), QStringLiteral("SOL")},
            {QStringLiteral("tokenOut"), QStringLiteral("USDC")},
            {QStringLiteral("amount"), amount},
            {QStringLiteral("slippage"), 0.01}};
}

// Status messages of one order: the snapshot's events, then live ones.
QList<QJsonObject> orderTimeline(const QList<QJsonObject> &messages)
{
    QList<QJsonObject> out;
    for (const QJsonObject &m : messages) {
        if (m.value(QStringLiteral("type")).toString() == QStringLiteral("snapshot")) {
            for (const QJsonValue &e : m.value(QStringLiteral("events")).toArray())
                out.append(e.toObject());
        } else if (m.value(QStringLiteral("type")).toString() == QStringLiteral("status")) {
            out.append(m);
        }
    }
    return out;
}

bool hasTerminal(const QList<QJsonObject> &messages)
{
    for (const QJsonObject &e : orderTimeline(messages)) {
        const QString s = e.value(QStringLiteral("status")).toString();
        if (s == QStringLiteral("confirmed") || s == QStringLiteral("failed"))
            return true;
    }
    return false;
}

QStringList statuses(const QList<QJsonObject> &timeline)
{
    QStringList out;
    for (const QJsonObject &e : timeline)
        out << e.value(QStringLiteral("status")).toString();
    return out;
}

QString lastStatus(const QList<QJsonObject> &timeline)
{
    return timeline.isEmpty() ? QString()
                              : timeline.last().value(QStringLiteral("status")).toString();
}
} // namespace

class TestApi : public QObject
{
    Q_OBJECT
    TestServers m_servers;
    std::unique_ptr<Engine> m_engine;

    Engine &startEngine(const Config &config)
    {
        m_engine = startedEngine(config);
        return *m_engine;
    }

    QString ws(const QString &path) const
    {
        return QStringLiteral("ws://127.0.0.1:%1%2").arg(m_engine->port()).arg(path);
    }

    // Holds the streams' fan-out thread (as a flood of subscribers would) until release().
    struct FanOutGate
    {
        QSemaphore held, released;
        void release() { released.release(); }
    };
    std::shared_ptr<FanOutGate> holdFanOut()
    {
        auto gate = std::make_shared<FanOutGate>();
        QMetaObject::invokeMethod(m_engine->streamHub(), [gate] {
            gate->held.release();
            gate->released.acquire();
        });
        return gate->held.tryAcquire(1, 10000) ? gate : nullptr;
    }

    // /ws/orders, once its snapshot has arrived.
    std::unique_ptr<WsClient> subscribeToAll()
    {
        auto all = std::make_unique<WsClient>(ws(QStringLiteral("/ws/orders")));
        if (!all->waitConnected() ||
            !all->waitFor([](const QList<QJsonObject> &m) { return !m.isEmpty(); }))
            return nullptr;
        return all;
    }

    // Waits for an order to reach a terminal status, by its per-order stream.
    QList<QJsonObject> runToEnd(const QString &orderId)
    {
        WsClient client(ws(QStringLiteral("/ws/orders/") + orderId));
        if (!client.waitConnected() || !client.waitFor(hasTerminal, 60000))
            return {};
        return orderTimeline(client.messages());
    }

private slots:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_servers.start(&error), qPrintable(error));
    }

    void init()
    {
        QString error;
        QVERIFY2(m_servers.reset(&error), qPrintable(error));
    }

    void cleanup() { m_engine.reset(); }

    void badInputIsRefusedAndNothingIsWritten()
    {
        Config c = fastConfig(m_servers);
        c.maxBodyBytes = 4096;
        startEngine(c);
        Http http(m_engine->port());
        struct Case
        {
            const char *name;
            QByteArray body;
            QByteArray type;
            int status;
            const char *field; // nullptr: the error names no field
        };
        const QList<Case> cases = {
            {"malformed", "{\"tokenIn\":\"SOL\",", "application/json", 400, {}},
            {"wrong content type",
             R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1})",
             "text/plain",
             415,
             {}},
            {"missing tokenIn", R"({"tokenOut":"USDC","amount":1})", "application/json", 400,
             "tokenIn"},
            {"non-string tokenOut", R"({"tokenIn":"SOL","tokenOut":["USDC"],"amount":1})",
             "application/json", 400, "tokenOut"},
            {"unknown token", R"({"tokenIn":"XYZ","tokenOut":"USDC","amount":1})",
             "application/json", 400, "tokenIn"},
            {"same tokens", R"({"tokenIn":"USDC","tokenOut":"USDC","amount":1})",
             "application/json", 400, "tokenOut"},
            {"zero amount", R"({"tokenIn":"SOL","tokenOut":"USDC","amount":0})", "application/json",
             400, "amount"},
            {"amount not a number", R"({"tokenIn":"SOL","tokenOut":"USDC","amount":"lots"})",
             "application/json", 400, "amount"},
            {"absurd amount", R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1e200})",
             "application/json", 400, "amount"},
            {"slippage too high",
             R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"slippage":0.9})", "application/json",
             400, "slippage"},
            {"slippage zero", R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"slippage":0})",
             "application/json", 400, "slippage"},
            {"unknown orderType",
             R"({"orderType":"stop","tokenIn":"SOL","tokenOut":"USDC","amount":1})",
             "application/json", 400, "orderType"},
            {"oversized body", QByteArray(8000, ' ') + "{}", "application/json", 413, {}},
            // A field oee does not read is refused, not ignored (a misspelt tolerance would
            // otherwise execute with the default one).
            {"unknown field", R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"slipage":0.5})",
             "application/json", 400, "slipage"},
            {"limitPrice on a market order",
             R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"limitPrice":180})",
             "application/json", 400, "limitPrice"},
            {"slippage_pct zero",
             R"({"inputMint":"SOL","outputMint":"USDC","amount":1,"slippage_pct":0})",
             "application/json", 400, "slippage_pct"},
            {"slippage_pct negative",
             R"({"inputMint":"SOL","outputMint":"USDC","amount":1,"slippage_pct":-1})",
             "application/json", 400, "slippage_pct"},
            {"slippage_pct over 50",
             R"({"inputMint":"SOL","outputMint":"USDC","amount":1,"slippage_pct":51})",
             "application/json", 400, "slippage_pct"},
            {"both tolerances",
             R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"slippage":0.01,"slippage_pct":1})",
             "application/json", 400, "slippage_pct"},
            {"unknown inputMint", R"({"inputMint":"BTC","outputMint":"USDC","amount":1.5})",
             "application/json", 400, "inputMint"},
            {"tokenIn and inputMint differ",
             R"({"tokenIn":"SOL","inputMint":"JUP","tokenOut":"USDC","amount":1})",
             "application/json", 400, "inputMint"},
            {"bad side", R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"side":"hold"})",
             "application/json", 400, "side"},
        };
        for (const Case &k : cases) {
            const HttpResult r = http.post(QStringLiteral("/api/orders/execute"), k.body, k.type);
            QVERIFY2(r.status == k.status, qPrintable(QStringLiteral("%1: %2 %3")
                                                          .arg(QLatin1String(k.name))
                                                          .arg(r.status)
                                                          .arg(QString::fromUtf8(r.body))));
            // {"success":false,"error":"<text>","code","message","field"}
            const QJsonObject err = r.json();
            QCOMPARE(err.value(QStringLiteral("success")).toBool(true), false);
            QVERIFY2(!err.value(QStringLiteral("error")).toString().isEmpty(), k.name);
            QVERIFY2(!err.value(QStringLiteral("message")).toString().isEmpty(), k.name);
            QVERIFY2(!err.value(QStringLiteral("code")).toString().isEmpty(), k.name);
            if (k.field)
                QCOMPARE(err.value(QStringLiteral("field")).toString(), QLatin1String(k.field));
        }
        // Unknown paths and ids.
        QCOMPARE(http.get(QStringLiteral("/api/nothing")).status, 404);
        QCOMPARE(http.post(QStringLiteral("/api/orders/nope"), "{}").status, 404);
        QCOMPARE(http.get(QStringLiteral("/api/orders/not-an-id")).status, 404);
        const HttpResult missing =
            http.get(QStringLiteral("/api/orders/6f1c0a52-8d4b-4d8e-9a57-3c1f8e0b2d11"));
        QCOMPARE(missing.status, 404);
        QCOMPARE(missing.json().value(QStringLiteral("code")).toString(),
                 QStringLiteral("order_not_found"));
        QCOMPARE(missing.json().value(QStringLiteral("error")).toString(),
                 QStringLiteral("Order not found"));
        QCOMPARE(http.get(QStringLiteral("/api/orders/6f1c0a52-8d4b-4d8e-9a57-3c1f8e0b2d11/events"))
                     .status,
                 404);
        QCOMPARE(http.get(QStringLiteral("/api/orders?status=bogus")).status, 400);
        QCOMPARE(http.get(QStringLiteral("/api/orders?limit=0")).status, 400);
        QCOMPARE(http.get(QStringLiteral("/api/quotes?tokenIn=SOL&tokenOut=USDC&amount=-1")).status,
                 400);

        // Nothing was written anywhere.
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM orders")), 0);
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM order_events")), 0);
        const QJsonObject metrics = http.get(QStringLiteral("/api/metrics")).json();
        QCOMPARE(metrics.value(QStringLiteral("queue"))
                     .toObject()
                     .value(QStringLiteral("waiting"))
                     .toInt(),
                 0);
        QCOMPARE(metrics.value(QStringLiteral("orders"))
                     .toObject()
                     .value(QStringLiteral("total"))
                     .toInt(),
                 0);
    }

    void marketOrderLifecycleOverWebSocket()
    {
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const auto subscribed = subscribeToAll();
        QVERIFY(subscribed);
        WsClient &all = *subscribed;
        QCOMPARE(all.messages().first().value(QStringLiteral("type")).toString(),
                 QStringLiteral("snapshot"));

        const HttpResult created =
            http.post(QStringLiteral("/api/orders/execute"), QJsonDocument(solUsdc()).toJson());
        QCOMPARE(created.status, 200);
        const QJsonObject body = created.json();
        const QString id = body.value(QStringLiteral("orderId")).toString();
        QVERIFY(!id.isEmpty());
        QCOMPARE(body.value(QStringLiteral("status")).toString(), QStringLiteral("pending"));
        QCOMPARE(body.value(QStringLiteral("wsUrl")).toString(),
                 QStringLiteral("/ws/orders/") + id);
        QCOMPARE(created.headers.value("location"), "/api/orders/" + id.toLatin1());
        // Durable when answered.
        QCOMPARE(
            m_servers.count(QStringLiteral("SELECT count(*) FROM orders WHERE id = '%1'").arg(id)),
            1);

        WsClient one(ws(QStringLiteral("/ws/orders/") + id));
        QVERIFY(one.waitConnected());
        QVERIFY(one.waitFor(hasTerminal));
        QCOMPARE(one.messages().first().value(QStringLiteral("type")).toString(),
                 QStringLiteral("snapshot"));
        const QList<QJsonObject> timeline = orderTimeline(one.messages());
        QCOMPARE(statuses(timeline), kHappyPath);
        for (int i = 0; i < timeline.size(); ++i) {
            QCOMPARE(timeline[i].value(QStringLiteral("seq")).toInt(), i + 1);
            QCOMPARE(timeline[i].value(QStringLiteral("orderId")).toString(), id);
            QVERIFY(!timeline[i].value(QStringLiteral("timestamp")).toString().isEmpty());
        }
        const QJsonObject routing = timeline[1].value(QStringLiteral("data")).toObject();
        // Every candidate (both venues' SOL/USDC pools at least), and the chosen plan's legs.
        QStringList venues;
        for (const QJsonValue &c : routing.value(QStringLiteral("candidates")).toArray()) {
            venues << c.toObject().value(QStringLiteral("venue")).toString();
            QVERIFY(c.toObject().value(QStringLiteral("amountOutRaw")).toString().toULongLong() >
                    0);
        }
        QVERIFY2(venues.contains(QStringLiteral("raydium")) &&
                     venues.contains(QStringLiteral("meteora")),
                 qPrintable(venues.join(QLatin1Char(','))));
        const QJsonArray legs = routing.value(QStringLiteral("candidates"))
                                    .toArray()
                                    .first()
                                    .toObject()
                                    .value(QStringLiteral("legs"))
                                    .toArray();
        QVERIFY(!legs.isEmpty());
        QCOMPARE(routing.value(QStringLiteral("expectedAmountOutRaw")),
                 routing.value(QStringLiteral("candidates"))
                     .toArray()
                     .first()
                     .toObject()
                     .value(QStringLiteral("amountOutRaw")));
        QVERIFY(!timeline[1].contains(QStringLiteral("amountOut"))); // only a fill has one
        QCOMPARE(routing.value(QStringLiteral("venue")).toString(),
                 routing.value(QStringLiteral("candidates"))
                     .toArray()
                     .first()
                     .toObject()
                     .value(QStringLiteral("venue"))
                     .toString());
        const QJsonObject confirmed = timeline[4].value(QStringLiteral("data")).toObject();
        QVERIFY(confirmed.value(QStringLiteral("signature")).toString().size() >= 86);
        // Exact decimal strings in data; numbers at the top level for the seeds' clients.
        QVERIFY(confirmed.value(QStringLiteral("executedPrice")).toString().toDouble() > 100);
        QVERIFY(confirmed.value(QStringLiteral("amountOut")).toString().toDouble() > 150);
        // The decimal is the raw base units with USDC's 6 decimals, exactly.
        const auto raw =
            parseTokenAmount(confirmed.value(QStringLiteral("amountOut")).toString(), 6);
        QVERIFY(std::holds_alternative<BaseUnits>(raw));
        QCOMPARE(QString::number(std::get<BaseUnits>(raw)),
                 confirmed.value(QStringLiteral("amountOutRaw")).toString());
        QCOMPARE(timeline[4].value(QStringLiteral("amountOut")).toDouble(),
                 confirmed.value(QStringLiteral("amountOut")).toString().toDouble());

        // The all-orders stream saw the same statuses in order.
        QVERIFY(all.waitFor(
            [&](const QList<QJsonObject> &m) { return statusesOf(m, id).size() == 5; }));
        QCOMPARE(statusesOf(all.messages(), id), kHappyPath);

        // Late subscribers, on every alias, get the complete snapshot.
        for (const QString &path :
             {QStringLiteral("/ws/orders/%1"), QStringLiteral("/api/orders/%1/stream"),
              QStringLiteral("/ws/%1")}) {
            WsClient late(ws(path.arg(id)));
            QVERIFY(late.waitConnected());
            QVERIFY(late.waitFor(hasTerminal));
            // An ended order: nothing more will come, so the server closes the stream.
            QVERIFY(late.waitClosed());
            QCOMPARE(int(late.socket().closeCode()), int(QWebSocketProtocol::CloseCodeNormal));
            // Seed 001's path says "connected" before the snapshot (tst_seeds covers its dialect).
            const QJsonObject snap =
                late.messages().value(path.startsWith(QStringLiteral("/api")) ? 1 : 0);
            QCOMPARE(snap.value(QStringLiteral("type")).toString(), QStringLiteral("snapshot"));
            QCOMPARE(snap.value(QStringLiteral("order"))
                         .toObject()
                         .value(QStringLiteral("status"))
                         .toString(),
                     QStringLiteral("confirmed"));
            QCOMPARE(statuses(orderTimeline(late.messages())), kHappyPath);
        }
        WsClient stranger(ws(QStringLiteral("/ws/orders/6f1c0a52-8d4b-4d8e-9a57-3c1f8e0b2d11")));
        QSignalSpy closed(&stranger.socket(), &QWebSocket::disconnected);
        QVERIFY(closed.wait(10000) || closed.count() > 0);
        QCOMPARE(int(stranger.socket().closeCode()), 4404);
    }

    void intakeNeverWaitsForFanOut()
    {
        // The fan-out thread is held (as a flood of subscribers would hold it): orders are
        // still accepted and answered, and the streams get every event once it is free.
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const auto subscribed = subscribeToAll();
        QVERIFY(subscribed);
        WsClient &all = *subscribed;

        const auto gate = holdFanOut();
        QVERIFY(gate);
        QStringList ids;
        for (int i = 0; i < 20; ++i) {
            const HttpResult r =
                http.post(QStringLiteral("/api/orders/execute"), QJsonDocument(solUsdc()).toJson());
            QCOMPARE(r.status, 200);
            ids << r.json().value(QStringLiteral("orderId")).toString();
        }
        // Every order was answered while no event could be written to any stream.
        QCOMPARE(all.messages().size(), 1);
        gate->release();
        QVERIFY(all.waitFor(
            [&](const QList<QJsonObject> &) {
                for (const QString &id : std::as_const(ids))
                    if (statusesOf(all.messages(), id) != kHappyPath)
                        return false;
                return true;
            },
            60000));
    }

    void batchedFramesCarryArraysOfEvents()
    {
        // ?batch=1: the snapshot, then one JSON array per delivery round. The fan-out thread is
        // held while three orders run, so their events are delivered in one round, one frame.
        // A second batched subscriber gets the same array (built once for both), and one
        // subscribed without batch, between them, each event in its own frame.
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        QWebSocket socket, single, second;
        QList<QByteArray> frames, singles, seconds;
        connect(&socket, &QWebSocket::textMessageReceived, this,
                [&](const QString &m) { frames << m.toUtf8(); });
        connect(&single, &QWebSocket::textMessageReceived, this,
                [&](const QString &m) { singles << m.toUtf8(); });
        connect(&second, &QWebSocket::textMessageReceived, this,
                [&](const QString &m) { seconds << m.toUtf8(); });
        socket.open(QUrl(ws(QStringLiteral("/ws/orders?batch=1"))));
        QVERIFY(waitUntil([&] { return !frames.isEmpty(); }, 10000));
        single.open(QUrl(ws(QStringLiteral("/ws/orders"))));
        QVERIFY(waitUntil([&] { return !singles.isEmpty(); }, 10000));
        second.open(QUrl(ws(QStringLiteral("/ws/orders?batch=1"))));
        QVERIFY(waitUntil([&] { return !seconds.isEmpty(); }, 10000));
        QCOMPARE(QJsonDocument::fromJson(frames.first())
                     .object()
                     .value(QStringLiteral("type"))
                     .toString(),
                 QStringLiteral("snapshot"));

        // The event log hands each batch of events to the hub and to the engine's signal at once
        // (both queued): once the signal has carried all fifteen, the hub has them waiting too.
        // (Waiting for the rows instead raced the log by an event now and then.)
        qsizetype logged = 0;
        QObject counting; // disconnects with this function's end
        connect(m_engine.get(), &Engine::orderEvents, &counting,
                [&](const QList<OrderEvent> &events) { logged += events.size(); });
        const auto gate = holdFanOut();
        QVERIFY(gate);
        QStringList ids;
        for (int i = 0; i < 3; ++i)
            ids << http.post(QStringLiteral("/api/orders/execute"),
                             QJsonDocument(solUsdc()).toJson())
                       .json()
                       .value(QStringLiteral("orderId"))
                       .toString();
        QVERIFY2(waitUntil([&] { return logged >= 3 * 5; }),
                 qPrintable(QStringLiteral("%1 events logged").arg(logged)));
        gate->release();
        QVERIFY(waitUntil([&] { return frames.size() >= 2; }, 30000));
        QCOMPARE(frames.size(), 2);
        const QJsonDocument batch = QJsonDocument::fromJson(frames[1]);
        QVERIFY(batch.isArray());
        QList<QJsonObject> events;
        for (const QJsonValue &v : batch.array())
            events << v.toObject();
        QCOMPARE(events.size(), 3 * 5);
        for (const QString &id : std::as_const(ids))
            QCOMPARE(statusesOf(events, id), kHappyPath);
        QVERIFY(waitUntil([&] { return seconds.size() >= 2 && singles.size() >= 1 + 15; }));
        QCOMPARE(seconds.size(), 2);
        QCOMPARE(seconds[1], frames[1]);
        QCOMPARE(singles.size(), 1 + 15);
        for (int i = 0; i < 15; ++i)
            QCOMPARE(QJsonDocument::fromJson(singles[1 + i]).object(), events[i]);
    }

    // The status messages among a stream's messages, with their eventIds.
    static QList<qint64> eventIdsOf(const QList<QJsonObject> &messages)
    {
        QList<qint64> out;
        for (const QJsonObject &m : messages)
            if (m.value(QStringLiteral("type")).toString() == QStringLiteral("status"))
                out << qint64(m.value(QStringLiteral("eventId")).toDouble());
        return out;
    }

    QStringList runOrders(Http &http, int n)
    {
        QStringList ids;
        for (int i = 0; i < n; ++i)
            ids << http.post(QStringLiteral("/api/orders/execute"),
                             QJsonDocument(solUsdc()).toJson())
                       .json()
                       .value(QStringLiteral("orderId"))
                       .toString();
        return ids;
    }

    static bool allEnded(const QList<QJsonObject> &messages, const QStringList &ids)
    {
        for (const QString &id : ids)
            if (statusesOf(messages, id) != kHappyPath)
                return false;
        return true;
    }

    void everyEventHasAGlobalIdAndStreamsResumeFromIt()
    {
        // Every stream message carries eventId (global, consecutive in one store) and seq.
        // /ws/orders?since=<eventId> replays what came after it from the log and continues
        // live; /ws/orders/<id>?since=<seq> the same for one order. Neither doubles nor skips.
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const auto subscribed = subscribeToAll();
        QVERIFY(subscribed);
        WsClient &all = *subscribed;
        const QStringList first = runOrders(http, 6);
        QVERIFY(
            all.waitFor([&](const QList<QJsonObject> &m) { return allEnded(m, first); }, 60000));
        const QList<qint64> seen = eventIdsOf(all.messages());
        QCOMPARE(seen.size(), 6 * 5);
        for (qsizetype i = 1; i < seen.size(); ++i)
            QCOMPARE(seen[i], seen[i - 1] + 1);
        QVERIFY(seen.first() > 0);

        // A client that saw up to the 11th event comes back while more orders run.
        const qint64 since = seen[10];
        const QStringList second = runOrders(http, 6);
        WsClient resumed(ws(QStringLiteral("/ws/orders?since=%1").arg(since)));
        QVERIFY(resumed.waitConnected());
        const QStringList both = first + second;
        QVERIFY(resumed.waitFor([&](const QList<QJsonObject> &m) { return allEnded(m, second); },
                                60000));
        QVERIFY(all.waitFor([&](const QList<QJsonObject> &m) { return allEnded(m, both); }, 60000));
        const QList<qint64> everything = eventIdsOf(all.messages());
        // Exactly what the live stream had after `since`, in the same order; no snapshot.
        QCOMPARE(eventIdsOf(resumed.messages()), everything.mid(11));
        QCOMPARE(resumed.messages().size(), everything.size() - 11);
        for (const QJsonObject &m : resumed.messages())
            QCOMPARE(m.value(QStringLiteral("type")).toString(), QStringLiteral("status"));

        // One order's stream from seq 2: seq 3, 4, 5 as status messages, then closed.
        WsClient one(ws(QStringLiteral("/ws/orders/%1?since=2").arg(first.first())));
        QVERIFY(one.waitConnected());
        QVERIFY(one.waitClosed());
        QCOMPARE(int(one.socket().closeCode()), int(QWebSocketProtocol::CloseCodeNormal));
        QStringList seqs;
        for (const QJsonObject &m : one.messages()) {
            QCOMPARE(m.value(QStringLiteral("type")).toString(), QStringLiteral("status"));
            QVERIFY(m.value(QStringLiteral("eventId")).toDouble() > 0);
            seqs << QString::number(m.value(QStringLiteral("seq")).toInt());
        }
        QCOMPARE(seqs.join(QLatin1Char(',')), QStringLiteral("3,4,5"));
        // Nothing after the end: closed at once.
        WsClient done(ws(QStringLiteral("/ws/orders/%1?since=5").arg(first.first())));
        QVERIFY(done.waitConnected());
        QVERIFY(done.waitClosed());
        QVERIFY(done.messages().isEmpty());
        // A since that is not an id is refused, naming the field.
        WsClient bad(ws(QStringLiteral("/ws/orders?since=yesterday")));
        QVERIFY(bad.waitClosed(10000));
        QCOMPARE(int(bad.socket().closeCode()), 4400);
        QCOMPARE(bad.messages().value(0).value(QStringLiteral("field")).toString(),
                 QStringLiteral("since"));
    }

    void resumeWorksAcrossARestart()
    {
        // The log is in PostgreSQL: after the server restarts, a client resumes from the last
        // eventId it saw, gets what happened meanwhile, and continues live with the next ids.
        startEngine(fastConfig(m_servers));
        qint64 since = 0;
        QStringList before;
        {
            Http http(m_engine->port());
            const auto subscribed = subscribeToAll();
            QVERIFY(subscribed);
            before = runOrders(http, 1);
            QVERIFY(subscribed->waitFor(
                [&](const QList<QJsonObject> &m) { return allEnded(m, before); }, 60000));
            since = eventIdsOf(subscribed->messages()).value(2); // it saw three events, then left
            before += runOrders(http, 2);
            QVERIFY(since > 0);
            QVERIFY(waitUntil(
                [&] {
                    return m_servers.count(QStringLiteral(
                               "SELECT count(*) FROM orders WHERE status = 'confirmed'")) == 3;
                },
                60000));
        }
        m_engine.reset();
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        WsClient resumed(ws(QStringLiteral("/ws/orders?since=%1").arg(since)));
        QVERIFY(resumed.waitConnected());
        QVERIFY(resumed.waitFor(
            [&](const QList<QJsonObject> &m) { return allEnded(m, before.mid(1)); }, 60000));
        // No snapshot: what happened meanwhile comes as the live messages did.
        QCOMPARE(resumed.messages().first().value(QStringLiteral("type")).toString(),
                 QStringLiteral("status"));
        const QStringList after = runOrders(http, 2);
        QVERIFY(resumed.waitFor([&](const QList<QJsonObject> &m) { return allEnded(m, after); },
                                60000));
        const QList<qint64> ids = eventIdsOf(resumed.messages());
        QCOMPARE(ids.first(), since + 1);
        for (qsizetype i = 1; i < ids.size(); ++i)
            QCOMPARE(ids[i], ids[i - 1] + 1);
        QCOMPARE(ids.size(), 5 * 5 - 3);
        // The first order's remaining two events came too: nothing before `since`, nothing lost.
        QCOMPARE(statusesOf(resumed.messages(), before.first()),
                 (QStringList{QStringLiteral("submitted"), QStringLiteral("confirmed")}));
    }

    void theEventLogIsPrunedAndAResumeFromBeforeItIsRefused()
    {
        // EVENT_LOG_RETENTION_S: entries older than it are pruned (never the newest: the
        // numbering goes on from it). A resume from before the log's start would skip events:
        // refused (4410, field since), not served with a hole; one from its start is served.
        Config config = fastConfig(m_servers);
        config.eventLogRetentionS = 1;
        startEngine(config);
        Http http(m_engine->port());
        const auto subscribed = subscribeToAll();
        QVERIFY(subscribed);
        QStringList ids;
        for (int i = 0; i < 3;
             ++i) { // one after the other: several sequencer runs, several entries
            ids += runOrders(http, 1);
            QVERIFY(subscribed->waitFor(
                [&](const QList<QJsonObject> &m) { return allEnded(m, ids); }, 60000));
        }
        const qint64 firstSeen = eventIdsOf(subscribed->messages()).first();
        QVERIFY(waitUntil(
            [&] {
                return m_servers.count(QStringLiteral("SELECT count(*) FROM event_log")) == 1 &&
                       m_servers.count(QStringLiteral("SELECT min(first_id) FROM event_log")) >
                           firstSeen;
            },
            30000));
        const qint64 start = m_servers.count(QStringLiteral("SELECT min(first_id) FROM event_log"));

        WsClient tooOld(ws(QStringLiteral("/ws/orders?since=%1").arg(firstSeen)));
        QVERIFY(tooOld.waitClosed(10000));
        QCOMPARE(int(tooOld.socket().closeCode()), 4410);
        QCOMPARE(tooOld.messages().value(0).value(QStringLiteral("field")).toString(),
                 QStringLiteral("since"));

        WsClient fromStart(ws(QStringLiteral("/ws/orders?since=%1").arg(start - 1)));
        QVERIFY(fromStart.waitConnected());
        QVERIFY(
            fromStart.waitFor([&](const QList<QJsonObject> &m) { return !m.isEmpty(); }, 10000));
        QCOMPARE(eventIdsOf(fromStart.messages()).first(), start);
    }

    // Runs a program from tests/clients/openapi (npm ci'd by ./oee.sh test); its output on
    // failure.
    static QString runContractTool(const QString &program, const QStringList &args, int *exitCode)
    {
        const QString dir = QStringLiteral(OEE_SOURCE_DIR "/tests/clients/openapi");
        if (!QFile::exists(dir + QStringLiteral("/node_modules/@redocly/cli/package.json")))
            qFatal("the OpenAPI tools are not installed: run ./oee.sh test (npm ci in %s)",
                   qPrintable(dir));
        QProcess p;
        p.setWorkingDirectory(dir);
        p.setProcessChannelMode(QProcess::MergedChannels);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("REDOCLY_TELEMETRY"), QStringLiteral("off")); // offline, quiet
        env.insert(QStringLiteral("REDOCLY_SUPPRESS_UPDATE_NOTICE"), QStringLiteral("true"));
        env.insert(QStringLiteral("NODE_NO_WARNINGS"),
                   QStringLiteral("1")); // Node 18: fetch is "experimental"
        p.setProcessEnvironment(env);
        p.start(program, args);
        if (!waitUntil([&] { return p.state() == QProcess::NotRunning; }, 180000)) {
            p.kill();
            p.waitForFinished();
        }
        *exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        return QString::fromUtf8(p.readAll());
    }

    void openApiDocumentIsLintedAndTheServerKeepsIt()
    {
        // GET /api/openapi.json is resources/openapi.json; Redocly's linter passes it with its
        // strict recommended rules; every documented example, replayed against this server,
        // answers a documented status with a body that validates against its schema (Ajv,
        // JSON Schema 2020-12), and every documented refusal is refused naming its field.
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const HttpResult served = http.get(QStringLiteral("/api/openapi.json"));
        QCOMPARE(served.status, 200);
        QFile source(QStringLiteral(OEE_SOURCE_DIR "/resources/openapi.json"));
        QVERIFY(source.open(QIODevice::ReadOnly));
        QVERIFY(served.body == source.readAll());
        QCOMPARE(QJsonDocument::fromJson(served.body)
                     .object()
                     .value(QStringLiteral("openapi"))
                     .toString(),
                 QStringLiteral("3.1.0"));

        int code = 0;
        QString out = runContractTool(QStringLiteral("node"),
                                      {QStringLiteral("node_modules/@redocly/cli/bin/cli.js"),
                                       QStringLiteral("lint"),
                                       QStringLiteral("../../../resources/openapi.json")},
                                      &code);
        QVERIFY2(code == 0, qPrintable(out.right(6000)));
        out = runContractTool(QStringLiteral("node"),
                              {QStringLiteral("check.mjs"),
                               QStringLiteral("http://127.0.0.1:%1").arg(m_engine->port())},
                              &code);
        QVERIFY2(code == 0, qPrintable(out.right(6000)));
        // The report is the last thing printed (a JSON object).
        const QJsonObject report =
            QJsonDocument::fromJson(out.mid(out.indexOf(QLatin1Char('{'))).toUtf8()).object();
        QVERIFY2(report.value(QStringLiteral("replayed")).toInt() >= 60,
                 qPrintable(out)); // 49 before the operator actions
        // Its last operator action resumes intake (the document orders them so).
        QVERIFY(!m_engine->controls()->paused());
    }

    void aLateUpgradeOnAKeptAliveConnectionIsRefused()
    {
        // Streams are served on their own thread from a fresh connection; an upgrade after
        // other requests on the same connection is refused rather than moved mid-answer.
        startEngine(fastConfig(m_servers));
        QTcpSocket socket;
        socket.connectToHost(QStringLiteral("127.0.0.1"), m_engine->port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /ws/orders HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n");
        QByteArray got;
        QVERIFY(waitUntil(
            [&] {
                socket.waitForReadyRead(100);
                got += socket.readAll();
                return got.contains("a WebSocket upgrade must be the first request");
            },
            10000));
        QVERIFY(got.contains("HTTP/1.1 400"));
        QVERIFY(!got.contains("101 Switching Protocols"));
    }

    void pipelinedRequestsAreAnsweredInOrder()
    {
        // HTTP/1.1 (RFC 9112, 9.3.2): answers in the order the requests came on a connection,
        // whichever is ready first. The submission is held up by a lock on `orders`; the
        // refusal after it is immediate, /health and the read after it are quick.
        startEngine(fastConfig(m_servers));
        QString error;
        const auto pg = PgEndpoint::fromUrl(m_servers.databaseUrl(), &error);
        QVERIFY2(pg, qPrintable(error));
        const QByteArray body = QJsonDocument(solUsdc()).toJson(QJsonDocument::Compact);
        const auto post = [](const QByteArray &b) {
            return "POST /api/orders/execute HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   "application/json\r\nContent-Length: " +
                   QByteArray::number(b.size()) + "\r\n\r\n" + b;
        };
        const QByteArray read = "GET /api/orders/" +
                                QUuid::createUuid().toByteArray(QUuid::WithoutBraces) +
                                " HTTP/1.1\r\nHost: x\r\n\r\n";
        const QByteArray health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
        QTcpSocket socket;
        {
            QSqlDatabase locker = Database::open(QStringLiteral("api-pipelining-lock"), *pg);
            QVERIFY(locker.transaction());
            QSqlQuery lock(locker);
            QVERIFY2(lock.exec(QStringLiteral("LOCK TABLE orders IN SHARE MODE")),
                     qPrintable(lock.lastError().text()));
            socket.connectToHost(QHostAddress::LocalHost, m_engine->port());
            QVERIFY(socket.waitForConnected(10000));
            socket.write(post(body) + post("{}") + health + read);
            QVERIFY(socket.waitForBytesWritten(10000));
            // The submission waits behind the lock; the others have been answered by the time
            // the same two requests on another connection are.
            QVERIFY(waitUntil([&] {
                return m_servers.count(QStringLiteral(
                           "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                           "'Lock' AND query LIKE '%INSERT%'")) >= 1;
            }));
            Http other(m_engine->port());
            QCOMPARE(other.get(QStringLiteral("/health")).status, 200);
            QCOMPARE(other.get(QString::fromLatin1(read.mid(4, read.indexOf(' ', 4) - 4))).status,
                     404);
            locker.rollback();
        }
        Database::remove(QStringLiteral("api-pipelining-lock"));
        QList<int> statuses;
        QList<QByteArray> bodies;
        QByteArray in;
        QVERIFY(waitUntil(
            [&] {
                socket.waitForReadyRead(100);
                in += socket.readAll();
                while (auto answer = Http::takeAnswer(in)) {
                    statuses << answer->status;
                    bodies << answer->body;
                }
                return statuses.size() >= 4;
            },
            20000));
        QCOMPARE(statuses, (QList<int>{200, 400, 200, 404}));
        QVERIFY2(!QJsonDocument::fromJson(bodies[0])
                      .object()
                      .value(QStringLiteral("orderId"))
                      .toString()
                      .isEmpty(),
                 bodies[0].constData());
        QVERIFY2(bodies[2].contains("healthy"), bodies[2].constData());
    }

    void metricsPassPromtoolAndAPrometheusScrapesThem()
    {
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        // The counters are the process's (earlier tests in this one count too): compare deltas.
        const auto value = [](const QByteArray &body, const QByteArray &series) {
            for (const QByteArray &line : body.split('\n'))
                if (line.startsWith(series + ' '))
                    return line.mid(series.size() + 1).toDouble();
            return -1.0;
        };
        const QByteArray confirmed = "oee_status_changes_total{status=\"confirmed\"}";
        const QByteArray before = http.get(QStringLiteral("/metrics")).body;
        for (int i = 0; i < 2; ++i)
            QCOMPARE(statuses(runToEnd(http.post(QStringLiteral("/api/orders/execute"),
                                                 QJsonDocument(solUsdc()).toJson())
                                           .json()
                                           .value(QStringLiteral("orderId"))
                                           .toString())),
                     kHappyPath);
        const HttpResult scraped = http.get(QStringLiteral("/metrics"));
        QCOMPARE(scraped.status, 200);
        QVERIFY(scraped.headers.value("content-type").startsWith("text/plain; version=0.0.4"));
        QCOMPARE(value(scraped.body, confirmed) - value(before, confirmed), 2.0);
        QCOMPARE(value(scraped.body, "oee_order_duration_seconds_count") -
                     value(before, "oee_order_duration_seconds_count"),
                 2.0);
        QCOMPARE(value(scraped.body, "oee_submit_seconds_count") -
                     value(before, "oee_submit_seconds_count"),
                 2.0); // intake, per submission
        const double batches = value(scraped.body, "oee_ingest_commit_seconds_count") -
                               value(before, "oee_ingest_commit_seconds_count");
        QVERIFY2(batches >= 1 && batches <= 2,
                 qPrintable(QString::number(batches))); // one or two batches
        QCOMPARE(value(scraped.body, "oee_ingest_batch_orders_sum") -
                     value(before, "oee_ingest_batch_orders_sum"),
                 2.0);
        QCOMPARE(value(scraped.body, "oee_orders{status=\"confirmed\"}"), 2.0); // this database's
        QVERIFY(value(scraped.body, "oee_queue_jobs{state=\"waiting\"}") >= 0);
        const QString confirmedNow = QString::number(value(scraped.body, confirmed));

        // Debian's promtool: the exposition parses and passes its lint.
        QProcess promtool;
        promtool.start(QStringLiteral("promtool"),
                       {QStringLiteral("check"), QStringLiteral("metrics")});
        QVERIFY2(promtool.waitForStarted(10000),
                 "promtool missing: ./oee.sh test installs Debian's prometheus");
        promtool.write(scraped.body);
        promtool.closeWriteChannel();
        QVERIFY(promtool.waitForFinished(30000));
        const QByteArray lint = promtool.readAllStandardOutput() + promtool.readAllStandardError();
        QVERIFY2(promtool.exitCode() == 0 && lint.trimmed().isEmpty(), lint.constData());

        // A real Prometheus scrapes it.
        QTemporaryDir dir;
        QTcpServer probe; // a free port for Prometheus's own web API
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 promPort = probe.serverPort();
        probe.close();
        QFile config(dir.filePath(QStringLiteral("prometheus.yml")));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write(QStringLiteral("global:\n  scrape_interval: 1s\nscrape_configs:\n"
                                    "  - job_name: oee\n    static_configs:\n"
                                    "      - targets: ['127.0.0.1:%1']\n")
                         .arg(m_engine->port())
                         .toUtf8());
        config.close();
        QProcess prometheus;
        prometheus.setProcessChannelMode(QProcess::MergedChannels);
        prometheus.start(
            QStringLiteral("prometheus"),
            {QStringLiteral("--config.file=") + config.fileName(),
             QStringLiteral("--storage.tsdb.path=") + dir.filePath(QStringLiteral("data")),
             QStringLiteral("--web.listen-address=127.0.0.1:%1").arg(promPort)});
        QVERIFY2(prometheus.waitForStarted(10000), "prometheus missing: ./oee.sh test installs it");
        Http prom(promPort);
        const auto query = [&](const QString &expr) {
            return prom
                .get(QStringLiteral("/api/v1/query?query=") +
                     QString::fromLatin1(QUrl::toPercentEncoding(expr)))
                .json()
                .value(QStringLiteral("data"))
                .toObject()
                .value(QStringLiteral("result"))
                .toArray();
        };
        const bool scrapedByPrometheus = waitUntil(
            [&] {
                const QJsonArray r = query(
                    QStringLiteral("oee_status_changes_total{job=\"oee\",status=\"confirmed\"}"));
                return !r.isEmpty() && r.first()
                                               .toObject()
                                               .value(QStringLiteral("value"))
                                               .toArray()
                                               .at(1)
                                               .toString() == confirmedNow;
            },
            60000);
        const QByteArray log = prometheus.readAll();
        prometheus.terminate();
        prometheus.waitForFinished(10000);
        QVERIFY2(scrapedByPrometheus, log.right(2000).constData());
    }

    void everyStatusChangeIsARowAndTheOrderMatchesTheLastEvent()
    {
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const QString id = http.submit(solUsdc(1234.567890123)); // 9 decimals: SOL's all
        QVERIFY(!id.isEmpty());
        const QList<QJsonObject> timeline = runToEnd(id);
        QCOMPARE(statuses(timeline), kHappyPath);

        const QString where = QStringLiteral(" WHERE order_id = '%1'").arg(id);
        QCOMPARE(m_servers.sql(QStringLiteral("SELECT status FROM order_events") + where +
                               QStringLiteral(" ORDER BY seq")),
                 kHappyPath);
        QCOMPARE(m_servers.sql(QStringLiteral("SELECT seq FROM order_events") + where +
                               QStringLiteral(" ORDER BY seq")),
                 latin1List({"1", "2", "3", "4", "5"}));
        const QString signature = timeline.last()
                                      .value(QStringLiteral("data"))
                                      .toObject()
                                      .value(QStringLiteral("signature"))
                                      .toString();
        QCOMPARE(
            m_servers.sql(QStringLiteral("SELECT status || '|' || last_seq || '|' || tx_signature "
                                         "|| '|' || dex FROM orders WHERE id = '%1'")
                              .arg(id)),
            QStringList{QStringLiteral("confirmed|5|%1|%2")
                            .arg(signature, timeline[1]
                                                .value(QStringLiteral("data"))
                                                .toObject()
                                                .value(QStringLiteral("venue"))
                                                .toString())});
        // NUMERIC keeps the submitted precision.
        QCOMPARE(m_servers.sql(
                     QStringLiteral("SELECT amount::text FROM orders WHERE id = '%1'").arg(id)),
                 QStringList{QStringLiteral("1234.567890123")});

        // The REST views agree with the rows.
        const QJsonObject order = http.get(QStringLiteral("/api/orders/") + id)
                                      .json()
                                      .value(QStringLiteral("order"))
                                      .toObject();
        QCOMPARE(order.value(QStringLiteral("status")).toString(), QStringLiteral("confirmed"));
        QCOMPARE(order.value(QStringLiteral("txSignature")).toString(), signature);
        QCOMPARE(order.value(QStringLiteral("attempts")).toInt(), 1);
        const QJsonArray events = http.get(QStringLiteral("/api/orders/%1/events").arg(id))
                                      .json()
                                      .value(QStringLiteral("events"))
                                      .toArray();
        QCOMPARE(events.size(), 5);
        QCOMPARE(events.last()
                     .toObject()
                     .value(QStringLiteral("data"))
                     .toObject()
                     .value(QStringLiteral("signature"))
                     .toString(),
                 signature);
        const QJsonArray list =
            QJsonDocument::fromJson(
                http.get(QStringLiteral("/api/orders?status=confirmed&limit=10")).body)
                .array();
        QCOMPARE(list.first().toObject().value(QStringLiteral("id")).toString(), id);
        QCOMPARE(QJsonDocument::fromJson(http.get(QStringLiteral("/api/orders?status=failed")).body)
                     .array()
                     .size(),
                 0);
        const QJsonObject quotes =
            http.get(QStringLiteral("/api/quotes?tokenIn=SOL&tokenOut=USDC&amount=2")).json();
        QVERIFY(quotes.value(QStringLiteral("raydium"))
                    .toObject()
                    .value(QStringLiteral("amountOut"))
                    .toDouble() > 0);
        QVERIFY(!quotes.value(QStringLiteral("chosen")).toString().isEmpty());
        const QJsonObject metrics = http.get(QStringLiteral("/api/metrics")).json();
        QCOMPARE(metrics.value(QStringLiteral("orders"))
                     .toObject()
                     .value(QStringLiteral("confirmed"))
                     .toInt(),
                 1);
        QCOMPARE(metrics.value(QStringLiteral("queue"))
                     .toObject()
                     .value(QStringLiteral("completed"))
                     .toInt(),
                 1);
    }

    void pagingIsNewestFirst()
    {
        Config c = fastConfig(m_servers);
        c.runWorkers = false; // accept and queue only
        startEngine(c);
        Http http(m_engine->port());
        QStringList ids;
        for (int i = 0; i < 5; ++i)
            ids.prepend(http.submit(solUsdc(1 + i)));
        // A JSON array (seeds 003 and 004), the next page named by the Link header.
        const HttpResult page1 = http.get(QStringLiteral("/api/orders?limit=3"));
        const QJsonArray first = QJsonDocument::fromJson(page1.body).array();
        QCOMPARE(first.size(), 3);
        QCOMPARE(first[0].toObject().value(QStringLiteral("id")).toString(), ids[0]);
        const QByteArray link = page1.headers.value("link");
        QVERIFY2(link.startsWith("</api/orders?limit=3&before=") &&
                     link.endsWith(">; rel=\"next\""),
                 link.constData());
        const QString next = QString::fromLatin1(link.mid(1, link.indexOf('>') - 1));
        QCOMPARE(next, QStringLiteral("/api/orders?limit=3&before=") +
                           QString::fromLatin1(page1.headers.value("x-next-cursor")));
        const HttpResult page2 = http.get(next);
        const QJsonArray second = QJsonDocument::fromJson(page2.body).array();
        QCOMPARE(second.size(), 2);
        QCOMPARE(second[1].toObject().value(QStringLiteral("id")).toString(), ids[4]);
        QVERIFY(!page2.headers.contains("link")); // the last page
        QCOMPARE(
            QJsonDocument::fromJson(http.get(QStringLiteral("/api/orders?status=pending")).body)
                .array()
                .size(),
            5);
        QCOMPARE(http.get(QStringLiteral("/api/metrics"))
                     .json()
                     .value(QStringLiteral("queue"))
                     .toObject()
                     .value(QStringLiteral("waiting"))
                     .toInt(),
                 5);
    }

    void cancelAPendingOrder()
    {
        Config c = fastConfig(m_servers);
        c.dex.failAttempts = 1;    // the first attempt fails...
        c.retryBackoffMs = 600000; // ...and the order rests in pending for its retry
        startEngine(c);
        Http http(m_engine->port());
        const QString id = http.submit(solUsdc());
        QVERIFY(!id.isEmpty());
        WsClient stream(ws(QStringLiteral("/ws/orders/") + id));
        QVERIFY(stream.waitConnected());
        QVERIFY(waitUntil([&] {
            return m_servers.count(QStringLiteral("SELECT count(*) FROM orders WHERE id = '%1' AND "
                                                  "status = 'pending' AND attempts = 1")
                                       .arg(id)) == 1;
        }));
        const HttpResult r = http.del(QStringLiteral("/api/orders/") + id.toUpper()); // any case
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(QStringLiteral("status")).toString(), QStringLiteral("cancelled"));
        // Streamed like any status change, and the per-order stream ends.
        QVERIFY(stream.waitFor([](const QList<QJsonObject> &m) {
            return lastStatus(orderTimeline(m)) == QStringLiteral("cancelled");
        }));
        QVERIFY(stream.waitClosed());
        QCOMPARE(m_servers.sql(QStringLiteral("SELECT status FROM orders WHERE id = '%1'").arg(id)),
                 QStringList{QStringLiteral("cancelled")});
        QCOMPARE(m_servers.sql(QStringLiteral("SELECT status FROM order_events WHERE order_id = "
                                              "'%1' ORDER BY seq DESC LIMIT 1")
                                   .arg(id)),
                 QStringList{QStringLiteral("cancelled")});
        QCOMPARE(http.get(QStringLiteral("/api/orders?status=cancelled")).status, 200);
        // Once ended (or routing), a cancel is a 409 naming the status; both paths.
        const HttpResult again =
            http.post(QStringLiteral("/api/orders/%1/cancel").arg(id), QByteArray());
        QCOMPARE(again.status, 409);
        QCOMPARE(again.json().value(QStringLiteral("code")).toString(),
                 QStringLiteral("not_cancellable"));
        QCOMPARE(again.json().value(QStringLiteral("status")).toString(),
                 QStringLiteral("cancelled"));
        QCOMPARE(
            http.del(QStringLiteral("/api/orders/6f1c0a52-8d4b-4d8e-9a57-3c1f8e0b2d11")).status,
            404);
        QCOMPARE(http.del(QStringLiteral("/api/orders/nope"))
                     .json()
                     .value(QStringLiteral("code"))
                     .toString(),
                 QStringLiteral("not_found"));
    }

    void cancelRacingTheWorkersHasOneWinner()
    {
        // Orders are claimed ten a second, so cancels meet orders waiting, claimed and done.
        Config c = fastConfig(m_servers);
        c.ratePerWindow = 10;
        c.rateWindowMs = 1000;
        startEngine(c);
        const int total = 40;
        QNetworkAccessManager nam;
        QHash<QString, int> cancelStatus;
        int submitted = 0;
        for (int i = 0; i < total; ++i) {
            QNetworkRequest req(QUrl(
                QStringLiteral("http://127.0.0.1:%1/api/orders/execute").arg(m_engine->port())));
            req.setRawHeader("Content-Type", "application/json");
            QNetworkReply *post = nam.post(req, QJsonDocument(solUsdc()).toJson());
            connect(post, &QNetworkReply::finished, this, [&, post] {
                post->deleteLater();
                const QString id = QJsonDocument::fromJson(post->readAll())
                                       .object()
                                       .value(QStringLiteral("orderId"))
                                       .toString();
                ++submitted;
                QNetworkReply *del = nam.deleteResource(
                    QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/api/orders/%2")
                                             .arg(m_engine->port())
                                             .arg(id))));
                connect(del, &QNetworkReply::finished, this, [&, del, id] {
                    del->deleteLater();
                    cancelStatus.insert(
                        id, del->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt());
                });
            });
        }
        QVERIFY(waitUntil([&] { return cancelStatus.size() == total; }, 60000));
        QVERIFY(waitUntil(
            [&] {
                return m_servers.count(QStringLiteral("SELECT count(*) FROM orders WHERE status IN "
                                                      "('confirmed', 'cancelled')")) == total;
            },
            60000));
        QString error;
        const auto endpoint = RedisEndpoint::fromUrl(m_servers.redisUrl(), &error);
        RedisConnection redis(*endpoint);
        int cancelled = 0;
        for (auto it = cancelStatus.cbegin(); it != cancelStatus.cend(); ++it) {
            const QString status =
                m_servers
                    .sql(QStringLiteral("SELECT status FROM orders WHERE id = '%1'").arg(it.key()))
                    .value(0);
            QVERIFY2(it.value() == 200 || it.value() == 409,
                     qPrintable(QString::number(it.value())));
            // Exactly one winner: a 200 is a cancelled order, a 409 one that went on.
            QCOMPARE(status == QStringLiteral("cancelled"), it.value() == 200);
            if (status != QStringLiteral("cancelled"))
                continue;
            ++cancelled;
            // Never executed: no submitted or confirmed event, nothing landed on the chain.
            QCOMPARE(
                m_servers.count(QStringLiteral("SELECT count(*) FROM order_events WHERE order_id = "
                                               "'%1' AND status IN ('submitted', 'confirmed')")
                                    .arg(it.key())),
                0);
            const RedisReply landed =
                redis.command({"EXISTS", rkeys::ledger("oee:", transactionSignature(it.key(), 1))});
            QCOMPARE(landed.toInt(), 0);
        }
        QVERIFY(cancelled > 0);
        // Every row matches its events (no half-written cancel, no write after it).
        QCOMPARE(m_servers.count(
                     QStringLiteral("SELECT count(*) FROM orders o WHERE last_seq <> (SELECT "
                                    "count(*) FROM order_events e WHERE e.order_id = o.id)")),
                 0);
    }

    void slippageExceededFailsWithThatReason()
    {
        Config c = fastConfig(m_servers);
        c.dex.executionPriceShiftPpm = -50000; // 5% adverse move, slippage tolerance 1%
        c.maxAttempts = 2;
        startEngine(c);
        Http http(m_engine->port());
        const QString id = http.submit(solUsdc());
        const QList<QJsonObject> timeline = runToEnd(id);
        QCOMPARE(lastStatus(timeline), QStringLiteral("failed"));
        const QJsonObject failed = timeline.last().value(QStringLiteral("data")).toObject();
        QVERIFY2(failed.value(QStringLiteral("error"))
                     .toString()
                     .startsWith(QStringLiteral("Slippage tolerance exceeded")),
                 qPrintable(failed.value(QStringLiteral("error")).toString()));
        QCOMPARE(failed.value(QStringLiteral("attempt")).toInt(), 2);
        const QJsonObject order = http.get(QStringLiteral("/api/orders/") + id)
                                      .json()
                                      .value(QStringLiteral("order"))
                                      .toObject();
        QCOMPARE(order.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
        QVERIFY(order.value(QStringLiteral("error"))
                    .toString()
                    .startsWith(QStringLiteral("Slippage tolerance exceeded")));
    }

    void transientFailureIsRetriedWithBackoffThenConfirmed()
    {
        Config c = fastConfig(m_servers);
        c.dex.failAttempts = 1; // the first attempt fails at the venue
        c.retryBackoffMs = 300;
        startEngine(c);
        Http http(m_engine->port());
        const QString id = http.submit(solUsdc());
        const QList<QJsonObject> timeline = runToEnd(id);
        QCOMPARE(statuses(timeline),
                 latin1List({"pending", "routing", "building", "submitted", "pending", "routing",
                             "building", "submitted", "confirmed"}));
        const QJsonObject retry = timeline[4].value(QStringLiteral("data")).toObject();
        QVERIFY(
            retry.value(QStringLiteral("error")).toString().contains(QStringLiteral("rejected")));
        QCOMPARE(retry.value(QStringLiteral("attempt")).toInt(), 1);
        QCOMPARE(retry.value(QStringLiteral("retryInMs")).toInt(), 300);
        // The second attempt did not start before its backoff.
        const QDateTime failedAt = QDateTime::fromString(
            timeline[4].value(QStringLiteral("timestamp")).toString(), Qt::ISODateWithMs);
        const QDateTime retriedAt = QDateTime::fromString(
            timeline[5].value(QStringLiteral("timestamp")).toString(), Qt::ISODateWithMs);
        QVERIFY(failedAt.msecsTo(retriedAt) >= 290);
        QCOMPARE(timeline[8]
                     .value(QStringLiteral("data"))
                     .toObject()
                     .value(QStringLiteral("attempt"))
                     .toInt(),
                 2);
        QCOMPARE(m_servers.sql(QStringLiteral("SELECT attempts || '|' || status || '|' || "
                                              "coalesce(error, '-') FROM orders WHERE id = '%1'")
                                   .arg(id)),
                 QStringList{QStringLiteral("2|confirmed|-")});
    }

    void failsAfterExactlyMaxAttempts()
    {
        Config c = fastConfig(m_servers);
        c.dex.failAttempts = 100; // every attempt fails
        c.maxAttempts = 3;
        startEngine(c);
        Http http(m_engine->port());
        const QString id = http.submit(solUsdc());
        const QList<QJsonObject> timeline = runToEnd(id);
        QCOMPARE(lastStatus(timeline), QStringLiteral("failed"));
        QCOMPARE(statuses(timeline).count(QStringLiteral("submitted")), 3);
        QCOMPARE(statuses(timeline).count(QStringLiteral("routing")), 3);
        QCOMPARE(timeline.last()
                     .value(QStringLiteral("data"))
                     .toObject()
                     .value(QStringLiteral("attempts"))
                     .toInt(),
                 3);
        QCOMPARE(
            m_servers.count(QStringLiteral("SELECT attempts FROM orders WHERE id = '%1'").arg(id)),
            3);
        QCOMPARE(http.get(QStringLiteral("/api/metrics"))
                     .json()
                     .value(QStringLiteral("queue"))
                     .toObject()
                     .value(QStringLiteral("failed"))
                     .toInt(),
                 1);
    }

    void twoHundredOrdersAtOnceAllFinishOnce()
    {
        Config c = fastConfig(m_servers);
        c.concurrency = 40;
        startEngine(c);
        QNetworkAccessManager nam;
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 200; ++i) {
            QNetworkRequest req(QUrl(
                QStringLiteral("http://127.0.0.1:%1/api/orders/execute").arg(m_engine->port())));
            req.setRawHeader("Content-Type", "application/json");
            replies.append(nam.post(req, QJsonDocument(solUsdc(1 + i % 7)).toJson()));
        }
        QSet<QString> ids;
        for (QNetworkReply *r : replies) {
            if (!r->isFinished())
                QVERIFY(QSignalSpy(r, &QNetworkReply::finished).wait(60000));
            QCOMPARE(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
            ids.insert(QJsonDocument::fromJson(r->readAll())
                           .object()
                           .value(QStringLiteral("orderId"))
                           .toString());
            r->deleteLater();
        }
        QCOMPARE(ids.size(), 200);
        QTRY_COMPARE_WITH_TIMEOUT(
            m_servers.count(QStringLiteral(
                "SELECT count(*) FROM orders WHERE status IN ('confirmed', 'failed')")),
            200, 120000);
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM orders")), 200);
        // Executed once: exactly one confirmed event and one submitted transaction per order.
        QCOMPARE(m_servers.count(QStringLiteral(
                     "SELECT count(*) FROM order_events WHERE status = 'confirmed'")),
                 200);
        QCOMPARE(m_servers.count(QStringLiteral(
                     "SELECT count(*) FROM (SELECT order_id FROM order_events WHERE status = "
                     "'submitted' GROUP BY order_id HAVING count(*) > 1) d")),
                 0);
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(DISTINCT tx_signature) FROM orders")),
                 200);
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM order_events")), 1000);
        Http http(m_engine->port());
        const QJsonObject queue = http.get(QStringLiteral("/api/metrics"))
                                      .json()
                                      .value(QStringLiteral("queue"))
                                      .toObject();
        QCOMPARE(queue.value(QStringLiteral("completed")).toInt(), 200);
        QCOMPARE(queue.value(QStringLiteral("active")).toInt(), 0);
        QCOMPARE(queue.value(QStringLiteral("waiting")).toInt(), 0);
    }

    void rateLimitHoldsEndToEnd()
    {
        Config c = fastConfig(m_servers);
        c.ratePerWindow = 3;
        c.rateWindowMs = 120000; // far longer than this test
        startEngine(c);
        Http http(m_engine->port());
        for (int i = 0; i < 6; ++i)
            QVERIFY(!http.submit(solUsdc()).isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(m_servers.count(QStringLiteral(
                                      "SELECT count(*) FROM orders WHERE status = 'confirmed'")),
                                  3, 60000);
        // A job is settled just after its order's terminal status is committed: wait for that.
        QJsonObject queue;
        QVERIFY(waitUntil([&] {
            queue = http.get(QStringLiteral("/api/metrics"))
                        .json()
                        .value(QStringLiteral("queue"))
                        .toObject();
            return queue.value(QStringLiteral("active")).toInt() == 0;
        }));
        QCOMPARE(queue.value(QStringLiteral("waiting")).toInt(), 3);
        QCOMPARE(
            m_servers.count(QStringLiteral("SELECT count(*) FROM orders WHERE status = 'pending'")),
            3);
    }

    void idempotencyKeyReturnsTheOriginalOrder()
    {
        startEngine(fastConfig(m_servers));
        const auto post = [](quint16 port, const QByteArray &key, QNetworkAccessManager &nam) {
            QNetworkRequest req(
                QUrl(QStringLiteral("http://127.0.0.1:%1/api/orders/execute").arg(port)));
            req.setRawHeader("Content-Type", "application/json");
            req.setRawHeader("Idempotency-Key", key);
            return nam.post(req, QJsonDocument(solUsdc()).toJson());
        };
        const auto finish = [](QNetworkReply *r) {
            if (!r->isFinished())
                QSignalSpy(r, &QNetworkReply::finished).wait(30000);
            // 200 either way; a replay says so (body and Idempotent-Replayed header).
            const QJsonObject body = QJsonDocument::fromJson(r->readAll()).object();
            const bool replayed = body.value(QStringLiteral("replayed")).toBool();
            int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            // The header must agree with the body: a disagreement is reported as status -1,
            // which no comparison below accepts.
            if (status == 200 &&
                r->rawHeader("Idempotent-Replayed") != (replayed ? "true" : "false"))
                status = -1;
            const QString id = body.value(QStringLiteral("orderId")).toString();
            r->deleteLater();
            return std::make_pair(status == 200 ? (replayed ? 200 : 201) : status, id);
        };
        QNetworkAccessManager nam;
        const auto first = finish(post(m_engine->port(), "client-retry-1", nam));
        QCOMPARE(first.first, 201);
        const auto again = finish(post(m_engine->port(), "client-retry-1", nam));
        QCOMPARE(again.first, 200);
        QCOMPARE(again.second, first.second);

        // Many at once, on two engines (as two processes) sharing Redis and PostgreSQL.
        Engine other(fastConfig(m_servers));
        QString error;
        QVERIFY2(other.start(&error), qPrintable(error));
        QList<QNetworkReply *> burst;
        for (int i = 0; i < 10; ++i) {
            burst << post(m_engine->port(), "client-burst", nam);
            burst << post(other.port(), "client-burst", nam);
        }
        QSet<QString> ids;
        int created = 0;
        for (QNetworkReply *r : burst) {
            const auto [status, id] = finish(r);
            QVERIFY(status == 200 || status == 201);
            created += status == 201;
            ids.insert(id);
        }
        QCOMPARE(ids.size(), 1);
        QCOMPARE(created, 1);
        QCOMPARE(m_servers.count(QStringLiteral(
                     "SELECT count(*) FROM orders WHERE idempotency_key = 'client-burst'")),
                 1);
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM orders")), 2);

        // Across a restart.
        m_engine.reset();
        startEngine(fastConfig(m_servers));
        QCOMPARE(finish(post(m_engine->port(), "client-retry-1", nam)),
                 std::make_pair(200, first.second));
        // A malformed key is refused, naming the header.
        const auto bad = post(m_engine->port(), QByteArray(300, 'k'), nam);
        if (!bad->isFinished())
            QSignalSpy(bad, &QNetworkReply::finished).wait(30000);
        QCOMPARE(bad->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 400);
        QCOMPARE(QJsonDocument::fromJson(bad->readAll())
                     .object()
                     .value(QStringLiteral("field"))
                     .toString(),
                 QStringLiteral("Idempotency-Key"));
        bad->deleteLater();
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM orders")), 2);
    }

    void apiKeyGuardsWritesAndStreams()
    {
        Config open = fastConfig(m_servers);
        open.host = QStringLiteral("0.0.0.0");
        {
            Engine exposed(open);
            QString error;
            QVERIFY(!exposed.start(&error));
            QVERIFY2(error.contains(QStringLiteral("API_KEY")), qPrintable(error));
        }
        Config c = fastConfig(m_servers);
        c.apiKey = QStringLiteral("s3cret");
        startEngine(c);
        Http http(m_engine->port());
        const QByteArray body = QJsonDocument(solUsdc()).toJson();
        const HttpResult denied = http.post(QStringLiteral("/api/orders/execute"), body);
        QCOMPARE(denied.status, 401);
        QCOMPARE(denied.json().value(QStringLiteral("field")).toString(),
                 QStringLiteral("Authorization"));
        const HttpResult wrong = http.raw(
            "POST /api/orders/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Authorization: Bearer nope\r\nContent-Length: " +
            QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QCOMPARE(wrong.status, 401);
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM orders")), 0);
        const HttpResult ok = http.raw(
            "POST /api/orders/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Authorization: Bearer s3cret\r\nContent-Length: " +
            QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QCOMPARE(ok.status, 200);
        const QString id = ok.json().value(QStringLiteral("orderId")).toString();
        QCOMPARE(http.get(QStringLiteral("/api/orders/") + id).status, 200); // reads stay open

        WsClient anonymous(ws(QStringLiteral("/ws/orders/") + id));
        QSignalSpy closed(&anonymous.socket(), &QWebSocket::disconnected);
        QVERIFY(closed.wait(10000) || closed.count() > 0);
        QCOMPARE(int(anonymous.socket().closeCode()), 4401);
        WsClient withToken(ws(QStringLiteral("/ws/orders/%1?token=s3cret").arg(id)));
        QVERIFY(withToken.waitConnected());
        QVERIFY(withToken.waitFor(hasTerminal));
    }

    void corsOriginsAreConfigurable()
    {
        Config c = fastConfig(m_servers);
        c.corsOrigins = QStringLiteral("https://desk.example, https://ops.example");
        startEngine(c);
        Http http(m_engine->port());
        const auto header = [&](const QByteArray &request, const QByteArray &name) {
            QTcpSocket s;
            s.connectToHost(QStringLiteral("127.0.0.1"), m_engine->port());
            s.waitForConnected(5000);
            s.write(request);
            QByteArray data;
            waitUntil(
                [&] {
                    data += s.readAll();
                    return data.contains("\r\n\r\n");
                },
                10000);
            for (const QByteArray &line : data.split('\n'))
                if (line.toLower().startsWith(name.toLower() + ':'))
                    return line.mid(name.size() + 1).trimmed();
            return QByteArray();
        };
        QCOMPARE(header("GET /health HTTP/1.1\r\nHost: x\r\nOrigin: https://ops.example\r\n\r\n",
                        "Access-Control-Allow-Origin"),
                 QByteArray("https://ops.example"));
        QCOMPARE(header("GET /health HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n",
                        "Access-Control-Allow-Origin"),
                 QByteArray());
        const QByteArray preflight =
            "OPTIONS /api/orders/execute HTTP/1.1\r\nHost: x\r\nOrigin: https://desk.example\r\n"
            "Access-Control-Request-Method: POST\r\n\r\n";
        QCOMPARE(header(preflight, "Access-Control-Allow-Origin"),
                 QByteArray("https://desk.example"));
        QVERIFY(header(preflight, "Access-Control-Allow-Headers").contains("Idempotency-Key"));
    }

    // Last: it stops the shared redis-server.
    void healthFollowsRedis()
    {
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const HttpResult up = http.get(QStringLiteral("/health"));
        QCOMPARE(up.status, 200);
        QCOMPARE(up.json().value(QStringLiteral("status")).toString(), QStringLiteral("healthy"));

        m_servers.servers().stopRedis();
        const HttpResult down = http.get(QStringLiteral("/health"));
        QCOMPARE(down.status, 503);
        QVERIFY(down.json()
                    .value(QStringLiteral("redis"))
                    .toString()
                    .startsWith(QStringLiteral("down")));
        QCOMPARE(down.json().value(QStringLiteral("postgres")).toString(), QStringLiteral("up"));
        QVERIFY(down.json()
                    .value(QStringLiteral("error"))
                    .toString()
                    .contains(QStringLiteral("redis")));
        // A submission while Redis is down is refused and leaves nothing behind.
        const HttpResult refused =
            http.post(QStringLiteral("/api/orders/execute"), QJsonDocument(solUsdc()).toJson());
        QCOMPARE(refused.status, 503);
        QCOMPARE(refused.json().value(QStringLiteral("code")).toString(),
                 QStringLiteral("queue_unavailable"));
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM orders")), 0);

        QString url, error;
        QVERIFY2(m_servers.servers().startRedis(&url, &error), qPrintable(error));
        QCOMPARE(url, m_servers.redisUrl());
        QTRY_COMPARE_WITH_TIMEOUT(http.get(QStringLiteral("/health")).status, 200, 30000);
        // And the engine works again.
        const QString id = http.submit(solUsdc());
        QVERIFY(!id.isEmpty());
        QCOMPARE(statuses(runToEnd(id)), kHappyPath);
    }
};

QTEST_GUILESS_MAIN(TestApi)
#include "tst_api.moc"
