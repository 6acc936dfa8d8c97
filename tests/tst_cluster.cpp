// oee on a real 3-master Redis Cluster (started here on loopback): the queue's shards and the
// simulated chain spread over the masters, and a resharding (`redis-cli --cluster reshard`)
// that moves queue shards and the chain to another master while orders flow loses nothing; and
// a master killed (kill -9) while orders flow, its replica promoted: nothing lost either.
// The rest of the suite runs against the cluster too: CTest's *_cluster entries.
#include "TestSupport.h"
#include "queue/JobQueue.h"
#include "queue/RedisConnection.h"
#include "queue/RedisKeys.h"
#include "runtime/LocalRedisCluster.h"
#include "runtime/Metrics.h"

#include <QJsonDocument>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <atomic>
#include <thread>

using namespace oee;
using namespace oee::test;

class TestCluster : public QObject
{
    Q_OBJECT
    TestServers m_servers;

    // All `n` orders in PostgreSQL confirmed (waiting up to 2 minutes), each once, each with a
    // transaction of its own.
    bool everyOrderConfirmedOnce(qint64 n)
    {
        const auto count = [this](const char *sql) {
            return m_servers.count(QString::fromLatin1(sql));
        };
        const bool confirmed = waitUntil(
            [&] { return count("SELECT count(*) FROM orders WHERE status = 'confirmed'") == n; },
            120000);
        const qint64 rows = count("SELECT count(*) FROM orders");
        const qint64 events = count("SELECT count(*) FROM order_events WHERE status = 'confirmed'");
        const qint64 signatures = count("SELECT count(DISTINCT tx_signature) FROM orders");
        if (confirmed && rows == n && events == n && signatures == n)
            return true;
        qWarning("expected %lld orders confirmed once: %lld rows, %lld confirmed events, %lld "
                 "signatures",
                 n, rows, events, signatures);
        return false;
    }

private slots:
    void initTestCase()
    {
        qputenv("OEE_TEST_REDIS", "cluster");
        QString error;
        QVERIFY2(m_servers.start(&error), qPrintable(error));
        QVERIFY(m_servers.cluster());
        QVERIFY(m_servers.redisUrl().startsWith(QLatin1String("redis+cluster://")));
    }

    void init()
    {
        QString error;
        QVERIFY2(m_servers.reset(&error), qPrintable(error));
    }

    void theShardsSpreadOverTheMasters()
    {
        const Config c = fastConfig(m_servers);
        auto engine = startedEngine(c);
        Http http(engine->port());
        QSet<QString> ids;
        for (int i = 0; i < 40; ++i)
            ids << http.submit(order(1));
        QTRY_COMPARE_WITH_TIMEOUT(m_servers.count(QStringLiteral(
                                      "SELECT count(*) FROM orders WHERE status = 'confirmed'")),
                                  40, 60000);
        // Eight shards by default on a cluster; their slots are served by every master.
        QSet<int> masters;
        for (int s = 0; s < 8; ++s)
            masters << m_servers.cluster()->nodeServing(redisKeySlot(rkeys::shard("oee:", s)));
        QCOMPARE(masters.size(), 3);
        // Every process on the cluster agrees on the shard count (it is written once).
        RedisConnection redis(*RedisEndpoint::fromUrl(m_servers.redisUrl(), nullptr));
        QCOMPARE(redis.command({"GET", rkeys::shardCount("oee:")}).str, QByteArray("8"));
        JobQueue::Options other;
        other.shards = 4;
        QString error;
        QVERIFY(!JobQueue(&redis, other).checkShardCount(&error));
        QVERIFY2(error.contains(QLatin1String("QUEUE_SHARDS")), qPrintable(error));
    }

    void reshardingWhileOrdersFlowLosesNothing()
    {
        Config c = fastConfig(m_servers);
        c.concurrency = 20;
        c.dex.executionLatencyMinMs = 20; // orders stay in flight while the slots move
        c.dex.executionLatencyMaxMs = 60;
        auto engine = startedEngine(c);
        LocalRedisCluster *cluster = m_servers.cluster();

        // From the master serving the most of oee's slots (the chain's, the queue shards'),
        // move every slot up to and including the last of them: all of them move while
        // orders use them.
        QList<QByteArray> tags{rkeys::chain("oee:")};
        for (int s = 0; s < 8; ++s)
            tags << rkeys::shard("oee:", s);
        QList<int> perNode(3, 0);
        for (const QByteArray &tag : std::as_const(tags))
            ++perNode[qMax(0, cluster->nodeServing(redisKeySlot(tag)))];
        const int from = int(std::max_element(perNode.cbegin(), perNode.cend()) - perNode.cbegin());
        int count = 0;
        QList<int> moving;
        for (const QByteArray &tag : std::as_const(tags)) {
            int before = 0;
            if (cluster->nodeServing(redisKeySlot(tag), &before) == from) {
                moving << redisKeySlot(tag);
                count = qMax(count, before + 1);
            }
        }
        QVERIFY(moving.size() >= 2);
        const int to = (from + 1) % 3;
        const quint64 redirectionsBefore = metrics::registry().redisRedirections.load();

        std::atomic<bool> done{false};
        bool resharded = false;
        QString reshardError;
        // A few orders first, so jobs and pools exist in the slots that move.
        Http http(engine->port());
        QStringList ids;
        for (int i = 0; i < 20; ++i)
            ids << http.submit(order(1 + i % 3));
        std::thread mover([&] {
            resharded = cluster->reshard(from, to, count, &reshardError);
            done = true;
        });
        // Orders keep coming while the slots move (and a few after).
        while (!done && ids.size() < 2000)
            ids << http.submit(order(1 + ids.size() % 3));
        QVERIFY(waitUntil([&] { return done.load(); }, 300000));
        mover.join();
        for (int i = 0; i < 20; ++i)
            ids << http.submit(order(1 + i % 3));
        QVERIFY2(resharded, qPrintable(reshardError));
        for (const int slot : std::as_const(moving))
            QCOMPARE(cluster->nodeServing(slot), to);
        QVERIFY(!ids.contains(QString()));
        const int n = int(ids.size());
        qInfo("%d orders across a reshard of %d slots (%lld of them used by oee)", n, count,
              qlonglong(moving.size()));

        // Every order confirmed, exactly once, and the queue empty.
        QVERIFY(everyOrderConfirmedOnce(n));
        RedisConnection redis(*RedisEndpoint::fromUrl(m_servers.redisUrl(), nullptr));
        JobQueue::Options o;
        o.shards = 8;
        QueueCounts q;
        QVERIFY(waitUntil([&] {
            q = JobQueue(&redis, o).counts();
            return q.ok && q.active == 0;
        }));
        QCOMPARE(q.waiting, 0);
        QCOMPARE(q.completed, n);
        // The engine was sent elsewhere while the slots moved, and followed.
        QVERIFY(metrics::registry().redisRedirections.load() > redirectionsBefore);
    }

