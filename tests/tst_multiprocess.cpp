// Several processes on one Redis and one PostgreSQL: one API process, two worker processes.
// Each order is executed once; the API process streams the workers' events; killing a worker
// mid-burst loses nothing.
#include "TestSupport.h"
#include "dex/Market.h"
#include "money/Tokens.h"
#include "queue/RedisConnection.h"
#include "queue/RedisKeys.h"

#include <QJsonArray>

#include <QNetworkReply>
#include <QSignalSpy>
#include <QTest>
#include <csignal>

using namespace oee;
using namespace oee::test;

class TestMultiProcess : public QObject
{
    Q_OBJECT
    TestServers m_servers;

    QMap<QString, QString> env(const QString &role) const
    {
        return {
            {QStringLiteral("OEE_ROLE"), role},
            {QStringLiteral("REDIS_URL"), m_servers.redisUrl()},
            {QStringLiteral("DATABASE_URL"), m_servers.databaseUrl()},
            {QStringLiteral("DEX_QUOTE_LATENCY_MS"), QStringLiteral("50")},
            {QStringLiteral("DEX_EXECUTION_LATENCY_MS"), QStringLiteral("200-800")},
            {QStringLiteral("MAX_CONCURRENT_ORDERS"), QStringLiteral("60")},
            {QStringLiteral("MAX_ORDERS_PER_MINUTE"), QStringLiteral("0")},
            {QStringLiteral("JOB_LEASE_MS"), QStringLiteral("1500")},
            {QStringLiteral("DEX_VOLATILITY"), QStringLiteral("0")}}; // pools move by fills only
    }

