// Limit and sniper orders, cancel and expiry, against real Redis and PostgreSQL: a limit fills
// when the price crosses and not before, a missed attempt rests again, expiry holds across a
// restart, a cancel racing a trigger has one winner, a sniper fires on its launch, and kill -9
// with resting and triggered orders executes none of them twice.
#include "TestSupport.h"

#include "dex/Market.h"
#include "dex/Signature.h"
#include "domain/Lifecycle.h"
#include "execution/RestingBook.h"
#include "money/Amount.h"
#include "queue/RedisConnection.h"
#include "queue/RedisKeys.h"
#include "queue/Worker.h"

#include <QJsonArray>
#include <QNetworkReply>
#include <QTest>
#include <csignal>

using namespace oee;
using namespace oee::test;

namespace {

QJsonObject limitOrder(const QString &amount, BaseUnits minOutUsdc, const QJsonObject &extra = {})
{
    QJsonObject o{{QStringLiteral("orderType"), QStringLiteral("limit")},
                  {QStringLiteral("tokenIn"), QStringLiteral("SOL")},
                  {QStringLiteral("tokenOut"), QStringLiteral("USDC")},
                  {QStringLiteral("amount"), amount},
                  {QStringLiteral("minAmountOut"), formatTokenAmount(minOutUsdc, 6)}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        o.insert(it.key(), it.value());
    return o;
}

// A market buy of SOL with `usdc` USDC: pushes the SOL price up.
QJsonObject pushUp(const QString &usdc)
{
    return {{QStringLiteral("tokenIn"), QStringLiteral("USDC")},
            {QStringLiteral("tokenOut"), QStringLiteral("SOL")},
            {QStringLiteral("amount"), usdc},
            {QStringLiteral("slippage"), 0.5}};
}

} // namespace

class TestOrderTypes : public QObject
{
    Q_OBJECT
    TestServers m_servers;
    std::unique_ptr<Engine> m_engine;

    Engine &startEngine(const Config &config)
    {
        m_engine = startedEngine(config);
        return *m_engine;
    }

    QString status(const QString &id)
    {
        const QStringList s =
            m_servers.sql(QStringLiteral("SELECT status FROM orders WHERE id = '%1'").arg(id));
        return s.isEmpty() ? QString() : s.first();
    }

    bool waitStatus(const QString &id, const QString &wanted, int timeoutMs = 30000)
    {
        return waitUntil([&] { return status(id) == wanted; }, timeoutMs);
    }

    QStringList statuses(const QString &id)
    {
        return m_servers.sql(
            QStringLiteral("SELECT status FROM order_events WHERE order_id = '%1' ORDER BY seq")
                .arg(id));
    }

    QJsonObject eventData(const QString &id, const QString &st)
    {
        const QStringList d =
            m_servers.sql(QStringLiteral("SELECT data::text FROM order_events WHERE order_id = "
                                         "'%1' AND status = '%2' ORDER BY seq DESC LIMIT 1")
                              .arg(id, st));
        return d.isEmpty() ? QJsonObject() : QJsonDocument::fromJson(d.first().toUtf8()).object();
    }