    void aMasterKilledWhileOrdersFlowFailsOverAndLosesNothing()
    {
        // A cluster of its own: three masters with a replica each, a node failing after 1 s.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        LocalRedisCluster cluster(dir.path());
        QString error;
        QVERIFY2(cluster.start(3, &error, 1, 1000), qPrintable(error));
        Config c = fastConfig(m_servers);
        c.redisUrl = cluster.url();
        c.leaseMs = 3000;
        c.reconcileMs = 500; // jobs the replica had not received yet come back from PostgreSQL
        c.dex.executionLatencyMinMs = 20;
        c.dex.executionLatencyMaxMs = 60;
        auto engine = startedEngine(c);

        // The master to kill: it serves queue shards and not the chain (the chain's loss is
        // the market's, covered by the Redis data-loss tests).
        const int chain = cluster.nodeServing(redisKeySlot(rkeys::chain("oee:")));
        QMap<int, int> shardsOn;
        for (int s = 0; s < 8; ++s)
            ++shardsOn[cluster.nodeServing(redisKeySlot(rkeys::shard("oee:", s)))];
        int victim = -1;
        for (auto it = shardsOn.cbegin(); it != shardsOn.cend(); ++it)
            if (it.key() >= 0 && it.key() != chain &&
                (victim < 0 || it.value() > shardsOn.value(victim)))
                victim = it.key();
        QVERIFY2(victim >= 0, "no master serves queue shards without the chain");

        Http http(engine->port());
        int accepted = 0, refused = 0;
        const auto offer = [&](int n) {
            for (int i = 0; i < n; ++i) {
                const HttpResult r =
                    http.post(QStringLiteral("/api/orders/execute"),
                              QJsonDocument(order(1 + i % 3)).toJson(QJsonDocument::Compact));
                // During the failover a submission may be refused (503), never half-written.
                if (r.status == 200)
                    ++accepted;
                else if (r.status == 503)
                    ++refused;
                else
                    QFAIL(qPrintable(QStringLiteral("unexpected %1: %2")
                                         .arg(r.status)
                                         .arg(QString::fromUtf8(r.body))));
            }
        };
        offer(200);
        // The health check's and the reads' connections know the cluster as it is now.
        QCOMPARE(http.get(QStringLiteral("/health")).status, 200);
        for (int i = 0; i < 4; ++i)
            QCOMPARE(http.get(QStringLiteral("/api/metrics")).status, 200);
        cluster.kill(victim);
        offer(100); // while the cluster notices
        QVERIFY2(cluster.waitForFailover(victim, &error), qPrintable(error));
        offer(200);
        qInfo("%d orders accepted, %d refused during the failover", accepted, refused);
        QVERIFY(accepted >= 400);

        // Every accepted order confirmed, exactly once; no refused one left a row.
        QVERIFY(everyOrderConfirmedOnce(accepted));
        // /health pings every master: the promoted replica, not the dead node. A connection
        // idle during the failover learns of it when a command to the old master fails (that
        // one is answered 503: whether it ran is unknown); the next reads the map again.
        QTRY_COMPARE_WITH_TIMEOUT(http.get(QStringLiteral("/health")).status, 200, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(http.get(QStringLiteral("/api/metrics")).status, 200, 30000);
        // And it goes on: new orders after the failover run as before.
        const int before = accepted;
        offer(50);
        QCOMPARE(accepted, before + 50);
        QTRY_COMPARE_WITH_TIMEOUT(m_servers.count(QStringLiteral(
                                      "SELECT count(*) FROM orders WHERE status = 'confirmed'")),
                                  accepted, 60000);
    }
};

QTEST_MAIN(TestCluster)
#include "tst_cluster.moc"
