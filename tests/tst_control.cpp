// The operator's actions (issue 13), through REST and through the in-process API the console
// uses: pause and resume intake, a venue out of routing and back, the simulator's volatility,
// the kill switch, retrying a failed order — each audited in operator_actions.
#include "Engine.h"
#include "TestSupport.h"
#include "dex/Market.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QTest>

using namespace oee;
using namespace oee::test;

namespace {

QJsonObject limitOrder(const QString &limitPrice)
{
    QJsonObject o = order(1);
    o.insert(QStringLiteral("orderType"), QStringLiteral("limit"));
    o.insert(QStringLiteral("limitPrice"), limitPrice);
    return o;
}

} // namespace

class TestControl : public QObject
{
    Q_OBJECT
    TestServers m_servers;
    std::unique_ptr<Engine> m_engine;

    QString statusOf(const QString &id)
    {
        const QStringList s =
            m_servers.sql(QStringLiteral("SELECT status FROM orders WHERE id = '%1'").arg(id));
        return s.value(0);
    }
    bool waitStatus(const QString &id, const QString &status, int timeoutMs = 60000)
    {
        return waitUntil([&] { return statusOf(id) == status; }, timeoutMs);
    }
    // The in-process action the console takes, waited for.
    ControlReply act(Engine &engine, ControlAction action)
    {
        ControlReply out;
        bool done = false;
        QObject context;
        engine.control(action, &context, [&](const ControlReply &r) {
            out = r;
            done = true;
        });
        if (!waitUntil([&] { return done; }, 30000))
            qWarning("the control action never answered");
        return out;
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

    void pauseRefusesNewOrdersWhileInFlightOnesFinish()
    {
        Config c = fastConfig(m_servers);
        c.dex.executionLatencyMinMs = c.dex.executionLatencyMaxMs =
            1500; // an order stays in flight
        m_engine = startedEngine(c);
        Http http(m_engine->port());
        const QString inFlight = http.submit(order(1));
        QVERIFY(!inFlight.isEmpty());
        QVERIFY(waitStatus(inFlight, QStringLiteral("submitted")));

        const HttpResult paused =
            http.post(QStringLiteral("/api/control/pause"), R"({"reason":"venue maintenance"})");
        QCOMPARE(paused.status, 200);
        const QJsonObject intake = paused.json().value(QStringLiteral("intake")).toObject();
        QCOMPARE(intake.value(QStringLiteral("paused")).toBool(), true);
        QCOMPARE(intake.value(QStringLiteral("reason")).toString(),
                 QStringLiteral("venue maintenance"));
        QVERIFY(!intake.value(QStringLiteral("since")).toString().isEmpty());

        // New orders: 503 `paused`, naming the reason; nothing written.
        const HttpResult refused =
            http.post(QStringLiteral("/api/orders/execute"), QJsonDocument(order(2)).toJson());
        QCOMPARE(refused.status, 503);
        QCOMPARE(refused.json().value(QStringLiteral("code")).toString(), QStringLiteral("paused"));
        QVERIFY(refused.json()
                    .value(QStringLiteral("message"))
                    .toString()
                    .contains(QStringLiteral("venue maintenance")));
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM orders")), 1);
        // The console's own submit path is refused the same way.
        bool answered = false;
        SubmitResult console;
        QObject context;
        OrderRequest request;
        request.tokenIn = QStringLiteral("SOL");
        request.tokenOut = QStringLiteral("USDC");
        request.amount = 1'000'000'000;
        request.slippagePpm = 10000;
        m_engine->submitOrder(request, &context, [&](const SubmitResult &r) {
            console = r;
            answered = true;
        });
        QVERIFY(waitUntil([&] { return answered; }));
        QCOMPARE(console.error.kind, ErrorKind::Paused);

        // The order in flight finishes.
        QVERIFY(waitStatus(inFlight, QStringLiteral("confirmed")));
        QCOMPARE(http.get(QStringLiteral("/api/control"))
                     .json()
                     .value(QStringLiteral("intake"))
                     .toObject()
                     .value(QStringLiteral("paused"))
                     .toBool(),
                 true);

        // Resumed (from the console's path this time): orders are taken again.
        ControlAction resume;
        resume.kind = ControlAction::Kind::Resume;
        QVERIFY(act(*m_engine, resume).ok);
        QVERIFY(!m_engine->controls()->paused());
        const QString after = http.submit(order(1));
        QVERIFY(!after.isEmpty());
        QVERIFY(waitStatus(after, QStringLiteral("confirmed")));

        // Audited, with who did it.
        const QJsonArray actions = http.get(QStringLiteral("/api/control/actions"))
                                       .json()
                                       .value(QStringLiteral("actions"))
                                       .toArray();
        QCOMPARE(actions.size(), 2);
        QCOMPARE(actions[0].toObject().value(QStringLiteral("action")).toString(),
                 QStringLiteral("resume"));
        QCOMPARE(actions[0].toObject().value(QStringLiteral("source")).toString(),
                 QStringLiteral("console"));
        QCOMPARE(actions[1].toObject().value(QStringLiteral("action")).toString(),
                 QStringLiteral("pause"));
        QCOMPARE(actions[1].toObject().value(QStringLiteral("source")).toString(),
                 QStringLiteral("rest 127.0.0.1"));
        QCOMPARE(actions[1]
                     .toObject()
                     .value(QStringLiteral("detail"))
                     .toObject()
                     .value(QStringLiteral("reason"))
                     .toString(),
                 QStringLiteral("venue maintenance"));
    }

    void aPauseReachesEveryProcessAndOutlivesARestart()
    {
        Config c = fastConfig(m_servers);
        m_engine = startedEngine(c);
        auto other = startedEngine(fastConfig(m_servers)); // a second process on the same servers
        Http http(m_engine->port());
        Http otherHttp(other->port());
        QCOMPARE(http.post(QStringLiteral("/api/control/pause"), QByteArray()).status, 200);
        // The other process reads the switch with its pools.
        QVERIFY(waitUntil([&] { return other->controls()->paused(); }, 10000));
        QCOMPARE(
            otherHttp.post(QStringLiteral("/api/orders/execute"), QJsonDocument(order(1)).toJson())
                .status,
            503);
        other.reset();
        m_engine.reset();
        m_engine = startedEngine(c);
        QVERIFY(m_engine->controls()->paused());
        Http again(m_engine->port());
        QCOMPARE(again.post(QStringLiteral("/api/orders/execute"), QJsonDocument(order(1)).toJson())
                     .status,
                 503);
        QCOMPARE(again.post(QStringLiteral("/api/control/resume"), QByteArray()).status, 200);
        QVERIFY(!again.submit(order(1)).isEmpty());
    }

    void aVenueOutOfRoutingGetsNoOrderUntilItIsBack()
    {
        m_engine = startedEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const HttpResult out =
            http.post(QStringLiteral("/api/control/venues/meteora"), R"({"routing":false})");
        QCOMPARE(out.status, 200);
        for (const QJsonValue &v : out.json().value(QStringLiteral("venues")).toArray())
            QCOMPARE(v.toObject().value(QStringLiteral("routing")).toBool(),
                     v.toObject().value(QStringLiteral("name")).toString() !=
                         QStringLiteral("meteora"));
        QStringList ids;
        for (int i = 0; i < 12; ++i)
            ids << http.submit(order(0.5 + i));
        for (const QString &id : ids)
            QVERIFY(waitStatus(id, QStringLiteral("confirmed")));
        QCOMPARE(
            m_servers.count(QStringLiteral("SELECT count(*) FROM orders WHERE dex <> 'raydium'")),
            0);
        // The quotes show the router's choice without it.
        const QJsonObject quotes =
            http.get(QStringLiteral("/api/quotes?tokenIn=SOL&tokenOut=USDC&amount=1")).json();
        QVERIFY2(!QJsonDocument(quotes).toJson().contains("\"chosen\":\"meteora\""),
                 QJsonDocument(quotes).toJson().constData());

        QCOMPARE(
            http.post(QStringLiteral("/api/control/venues/meteora"), R"({"routing":true})").status,
            200);
        QVERIFY(m_engine->market()->disabledVenues().isEmpty());
        // Both route again: over a spread of sizes, meteora wins some (its pools are deeper).
        ids.clear();
        for (int i = 0; i < 12; ++i)
            ids << http.submit(order(0.5 + i));
        for (const QString &id : ids)
            QVERIFY(waitStatus(id, QStringLiteral("confirmed")));
        QVERIFY(m_servers.count(
                    QStringLiteral("SELECT count(*) FROM orders WHERE dex = 'meteora'")) > 0);

        // Refusals name the field.
        const HttpResult unknown =
            http.post(QStringLiteral("/api/control/venues/orca"), R"({"routing":false})");
        QCOMPARE(unknown.status, 404);
        QCOMPARE(unknown.json().value(QStringLiteral("field")).toString(), QStringLiteral("venue"));
        const HttpResult bad =
            http.post(QStringLiteral("/api/control/venues/raydium"), R"({"routing":"off"})");
        QCOMPARE(bad.status, 400);
        QCOMPARE(bad.json().value(QStringLiteral("field")).toString(), QStringLiteral("routing"));
        const HttpResult extra =
            http.post(QStringLiteral("/api/control/venues/raydium"), R"({"routing":true,"why":1})");
        QCOMPARE(extra.status, 400);
        QCOMPARE(extra.json().value(QStringLiteral("field")).toString(), QStringLiteral("why"));
        QCOMPARE(m_servers.count(QStringLiteral(
                     "SELECT count(*) FROM operator_actions WHERE action = 'venue'")),
                 2);
    }

    void theSimulatorsVolatilityIsSetAtRunTime()
    {
        Config c = fastConfig(m_servers); // volatility 0: the pools stand still
        c.dex.arbitrageMs = 50;
        m_engine = startedEngine(c);
        Http http(m_engine->port());
        const auto price = [&] {
            return http.get(QStringLiteral("/api/quotes?tokenIn=SOL&tokenOut=USDC&amount=1")).body;
        };
        const HttpResult set =
            http.post(QStringLiteral("/api/control/simulator"), R"({"volatility":"0.01"})");
        QCOMPARE(set.status, 200);
        QCOMPARE(set.json()
                     .value(QStringLiteral("simulator"))
                     .toObject()
                     .value(QStringLiteral("volatility"))
                     .toString(),
                 QStringLiteral("0.01"));
        QCOMPARE(m_engine->market()->volatility(), 0.01);
        // The arbitrage flow now moves the pools.
        const QByteArray before = price();
        QVERIFY(waitUntil([&] { return price() != before; }, 20000));
        const HttpResult bad =
            http.post(QStringLiteral("/api/control/simulator"), R"({"volatility":"-1"})");
        QCOMPARE(bad.status, 400);
        QCOMPARE(bad.json().value(QStringLiteral("field")).toString(),
                 QStringLiteral("volatility"));
    }

    void theKillSwitchPausesAndCancelsEveryOrderNotBegun()
    {
        Config c = fastConfig(m_servers);
        m_engine = startedEngine(c);
        Http http(m_engine->port());
        // Resting: limit orders far above the market.
        QStringList resting;
        for (int i = 0; i < 3; ++i)
            resting << http.submit(limitOrder(QStringLiteral("100000")));
        for (const QString &id : resting)
            QVERIFY(waitStatus(id, QStringLiteral("open")));
        const QString done = http.submit(order(1));
        QVERIFY(waitStatus(done, QStringLiteral("confirmed")));
        WsClient stream(QStringLiteral("ws://127.0.0.1:%1/ws/orders/%2")
                            .arg(m_engine->port())
                            .arg(resting.first()));
        QVERIFY(stream.waitConnected());

        const HttpResult kill = http.post(QStringLiteral("/api/control/kill"), QByteArray());
        QCOMPARE(kill.status, 200);
        QStringList cancelled;
        for (const QJsonValue &v : kill.json().value(QStringLiteral("cancelled")).toArray())
            cancelled << v.toString();
        cancelled.sort();
        resting.sort();
        QCOMPARE(cancelled, resting);
        QCOMPARE(kill.json()
                     .value(QStringLiteral("intake"))
                     .toObject()
                     .value(QStringLiteral("paused"))
                     .toBool(),
                 true);
        for (const QString &id : resting)
            QCOMPARE(statusOf(id), QStringLiteral("cancelled"));
        QCOMPARE(statusOf(done), QStringLiteral("confirmed"));
        // Streamed like any cancel, with the reason.
        QVERIFY(stream.waitFor([](const QList<QJsonObject> &m) {
            return statusesOf(m).contains(QStringLiteral("cancelled"));
        }));
        QCOMPARE(m_servers.sql(QStringLiteral("SELECT data->>'reason' FROM order_events WHERE "
                                              "order_id = '%1' AND status = 'cancelled'")
                                   .arg(resting.first())),
                 QStringList{QStringLiteral("kill switch")});
        QCOMPARE(http.post(QStringLiteral("/api/orders/execute"), QJsonDocument(order(1)).toJson())
                     .status,
                 503);
        QCOMPARE(m_servers.sql(QStringLiteral("SELECT action || ':' || (detail->>'cancelled') FROM "
                                              "operator_actions WHERE action = 'kill-cancelled'")),
                 QStringList{QStringLiteral("kill-cancelled:3")});
        // A second pull finds nothing left.
        QCOMPARE(http.post(QStringLiteral("/api/control/kill"), QByteArray())
                     .json()
                     .value(QStringLiteral("cancelled"))
                     .toArray()
                     .size(),
                 0);
    }

    void aFailedOrderIsRetriedAsANewOrderLinkedToIt()
    {
        Config broken = fastConfig(m_servers);
        broken.dex.failAttempts = 100; // the venue fails every attempt...
        broken.maxAttempts = 2;
        m_engine = startedEngine(broken);
        QString failed;
        {
            Http http(m_engine->port());
            failed = http.submit(order(1));
            QVERIFY(waitStatus(failed, QStringLiteral("failed")));
            // Only a failed order can be retried.
            const QString fine = http.submit(limitOrder(QStringLiteral("100000")));
            QVERIFY(waitStatus(fine, QStringLiteral("open")));
            const HttpResult notFailed =
                http.post(QStringLiteral("/api/orders/%1/retry").arg(fine), QByteArray());
            QCOMPARE(notFailed.status, 409);
            QCOMPARE(notFailed.json().value(QStringLiteral("code")).toString(),
                     QStringLiteral("not_retryable"));
            QCOMPARE(notFailed.json().value(QStringLiteral("status")).toString(),
                     QStringLiteral("open"));
            QCOMPARE(
                http.post(QStringLiteral("/api/orders/6f1c0a52-8d4b-4d8e-9a57-3c1f8e0b2d11/retry"),
                          QByteArray())
                    .status,
                404);
        }
        m_engine.reset();
        m_engine = startedEngine(fastConfig(m_servers)); // ...and is back
        Http http(m_engine->port());
        const HttpResult retried =
            http.post(QStringLiteral("/api/orders/%1/retry").arg(failed), QByteArray());
        QCOMPARE(retried.status, 201);
        const QString fresh = retried.json().value(QStringLiteral("orderId")).toString();
        QVERIFY(!fresh.isEmpty() && fresh != failed);
        QCOMPARE(retried.json().value(QStringLiteral("retryOf")).toString(), failed);
        QVERIFY(waitStatus(fresh, QStringLiteral("confirmed")));
        QCOMPARE(statusOf(failed), QStringLiteral("failed")); // its history stays the record
        // The new order says what it retries, with the same terms.
        QCOMPARE(m_servers.sql(QStringLiteral("SELECT data->>'retryOf' || ' ' || (data->>'amount') "
                                              "FROM order_events WHERE order_id = '%1' AND seq = 1")
                                   .arg(fresh)),
                 QStringList{failed + QStringLiteral(" 1")});
        // Asking again answers with the same new order.
        const HttpResult again =
            http.post(QStringLiteral("/api/orders/%1/retry").arg(failed), QByteArray());
        QCOMPARE(again.status, 200);
        QCOMPARE(again.json().value(QStringLiteral("orderId")).toString(), fresh);
        QCOMPARE(again.json().value(QStringLiteral("replayed")).toBool(), true);
        // The console's path: a confirmed order is not retried.
        bool answered = false;
        Ingest::RetryResult viaConsole;
        QObject context;
        m_engine->retryOrder(fresh, &context, [&](const Ingest::RetryResult &r) {
            viaConsole = r;
            answered = true;
        });
        QVERIFY(waitUntil([&] { return answered; }));
        QCOMPARE(viaConsole.submit.error.kind, ErrorKind::NotRetryable);
        QCOMPARE(m_servers.sql(QStringLiteral("SELECT action || ' ' || target || ' ' || "
                                              "(detail->>'newOrderId') FROM operator_actions")),
                 QStringList{QStringLiteral("retry %1 %2").arg(failed, fresh)});
    }

    void actionsFollowTheApiKeyRule()
    {
        Config c = fastConfig(m_servers);
        c.apiKey = QStringLiteral("s3cret");
        m_engine = startedEngine(c);
        Http http(m_engine->port());
        for (const QString &path :
             {QStringLiteral("/api/control/pause"), QStringLiteral("/api/control/resume"),
              QStringLiteral("/api/control/kill"), QStringLiteral("/api/control/simulator"),
              QStringLiteral("/api/control/venues/raydium"),
              QStringLiteral("/api/orders/6f1c0a52-8d4b-4d8e-9a57-3c1f8e0b2d11/retry")}) {
            const HttpResult r = http.post(path, R"({"routing":false})");
            QCOMPARE(r.status, 401);
            QCOMPARE(r.json().value(QStringLiteral("field")).toString(),
                     QStringLiteral("Authorization"));
        }
        QVERIFY(!m_engine->controls()->paused());
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM operator_actions")), 0);
        const QByteArray body = R"({"reason":"drill"})";
        const HttpResult ok = http.raw(
            "POST /api/control/pause HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Authorization: Bearer s3cret\r\nContent-Length: " +
            QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QCOMPARE(ok.status, 200);
        QVERIFY(m_engine->controls()->paused());
        QCOMPARE(http.get(QStringLiteral("/api/control")).status, 200); // reads stay open
        const HttpResult badLimit = http.get(QStringLiteral("/api/control/actions?limit=0"));
        QCOMPARE(badLimit.status, 400);
        QCOMPARE(badLimit.json().value(QStringLiteral("field")).toString(),
                 QStringLiteral("limit"));
    }
};

QTEST_GUILESS_MAIN(TestControl)
#include "tst_control.moc"
