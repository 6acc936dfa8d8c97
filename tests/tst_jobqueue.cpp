// The Redis job queue over a real redis-server: claim/lease/settle, backoff, the global rate
// limit across connections (as across processes), stall recovery.
#include "TestSupport.h"
#include "dex/Chain.h"
#include "dex/Market.h"

#include "queue/Handoff.h"
#include "queue/JobQueue.h"
#include "queue/RedisKeys.h"
#include "queue/Worker.h"
#include "store/Database.h"
#include <QJsonDocument>

#include <QSet>
#include <QSignalSpy>
#include <QTest>

using namespace oee;
using namespace oee::test;

class TestJobQueue : public QObject
{
    Q_OBJECT
    TestServers m_servers;
    RedisEndpoint m_endpoint;

    static QList<Job> jobs(int n, const QString &prefix = QStringLiteral("job"))
    {
        QList<Job> out;
        for (int i = 0; i < n; ++i)
            out.append(Job{QStringLiteral("%1-%2").arg(prefix).arg(i), "{}", 0, {}});
        return out;
    }

private slots:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_servers.start(&error), qPrintable(error));
        m_endpoint = *RedisEndpoint::fromUrl(m_servers.redisUrl(), &error);
    }

    void init()
    {
        QString error;
        QVERIFY2(m_servers.reset(&error), qPrintable(error));
    }

    void claimLeasesAndCompletes()
    {
        RedisConnection conn(m_endpoint);
        JobQueue q(&conn, {});
        QString error;
        QVERIFY(q.enqueue(jobs(3), &error));
        QVERIFY(q.enqueue(jobs(1), &error)); // the same id again is not queued twice
        QCOMPARE(q.counts().waiting, 3);

        const ClaimResult c = q.claim(10);
        QVERIFY(c.ok);
        QCOMPARE(c.jobs.size(), 3);
        QCOMPARE(c.jobs.first().id, QStringLiteral("job-0")); // first in, first out
        QCOMPARE(c.jobs.first().attempt, 1);
        QueueCounts n = q.counts();
        QCOMPARE(n.waiting, 0);
        QCOMPARE(n.active, 3);

        const QByteArray t0 = c.jobs[0].token, t1 = c.jobs[1].token, t2 = c.jobs[2].token;
        QVERIFY(q.settle({{Settle::Complete, QStringLiteral("job-0"), 0, t0},
                          {Settle::Fail, QStringLiteral("job-1"), 0, t1},
                          {Settle::Release, QStringLiteral("job-2"), 0, t2}}));
        n = q.counts();
        QCOMPARE(n.active, 0);
        QCOMPARE(n.completed, 1);
        QCOMPARE(n.failed, 1);
        QCOMPARE(n.waiting, 1);
        // Released (shutdown) does not spend the attempt.
        const ClaimResult again = q.claim(10);
        QCOMPARE(again.jobs.size(), 1);
        QCOMPARE(again.jobs.first().attempt, 1);
        // Settling a job that is no longer active does nothing.
        QVERIFY(q.settle({{Settle::Complete, QStringLiteral("job-0"), 0, t0}}));
        QCOMPARE(q.counts().completed, 1);
    }

    void triggerQueuesOnlyOrdersWithoutAJob()
    {
        // The resting book's trigger: a job that exists anywhere (waiting, active, staged) is
        // held by someone; only the others join the queue, in the order given.
        RedisConnection conn(m_endpoint);
        JobQueue q(&conn, {});
        QString error;
        QVERIFY(q.enqueue(jobs(1, QStringLiteral("waiting")), &error));
        QVERIFY(q.stage(jobs(1, QStringLiteral("staged")), "tester", &error));
        QCOMPARE(q.trigger(jobs(2, QStringLiteral("new"))).queued,
                 QStringList({QStringLiteral("new-0"), QStringLiteral("new-1")}));
        QCOMPARE(q.trigger(jobs(1, QStringLiteral("waiting")) + jobs(1, QStringLiteral("staged")) +
                           jobs(2, QStringLiteral("new")))
                     .queued,
                 QStringList());
        // Fired orders go ahead of new ones (their price is there now), first fired first.
        const ClaimResult c = q.claim(10);
        QCOMPARE(c.jobs.size(), 3);
        QCOMPARE(c.jobs[0].id, QStringLiteral("new-0"));
        QCOMPARE(c.jobs[1].id, QStringLiteral("new-1"));
        QCOMPARE(c.jobs[2].id, QStringLiteral("waiting-0"));
        QCOMPARE(c.jobs[0].attempt, 1);
        QCOMPARE(q.trigger(jobs(1, QStringLiteral("new"))).queued, QStringList()); // active
        QVERIFY(q.settle({{Settle::Park, QStringLiteral("new-0"), 0, c.jobs[0].token}}));
        QCOMPARE(q.trigger(jobs(1, QStringLiteral("new"))).queued,
                 QStringList({QStringLiteral("new-0")}));

        // More than one Lua unpack() can carry at once.
        const QStringList many = q.trigger(jobs(9000, QStringLiteral("many"))).queued;
        QCOMPARE(many.size(), 9000);
        QCOMPARE(q.counts().waiting, 9001);
        const ClaimResult all = q.claim(20000);
        QCOMPARE(all.jobs.size(), 9001);
        QCOMPARE(all.jobs[0].id, QStringLiteral("many-0"));
        QCOMPARE(all.jobs[8999].id, QStringLiteral("many-8999"));
        QCOMPARE(all.jobs[9000].id, QStringLiteral("new-0"));
    }

    void triggerLeasesJobsForThisProcessWithoutAClaim()
    {
        // The book's own workers take the first ones from memory: leased by the trigger itself
        // (attempt, token, lease, as a claim), never queued; the rest join the queue. A lease
        // the trigger took renews and settles like a claim's.
        RedisConnection conn(m_endpoint);
        JobQueue::Options options;
        options.shards = 3;
        JobQueue q(&conn, options);
        QString error;
        QVERIFY(q.enqueue(jobs(1, QStringLiteral("held")), &error));
        const JobQueue::Triggered t =
            q.trigger(jobs(1, QStringLiteral("held")) + jobs(6, QStringLiteral("fired")), 5);
        QVERIFY(t.ok);
        // "held" exists (waiting): neither leased nor queued, though first in line to lease.
        QCOMPARE(t.leased.size(), 4);
        QCOMPARE(t.queued.size(), 2);
        QSet<QString> leased;
        for (const Job &j : t.leased) {
            leased.insert(j.id);
            QCOMPARE(j.attempt, 1);
            QVERIFY(!j.token.isEmpty());
            QCOMPARE(j.payload, QByteArray("{}"));
        }
        QCOMPARE(leased, (QSet<QString>{QStringLiteral("fired-0"), QStringLiteral("fired-1"),
                                        QStringLiteral("fired-2"), QStringLiteral("fired-3")}));
        QCOMPARE(QSet<QString>(t.queued.cbegin(), t.queued.cend()),
                 (QSet<QString>{QStringLiteral("fired-4"), QStringLiteral("fired-5")}));
        const QueueCounts counts = q.counts();
        QCOMPARE(counts.active, 4);
        QCOMPARE(counts.waiting, 3);
        // Fired again while leased: nothing new.
        const JobQueue::Triggered again = q.trigger(jobs(6, QStringLiteral("fired")), 6);
        QVERIFY(again.leased.isEmpty() && again.queued.isEmpty());
        // Claims see only the queued ones; the leases settle under their tokens.
        const ClaimResult c = q.claim(10);
        QCOMPARE(c.jobs.size(), 3);
        QList<Lease> leases;
        QList<SettleOp> ops;
        for (const Job &j : t.leased) {
            leases.append(Lease{j.id, j.token});
            ops.append(SettleOp{Settle::Complete, j.id, 0, j.token});
        }
        QVERIFY(q.renew(leases));
        QVERIFY(q.settle(ops));
        QCOMPARE(q.counts().active, 3);
    }

    void handoffSharesABurstAndHandsBackStaleJobs()
    {
        // In memory, no Redis: a burst is split over the threads, a few orders are not, a
        // thread takes no more than it has room for, and what waited past the stale limit is
        // handed back instead of run.
        Handoff h(2);
        QList<Job> stale;
        h.put(jobs(200, QStringLiteral("burst")), 0);
        QCOMPARE(h.take(128, 10, 1000, &stale).size(), 100);
        const QList<Job> second = h.take(128, 10, 1000, &stale);
        QCOMPARE(second.size(), 100);
        QCOMPARE(second.first().id, QStringLiteral("burst-100"));
        QVERIFY(h.isEmpty());
        h.put(jobs(5, QStringLiteral("few")), 0);
        QCOMPARE(h.take(128, 10, 1000, &stale).size(), 5);
        h.put(jobs(40, QStringLiteral("room")), 0);
        QCOMPARE(h.take(3, 10, 1000, &stale).size(), 3);
        QCOMPARE(h.takeAll().size(), 37);
        h.put(jobs(3, QStringLiteral("old")), 0);
        QVERIFY(h.take(10, 2000, 1000, &stale).isEmpty());
        QCOMPARE(stale.size(), 3);
        QVERIFY(h.isEmpty());
    }

    void aWorkerHandsBackWhatItsHandoffCannotRun()
    {
        // Jobs the book leased for this process's threads: a worker that finds them past half
        // their lease releases them to the queue rather than run them (another claim may hold
        // them by now), and one that shuts down releases what is still in the handoff rather
        // than leave it active until the leases lapse. Released: waiting again, attempt not
        // counted.
        QString error;
        const auto pg = PgEndpoint::fromUrl(m_servers.databaseUrl(), &error);
        QVERIFY(pg);
        {
            QSqlDatabase db = Database::open(QStringLiteral("jobqueue-migrate"), *pg);
            QVERIFY2(Database::migrate(db, &error), qPrintable(error));
        }
        Database::remove(QStringLiteral("jobqueue-migrate"));
        RedisConnection conn(m_endpoint);
        JobQueue::Options options;
        options.leaseMs = 4000;
        JobQueue q(&conn, options);
        DexConfig still;
        still.volatility = 0;
        Market market(still);
        Handoff handoff(1);
        WorkerSettings settings;
        settings.redis = m_endpoint;
        settings.postgres = *pg;
        settings.queue = options;
        settings.idlePollMs = 600000; // no claim from Redis but the first
        settings.instanceId = "handoff-test";
        settings.handoff = &handoff;

        const JobQueue::Triggered old = q.trigger(jobs(3, QStringLiteral("old")), 10);
        QCOMPARE(old.leased.size(), 3);
        handoff.put(old.leased, QDateTime::currentMSecsSinceEpoch() - options.leaseMs);
        Worker worker(settings, &market);
        worker.start(); // its first claim comes at the next turn of the event loop
        QVERIFY(waitUntil([&] {
            const QueueCounts c = q.counts();
            return c.waiting == 3 && c.active == 0;
        }));
        QVERIFY(handoff.isEmpty());

        const JobQueue::Triggered fresh = q.trigger(jobs(2, QStringLiteral("fresh")), 10);
        QCOMPARE(fresh.leased.size(), 2);
        handoff.put(fresh.leased, QDateTime::currentMSecsSinceEpoch());
        QCOMPARE(q.counts().active, 2);
        worker.shutdown();
        QVERIFY(handoff.isEmpty());
        const QueueCounts after = q.counts();
        QCOMPARE(after.active, 0);
        QCOMPARE(after.waiting, 5);
        // Claimed again, each at its first attempt.
        const ClaimResult c = q.claim(10);
        QCOMPARE(c.jobs.size(), 5);
        for (const Job &j : c.jobs)
            QCOMPARE(j.attempt, 1);
    }

    void stagedJobsAreInvisibleUntilPublished()
    {
        RedisConnection conn(m_endpoint);
        JobQueue q(&conn, {});
        QString error;
        QVERIFY(q.stage(jobs(2), "test-submitter", &error));
        QVERIFY(q.claim(10).jobs.isEmpty()); // rows not committed yet: nobody may take them
        QVERIFY(q.publish({QStringLiteral("job-1")}));
        const ClaimResult c = q.claim(10);
        QCOMPARE(c.jobs.size(), 1);
        QCOMPARE(c.jobs.first().id, QStringLiteral("job-1"));
        // job-0's submitter "died" before publishing: the sweep finds it once it is stale.
        QVERIFY(q.staleStaged(600000).isEmpty());
        QVERIFY(
            waitUntil([&] { return q.staleStaged(50) == QStringList{QStringLiteral("job-0")}; }));
        QVERIFY(q.remove({QStringLiteral("job-0")}));
        QVERIFY(q.staleStaged(0).isEmpty());
        QVERIFY(q.claim(10).jobs.isEmpty());
    }

    void chainLandsEachSignatureOnce()
    {
        RedisConnection conn(m_endpoint);
        conn.command({"DEL", rkeys::pool("chaintest:", QStringLiteral("raydium-SOL-USDC")),
                      rkeys::pool("chaintest:", QStringLiteral("meteora-SOL-USDC")),
                      rkeys::ledger("chaintest:", QStringLiteral("sig-1"))});
        DexConfig still;
        still.volatility = 0;
        Market market(still);
        QVERIFY(market.seed(&conn, "chaintest:", nullptr));
        SimulatedChain chain(&conn, "chaintest:");
        QVERIFY(chain.lookup(QStringLiteral("sig-1")).value() == std::nullopt);
        const RoutePlan plan =
            market.route(QStringLiteral("SOL"), QStringLiteral("USDC"), 2'000'000'000);
        const auto landed = chain.execute(QStringLiteral("sig-1"), plan, 0, &market);
        QVERIFY(landed && !landed->duplicate && landed->fill.ok);
        QCOMPARE(landed->fill.amountOut, plan.best.amountOut);
        const QString poolId = plan.best.legs.first().poolId;
        const quint64 slot = market.pool(poolId)->slot;
        QCOMPARE(slot, quint64(1));
        // The same transaction again (a resubmission after a crash): a duplicate, the first
        // landing's fill comes back, and the pool does not move a second time.
        const auto again = chain.execute(QStringLiteral("sig-1"), plan, 0, &market);
        QVERIFY(again && again->duplicate);
        QCOMPARE(again->fill.amountOut, landed->fill.amountOut);
        QCOMPARE(market.pool(poolId)->slot, slot);
        QCOMPARE(chain.lookup(QStringLiteral("sig-1")).value()->amountOut, landed->fill.amountOut);
    }

    void twoCopiesOfTheMarketNeverSpendTheSameLiquidity()
    {
        // Two processes' views of the same pools, both stale: each routes the same order on the
        // same state. The second to land finds the pool moved, prices again and gets less; the
        // pool in Redis is both fills applied one after the other.
        RedisConnection a(m_endpoint), b(m_endpoint);
        a.command({"EVAL",
                   "for _, k in ipairs(redis.call('KEYS', 'spend:*')) do redis.call('DEL', k) end",
                   "0"});
        DexConfig still;
        still.volatility = 0;
        Market first(still), second(still);
        QVERIFY(first.seed(&a, "spend:", nullptr));
        QVERIFY(second.seed(&b, "spend:", nullptr));
        const BaseUnits amount = 500'000'000'000ULL; // 500 SOL
        const RoutePlan p1 = first.route(QStringLiteral("SOL"), QStringLiteral("USDC"), amount);
        const RoutePlan p2 = second.route(QStringLiteral("SOL"), QStringLiteral("USDC"), amount);
        QCOMPARE(p1.best.amountOut, p2.best.amountOut);
        SimulatedChain c1(&a, "spend:"), c2(&b, "spend:");
        const auto l1 = c1.execute(QStringLiteral("sig-a"), p1, 0, &first);
        const auto l2 = c2.execute(QStringLiteral("sig-b"), p2, 0, &second);
        QVERIFY(l1 && l1->fill.ok && l2 && l2->fill.ok);
        QCOMPARE(l1->fill.amountOut, p1.best.amountOut);
        QVERIFY2(l2->fill.amountOut < p2.best.amountOut,
                 "the second fill was priced on spent liquidity");
        // Replay both on a fresh genesis copy: Redis holds exactly that state.
        Market replay(still);
        QVERIFY(replay.executeLocally(p1, 0).ok);
        const Fill f = replay.executeLocally(p2, 0); // the second plan, on the moved pools
        QVERIFY(f.ok);
        QCOMPARE(f.amountOut, l2->fill.amountOut);
        QVERIFY(second.sync(&b, "spend:"));
        // A DLMM pool records its last swap's second; the replay runs a moment after the
        // landings and may fall in the next second (a slow sanitizer run on a cluster did).
        // What that time decides (the fee's decay) only moves past filterPeriod, 30 s here.
        const auto state = [](QJsonObject o) {
            if (o.contains(QStringLiteral("vParameters"))) {
                QJsonObject v = o.value(QStringLiteral("vParameters")).toObject();
                v.remove(QStringLiteral("lastUpdateTimestamp"));
                o.insert(QStringLiteral("vParameters"), v);
            }
            return QJsonDocument(o).toJson();
        };
        for (const auto &pool : replay.pools())
            QCOMPARE(state(second.pool(pool->id)->toJson()), state(pool->toJson()));
    }

    void retryWaitsForItsBackoff()
    {
        RedisConnection conn(m_endpoint);
        JobQueue q(&conn, {});
        QString error;
        QVERIFY(q.enqueue(jobs(1), &error));
        const ClaimResult held = q.claim(1);
        QCOMPARE(held.jobs.size(), 1);
        QVERIFY(
            q.settle({{Settle::Retry, QStringLiteral("job-0"), 60000, held.jobs.first().token}}));
        const ClaimResult c = q.claim(1);
        QVERIFY(c.jobs.isEmpty()); // not before its backoff
        QCOMPARE(q.counts().delayed, 1);
        QVERIFY(c.nextDelayedInMs > 50000 && c.nextDelayedInMs <= 60000);

        QVERIFY(q.settle({}));
        // A short backoff: the job comes back with the next attempt number.
        RedisConnection conn2(m_endpoint);
        JobQueue q2(&conn2, {});
        QVERIFY(q2.enqueue(jobs(1, QStringLiteral("short")), &error));
        const ClaimResult shortHeld = q2.claim(5);
        QCOMPARE(shortHeld.jobs.size(), 1);
        QVERIFY(q2.settle(
            {{Settle::Retry, QStringLiteral("short-0"), 100, shortHeld.jobs.first().token}}));
        Job next;
        QVERIFY(waitUntil([&] {
            const ClaimResult r = q2.claim(5);
            if (r.jobs.isEmpty())
                return false;
            next = r.jobs.first();
            return true;
        }));
        QCOMPARE(next.id, QStringLiteral("short-0"));
        QCOMPARE(next.attempt, 2);
    }

    void rateLimitHoldsAcrossConnections()
    {
        // Two connections stand for two worker processes sharing one limit.
        JobQueue::Options o;
        o.ratePerWindow = 5;
        o.rateWindowMs = 60000;
        RedisConnection a(m_endpoint), b(m_endpoint);
        JobQueue qa(&a, o), qb(&b, o);
        QString error;
        QVERIFY(qa.enqueue(jobs(12), &error));
        const ClaimResult first = qa.claim(3);
        const ClaimResult second = qb.claim(10);
        QCOMPARE(first.jobs.size(), 3);
        QCOMPARE(second.jobs.size(), 2);
        const ClaimResult third = qa.claim(10);
        QVERIFY(third.jobs.isEmpty());
        QVERIFY(third.rateLimitedForMs > 0 && third.rateLimitedForMs <= 60000);
        QCOMPARE(qa.counts().waiting, 7);
    }

    void rateLimitWindowReopens()
    {
        JobQueue::Options o;
        o.ratePerWindow = 4;
        o.rateWindowMs = 300;
        RedisConnection conn(m_endpoint);
        JobQueue q(&conn, o);
        QString error;
        QVERIFY(q.enqueue(jobs(10), &error));
        QCOMPARE(q.claim(10).jobs.size(), 4);
        const ClaimResult limited = q.claim(10);
        QCOMPARE(limited.jobs.size(), 0);
        QVERIFY(limited.rateLimitedForMs > 0);
        // After the window, at most 4 more; never more than the limit per claim window.
        int got = 0;
        QVERIFY(waitUntil([&] { return (got = int(q.claim(10).jobs.size())) > 0; }));
        QVERIFY(got <= 4);
    }

    // N shards: jobs spread over them, a claim takes its share from each, a shard with more
    // gets the room the others left, and one rate limit holds across shards and processes.
    void shardedQueueIsFairAndHoldsOneRateLimit()
    {
        JobQueue::Options o;
        o.shards = 4;
        o.ratePerWindow = 30;
        RedisConnection a(m_endpoint), b(m_endpoint);
        JobQueue qa(&a, o), qb(&b, o);
        QString error;
        QVERIFY2(qa.enqueue(jobs(100), &error), qPrintable(error));
        QCOMPARE(qa.counts().waiting, 100);
        for (int s = 0; s < 4; ++s)
            QVERIFY(a.command({"LLEN", rkeys::shard("oee:", s) + "wait"}).toInt() > 0);

        const ClaimResult first = qa.claim(8);
        QCOMPARE(first.jobs.size(), 8);
        QSet<int> shards;
        QSet<QString> seen;
        for (const Job &j : first.jobs) {
            shards << qa.shardOf(j.id);
            seen << j.id;
        }
        QCOMPARE(shards.size(), 4); // two from every shard
        // Two processes, one window: 30 claimed in all, then both are limited.
        ClaimResult r;
        for (int i = 0; (r = (i % 2 ? qa : qb).claim(7)).ok && !r.jobs.isEmpty(); ++i)
            for (const Job &j : std::as_const(r.jobs))
                seen << j.id;
        QVERIFY(r.ok);
        QCOMPARE(seen.size(), 30);
        QVERIFY(r.rateLimitedForMs > 0);
        QCOMPARE(qb.counts().waiting, 70);
    }

    void aClaimGivesBackWhatItCouldNotUseAndFillsFromAnyShard()
    {
        JobQueue::Options o;
        o.shards = 4;
        o.ratePerWindow = 10;
        RedisConnection conn(m_endpoint);
        JobQueue q(&conn, o);
        // Twelve jobs that all live in shard 2: the others have nothing.
        QList<Job> one;
        for (int i = 0; one.size() < 12; ++i) {
            const QString id = QStringLiteral("one-%1").arg(i);
            if (q.shardOf(id) == 2)
                one.append(Job{id, "{}", 0, {}});
        }
        QString error;
        QVERIFY(q.enqueue(one.mid(0, 3), &error));
        // 10 granted, 3 taken: the 7 unused go back to the window.
        QCOMPARE(q.claim(10).jobs.size(), 3);
        QVERIFY(q.enqueue(one.mid(3), &error));
        // 7 left in the window, all from the one shard that has jobs (its share was 2).
        const ClaimResult r = q.claim(10);
        QCOMPARE(r.jobs.size(), 7);
        QCOMPARE(r.rateLimitedForMs, 0);
        const ClaimResult limited = q.claim(10);
        QVERIFY(limited.jobs.isEmpty());
        QVERIFY(limited.rateLimitedForMs > 0);
        QCOMPARE(limited.waiting, 2);
    }

    // The cluster slot of a key (Redis's own examples), hash tags, and cluster URLs.
    void clusterSlotsAndUrls()
    {
        QCOMPARE(redisKeySlot("somekey"), 11058);
        QCOMPARE(redisKeySlot("foo{hash_tag}"), 2515);
        QCOMPARE(redisKeySlot("bar{hash_tag}"), 2515);
        QCOMPARE(redisKeySlot("{}foo"), redisKeySlot("{}foo")); // an empty tag: the whole key
        QVERIFY(redisKeySlot("{}foo") != redisKeySlot("foo"));
        QCOMPARE(redisKeySlot(rkeys::shard("oee:", 3) + "wait"), redisKeySlot("oee:3"));
        QCOMPARE(redisKeySlot(rkeys::pool("oee:", QStringLiteral("raydium-SOL-USDC"))),
                 redisKeySlot(rkeys::ledger("oee:", QStringLiteral("sig"))));
        QString error;
        const auto ep = RedisEndpoint::fromUrl(
            QStringLiteral("redis+cluster://:s%40cret@10.0.0.1:7000,h2:7001/"), &error);
        QVERIFY2(ep, qPrintable(error));
        QVERIFY(ep->isCluster());
        QCOMPARE(ep->clusterSeeds.size(), 2);
        QCOMPARE(ep->clusterSeeds[1].first, QStringLiteral("h2"));
        QCOMPARE(ep->clusterSeeds[1].second, 7001);
        QCOMPARE(ep->password, QStringLiteral("s@cret"));
        QVERIFY(!RedisEndpoint::fromUrl(QStringLiteral("redis+cluster://h1"), &error));
        QVERIFY2(error.contains(QLatin1String("host:port")), qPrintable(error));
        QVERIFY(!RedisEndpoint::fromUrl(QStringLiteral("redis+cluster://h1:7000/2"), &error));
        QVERIFY2(error.contains(QLatin1String("database 0")), qPrintable(error));
        QVERIFY(!RedisEndpoint::fromUrl(QStringLiteral("redis+cluster://"), &error));
        if (TestServers::clusterMode()) {
            // The server agrees.
            RedisConnection conn(m_endpoint);
            for (const QByteArray &key : {QByteArray("somekey"), rkeys::shard("oee:", 5) + "job:x",
                                          rkeys::rateLimit("oee:"), QByteArray("{}foo")})
                QCOMPARE(conn.command({"CLUSTER", "KEYSLOT", key}).toInt(),
                         qint64(redisKeySlot(key)));
        }
    }

    void expiredLeaseIsRecovered()
    {
        // job-0 is held with a long lease, job-1 by a worker with a short lease that "died".
        JobQueue::Options longLease, shortLease;
        longLease.leaseMs = 600000;
        shortLease.leaseMs = 100;
        RedisConnection conn(m_endpoint);
        JobQueue alive(&conn, longLease), dead(&conn, shortLease);
        QString error;
        QVERIFY(alive.enqueue(jobs(2), &error));
        QCOMPARE(alive.claim(1).jobs.first().id, QStringLiteral("job-0"));
        QCOMPARE(dead.claim(1).jobs.first().id, QStringLiteral("job-1"));
        int recovered = 0;
        QVERIFY(waitUntil([&] { return (recovered += alive.recoverStalled()) > 0; }));
        QCOMPARE(recovered, 1);
        const QueueCounts n = alive.counts();
        QCOMPARE(n.stalled, 1);
        QCOMPARE(n.active, 1);
        const ClaimResult again = alive.claim(5);
        QCOMPARE(again.jobs.size(), 1);
        QCOMPARE(again.jobs.first().id, QStringLiteral("job-1"));
        QCOMPARE(again.jobs.first().attempt, 2);
    }

    // A worker that stalled past its lease holds a superseded token: its renewals no longer
    // extend the job's lease and its settle does nothing; the new claim's token does both.
    void aSupersededClaimNeitherRenewsNorSettles()
    {
        JobQueue::Options shortLease;
        shortLease.leaseMs = 100;
        RedisConnection conn(m_endpoint);
        JobQueue q(&conn, shortLease);
        QString error;
        QVERIFY(q.enqueue(jobs(1), &error));
        const Job stale = q.claim(1).jobs.first();
        QVERIFY(waitUntil([&] { return q.recoverStalled() > 0; }));
        JobQueue::Options longLease;
        longLease.leaseMs = 600000;
        JobQueue fresh(&conn, longLease);
        const Job current = fresh.claim(1).jobs.first();
        QCOMPARE(current.id, stale.id);
        QVERIFY(current.token != stale.token);
        // The stale worker wakes up: renewing with its short lease must not shorten (or
        // extend) the new owner's; its "complete" must not end the new owner's job.
        QVERIFY(q.renew({Lease{stale.id, stale.token}}));
        QVERIFY(q.settle({{Settle::Complete, stale.id, 0, stale.token}}));
        QCOMPARE(q.counts().active, 1);
        QCOMPARE(q.counts().completed, 0);
        QCOMPARE(q.recoverStalled(), 0); // the owner's long lease stands
        QVERIFY(fresh.settle({{Settle::Complete, current.id, 0, current.token}}));
        QCOMPARE(q.counts().active, 0);
        QCOMPARE(q.counts().completed, 1);
    }
};

QTEST_GUILESS_MAIN(TestJobQueue)
#include "tst_jobqueue.moc"