    // What 1 SOL fetches in USDC now (base units), on the engine's pools.
    BaseUnits quoteOneSol()
    {
        return m_engine->market()
            ->route(QStringLiteral("SOL"), QStringLiteral("USDC"), 1'000'000'000)
            .best.amountOut;
    }

    // Every event sequence of the order is one the transition table allows.
    void verifyLifecycle(const QString &id)
    {
        std::optional<OrderStatus> at;
        for (const QString &s : statuses(id)) {
            const auto next = statusFromName(s);
            QVERIFY(next);
            QVERIFY2(canFollow(at, *next),
                     qPrintable(id + QStringLiteral(": ") + statuses(id).join(QLatin1Char(','))));
            at = next;
        }
    }

    // Waits until the book has passed over its index twice more (after whatever just changed).
    void waitForTwoEvaluations()
    {
        RestingBook *book = m_engine->restingBook();
        QVERIFY(book);
        const qint64 from = book->stats().evaluations;
        QVERIFY(waitUntil([&] { return book->stats().evaluations >= from + 2; }));
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

    void limitFillsWhenThePriceCrossesAndNotBefore()
    {
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const BaseUnits q = quoteOneSol();
        const BaseUnits floor = q * 1004 / 1000; // 0.4 % above what 1 SOL fetches now
        const QString id = http.submit(limitOrder(QStringLiteral("1"), floor));
        QVERIFY(!id.isEmpty());
        QVERIFY(waitStatus(id, QStringLiteral("open")));
        QCOMPARE(statuses(id), (QStringList{QStringLiteral("pending"), QStringLiteral("open")}));
        const QJsonObject open = eventData(id, QStringLiteral("open"));
        QCOMPARE(open.value(QStringLiteral("minAmountOutRaw")).toString(), QString::number(floor));
        QVERIFY(open.value(QStringLiteral("waitingFor"))
                    .toString()
                    .contains(QStringLiteral("limit asks for")));
        // Listed as resting.
        const QJsonArray listed =
            QJsonDocument::fromJson(http.get(QStringLiteral("/api/orders?status=open")).body)
                .array();
        QCOMPARE(listed.size(), 1);
        QCOMPARE(listed[0].toObject().value(QStringLiteral("minAmountOutRaw")).toString(),
                 QString::number(floor));

        // A move the right way that does not reach the limit: it stays open.
        const QString small = http.submit(pushUp(QStringLiteral("20000")));
        QVERIFY(waitStatus(small, QStringLiteral("confirmed")));
        QVERIFY(quoteOneSol() < floor);
        waitForTwoEvaluations();
        QCOMPARE(status(id), QStringLiteral("open"));

        // The move that crosses it: it executes with its limit as the floor.
        const QString big = http.submit(pushUp(QStringLiteral("4000000")));
        QVERIFY(waitStatus(big, QStringLiteral("confirmed")));
        QVERIFY(waitStatus(id, QStringLiteral("confirmed")));
        QCOMPARE(statuses(id),
                 (QStringList{QStringLiteral("pending"), QStringLiteral("open"),
                              QStringLiteral("routing"), QStringLiteral("building"),
                              QStringLiteral("submitted"), QStringLiteral("confirmed")}));
        const QJsonObject trigger =
            eventData(id, QStringLiteral("routing")).value(QStringLiteral("trigger")).toObject();
        QCOMPARE(trigger.value(QStringLiteral("reason")).toString(), QStringLiteral("price"));
        QVERIFY(trigger.contains(QStringLiteral("poolChangedAt")));
        QCOMPARE(eventData(id, QStringLiteral("building"))
                     .value(QStringLiteral("minAmountOutRaw"))
                     .toString(),
                 QString::number(floor));
        const BaseUnits out = eventData(id, QStringLiteral("confirmed"))
                                  .value(QStringLiteral("amountOutRaw"))
                                  .toString()
                                  .toULongLong();
        QVERIFY2(out >= floor, qPrintable(QStringLiteral("%1 < %2").arg(out).arg(floor)));
        QVERIFY(m_engine->restingBook()->stats().triggered >= 1);
    }

    void aBurstIsRoutedWholeBeforeAnyOfItIsBuilt()
    {
        // One worker thread claims the whole burst at once: every order of it is routed (on
        // the pools as the crossing left them) before the first is built and submitted, so the
        // last one's routing does not wait for the others' transactions. The worker's
        // committed events come in the order it wrote them.
        Config config = fastConfig(m_servers);
        config.workerThreads = 1;
        startEngine(config);
        QCOMPARE(m_engine->workers().size(), 1);
        QMutex mutex;
        QList<std::pair<QString, OrderStatus>> written;
        connect(
            m_engine->workers().first(), &Worker::eventsCommitted, this,
            [&](const QList<OrderEvent> &events) {
                QMutexLocker lock(&mutex);
                for (const OrderEvent &e : events)
                    written.append({e.orderId, e.status});
            },
            Qt::DirectConnection);
        Http http(m_engine->port());
        const BaseUnits tenth =
            m_engine->market()
                ->route(QStringLiteral("SOL"), QStringLiteral("USDC"), 100'000'000)
                .best.amountOut;
        QStringList ids;
        for (int i = 0; i < 12; ++i)
            ids << http.submit(limitOrder(QStringLiteral("0.1"), tenth * 1002 / 1000));
        for (const QString &id : std::as_const(ids))
            QVERIFY(waitStatus(id, QStringLiteral("open")));
        const QString big = http.submit(pushUp(QStringLiteral("4000000")));
        QVERIFY(waitStatus(big, QStringLiteral("confirmed")));
        for (const QString &id : std::as_const(ids))
            QVERIFY(waitStatus(id, QStringLiteral("confirmed")));
        QMutexLocker lock(&mutex);
        int routed = 0, built = 0;
        for (const auto &[id, status] : std::as_const(written)) {
            if (!ids.contains(id))
                continue;
            if (status == OrderStatus::Routing) {
                QVERIFY2(built == 0, qPrintable(QStringLiteral("order %1 routed after %2 of the "
                                                               "burst were built")
                                                    .arg(id)
                                                    .arg(built)));
                ++routed;
            } else if (status == OrderStatus::Building) {
                ++built;
            }
        }
        QCOMPARE(routed, 12); // one burst, one attempt each
        QCOMPARE(built, 12);
    }

    void aFiredOrdersJobIsLeasedInItsOwnShardAndLeftNowhere()
    {
        // A fired order's job is leased by the trigger itself to this process's workers (no
        // claim), in the order's own shard of a sharded queue: once it fills, no job is left
        // anywhere. Under a rate limit the trigger queues it instead: claims take the limit.
        for (const int rate : {0, 1000}) {
            Config config = fastConfig(m_servers);
            config.queueShards = 4;
            config.ratePerWindow = rate;
            startEngine(config);
            Http http(m_engine->port());
            const QString id =
                http.submit(limitOrder(QStringLiteral("1"), quoteOneSol() * 1004 / 1000));
            QVERIFY(waitStatus(id, QStringLiteral("open")));
            const QString big = http.submit(pushUp(QStringLiteral("4000000")));
            QVERIFY(waitStatus(big, QStringLiteral("confirmed")));
            QVERIFY(waitStatus(id, QStringLiteral("confirmed")));
            const RestingBook::Stats st = m_engine->restingBook()->stats();
            QVERIFY(st.triggered >= 1);
            QCOMPARE(st.handed, rate == 0 ? st.triggered : 0);
            RedisConnection redis(*RedisEndpoint::fromUrl(m_servers.redisUrl(), nullptr));
            JobQueue::Options o;
            o.shards = 4;
            QueueCounts q;
            QVERIFY2(waitUntil([&] {
                         q = JobQueue(&redis, o).counts();
                         return q.ok && q.active == 0 && q.waiting == 0 && q.delayed == 0;
                     }),
                     qPrintable(QStringLiteral("rate %1: %2 active, %3 waiting, %4 delayed")
                                    .arg(rate)
                                    .arg(q.active)
                                    .arg(q.waiting)
                                    .arg(q.delayed)));
            m_engine.reset();
            QString error;
            QVERIFY2(m_servers.reset(&error), qPrintable(error));
        }
    }

    void aMissedAttemptRestsAgainUntilCancelled()
    {
        Config c = fastConfig(m_servers);
        c.dex.executionPriceShiftPpm = -50000; // every execution pays 5 % less than its quote
        startEngine(c);
        Http http(m_engine->port());
        // Crosses at once: the first attempt routes, then misses its floor at execution.
        const QString id = http.submit(limitOrder(QStringLiteral("1"), quoteOneSol() * 99 / 100));
        QVERIFY(waitUntil([&] { return statuses(id).contains(QStringLiteral("open")); }));
        const QJsonObject missed = eventData(id, QStringLiteral("open"));
        QVERIFY2(missed.value(QStringLiteral("error"))
                     .toString()
                     .contains(QStringLiteral("Slippage tolerance exceeded")),
                 QJsonDocument(missed).toJson().constData());
        QCOMPARE(missed.value(QStringLiteral("attempt")).toInt(), 1);
        QCOMPARE(statuses(id).mid(0, 5),
                 (QStringList{QStringLiteral("pending"), QStringLiteral("routing"),
                              QStringLiteral("building"), QStringLiteral("submitted"),
                              QStringLiteral("open")}));
        // It is tried again (after a backoff) and misses again; a cancel ends it whenever it
        // meets it open (a 409 names the status of an attempt in progress).
        QVERIFY(waitUntil([&] { return statuses(id).count(QStringLiteral("open")) >= 2; }));
        QStringList refusedAs;
        QVERIFY(waitUntil([&] {
            const HttpResult r = http.del(QStringLiteral("/api/orders/") + id);
            if (r.status == 409)
                refusedAs << r.json().value(QStringLiteral("status")).toString();
            return r.status == 200;
        }));
        for (const QString &s : std::as_const(refusedAs))
            QVERIFY2(QStringList({QStringLiteral("routing"), QStringLiteral("building"),
                                  QStringLiteral("submitted")})
                         .contains(s),
                     qPrintable(s));
        QCOMPARE(status(id), QStringLiteral("cancelled"));
        verifyLifecycle(id);
        QVERIFY(!statuses(id).contains(QStringLiteral("confirmed")));
        QVERIFY(!statuses(id).contains(QStringLiteral("failed")));
        // Never landed: no attempt's transaction is in the chain's ledger.
        RedisConnection redis(*RedisEndpoint::fromUrl(m_servers.redisUrl(), nullptr));
        const int attempts = statuses(id).count(QStringLiteral("submitted"));
        for (int a = 1; a <= attempts; ++a)
            QCOMPARE(redis.command({"EXISTS", rkeys::ledger("oee:", transactionSignature(id, a))})
                         .toInt(),
                     0);
        QCOMPARE(
            m_servers.count(QStringLiteral("SELECT count(*) FROM orders WHERE status = 'open'")),
            0);
    }

    void expiresOnTimeAlsoAcrossARestart()
    {
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const BaseUnits far = quoteOneSol() * 2;
        const QString soon =
            http.submit(limitOrder(QStringLiteral("1"), far, {{QStringLiteral("ttlSeconds"), 1}}));
        QVERIFY(waitStatus(soon, QStringLiteral("expired")));
        QCOMPARE(statuses(soon), (QStringList{QStringLiteral("pending"), QStringLiteral("open"),
                                              QStringLiteral("expired")}));
        const QDateTime expiresAt = QDateTime::fromString(eventData(soon, QStringLiteral("expired"))
                                                              .value(QStringLiteral("expiresAt"))
                                                              .toString(),
                                                          Qt::ISODateWithMs);
        const QDateTime at = QDateTime::fromString(
            m_servers
                .sql(QStringLiteral("SELECT to_char(created_at AT TIME ZONE 'UTC', "
                                    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM order_events "
                                    "WHERE order_id = '%1' AND status = 'expired'")
                         .arg(soon))
                .value(0),
            Qt::ISODateWithMs);
        QVERIFY(expiresAt.isValid() && at.isValid());
        QVERIFY2(at >= expiresAt && at.msecsTo(expiresAt) > -1000,
                 qPrintable(at.toString(Qt::ISODateWithMs) + QStringLiteral(" vs ") +
                            expiresAt.toString(Qt::ISODateWithMs)));

        // Open when the engine stops, due while it is down: expired when it is back.
        const QString later =
            http.submit(limitOrder(QStringLiteral("1"), far, {{QStringLiteral("ttlSeconds"), 2}}));
        QVERIFY(waitStatus(later, QStringLiteral("open")));
        const QDateTime due = QDateTime::fromString(
            eventData(later, QStringLiteral("open")).value(QStringLiteral("expiresAt")).toString(),
            Qt::ISODateWithMs);
        m_engine.reset();
        QVERIFY(
            waitUntil([&] { return QDateTime::currentDateTimeUtc() > due.addMSecs(200); }, 10000));
        QCOMPARE(status(later), QStringLiteral("open"));
        startEngine(fastConfig(m_servers));
        QVERIFY(waitStatus(later, QStringLiteral("expired")));
        verifyLifecycle(later);
        // An expired order cannot be cancelled.
        Http again(m_engine->port());
        const HttpResult r = again.del(QStringLiteral("/api/orders/") + later);
        QCOMPARE(r.status, 409);
        QCOMPARE(r.json().value(QStringLiteral("status")).toString(), QStringLiteral("expired"));
    }

    void cancelAnOpenOrder()
    {
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const QString id = http.submit(limitOrder(QStringLiteral("1"), quoteOneSol() * 2));
        QVERIFY(waitStatus(id, QStringLiteral("open")));
        WsClient stream(
            QStringLiteral("ws://127.0.0.1:%1/ws/orders/%2").arg(m_engine->port()).arg(id));
        QVERIFY(stream.waitConnected());
        QVERIFY(stream.waitFor([](const QList<QJsonObject> &m) {
            return !m.isEmpty() &&
                   m.first().value(QStringLiteral("type")).toString() == QStringLiteral("snapshot");
        }));
        QCOMPARE(http.post(QStringLiteral("/api/orders/%1/cancel").arg(id), QByteArray()).status,
                 200);
        QVERIFY(stream.waitFor([&](const QList<QJsonObject> &m) {
            return statusesOf(m, id).contains(QStringLiteral("cancelled"));
        }));
        QCOMPARE(statuses(id), (QStringList{QStringLiteral("pending"), QStringLiteral("open"),
                                            QStringLiteral("cancelled")}));
        QVERIFY(QJsonDocument::fromJson(http.get(QStringLiteral("/api/orders?status=open")).body)
                    .array()
                    .isEmpty());
        QCOMPARE(http.del(QStringLiteral("/api/orders/") + id).status, 409);
        // A confirmed market order is not cancellable either.
        const QString market = http.submit(order(1));
        QVERIFY(waitStatus(market, QStringLiteral("confirmed")));
        const HttpResult r = http.del(QStringLiteral("/api/orders/") + market);
        QCOMPARE(r.status, 409);
        QCOMPARE(r.json().value(QStringLiteral("status")).toString(), QStringLiteral("confirmed"));
        // The book forgot it.
        QVERIFY(waitUntil([&] { return m_engine->restingBook()->stats().resting == 0; }));
    }

    void aCancelRacingTheTriggerHasOneWinner()
    {
        // Four orders in flight at a time: the fired orders are taken a few at a time, so the
        // cancels meet them open, routing, submitted and done.
        Config c = fastConfig(m_servers);
        c.concurrency = 4;
        startEngine(c);
        Http http(m_engine->port());
        const int total = 40;
        const BaseUnits floor = quoteOneSol() / 10 * 1003 / 1000; // 0.1 SOL, 0.3 % above
        QStringList ids;
        for (int i = 0; i < total; ++i)
            ids << http.submit(limitOrder(QStringLiteral("0.1"), floor));
        QVERIFY(!ids.contains(QString()));
        QVERIFY(waitUntil([&] {
            return m_servers.count(QStringLiteral(
                       "SELECT count(*) FROM orders WHERE status = 'open'")) == total;
        }));
        // The crossing move and every cancel at once.
        QNetworkAccessManager nam;
        const auto post = [&](const QString &path, const QByteArray &body) {
            QNetworkRequest req(
                QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_engine->port()).arg(path)));
            req.setRawHeader("Content-Type", "application/json");
            return nam.post(req, body);
        };
        WsClient all(QStringLiteral("ws://127.0.0.1:%1/ws/orders").arg(m_engine->port()));
        QVERIFY(all.waitConnected());
        QNetworkReply *mover = post(QStringLiteral("/api/orders/execute"),
                                    QJsonDocument(pushUp(QStringLiteral("4000000"))).toJson());
        // The cancels go out when the first fired order starts routing.
        QVERIFY(all.waitFor([&](const QList<QJsonObject> &m) {
            for (const QJsonObject &e : m)
                if (ids.contains(e.value(QStringLiteral("orderId")).toString()) &&
                    e.value(QStringLiteral("status")).toString() == QStringLiteral("routing"))
                    return true;
            return false;
        }));
        QHash<QString, int> cancelStatus;
        QHash<QString, QString> cancelSaid;
        for (const QString &id : std::as_const(ids)) {
            QNetworkReply *r = nam.deleteResource(
                QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/api/orders/%2")
                                         .arg(m_engine->port())
                                         .arg(id))));
            connect(r, &QNetworkReply::finished, this, [&, r, id] {
                cancelStatus.insert(id,
                                    r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt());
                cancelSaid.insert(id, QJsonDocument::fromJson(r->readAll())
                                          .object()
                                          .value(QStringLiteral("status"))
                                          .toString());
                r->deleteLater();
            });
        }
        QVERIFY(waitUntil([&] { return cancelStatus.size() == total && mover->isFinished(); }));
        mover->deleteLater();
        // Each order ends exactly one way: cancelled (its cancel won) or executed (the trigger
        // won, the cancel got a 409); a cancelled one never sent anything.
        RedisConnection redis(*RedisEndpoint::fromUrl(m_servers.redisUrl(), nullptr));
        int cancelled = 0, executed = 0;
        for (const QString &id : std::as_const(ids)) {
            QVERIFY(waitUntil([&] {
                const QString s = status(id);
                return s == QLatin1String("cancelled") || s == QLatin1String("confirmed") ||
                       s == QLatin1String("open");
            }));
            verifyLifecycle(id);
            const QString s = status(id);
            if (cancelStatus.value(id) == 200) {
                QCOMPARE(s, QStringLiteral("cancelled"));
                QVERIFY(!statuses(id).contains(QStringLiteral("submitted")));
                QCOMPARE(
                    redis.command({"EXISTS", rkeys::ledger("oee:", transactionSignature(id, 1))})
                        .toInt(),
                    0);
                ++cancelled;
            } else {
                QCOMPARE(cancelStatus.value(id), 409);
                QVERIFY2(QStringList({QStringLiteral("routing"), QStringLiteral("building"),
                                      QStringLiteral("submitted"), QStringLiteral("confirmed")})
                             .contains(cancelSaid.value(id)),
                         qPrintable(cancelSaid.value(id)));
                QVERIFY(waitStatus(id, QStringLiteral("confirmed")));
                QCOMPARE(statuses(id).count(QStringLiteral("confirmed")), 1);
                ++executed;
            }
        }
        QCOMPARE(cancelled + executed, total);
        QVERIFY(executed >= 1); // the trigger won at least once (the first one routing)
        qInfo("cancel vs trigger: %d cancelled, %d executed", cancelled, executed);
    }

    void aSniperFiresOnItsLaunchAndNotBefore()
    {
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const QJsonObject sniper{{QStringLiteral("orderType"), QStringLiteral("sniper")},
                                 {QStringLiteral("tokenIn"), QStringLiteral("SOL")},
                                 {QStringLiteral("tokenOut"), QStringLiteral("PEPE")},
                                 {QStringLiteral("amount"), QStringLiteral("0.5")},
                                 {QStringLiteral("slippage"), 0.05}};
        const QString id = http.submit(sniper);
        QJsonObject capped = sniper;
        capped.insert(QStringLiteral("maxPrice"), QStringLiteral("0.005")); // SOL per PEPE
        const QString cheap = http.submit(capped);
        QVERIFY(waitStatus(id, QStringLiteral("open")));
        QVERIFY(waitStatus(cheap, QStringLiteral("open")));
        QVERIFY(eventData(id, QStringLiteral("open"))
                    .value(QStringLiteral("waitingFor"))
                    .toString()
                    .contains(QStringLiteral("launch")));
        // A market order for it is refused: it does not trade.
        QCOMPARE(http.post(QStringLiteral("/api/orders/execute"),
                           R"({"tokenIn":"SOL","tokenOut":"PEPE","amount":1})")
                     .status,
                 400);
        waitForTwoEvaluations();
        QCOMPARE(statuses(id), (QStringList{QStringLiteral("pending"), QStringLiteral("open")}));

        // Launch input is checked like any other.
        QCOMPARE(http.post(QStringLiteral("/api/launches"), R"({"quoteToken":"SOL"})")
                     .json()
                     .value(QStringLiteral("field"))
                     .toString(),
                 QStringLiteral("symbol"));
        QCOMPARE(http.post(QStringLiteral("/api/launches"), R"({"symbol":"X","quoteToken":"DOGE"})")
                     .json()
                     .value(QStringLiteral("field"))
                     .toString(),
                 QStringLiteral("quoteToken"));
        QCOMPARE(http.post(QStringLiteral("/api/launches"), R"({"symbol":"X","price":"-1"})")
                     .json()
                     .value(QStringLiteral("field"))
                     .toString(),
                 QStringLiteral("price"));
        QCOMPARE(http.post(QStringLiteral("/api/launches"), R"({"symbol":"SOL"})").status, 409);

        const HttpResult launched = http.post(
            QStringLiteral("/api/launches"),
            R"({"symbol":"PEPE","quoteToken":"SOL","price":"0.01","liquidity":100000,"decimals":6})");
        QCOMPARE(launched.status, 201);
        const QString mint = launched.json().value(QStringLiteral("mint")).toString();
        QCOMPARE(mint.size(), 44);
        QCOMPARE(launched.json().value(QStringLiteral("poolId")).toString(),
                 QStringLiteral("raydium-PEPE-SOL"));
        QCOMPARE(http.get(QStringLiteral("/api/pools/raydium-PEPE-SOL")).status, 200);
        QCOMPARE(http.post(QStringLiteral("/api/launches"), R"({"symbol":"pepe"})").status, 409);

        QVERIFY(waitStatus(id, QStringLiteral("confirmed")));
        const QJsonObject trigger =
            eventData(id, QStringLiteral("routing")).value(QStringLiteral("trigger")).toObject();
        QCOMPARE(trigger.value(QStringLiteral("reason")).toString(), QStringLiteral("launch"));
        const QJsonObject fill = eventData(id, QStringLiteral("confirmed"));
        QVERIFY(fill.value(QStringLiteral("amountOutRaw")).toString().toULongLong() >
                40'000'000); // ~49.5 PEPE
        // The capped one: the launch price (0.01) is above its maxPrice (0.005): it rests.
        waitForTwoEvaluations();
        QCOMPARE(status(cheap), QStringLiteral("open"));
        QVERIFY(m_engine->restingBook()->stats().awaitingLaunch == 0);
        QVERIFY(waitUntil([&] { return m_engine->restingBook()->stats().resting == 1; }));
        // A sniper on a token that trades already, named by its mint, executes at once.
        QJsonObject byMint = sniper;
        byMint.insert(QStringLiteral("tokenOut"), mint);
        const QString now = http.submit(byMint);
        QVERIFY(waitStatus(now, QStringLiteral("confirmed")));
        QVERIFY(!statuses(now).contains(QStringLiteral("open")));
        verifyLifecycle(id);
        verifyLifecycle(cheap);
    }

    void aCascadeTerminatesAndExecutesEachOrderOnce()
    {
        // A large sell of SOL resting above the price, buys resting below it. A market buy
        // crosses the sell; its own fill pushes the price down through the buys (a cascade),
        // which must end with every order executed exactly once.
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        Market *market = m_engine->market();
        const BaseUnits sell = 35'000'000'000'000; // 35,000 SOL: about 2 % of impact on its own
        const BaseUnits sellQuote =
            market->route(QStringLiteral("SOL"), QStringLiteral("USDC"), sell).best.amountOut;
        const BaseUnits buy = 20'000'000'000; // 20,000 USDC
        const BaseUnits buyQuote =
            market->route(QStringLiteral("USDC"), QStringLiteral("SOL"), buy).best.amountOut;
        QStringList sells, buys;
        sells << http.submit(limitOrder(QStringLiteral("35000"), sellQuote * 1004 / 1000));
        for (int i = 0; i < 6; ++i)
            buys << http.submit(
                {{QStringLiteral("orderType"), QStringLiteral("limit")},
                 {QStringLiteral("tokenIn"), QStringLiteral("USDC")},
                 {QStringLiteral("tokenOut"), QStringLiteral("SOL")},
                 {QStringLiteral("amount"), QStringLiteral("20000")},
                 {QStringLiteral("minAmountOut"), formatTokenAmount(buyQuote * 1003 / 1000, 9)}});
        const QStringList all = sells + buys;
        QVERIFY(!all.contains(QString()));
        QVERIFY(waitUntil([&] {
            return m_servers.count(QStringLiteral(
                       "SELECT count(*) FROM orders WHERE status = 'open'")) == all.size();
        }));
        const QString mover = http.submit(pushUp(QStringLiteral("4000000")));
        QVERIFY(waitStatus(mover, QStringLiteral("confirmed")));
        for (const QString &id : sells)
            QVERIFY2(waitStatus(id, QStringLiteral("confirmed")),
                     qPrintable(id + QStringLiteral(" ") + status(id)));
        for (const QString &id : buys) // crossed by the sells' fills, not by the mover
            QVERIFY2(waitStatus(id, QStringLiteral("confirmed")),
                     qPrintable(id + QStringLiteral(" ") + status(id)));
        // The buys were crossed by the sell's fill: none routed before the sell was sent.
        const QString sellSent =
            m_servers
                .sql(QStringLiteral("SELECT created_at FROM order_events WHERE order_id = '%1' AND "
                                    "status = 'submitted'")
                         .arg(sells.first()))
                .value(0);
        QVERIFY(!sellSent.isEmpty());
        for (const QString &id : buys) {
            QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM order_events WHERE "
                                                    "order_id = '%1' AND status = 'routing' "
                                                    "AND created_at < '%2'::timestamptz")
                                         .arg(id, sellSent)),
                     0);
            QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM order_events WHERE "
                                                    "order_id = '%1' AND status = 'routing' "
                                                    "AND created_at >= '%2'::timestamptz")
                                         .arg(id, sellSent)),
                     1);
        }
        // It has ended: the book passes over its index again and nothing more happens.
        const qint64 events = m_servers.count(QStringLiteral("SELECT count(*) FROM order_events"));
        waitForTwoEvaluations();
        QCOMPARE(m_servers.count(QStringLiteral("SELECT count(*) FROM order_events")), events);
        RedisConnection redis(*RedisEndpoint::fromUrl(m_servers.redisUrl(), nullptr));
        for (const QString &id : all) {
            verifyLifecycle(id);
            QCOMPARE(statuses(id).count(QStringLiteral("confirmed")), 1);
            const int attempts = statuses(id).count(QStringLiteral("submitted"));
            int landed = 0;
            for (int a = 1; a <= attempts; ++a)
                landed +=
                    redis.command({"EXISTS", rkeys::ledger("oee:", transactionSignature(id, a))})
                        .toInt();
            QCOMPARE(landed, 1);
        }
    }

    void restingOrdersFireOnceAcrossProcesses()
    {
        // Two processes, each with its workers and its RestingBook, on one Redis and one
        // PostgreSQL: both see the crossing and fire; each order executes once.
        const QMap<QString, QString> env{
            {QStringLiteral("REDIS_URL"), m_servers.redisUrl()},
            {QStringLiteral("DATABASE_URL"), m_servers.databaseUrl()},
            {QStringLiteral("DEX_QUOTE_LATENCY_MS"), QStringLiteral("0")},
            {QStringLiteral("DEX_EXECUTION_LATENCY_MS"), QStringLiteral("0-300")},
            {QStringLiteral("DEX_VOLATILITY"), QStringLiteral("0")},
            {QStringLiteral("MAX_ORDERS_PER_MINUTE"), QStringLiteral("0")}};
        QTemporaryDir dirA, dirB;
        QProcess a, b;
        const quint16 portA = launchOee(a, dirA.path(), env);
        const quint16 portB = launchOee(b, dirB.path(), env);
        QVERIFY(portA && portB);
        Http httpA(portA), httpB(portB);
        const QJsonObject q =
            httpA.get(QStringLiteral("/api/quotes?tokenIn=SOL&tokenOut=USDC&amount=0.1")).json();
        const BaseUnits tenth = q.value(QStringLiteral("plan"))
                                    .toObject()
                                    .value(QStringLiteral("amountOutRaw"))
                                    .toString()
                                    .toULongLong();
        QVERIFY(tenth > 0);
        QStringList ids;
        for (int i = 0; i < 40; ++i)
            ids << (i % 2 ? httpA : httpB)
                       .submit(limitOrder(QStringLiteral("0.1"), tenth * 1003 / 1000));
        QVERIFY(!ids.contains(QString()));
        QVERIFY(waitUntil([&] {
            return m_servers.count(
                       QStringLiteral("SELECT count(*) FROM orders WHERE status = 'open'")) == 40;
        }));
        QVERIFY(!httpB.submit(pushUp(QStringLiteral("4000000"))).isEmpty());
        QVERIFY(waitUntil(
            [&] {
                return m_servers.count(QStringLiteral(
                           "SELECT count(*) FROM orders WHERE status = 'confirmed'")) == 41;
            },
            60000));
        const qint64 firedA = httpA.get(QStringLiteral("/api/metrics"))
                                  .json()
                                  .value(QStringLiteral("restingBook"))
                                  .toObject()
                                  .value(QStringLiteral("triggered"))
                                  .toInteger();
        const qint64 firedB = httpB.get(QStringLiteral("/api/metrics"))
                                  .json()
                                  .value(QStringLiteral("restingBook"))
                                  .toObject()
                                  .value(QStringLiteral("triggered"))
                                  .toInteger();
        qInfo("fired by A %lld, by B %lld", firedA, firedB);
        QVERIFY(firedA + firedB >= 40);
        RedisConnection redis(*RedisEndpoint::fromUrl(m_servers.redisUrl(), nullptr));
        for (const QString &id : std::as_const(ids)) {
            verifyLifecycle(id);
            QCOMPARE(statuses(id).count(QStringLiteral("confirmed")), 1);
            QCOMPARE(redis.command({"EXISTS", rkeys::ledger("oee:", transactionSignature(id, 1))})
                         .toInt(),
                     1);
        }
        a.terminate();
        b.terminate();
        QVERIFY(a.waitForFinished(30000) && b.waitForFinished(30000));
    }

    void aSniperFiresOnALaunchMadeByAnotherProcess()
    {
        // The launch is made by an api-only process (no workers, no book); the worker process
        // reads pools only once a minute here, so only the launch's own notice (Redis pub/sub)
        // can fire its sniper in time.
        const QMap<QString, QString> common{
            {QStringLiteral("REDIS_URL"), m_servers.redisUrl()},
            {QStringLiteral("DATABASE_URL"), m_servers.databaseUrl()},
            {QStringLiteral("DEX_QUOTE_LATENCY_MS"), QStringLiteral("0")},
            {QStringLiteral("DEX_EXECUTION_LATENCY_MS"), QStringLiteral("0")},
            {QStringLiteral("DEX_VOLATILITY"), QStringLiteral("0")},
            {QStringLiteral("MAX_ORDERS_PER_MINUTE"), QStringLiteral("0")}};
        QMap<QString, QString> workerEnv = common;
        workerEnv.insert(QStringLiteral("OEE_ROLE"), QStringLiteral("worker"));
        workerEnv.insert(QStringLiteral("POOL_SYNC_MS"), QStringLiteral("60000"));
        QMap<QString, QString> apiEnv = common;
        apiEnv.insert(QStringLiteral("OEE_ROLE"), QStringLiteral("api"));
        QTemporaryDir dirW, dirA;
        QProcess worker, api;
        QVERIFY(launchOee(worker, dirW.path(), workerEnv));
        const quint16 port = launchOee(api, dirA.path(), apiEnv);
        QVERIFY(port > 1);
        Http http(port);
        const QString id = http.submit({{QStringLiteral("orderType"), QStringLiteral("sniper")},
                                        {QStringLiteral("tokenIn"), QStringLiteral("SOL")},
                                        {QStringLiteral("tokenOut"), QStringLiteral("POPCAT")},
                                        {QStringLiteral("amount"), QStringLiteral("0.5")},
                                        {QStringLiteral("slippage"), 0.05}});
        QVERIFY(waitStatus(id, QStringLiteral("open")));
        QCOMPARE(http.post(QStringLiteral("/api/launches"),
                           R"({"symbol":"POPCAT","quoteToken":"SOL","price":"0.02"})")
                     .status,
                 201);
        QVERIFY(waitStatus(id, QStringLiteral("confirmed"), 30000));
        QCOMPARE(eventData(id, QStringLiteral("routing"))
                     .value(QStringLiteral("trigger"))
                     .toObject()
                     .value(QStringLiteral("reason"))
                     .toString(),
                 QStringLiteral("launch"));
        worker.terminate();
        api.terminate();
        QVERIFY(worker.waitForFinished(30000) && api.waitForFinished(30000));
    }

    void killedWithRestingAndTriggeredOrdersExecutesEachAtMostOnce()
    {
        QTemporaryDir dataDir;
        QVERIFY(dataDir.isValid());
        const QMap<QString, QString> env{
            {QStringLiteral("DEX_QUOTE_LATENCY_MS"), QStringLiteral("0")},
            {QStringLiteral("DEX_EXECUTION_LATENCY_MS"), QStringLiteral("200-1500")},
            {QStringLiteral("DEX_VOLATILITY"), QStringLiteral("0")},
            {QStringLiteral("MAX_CONCURRENT_ORDERS"), QStringLiteral("200")},
            {QStringLiteral("MAX_ORDERS_PER_MINUTE"), QStringLiteral("0")},
            {QStringLiteral("JOB_LEASE_MS"), QStringLiteral("1500")}};
        const int total = 60;
        QStringList ids;
        {
            QProcess oee;
            const quint16 port = launchOee(oee, dataDir.path(), env);
            QVERIFY(port);
            Http http(port);
            const QJsonObject q =
                http.get(QStringLiteral("/api/quotes?tokenIn=SOL&tokenOut=USDC&amount=0.1")).json();
            const BaseUnits tenth = q.value(QStringLiteral("plan"))
                                        .toObject()
                                        .value(QStringLiteral("amountOutRaw"))
                                        .toString()
                                        .toULongLong();
            QVERIFY(tenth > 0);
            for (int i = 0; i < total; ++i) // half will cross, half rest far away
                ids << http.submit(
                    limitOrder(QStringLiteral("0.1"), i % 2 ? tenth * 1003 / 1000 : tenth * 3));
            QVERIFY(!ids.contains(QString()));
            QVERIFY(waitUntil([&] {
                return http.get(QStringLiteral("/api/metrics"))
                           .json()
                           .value(QStringLiteral("orders"))
                           .toObject()
                           .value(QStringLiteral("open"))
                           .toInt() == total;
            }));
            http.submit(pushUp(QStringLiteral("4000000")));
            // Killed while the crossed ones are in flight (routing … submitted).
            QVERIFY(waitUntil([&] {
                return http.get(QStringLiteral("/api/metrics"))
                           .json()
                           .value(QStringLiteral("orders"))
                           .toObject()
                           .value(QStringLiteral("submitted"))
                           .toInt() >= 5;
            }));
            ::kill(pid_t(oee.processId()), SIGKILL);
            oee.waitForFinished(10000);
        }
        {
            QProcess oee;
            const quint16 port = launchOee(oee, dataDir.path(), env);
            QVERIFY(port);
            Http http(port);
            // Every crossed order executes (resumed or fired again), the far ones still rest.
            QJsonObject counts;
            if (!waitUntil(
                    [&] {
                        counts = http.get(QStringLiteral("/api/metrics"))
                                     .json()
                                     .value(QStringLiteral("orders"))
                                     .toObject();
                        return counts.value(QStringLiteral("confirmed")).toInt() == total / 2 + 1 &&
                               counts.value(QStringLiteral("open")).toInt() == total / 2;
                    },
                    90000)) {
                // Say which crossed orders did not end, and where they are.
                QStringList stuck;
                for (int i = 1; i < total; i += 2) {
                    const QJsonObject o = http.get(QStringLiteral("/api/orders/") + ids[i])
                                              .json()
                                              .value(QStringLiteral("order"))
                                              .toObject();
                    if (o.value(QStringLiteral("status")).toString() != QStringLiteral("confirmed"))
                        stuck << ids[i] + QLatin1Char(' ') +
                                     o.value(QStringLiteral("status")).toString() +
                                     QLatin1Char(' ') +
                                     QString::fromUtf8(
                                         QJsonDocument(
                                             http.get(QStringLiteral("/api/orders/%1/events")
                                                          .arg(ids[i]))
                                                 .json())
                                             .toJson(QJsonDocument::Compact))
                                         .left(1500);
                }
                QFAIL(qPrintable(
                    QStringLiteral("orders by status %1; crossed orders not confirmed: %2")
                        .arg(
                            QString::fromUtf8(QJsonDocument(counts).toJson(QJsonDocument::Compact)),
                            stuck.join(QStringLiteral("\n")))));
            }
            const QString redisSocket = dataDir.path() + QStringLiteral("/run/redis.sock");
            RedisConnection redis(
                *RedisEndpoint::fromUrl(QStringLiteral("unix://") + redisSocket, nullptr));
            for (int i = 0; i < total; ++i) {
                const QJsonObject events =
                    http.get(QStringLiteral("/api/orders/%1/events").arg(ids[i])).json();
                std::optional<OrderStatus> at;
                int confirmed = 0;
                int maxAttempt = 0;
                for (const QJsonValue &v : events.value(QStringLiteral("events")).toArray()) {
                    const auto next =
                        statusFromName(v.toObject().value(QStringLiteral("status")).toString());
                    QVERIFY(next && canFollow(at, *next));
                    at = next;
                    confirmed += *next == OrderStatus::Confirmed;
                    maxAttempt = qMax(maxAttempt, v.toObject()
                                                      .value(QStringLiteral("data"))
                                                      .toObject()
                                                      .value(QStringLiteral("attempt"))
                                                      .toInt());
                }
                QCOMPARE(*at, i % 2 ? OrderStatus::Confirmed : OrderStatus::Open);
                QCOMPARE(confirmed, i % 2 ? 1 : 0);
                // At most one of its transactions landed.
                int landed = 0;
                for (int a = 1; a <= maxAttempt; ++a)
                    landed += redis
                                  .command({"EXISTS",
                                            rkeys::ledger("oee:", transactionSignature(ids[i], a))})
                                  .toInt();
                QCOMPARE(landed, i % 2 ? 1 : 0);
            }
            oee.terminate();
            oee.waitForFinished(30000);
        }
    }
};

QTEST_MAIN(TestOrderTypes)
#include "tst_ordertypes.moc"
