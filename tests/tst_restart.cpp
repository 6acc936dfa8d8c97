// The real `oee --server` binary with its own private Redis and PostgreSQL: orders and queued
// jobs survive a restart of the product (SIGTERM, then start again on the same data dir).
#include "TestSupport.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QSignalSpy>
#include <QTest>
#include <csignal>

using namespace oee;
using namespace oee::test;

class TestRestart : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dataDir;

    quint16 launch(QProcess &process, const QString &executionLatency,
                   const QString &graceMs = QStringLiteral("0"))
    {
        return launchOee(process, m_dataDir.path(),
                         {{QStringLiteral("DEX_QUOTE_LATENCY_MS"), QStringLiteral("0")},
                          {QStringLiteral("DEX_EXECUTION_LATENCY_MS"), executionLatency},
                          {QStringLiteral("MAX_CONCURRENT_ORDERS"), QStringLiteral("2")},
                          {QStringLiteral("SHUTDOWN_GRACE_MS"), graceMs}});
    }

    static int countWithStatus(Http &http, const QString &status)
    {
        const HttpResult page =
            http.get(QStringLiteral("/api/orders?status=%1&limit=500").arg(status));
        return int(QJsonDocument::fromJson(page.body).array().size());
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dataDir.isValid());
        QVERIFY2(QFile::exists(qEnvironmentVariable("OEE_BINARY")),
                 "OEE_BINARY must name the oee binary");
    }

    void ordersAndJobsSurviveARestart()
    {
        QStringList ids;
        {
            QProcess oee;
            const quint16 port = launch(oee, QStringLiteral("600000")); // executions never finish
            QVERIFY(port);
            Http http(port);
            for (int i = 0; i < 5; ++i) {
                const QString id =
                    http.submit({{QStringLiteral("tokenIn"), QStringLiteral("SOL")},
                                 {QStringLiteral("tokenOut"), QStringLiteral("USDC")},
                                 {QStringLiteral("amount"), 1 + i}});
                QVERIFY(!id.isEmpty());
                ids << id;
            }
            // Two in flight (concurrency 2), three waiting in the queue.
            QTRY_COMPARE_WITH_TIMEOUT(countWithStatus(http, QStringLiteral("submitted")), 2, 60000);
            QCOMPARE(http.get(QStringLiteral("/api/metrics"))
                         .json()
                         .value(QStringLiteral("queue"))
                         .toObject()
                         .value(QStringLiteral("waiting"))
                         .toInt(),
                     3);

            ::kill(pid_t(oee.processId()), SIGTERM);
            QVERIFY(oee.waitForFinished(60000));
            QCOMPARE(oee.exitStatus(), QProcess::NormalExit);
            QCOMPARE(oee.exitCode(), 0);
            // Its private PostgreSQL was shut down cleanly with it.
            QVERIFY(!QFile::exists(m_dataDir.filePath(QStringLiteral("postgres/postmaster.pid"))));
        }
        {
            QProcess oee;
            const quint16 port = launch(oee, QStringLiteral("0"));
            QVERIFY(port);
            Http http(port);
            QTRY_COMPARE_WITH_TIMEOUT(countWithStatus(http, QStringLiteral("confirmed")), 5,
                                      120000);
            for (const QString &id : ids) {
                const QJsonArray events = http.get(QStringLiteral("/api/orders/%1/events").arg(id))
                                              .json()
                                              .value(QStringLiteral("events"))
                                              .toArray();
                int confirmed = 0, pending = 0;
                for (const QJsonValue &e : events) {
                    const QString s = e.toObject().value(QStringLiteral("status")).toString();
                    confirmed += s == QStringLiteral("confirmed");
                    pending += s == QStringLiteral("pending");
                }
                QCOMPARE(confirmed, 1);
                QCOMPARE(pending, 1);
                QCOMPARE(events.last().toObject().value(QStringLiteral("status")).toString(),
                         QStringLiteral("confirmed"));
            }
            ::kill(pid_t(oee.processId()), SIGTERM);
            QVERIFY(oee.waitForFinished(60000));
            QCOMPARE(oee.exitCode(), 0);
        }
    }

    void sigtermLetsInFlightOrdersFinish()
    {
        QTemporaryDir dir;
        m_dataDir.swap(dir);
        QStringList ids;
        QStringList inFlightAtSigterm;
        {
            QProcess oee;
            // Executions take 1-1.5 s; the grace period (30 s) is far longer.
            const quint16 port = launch(oee, QStringLiteral("1000-1500"), QStringLiteral("30000"));
            QVERIFY(port);
            Http http(port);
            for (int i = 0; i < 6; ++i)
                ids << http.submit({{QStringLiteral("tokenIn"), QStringLiteral("SOL")},
                                    {QStringLiteral("tokenOut"), QStringLiteral("USDC")},
                                    {QStringLiteral("amount"), 1}});
            QTRY_COMPARE_WITH_TIMEOUT(countWithStatus(http, QStringLiteral("submitted")), 2, 60000);
            for (const QJsonValue &o :
                 QJsonDocument::fromJson(
                     http.get(QStringLiteral("/api/orders?status=submitted")).body)
                     .array())
                inFlightAtSigterm << o.toObject().value(QStringLiteral("id")).toString();
            ::kill(pid_t(oee.processId()), SIGTERM);
            QVERIFY(oee.waitForFinished(60000));
            QCOMPARE(oee.exitCode(), 0);
        }
        QProcess oee;
        const QDateTime restartedAt = QDateTime::currentDateTimeUtc();
        const quint16 port = launch(oee, QStringLiteral("0"));
        QVERIFY(port);
        Http http(port);
        QTRY_COMPARE_WITH_TIMEOUT(countWithStatus(http, QStringLiteral("confirmed")), 6, 60000);
        // The two in flight at SIGTERM were finished by the first process, before it exited.
        QCOMPARE(inFlightAtSigterm.size(), 2);
        for (const QString &id : std::as_const(inFlightAtSigterm)) {
            const QJsonObject order = http.get(QStringLiteral("/api/orders/") + id)
                                          .json()
                                          .value(QStringLiteral("order"))
                                          .toObject();
            QCOMPARE(order.value(QStringLiteral("status")).toString(), QStringLiteral("confirmed"));
            QVERIFY(QDateTime::fromString(order.value(QStringLiteral("updatedAt")).toString(),
                                          Qt::ISODateWithMs) < restartedAt);
        }
        ::kill(pid_t(oee.processId()), SIGTERM);
        QVERIFY(oee.waitForFinished(60000));
        QCOMPARE(oee.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestRestart)
#include "tst_restart.moc"
