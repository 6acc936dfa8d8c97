// Several processes on one Redis and one PostgreSQL: one API process, two worker processes.
// Each order is executed once; the API process streams the workers' events; killing a worker
// mid-burst loses nothing.
#include "TestSupport.h"

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
        return {{QStringLiteral("OEE_ROLE"), role},
                {QStringLiteral("REDIS_URL"), m_servers.redisUrl()},
                {QStringLiteral("DATABASE_URL"), m_servers.databaseUrl()},
                {QStringLiteral("DEX_QUOTE_LATENCY_MS"), QStringLiteral("50")},
                {QStringLiteral("DEX_EXECUTION_LATENCY_MS"), QStringLiteral("200-800")},
                {QStringLiteral("MAX_CONCURRENT_ORDERS"), QStringLiteral("60")},
                {QStringLiteral("MAX_ORDERS_PER_MINUTE"), QStringLiteral("0")},
                {QStringLiteral("JOB_LEASE_MS"), QStringLiteral("1500")}};
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
            QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1/api/orders/execute").arg(port)));
            req.setRawHeader("Content-Type", "application/json");
            replies << nam.post(req, QByteArray("{\"tokenIn\":\"JUP\",\"tokenOut\":\"USDC\",\"amount\":10}"));
        }
        for (QNetworkReply *r : replies) {
            if (!r->isFinished())
                QVERIFY(QSignalSpy(r, &QNetworkReply::finished).wait(60000));
            QCOMPARE(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
            r->deleteLater();
        }
        // Kill one worker while orders are in flight on both.
        const auto byStatus = [&] {
            return m_servers.sql(QStringLiteral("SELECT status || ' ' || count(*) FROM orders GROUP BY status")).join(QStringLiteral(", "));
        };
        QVERIFY2(waitUntil([&] { return m_servers.count(QStringLiteral("SELECT count(*) FROM orders WHERE status = 'confirmed'")) >= 30; }, 60000),
                 qPrintable(byStatus()));
        ::kill(pid_t(workerA.processId()), SIGKILL);
        QVERIFY(workerA.waitForFinished(30000));

        QVERIFY2(waitUntil([&] { return m_servers.count(QStringLiteral("SELECT count(*) FROM orders WHERE status = 'confirmed'")) == total; }, 120000),
                 qPrintable(byStatus()));
        // Each executed once.
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM order_events WHERE status = 'submitted'")), total);
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM order_events WHERE status = 'confirmed'")), total);
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM orders o WHERE last_seq <> (SELECT count(*) FROM order_events e WHERE e.order_id = o.id)")), 0);
        // The API process executed nothing itself, yet streamed every order's end.
        QVERIFY2(stream.waitFor([&](const QList<QJsonObject> &m) { return statusesOf(m).count(QStringLiteral("confirmed")) == total; }, 60000),
                 qPrintable(QStringLiteral("streamed %1 confirmations of %2").arg(statusesOf(stream.messages()).count(QStringLiteral("confirmed"))).arg(total)));

        for (QProcess *p : {&api, &workerB}) {
            ::kill(pid_t(p->processId()), SIGTERM);
            const bool exited = p->waitForFinished(60000);
            QVERIFY2(exited, p->readAllStandardError().right(4000).constData());
            QCOMPARE(p->exitCode(), 0);
        }
    }
};

QTEST_GUILESS_MAIN(TestMultiProcess)
#include "tst_multiprocess.moc"