    // Every landed swap moved its pools exactly once and by exactly its amounts: for each pool,
    // its state in Redis is the genesis state plus the sum of the legs of every confirmed order
    // (two processes filling against the same pools never spent the same liquidity twice), and
    // its slot counts those legs.
    void checkPoolsConserve()
    {
        struct Flow
        {
            qint64 legs = 0;
            QMap<QString, oee::i128> net;
        }; // per mint, into the curve
        QMap<QString, Flow> flows;
        for (const QString &row : m_servers.sql(QStringLiteral(
                 "SELECT data->>'legs' FROM order_events WHERE status = 'confirmed'"))) {
            for (const QJsonValue &v : QJsonDocument::fromJson(row.toUtf8()).array()) {
                const QJsonObject leg = v.toObject();
                Flow &f = flows[leg.value(QStringLiteral("pool")).toString()];
                ++f.legs;
                const auto raw = [&](const char *k) {
                    return oee::i128(leg.value(QLatin1String(k)).toString().toULongLong());
                };
                const bool dlmm =
                    leg.value(QStringLiteral("kind")).toString() == QLatin1String("dlmm");
                const auto mint = [](const QJsonValue &symbol) {
                    return TokenRegistry::instance().bySymbol(symbol.toString())->mint;
                };
                // CPMM: the LP share of the fee stays in the curve; DLMM: no fee enters the bins.
                const oee::i128 in = dlmm
                                         ? raw("inRaw") - raw("feeRaw")
                                         : raw("inRaw") - raw("protocolFeeRaw") - raw("fundFeeRaw");
                f.net[mint(leg.value(QStringLiteral("tokenIn")))] += in;
                f.net[mint(leg.value(QStringLiteral("tokenOut")))] -= raw("outRaw");
            }
        }
        QVERIFY(!flows.isEmpty());
        QString error;
        const auto endpoint = RedisEndpoint::fromUrl(m_servers.redisUrl(), &error);
        QVERIFY(endpoint);
        RedisConnection redis(*endpoint);
        DexConfig still;
        still.volatility = 0;
        const Market genesis(still);
        const auto totals = [](const QJsonObject &state, const QString &mint) -> oee::i128 {
            if (state.value(QStringLiteral("kind")).toString() == QLatin1String("cpmm"))
                return state
                    .value(mint == state.value(QStringLiteral("mintA")).toString()
                               ? QStringLiteral("vaultA")
                               : QStringLiteral("vaultB"))
                    .toString()
                    .toULongLong();
            const QString key = mint == state.value(QStringLiteral("mintX")).toString()
                                    ? QStringLiteral("amountX")
                                    : QStringLiteral("amountY");
            oee::i128 sum = 0;
            for (const QJsonValue &b : state.value(QStringLiteral("bins")).toArray())
                sum += b.toObject().value(key).toString().toULongLong();
            return sum;
        };
        for (auto it = flows.cbegin(); it != flows.cend(); ++it) {
            const RedisReply r = redis.command({"HGET", rkeys::pool("oee:", it.key()), "state"});
            QVERIFY2(r.ok() && !r.str.isEmpty(), qPrintable(it.key()));
            const auto pool = decodePool(r.str);
            QVERIFY2(pool, r.str.left(80).constData());
            const QJsonObject now = pool->toJson();
            const QJsonObject start = genesis.pool(it.key())->toJson();
            QCOMPARE(now.value(QStringLiteral("slot")).toString().toLongLong(), it->legs);
            for (auto m = it->net.cbegin(); m != it->net.cend(); ++m)
                QVERIFY2(
                    totals(now, m.key()) == totals(start, m.key()) + m.value(),
                    qPrintable(QStringLiteral("%1: %2 does not add up").arg(it.key(), m.key())));
        }
    }

private slots:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_servers.start(&error), qPrintable(error));
        QVERIFY2(m_servers.reset(&error), qPrintable(error));
    }

    void apiAndTwoWorkersShareTheWork()
    {
        QTemporaryDir dir;
        QProcess api, workerA, workerB;
        const quint16 port = launchOee(api, dir.path(), env(QStringLiteral("api")));
        QVERIFY(port > 1);
        QCOMPARE(launchOee(workerA, dir.path(), env(QStringLiteral("worker"))), quint16(1));
        QCOMPARE(launchOee(workerB, dir.path(), env(QStringLiteral("worker"))), quint16(1));

        WsClient stream(QStringLiteral("ws://127.0.0.1:%1/ws/orders").arg(port));
        QVERIFY(stream.waitConnected());
        QVERIFY(stream.waitFor([](const QList<QJsonObject> &m) { return !m.isEmpty(); }));

        const int total = 200;
        QNetworkAccessManager nam;
        QList<QNetworkReply *> replies;
        for (int i = 0; i < total; ++i) {
            QNetworkRequest req(
                QUrl(QStringLiteral("http://127.0.0.1:%1/api/orders/execute").arg(port)));
            req.setRawHeader("Content-Type", "application/json");
            replies << nam.post(
                req, QByteArray("{\"tokenIn\":\"JUP\",\"tokenOut\":\"USDC\",\"amount\":10}"));
        }
        for (QNetworkReply *r : replies) {
            if (!r->isFinished())
                QVERIFY(QSignalSpy(r, &QNetworkReply::finished).wait(60000));
            QCOMPARE(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
            r->deleteLater();
        }
        // Kill one worker while orders are in flight on both.
        const auto byStatus = [&] {
            return m_servers
                .sql(QStringLiteral("SELECT status || ' ' || count(*) FROM orders GROUP BY status"))
                .join(QStringLiteral(", "));
        };
        QVERIFY2(waitUntil(
                     [&] {
                         return m_servers.count(QStringLiteral(
                                    "SELECT count(*) FROM orders WHERE status = 'confirmed'")) >=
                                30;
                     },
                     60000),
                 qPrintable(byStatus()));
        ::kill(pid_t(workerA.processId()), SIGKILL);
        QVERIFY(workerA.waitForFinished(30000));

        QVERIFY2(waitUntil(
                     [&] {
                         return m_servers.count(QStringLiteral(
                                    "SELECT count(*) FROM orders WHERE status = 'confirmed'")) ==
                                total;
                     },
                     120000),
                 qPrintable(byStatus()));
        // Each executed once.
        QCOMPARE(m_servers.count(QStringLiteral(
                     "SELECT count(*) FROM order_events WHERE status = 'submitted'")),
                 total);
        QCOMPARE(m_servers.count(QStringLiteral(
                     "SELECT count(*) FROM order_events WHERE status = 'confirmed'")),
                 total);
        QCOMPARE(m_servers.count(
                     QStringLiteral("SELECT count(*) FROM orders o WHERE last_seq <> (SELECT "
                                    "count(*) FROM order_events e WHERE e.order_id = o.id)")),
                 0);
        // The API process executed nothing itself, yet streamed every order's end.
        QVERIFY2(
            stream.waitFor(
                [&](const QList<QJsonObject> &m) {
                    return statusesOf(m).count(QStringLiteral("confirmed")) == total;
                },
                60000),
            qPrintable(QStringLiteral("streamed %1 confirmations of %2")
                           .arg(statusesOf(stream.messages()).count(QStringLiteral("confirmed")))
                           .arg(total)));

        checkPoolsConserve();

        for (QProcess *p : {&api, &workerB}) {
            ::kill(pid_t(p->processId()), SIGTERM);
            const bool exited = p->waitForFinished(60000);
            QVERIFY2(exited, p->readAllStandardError().right(4000).constData());
            QCOMPARE(p->exitCode(), 0);
        }
    }

    void aWorkerKilledBetweenCommitAndPublishCostsNoEvent()
    {
        // A worker process dies right after its first batch of status changes commits, before
        // it publishes anything. The API process's stream must still get those events (from
        // the log, not from the worker's publish), then the rest from the worker that takes
        // the orders over: every order whole, in seq order, ids consecutive.
        QString error;
        QVERIFY2(m_servers.reset(&error), qPrintable(error));
        QTemporaryDir dir;
        QProcess api, doomed, heir;
        QMap<QString, QString> apiEnv = env(QStringLiteral("api"));
        const quint16 port = launchOee(api, dir.path(), apiEnv);
        QVERIFY(port > 1);
        WsClient stream(QStringLiteral("ws://127.0.0.1:%1/ws/orders").arg(port));
        QVERIFY(stream.waitConnected());
        QVERIFY(stream.waitFor([](const QList<QJsonObject> &m) { return !m.isEmpty(); }));

        Http http(port);
        QStringList ids;
        for (int i = 0; i < 5; ++i) {
            ids << http.submit({{QStringLiteral("tokenIn"), QStringLiteral("JUP")},
                                {QStringLiteral("tokenOut"), QStringLiteral("USDC")},
                                {QStringLiteral("amount"), 10}});
            QVERIFY(!ids.last().isEmpty());
        }
        QMap<QString, QString> doomedEnv = env(QStringLiteral("worker"));
        doomedEnv.insert(QStringLiteral("OEE_CHAOS_EXIT_AFTER_COMMITS"), QStringLiteral("1"));
        doomedEnv.insert(QStringLiteral("WORKER_THREADS"), QStringLiteral("1"));
        QCOMPARE(launchOee(doomed, dir.path(), doomedEnv), quint16(1));
        QVERIFY(doomed.waitForFinished(60000));
        QCOMPARE(doomed.exitCode(), 137);
        // What it committed (routing, at least) is in the store, and only there.
        const qint64 written =
            m_servers.count(QStringLiteral("SELECT count(*) FROM order_events WHERE seq > 1"));
        QVERIFY(written > 0);
        const auto afterPending = [&](const QList<QJsonObject> &m) {
            qint64 n = 0;
            for (const QJsonObject &e : m)
                n += e.value(QStringLiteral("type")).toString() == QStringLiteral("status") &&
                     e.value(QStringLiteral("seq")).toInt() > 1;
            return n;
        };
        QVERIFY2(
            stream.waitFor([&](const QList<QJsonObject> &m) { return afterPending(m) == written; },
                           20000),
            qPrintable(QStringLiteral("streamed %1 of the %2 events the dead worker committed")
                           .arg(afterPending(stream.messages()))
                           .arg(written)));

        QCOMPARE(launchOee(heir, dir.path(), env(QStringLiteral("worker"))), quint16(1));
        QVERIFY2(stream.waitFor(
                     [&](const QList<QJsonObject> &m) {
                         for (const QString &id : std::as_const(ids))
                             if (!statusesOf(m, id).contains(QStringLiteral("confirmed")))
                                 return false;
                         return true;
                     },
                     120000),
                 qPrintable(statusesOf(stream.messages()).join(QLatin1Char(','))));
        qint64 lastId = 0;
        QHash<QString, int> lastSeq;
        for (const QJsonObject &m : stream.messages()) {
            if (m.value(QStringLiteral("type")).toString() != QStringLiteral("status"))
                continue;
            const qint64 id = qint64(m.value(QStringLiteral("eventId")).toDouble());
            QVERIFY2(lastId == 0 || id == lastId + 1,
                     qPrintable(QStringLiteral("%1 after %2").arg(id).arg(lastId)));
            lastId = id;
            int &seq = lastSeq[m.value(QStringLiteral("orderId")).toString()];
            QCOMPARE(m.value(QStringLiteral("seq")).toInt(), seq + 1);
            seq = m.value(QStringLiteral("seq")).toInt();
        }
        for (QProcess *p : {&api, &heir}) {
            ::kill(pid_t(p->processId()), SIGTERM);
            QVERIFY(p->waitForFinished(60000));
        }
    }
};

QTEST_GUILESS_MAIN(TestMultiProcess)
#include "tst_multiprocess.moc"
