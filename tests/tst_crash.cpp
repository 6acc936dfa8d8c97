// kill -9 with hundreds of orders in flight: after a restart every accepted order reaches
// exactly one terminal status, none is lost, no transaction is submitted twice.
#include "TestSupport.h"

#include <QFile>
#include <QJsonArray>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTest>
#include <csignal>

using namespace oee;
using namespace oee::test;

class TestCrash : public QObject
{
    Q_OBJECT
    QMap<QString, QString> env(const QString &executionLatency) const
    {
        return {{QStringLiteral("DEX_QUOTE_LATENCY_MS"), QStringLiteral("0")},
                {QStringLiteral("DEX_EXECUTION_LATENCY_MS"), executionLatency},
                {QStringLiteral("MAX_CONCURRENT_ORDERS"), QStringLiteral("400")},
                {QStringLiteral("MAX_ORDERS_PER_MINUTE"), QStringLiteral("0")},
                {QStringLiteral("JOB_LEASE_MS"), QStringLiteral("1500")}};
    }

    static QJsonObject ordersByStatus(Http &http)
    {
        return http.get(QStringLiteral("/api/metrics"))
            .json()
            .value(QStringLiteral("orders"))
            .toObject();
    }

private slots:
    void killedWithOrdersInFlightLosesNothingAndExecutesNothingTwice_data()
    {
        QTest::addColumn<bool>("selfKill");
        // From outside, whenever; and from inside, right after a transaction landed and
        // before its confirmation was written (the narrowest window there is).
        QTest::newRow("kill -9 from outside") << false;
        QTest::newRow("kill -9 between landing and confirmed") << true;
    }

    void killedWithOrdersInFlightLosesNothingAndExecutesNothingTwice()
    {
        QFETCH(bool, selfKill);
        QTemporaryDir dataDir;
        QVERIFY(dataDir.isValid());
        const int total = 300;
        QStringList ids;
        {
            QProcess oee;
            // Self-kill: executions take at least 1.5 s, so every submission is answered before
            // the 25th landing kills the process (at 300 ms it raced the answers under load).
            QMap<QString, QString> e =
                env(selfKill ? QStringLiteral("1500-3000") : QStringLiteral("300-3000"));
            if (selfKill)
                e.insert(QStringLiteral("OEE_CHAOS_CRASH_AFTER_LANDINGS"), QStringLiteral("25"));
            const quint16 port = launchOee(oee, dataDir.path(), e);
            QVERIFY(port);
            QNetworkAccessManager nam;
            QList<QNetworkReply *> replies;
            for (int i = 0; i < total; ++i) {
                QNetworkRequest req(
                    QUrl(QStringLiteral("http://127.0.0.1:%1/api/orders/execute").arg(port)));
                req.setRawHeader("Content-Type", "application/json");
                // A 5 % tolerance: a transaction resumed after the restart is priced on pools
                // that 300 sells and the arbitrage flow moved meanwhile; at 1 % it could miss its
                // floor and be retried (a second transaction, legitimately), which is not what
                // this test is about.
                replies.append(nam.post(req, QByteArray("{\"tokenIn\":\"SOL\",\"tokenOut\":"
                                                        "\"USDC\",\"slippage\":0.05,\"amount\":") +
                                                 QByteArray::number(1 + i % 5) + "}"));
            }
            for (QNetworkReply *r : replies) {
                if (!r->isFinished())
                    QVERIFY(QSignalSpy(r, &QNetworkReply::finished).wait(60000));
                QCOMPARE(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
                ids << QJsonDocument::fromJson(r->readAll())
                           .object()
                           .value(QStringLiteral("orderId"))
                           .toString();
                r->deleteLater();
            }
            if (!selfKill) {
                // Kill it while some orders have ended and many have a submitted transaction.
                Http http(port);
                QVERIFY(waitUntil(
                    [&] {
                        const QJsonObject o = ordersByStatus(http);
                        return o.value(QStringLiteral("confirmed")).toInt() >= 20 &&
                               o.value(QStringLiteral("submitted")).toInt() >= 50;
                    },
                    60000));
                ::kill(pid_t(oee.processId()), SIGKILL);
            }
            QVERIFY(oee.waitForFinished(120000));
            QCOMPARE(oee.exitStatus(), QProcess::CrashExit);
        }
        {
            // Its private servers stop with it (parent-death signal); the restart waits for them.
            QProcess oee;
            const quint16 port = launchOee(oee, dataDir.path(), env(QStringLiteral("0")));
            QVERIFY(port);
            Http http(port);
            QVERIFY(waitUntil(
                [&] {
                    const QJsonObject o = ordersByStatus(http);
                    return o.value(QStringLiteral("confirmed")).toInt() +
                               o.value(QStringLiteral("failed")).toInt() ==
                           total;
                },
                120000));
            QCOMPARE(ordersByStatus(http).value(QStringLiteral("total")).toInt(), total);
            int resumed = 0;
            for (const QString &id : std::as_const(ids)) {
                const QJsonArray events = http.get(QStringLiteral("/api/orders/%1/events").arg(id))
                                              .json()
                                              .value(QStringLiteral("events"))
                                              .toArray();
                QStringList statuses;
                QSet<QString> signatures;
                for (const QJsonValue &v : events) {
                    const QJsonObject e = v.toObject();
                    statuses << e.value(QStringLiteral("status")).toString();
                    const QString sig = e.value(QStringLiteral("data"))
                                            .toObject()
                                            .value(QStringLiteral("signature"))
                                            .toString();
                    if (!sig.isEmpty())
                        signatures.insert(sig);
                    resumed += e.value(QStringLiteral("data"))
                                   .toObject()
                                   .value(QStringLiteral("alreadyLanded"))
                                   .toBool();
                }
                // Each status once, in order; one transaction per order.
                QVERIFY2(statuses == latin1List({"pending", "routing", "building", "submitted",
                                                 "confirmed"}),
                         qPrintable(id + QStringLiteral(": ") + statuses.join(QLatin1Char(','))));
                QCOMPARE(signatures.size(), 1);
                for (int i = 0; i < events.size(); ++i)
                    QCOMPARE(events[i].toObject().value(QStringLiteral("seq")).toInt(), i + 1);
            }
            qInfo("%d order(s) had landed before the crash and were confirmed as already landed",
                  resumed);
            // At least the one landed in the instant before the kill. More is legitimate: a
            // landing batch lands several transactions at once, and orders that landed just
            // before may not have had their confirmation committed yet (seen: 3 under the
            // sanitizer build, which is slower). Each of them was executed once (above).
            if (selfKill)
                QVERIFY2(resumed >= 1, qPrintable(QString::number(resumed)));
            ::kill(pid_t(oee.processId()), SIGTERM);
            QVERIFY(oee.waitForFinished(60000));
        }
    }
};

QTEST_GUILESS_MAIN(TestCrash)
#include "tst_crash.moc"
