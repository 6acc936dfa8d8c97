// Defects found by attacking oee off the tested path (issue 9), each reproduced as it was found:
// real processes, real locks and signals, real Redis and PostgreSQL.
#include "TestSupport.h"
#include "api/WsFrameGuard.h"
#include "queue/JobQueue.h"
#include "queue/RedisConnection.h"
#include "queue/RedisKeys.h"
#include "store/Database.h"
#include "store/OrderStore.h"

#include <QFile>
#include <QJsonArray>
#include <QNetworkReply>
#include <QSet>
#include <QSignalSpy>
#include <QSqlError>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTest>
#include <QUuid>
#include <csignal>
#include <malloc.h>

using namespace oee;
using namespace oee::test;

namespace {

// One client frame (RFC 6455, 5.2): masked, as a client must, or not.
QByteArray wsFrame(quint8 opcode, const QByteArray &payload, bool masked)
{
    QByteArray f;
    f.append(char(0x80 | opcode));
    const char maskBit = masked ? char(0x80) : char(0);
    const qsizetype n = payload.size();
    if (n < 126) {
        f.append(char(maskBit | char(n)));
    } else if (n < 65536) {
        f.append(char(maskBit | 126)).append(char(n >> 8)).append(char(n & 0xff));
    } else {
        f.append(char(maskBit | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            f.append(char((quint64(n) >> shift) & 0xff));
    }
    if (!masked)
        return f + payload;
    const char key[4] = {0x12, 0x34, 0x56, 0x78};
    f.append(key, 4);
    for (qsizetype i = 0; i < n; ++i)
        f.append(char(payload[i] ^ key[i % 4]));
    return f;
}

// A WebSocket client over a bare connection, to send what a library would not.
class RawWs
{
public:
    // Sends `opening` (a handshake head, and perhaps frames after it) at once.
    RawWs(quint16 port, const QByteArray &opening)
    {
        m_socket.setSocketOption(QAbstractSocket::LowDelayOption, 1);
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        if (m_socket.waitForConnected(10000))
            send(opening);
    }
    void send(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        m_socket.waitForBytesWritten(10000);
    }
    bool upgraded()
    {
        while (!m_in.contains("\r\n\r\n") && m_socket.waitForReadyRead(10000))
            m_in += m_socket.readAll();
        const qsizetype end = m_in.indexOf("\r\n\r\n");
        if (end < 0 || !m_in.startsWith("HTTP/1.1 101"))
            return false;
        m_in.remove(0, end + 4);
        return true;
    }
    // The payload of the next server frame with this opcode (others are passed over); a null
    // array if none came. (Qt masks what it answers to frames that came with the handshake.)
    QByteArray nextFrame(quint8 opcode)
    {
        for (;;) {
            if (m_in.size() >= 2) {
                const auto len7 = quint8(m_in[1]) & 0x7f;
                const int extra = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
                const int key = (quint8(m_in[1]) & 0x80) ? 4 : 0;
                if (m_in.size() >= 2 + extra + key) {
                    quint64 len = len7;
                    if (extra) {
                        len = 0;
                        for (int i = 0; i < extra; ++i)
                            len = (len << 8) | quint8(m_in[2 + i]);
                    }
                    const qsizetype start = 2 + extra + key;
                    const qsizetype total = start + qsizetype(len);
                    if (m_in.size() >= total) {
                        const auto op = quint8(m_in[0]) & 0x0f;
                        QByteArray payload = m_in.mid(start, qsizetype(len));
                        for (qsizetype i = 0; key && i < payload.size(); ++i)
                            payload[i] = char(payload[i] ^ m_in[2 + extra + i % 4]);
                        m_in.remove(0, total);
                        if (op == opcode)
                            return payload.isNull() ? QByteArray("") : payload;
                        continue;
                    }
                }
            }
            if (!m_socket.waitForReadyRead(10000))
                return {};
            m_in += m_socket.readAll();
        }
    }
    // The status code of the server's close frame; 0 if none came.
    int closeCode()
    {
        const QByteArray payload = nextFrame(0x8);
        return payload.size() >= 2 ? (quint8(payload[0]) << 8) | quint8(payload[1]) : 0;
    }
    bool waitClosed()
    {
        return m_socket.state() == QAbstractSocket::UnconnectedState ||
               m_socket.waitForDisconnected(15000);
    }

private:
    QTcpSocket m_socket;
    QByteArray m_in;
};

} // namespace

class TestHardening : public QObject
{
    Q_OBJECT
    TestServers m_servers;

    qint64 count(const QString &sql) { return m_servers.count(sql); }

    // Every order confirmed once, its events numbered 1..n without a gap or a repeat.
    void verifyConfirmedOnce(int total)
    {
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM orders WHERE status = 'confirmed'")),
                 total);
        QCOMPARE(
            count(QStringLiteral("SELECT count(*) FROM order_events WHERE status = 'confirmed'")),
            total);
        QCOMPARE(count(QStringLiteral(
                     "SELECT count(*) FROM orders o WHERE last_seq <> (SELECT count(*) FROM "
                     "order_events e "
                     "WHERE e.order_id = o.id) OR last_seq <> (SELECT max(seq) FROM order_events e "
                     "WHERE e.order_id = o.id)")),
                 0);
    }

    // A market order for the store, and its first (pending) event.
    static NewOrder aNewOrder()
    {
        NewOrder o;
        o.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
        o.request.tokenIn = QStringLiteral("SOL");
        o.request.tokenOut = QStringLiteral("USDC");
        o.request.amount = 1'000'000'000;
        o.request.slippagePpm = 10000;
        o.createdAt = QDateTime::currentDateTimeUtc();
        return o;
    }
    static OrderEvent pendingOf(const NewOrder &o)
    {
        return OrderEvent{o.id, 1, OrderStatus::Pending, {}, o.createdAt, {}, 0, {}, {}};
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

    // 1. A worker stalls past its lease (here: its PostgreSQL writes wait behind a table lock)
    // while another process takes its orders over. When it wakes, its writes must be refused
    // (fenced), not collide with the new owner's and wedge its thread: every order ends once,
    // and both processes go on executing new orders.
    void staleWorkerIsFencedAndNothingWedges()
    {
        Config slow = fastConfig(m_servers);
        slow.leaseMs = 1500;
        slow.dex.executionLatencyMinMs = 1500;
        slow.dex.executionLatencyMaxMs = 1500;
        Engine a(slow);
        QString error;
        QVERIFY2(a.start(&error), qPrintable(error));
        Http http(a.port());
        const int total = 30;
        for (int i = 0; i < total; ++i)
            QVERIFY(!http.submit(order(1 + i)).isEmpty());
        QVERIFY(waitUntil([&] {
            return count(QStringLiteral(
                       "SELECT count(*) FROM orders WHERE status = 'submitted'")) == total;
        }));

        // Freeze every write to order_events: A's workers block in their next write (the
        // confirmations) and stop renewing their leases.
        QString pgError;
        const auto pg = PgEndpoint::fromUrl(m_servers.databaseUrl(), &pgError);
        QVERIFY2(pg, qPrintable(pgError));
        {
            QSqlDatabase locker = Database::open(QStringLiteral("hardening-lock"), *pg);
            QVERIFY(locker.transaction());
            QSqlQuery lock(locker);
            QVERIFY2(lock.exec(QStringLiteral("LOCK TABLE order_events IN EXCLUSIVE MODE")),
                     qPrintable(lock.lastError().text()));

            // A's threads block in their next write, each at its own moment; B starts once all
            // of A's leases have expired, so that its first recovery takes every order (its
            // own first write then waits behind the same lock, and it recovers nothing more:
            // started earlier, under load, it took one thread's orders and never the other's).
            const auto redisEndpoint = RedisEndpoint::fromUrl(m_servers.redisUrl(), &error);
            QVERIFY(redisEndpoint);
            RedisConnection redis(*redisEndpoint);
            QVERIFY2(waitUntil(
                         [&] {
                             const RedisReply now = redis.command({"TIME"});
                             const qint64 ms = now.elements.value(0).str.toLongLong() * 1000 +
                                               now.elements.value(1).str.toLongLong() / 1000;
                             return redis
                                        .command({"ZCOUNT", rkeys::shard("oee:", 0) + "active",
                                                  "-inf", QByteArray::number(ms)})
                                        .toInt() == total;
                         },
                         60000),
                     "A's leases did not all expire");

            // B recovers the expired leases and claims every order (its own confirmations then
            // wait behind the same lock).
            Config other = fastConfig(m_servers);
            other.leaseMs = 1500;
            other.workerThreads = 1;
            // B's one thread recovers leases until its own first write blocks behind the lock:
            // its executions take long enough for every one of A's leases to expire first
            // (A's threads block at different times; under load the gap passed 1.5 s).
            other.dex.executionLatencyMinMs = 8000;
            other.dex.executionLatencyMaxMs = 8000;
            Engine b(other);
            QVERIFY2(b.start(&error), qPrintable(error));
            QVERIFY2(waitUntil(
                         [&] {
                             const QueueCounts c = JobQueue(&redis, {}).counts();
                             return c.stalled >= total && c.waiting == 0;
                         },
                         60000),
                     "B never took the orders over");
            QVERIFY(locker.rollback()); // A wakes up, stale
            lock.finish();

            QVERIFY2(
                waitUntil(
                    [&] {
                        return count(QStringLiteral(
                                   "SELECT count(*) FROM orders WHERE status = 'confirmed'")) ==
                               total;
                    },
                    60000),
                "orders stuck after the stale worker woke up");
            verifyConfirmedOnce(total);

            // Neither process is wedged: new orders on both all finish.
            Http httpB(b.port());
            for (int i = 0; i < total; ++i) {
                QVERIFY(!http.submit(order(1)).isEmpty());
                QVERIFY(!httpB.submit(order(2)).isEmpty());
            }
            QVERIFY2(
                waitUntil(
                    [&] {
                        return count(QStringLiteral(
                                   "SELECT count(*) FROM orders WHERE status = 'confirmed'")) ==
                               3 * total;
                    },
                    60000),
                qPrintable(QStringLiteral("%1 of %2 new orders stuck")
                               .arg(3 * total -
                                    count(QStringLiteral(
                                        "SELECT count(*) FROM orders WHERE status = 'confirmed'")))
                               .arg(2 * total)));
            verifyConfirmedOnce(3 * total);
        }
        Database::remove(QStringLiteral("hardening-lock"));
    }

    // 1, at the store: each claim takes the next fence, and a write under an older one is
    // refused (reported, not an error), even when it is ahead of the new owner's.
    void storeRefusesASupersededFence()
    {
        QString error;
        const auto pg = PgEndpoint::fromUrl(m_servers.databaseUrl(), &error);
        QVERIFY(pg);
        {
            QSqlDatabase db = Database::open(QStringLiteral("hardening-store"), *pg);
            QVERIFY2(Database::migrate(db, &error), qPrintable(error));
            OrderStore store(db);
            const NewOrder o = aNewOrder();
            const OrderEvent pending = pendingOf(o);
            QVERIFY2(store.insertOrders({o}, {pending}), qPrintable(store.lastError()));
            const auto first = store.claim({o.id});
            const auto second = store.claim({o.id});
            QVERIFY(first && second);
            QCOMPARE(second->value(o.id).fence, first->value(o.id).fence + 1);
            // The first claimant, stale, writes three steps at once; refused as a whole.
            QList<OrderEvent> stale;
            for (int seq = 2; seq <= 4; ++seq)
                stale.append(OrderEvent{o.id,
                                        seq,
                                        OrderStatus::Routing,
                                        {},
                                        o.createdAt,
                                        {},
                                        first->value(o.id).fence,
                                        {},
                                        {}});
            const AppendResult refused = store.appendEvents(stale);
            QVERIFY(refused.ok);
            QCOMPARE(refused.superseded, QSet<QString>{o.id});
            QCOMPARE(count(QStringLiteral("SELECT count(*) FROM order_events")), 1);
            // The owner's write goes through.
            const AppendResult written = store.appendEvents({OrderEvent{o.id,
                                                                        2,
                                                                        OrderStatus::Routing,
                                                                        {},
                                                                        o.createdAt,
                                                                        {},
                                                                        second->value(o.id).fence,
                                                                        {},
                                                                        {}}});
            QVERIFY(written.ok && written.superseded.isEmpty());
            QCOMPARE(count(QStringLiteral("SELECT last_seq FROM orders")), 2);
        }
        Database::remove(QStringLiteral("hardening-store"));
    }

    // The store's statements are planned for the table as it is, not as it was when they were
    // first prepared: one run many times while the table was small still looks an order up by
    // its key once the table holds thousands (the generic plan cached then scans every order;
    // the store prepares its statements again once the tables have doubled).
    void storeLookupsUseTheKeyAsTheTableGrows()
    {
        QString error;
        const auto pg = PgEndpoint::fromUrl(m_servers.databaseUrl(), &error);
        QVERIFY(pg);
        {
            QSqlDatabase db = Database::open(QStringLiteral("hardening-plans"), *pg);
            QVERIFY2(Database::migrate(db, &error), qPrintable(error));
            OrderStore store(db);
            // Claimed in batches, as workers claim, while the table is small.
            QList<NewOrder> batch;
            QList<OrderEvent> batchPendings;
            QStringList ids;
            for (int i = 0; i < 50; ++i) {
                batch.append(aNewOrder());
                batchPendings.append(pendingOf(batch.last()));
                ids << batch.last().id;
            }
            QVERIFY2(store.insertOrders(batch, batchPendings), qPrintable(store.lastError()));
            for (int i = 0; i < 10; ++i) // past the five runs after which a plan may be cached
                QVERIFY(store.claim(ids));
            QList<NewOrder> many;
            QList<OrderEvent> pendings;
            for (int i = 0; i < 20000; ++i) {
                many.append(aNewOrder());
                pendings.append(pendingOf(many.last()));
            }
            QVERIFY2(store.insertOrders(many, pendings), qPrintable(store.lastError()));

            // The claim statement as prepared on the store's own connection: its name, and
            // whether PostgreSQL runs it with its cached generic plan yet.
            QSqlQuery q(store.database());
            const auto prepared = [&](bool *generic) {
                if (!q.exec(QStringLiteral(
                        "SELECT name, generic_plans > 0 FROM pg_prepared_statements WHERE "
                        "statement LIKE '%UPDATE orders o SET fence%'")) ||
                    !q.next())
                    return QString();
                *generic = q.value(1).toBool();
                const QString name = q.value(0).toString();
                q.finish();
                return name;
            };
            bool generic = false;
            const QString before = prepared(&generic);
            QVERIFY(generic); // the plan made while the table was small
            // The store checks the tables' size at most once a second: claims go on (as a
            // worker's would) until it has prepared the statement again.
            QVERIFY(waitUntil(
                [&] {
                    bool g = false;
                    return store.claim(ids) && prepared(&g) != before;
                },
                10000));
            for (int i = 0; i < 10; ++i)
                QVERIFY(store.claim(ids));
            const QString name = prepared(&generic);
            QVERIFY(generic); // the plan PostgreSQL keeps from now on
            QVERIFY(q.exec(QStringLiteral("EXPLAIN EXECUTE %1('{%2}')").arg(name, ids.join(u','))));
            QString plan;
            while (q.next())
                plan += q.value(0).toString() + u'\n';
            QVERIFY2(plan.contains(QStringLiteral("orders_pkey")), qPrintable(plan));
            QVERIFY2(!plan.contains(QStringLiteral("Seq Scan on orders")), qPrintable(plan));
            q.finish();
        }
        Database::remove(QStringLiteral("hardening-plans"));
    }

    // The batch writers' sessions (Database::Plans::Generic) plan each statement once. Left
    // to PostgreSQL, the workers' claim (keyed by an array of a few ids) was planned again on
    // every run: its custom plans look cheaper than the generic one, which assumes 100 ids.
    // With small batches that planning cost as much as executing the claim.
    void batchWritersPlanEachStatementOnce()
    {
        QString error;
        const auto pg = PgEndpoint::fromUrl(m_servers.databaseUrl(), &error);
        QVERIFY(pg);
        const auto plansOfClaim = [&](Database::Plans plans, qint64 *generic, qint64 *custom) {
            const QString name = QStringLiteral("hardening-plan-mode");
            {
                QSqlDatabase db = Database::open(name, *pg, plans);
                QVERIFY2(Database::migrate(db, &error), qPrintable(error));
                OrderStore store(db);
                QList<NewOrder> batch;
                QList<OrderEvent> pendings;
                QStringList ids;
                for (int i = 0; i < 3; ++i) {
                    batch.append(aNewOrder());
                    pendings.append(pendingOf(batch.last()));
                    ids << batch.last().id;
                }
                QVERIFY2(store.insertOrders(batch, pendings), qPrintable(store.lastError()));
                for (int run = 0; run < 8; ++run) // past the five custom plans PostgreSQL tries
                    QVERIFY2(store.claim(ids), qPrintable(store.lastError()));
                QSqlQuery q(store.database());
                QVERIFY(q.exec(QStringLiteral(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE "
                    "statement LIKE '%UPDATE orders o SET fence%'")));
                QVERIFY(q.next());
                *generic = q.value(0).toLongLong();
                *custom = q.value(1).toLongLong();
                q.finish();
            }
            Database::remove(name);
        };
        qint64 generic = 0, custom = 0;
        plansOfClaim(Database::Plans::Default, &generic, &custom);
        QCOMPARE(custom, 8); // what the workers' sessions did before
        plansOfClaim(Database::Plans::Generic, &generic, &custom);
        QCOMPARE(custom, 0);
        QCOMPARE(generic, 8);
    }

    // 2. An INSERT that takes longer than the staged-job sweep's age (a lock, an I/O stall) must
    // not lose its job: the sweep leaves a staged job alone while its submitter's session can
    // still commit; once the INSERT commits, the order is answered and executed.
    void slowInsertKeepsItsJob()
    {
        Config c = fastConfig(m_servers);
        c.stagedSweepMs = 300;
        c.leaseMs = 600; // the sweep runs every 300 ms
        Engine engine(c);
        QString error;
        QVERIFY2(engine.start(&error), qPrintable(error));
        const auto pg = PgEndpoint::fromUrl(m_servers.databaseUrl(), &error);
        QVERIFY(pg);
        const auto redisEndpoint = RedisEndpoint::fromUrl(m_servers.redisUrl(), &error);
        QVERIFY(redisEndpoint);
        RedisConnection redis(*redisEndpoint);
        QNetworkAccessManager nam;
        QNetworkReply *reply = nullptr;
        {
            QSqlDatabase locker = Database::open(QStringLiteral("hardening-slow"), *pg);
            QVERIFY(locker.transaction());
            QSqlQuery lock(locker);
            QVERIFY2(lock.exec(QStringLiteral("LOCK TABLE orders IN SHARE MODE")),
                     qPrintable(lock.lastError().text()));
            QNetworkRequest req(
                QUrl(QStringLiteral("http://127.0.0.1:%1/api/orders/execute").arg(engine.port())));
            req.setRawHeader("Content-Type", "application/json");
            reply = nam.post(req, QJsonDocument(order()).toJson());
            // The job is staged; its INSERT waits behind the lock. Then the sweep passes over
            // it a few times (and leaves it), or, as it did before, drops it.
            QVERIFY(waitUntil([&] {
                return redis.command({"ZCARD", rkeys::shard("oee:", 0) + "staged"}).toInt() == 1;
            }));
            QVERIFY2(
                waitUntil([&] {
                    return redis.command(
                                    {"HGET", rkeys::shard("oee:", 0) + "stats", "stagedWaiting"})
                                   .str.toInt() >= 3 ||
                           redis.command({"ZCARD", rkeys::shard("oee:", 0) + "staged"}).toInt() ==
                               0;
                }),
                "the sweep never looked at the staged job");
            QVERIFY(!reply->isFinished()); // still inside its INSERT
            QVERIFY(locker.rollback());
            lock.finish();
        }
        Database::remove(QStringLiteral("hardening-slow"));
        if (!reply->isFinished())
            QVERIFY(QSignalSpy(reply, &QNetworkReply::finished).wait(30000));
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        const QString id = QJsonDocument::fromJson(reply->readAll())
                               .object()
                               .value(QStringLiteral("orderId"))
                               .toString();
        reply->deleteLater();
        QVERIFY2(waitUntil([&] {
                     return count(QStringLiteral("SELECT count(*) FROM orders WHERE status = "
                                                 "'confirmed' AND id = '%1'")
                                      .arg(id)) == 1;
                 }),
                 "the accepted order never ran: its job was swept");
    }

    // 9. An Idempotency-Key reused with a different request is refused (422), as Stripe does;
    // the same request, however spelled, still replays the original order.
    void idempotencyKeyReusedForAnotherRequestIsRefused()
    {
        Engine engine(fastConfig(m_servers));
        QString error;
        QVERIFY2(engine.start(&error), qPrintable(error));
        QNetworkAccessManager nam;
        const auto post = [&](const QByteArray &body) {
            QNetworkRequest req(
                QUrl(QStringLiteral("http://127.0.0.1:%1/api/orders/execute").arg(engine.port())));
            req.setRawHeader("Content-Type", "application/json");
            req.setRawHeader("Idempotency-Key", "order-7");
            QNetworkReply *r = nam.post(req, body);
            if (!r->isFinished())
                QSignalSpy(r, &QNetworkReply::finished).wait(30000);
            r->deleteLater();
            return std::make_pair(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                                  QJsonDocument::fromJson(r->readAll()).object());
        };
        const auto first = post(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":2})");
        QCOMPARE(first.first, 200);
        const QString id = first.second.value(QStringLiteral("orderId")).toString();
        const auto other = post(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":20})");
        QCOMPARE(other.first, 422);
        QCOMPARE(other.second.value(QStringLiteral("code")).toString(),
                 QStringLiteral("idempotency_key_reused"));
        QCOMPARE(other.second.value(QStringLiteral("field")).toString(),
                 QStringLiteral("Idempotency-Key"));
        const auto same = post(R"({"tokenIn":"SOL","tokenOut":"USDC","amountIn":2})");
        QCOMPARE(same.first, 200);
        QCOMPARE(same.second.value(QStringLiteral("replayed")).toBool(), true);
        QCOMPARE(same.second.value(QStringLiteral("orderId")).toString(), id);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM orders")), 1);
    }

    // 5. The private servers are supervised: kill -9 of the private redis-server, then of the
    // postmaster, and oee restarts each; /health recovers and orders run, without restarting oee.
    void privateServersAreRestarted()
    {
        QTemporaryDir dataDir;
        QVERIFY(dataDir.isValid());
        QProcess oee;
        const quint16 port =
            launchOee(oee, dataDir.path(),
                      {{QStringLiteral("DEX_QUOTE_LATENCY_MS"), QStringLiteral("0")},
                       {QStringLiteral("DEX_EXECUTION_LATENCY_MS"), QStringLiteral("0")}});
        QVERIFY(port);
        Http http(port);
        const auto pidIn = [&](const QString &file) {
            QFile f(dataDir.filePath(file));
            return f.open(QIODevice::ReadOnly) ? f.readLine().trimmed().toLongLong() : 0;
        };
        const auto runsAnOrder = [&] {
            const QString id = http.submit(order());
            return !id.isEmpty() && waitUntil([&] {
                return http.get(QStringLiteral("/api/orders/") + id)
                           .json()
                           .value(QStringLiteral("status"))
                           .toString() == QStringLiteral("confirmed");
            });
        };
        QVERIFY(runsAnOrder());
        for (const QString &pidFile :
             {QStringLiteral("run/redis.pid"), QStringLiteral("postgres/postmaster.pid")}) {
            const qint64 pid = pidIn(pidFile);
            QVERIFY2(pid > 0, qPrintable(pidFile));
            QCOMPARE(::kill(pid_t(pid), SIGKILL), 0);
            QVERIFY2(waitUntil(
                         [&] {
                             return pidIn(pidFile) != pid && pidIn(pidFile) > 0 &&
                                    http.get(QStringLiteral("/health")).status == 200;
                         },
                         90000),
                     qPrintable(pidFile + QStringLiteral(": not restarted")));
            QVERIFY2(waitUntil(runsAnOrder, 60000),
                     qPrintable(pidFile + QStringLiteral(": orders do not run")));
        }
        QCOMPARE(oee.state(), QProcess::Running);
        ::kill(pid_t(oee.processId()), SIGTERM);
        QVERIFY(oee.waitForFinished(60000));
        QCOMPARE(oee.exitCode(), 0);
    }

    // 6. Input is bounded and a refused request is freed: a chunked body is counted as it
    // arrives; ambiguous framing is refused; the head limit holds however the head arrives;
    // too many header fields are a 431, not a misleading 415; and the memory a refused request
    // had buffered is returned.
    void httpInputIsBoundedAndRefusalsAreFreed()
    {
        Config c = fastConfig(m_servers);
        c.maxBodyBytes = 1 << 24; // 16 MiB
        c.requestTimeoutMs = 300;
        Engine engine(c);
        QString error;
        QVERIFY2(engine.start(&error), qPrintable(error));
        const auto exchange = [&](const QByteArray &request) {
            QTcpSocket s;
            s.connectToHost(QHostAddress::LocalHost, engine.port());
            s.waitForConnected(10000);
            s.write(request);
            QByteArray answer;
            while (s.waitForReadyRead(10000))
                answer += s.readAll();
            return answer;
        };
        const QByteArray body = R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1})";
        const QByteArray post =
            "POST /api/orders/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
        const QByteArray length = QByteArray::number(body.size());
        const QByteArray chunked =
            QByteArray::number(body.size(), 16) + "\r\n" + body + "\r\n0\r\n\r\n";
        QVERIFY(exchange(post + "Content-Length: " + length + "\r\nContent-Length: " + length +
                         "\r\n\r\n" + body)
                    .startsWith("HTTP/1.1 400"));
        QVERIFY(exchange(post + "Content-Length: " + length +
                         "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
                    .startsWith("HTTP/1.1 400"));
        // A well-formed chunked order still goes through.
        const QByteArray ok =
            exchange(post + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunked);
        QVERIFY2(ok.startsWith("HTTP/1.1 200"), ok.constData());
        // A 20 KiB head that arrives with its end in one segment.
        QVERIFY(exchange("GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + QByteArray(20000, 'a') +
                         "\r\n\r\n")
                    .startsWith("HTTP/1.1 431"));
        QByteArray many = post;
        for (int i = 0; i < 150; ++i)
            many += "X-Field-" + QByteArray::number(i) + ": v\r\n";
        QVERIFY(exchange(many + "Content-Length: " + length + "\r\n\r\n" + body)
                    .startsWith("HTTP/1.1 431"));

        // Refused requests give back what they buffered: ten stalled 4 MiB bodies, each 408.
        const auto inUse = [] {
            const struct mallinfo2 m = mallinfo2();
            return qint64(m.uordblks + m.hblkhd);
        };
        const qint64 before = inUse();
        {
            QList<QTcpSocket *> sockets;
            for (int i = 0; i < 10; ++i) {
                auto *s = new QTcpSocket;
                s->connectToHost(QHostAddress::LocalHost, engine.port());
                QVERIFY(s->waitForConnected(10000));
                s->write(post + "Content-Length: 8388608\r\n\r\n" + QByteArray(4 << 20, ' '));
                s->waitForBytesWritten(10000);
                sockets << s;
            }
            for (QTcpSocket *s : sockets) {
                QByteArray answer;
                while (!answer.contains("\r\n\r\n") && s->waitForReadyRead(10000))
                    answer += s->readAll();
                QVERIFY2(answer.startsWith("HTTP/1.1 408"), answer.left(100).constData());
                delete s;
            }
        }
        qint64 now = 0;
        QVERIFY2(
            waitUntil([&] { return (now = inUse()) < before + (16LL << 20); }, 10000),
            qPrintable(
                QStringLiteral("%1 MiB still held after the refusals").arg((now - before) >> 20)));

        // A chunked body over the limit is refused while it arrives, not after it is buffered.
        {
            QTcpSocket s;
            s.connectToHost(QHostAddress::LocalHost, engine.port());
            QVERIFY(s.waitForConnected(10000));
            s.write(post + "Transfer-Encoding: chunked\r\n\r\n");
            const QByteArray chunk = "10000\r\n" + QByteArray(0x10000, 'x') + "\r\n";
            qint64 sent = 0;
            QByteArray answer;
            while (answer.isEmpty() && sent < (256LL << 20) &&
                   s.state() == QAbstractSocket::ConnectedState) {
                s.write(chunk);
                sent += 0x10000;
                s.waitForBytesWritten(10000);
                if (s.waitForReadyRead(0) || s.bytesAvailable())
                    answer += s.readAll();
            }
            while (!answer.contains("\r\n\r\n") && s.waitForReadyRead(10000))
                answer += s.readAll();
            answer += s.readAll();
            QVERIFY2(answer.startsWith("HTTP/1.1 413"), answer.left(200).constData());
            QVERIFY2(sent < (64LL << 20),
                     qPrintable(QStringLiteral("%1 MiB sent before the 413").arg(sent >> 20)));
        }
    }

    // 7. WebSocket input is bounded: a message over 64 KiB closes the stream (1009) instead of
    // being buffered, and a client that sends protocol pings but never reads the pongs Qt
    // answers with is dropped like any client that falls too far behind.
    void webSocketInputIsBounded()
    {
        Config c = fastConfig(m_servers);
        c.wsMaxBufferBytes = 64 * 1024;
        Engine engine(c);
        QString error;
        QVERIFY2(engine.start(&error), qPrintable(error));
        const QString url = QStringLiteral("ws://127.0.0.1:%1/ws/orders").arg(engine.port());
        {
            WsClient big(url);
            QVERIFY(big.waitConnected());
            big.socket().sendTextMessage(QString(1 << 20, QLatin1Char('x')));
            QVERIFY(big.waitClosed());
            QCOMPARE(int(big.socket().closeCode()), int(QWebSocketProtocol::CloseCodeTooMuchData));
        }
        // Pings over a raw connection that never reads (a small receive buffer fills at once).
        QTcpSocket raw;
        raw.setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 4096);
        raw.setReadBufferSize(4096); // or Qt reads everything into memory for us
        raw.connectToHost(QHostAddress::LocalHost, engine.port());
        QVERIFY(raw.waitForConnected(10000));
        raw.write(
            "GET /ws/orders HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        QByteArray handshake;
        while (!handshake.contains("\r\n\r\n") && raw.waitForReadyRead(10000))
            handshake += raw.read(4096);
        QVERIFY2(handshake.startsWith("HTTP/1.1 101"), handshake.constData());
        // From now on it reads nothing.
        const QByteArray payload = R"({"type":"ping"})";
        QByteArray frame;
        frame.append(char(0x81)).append(char(0x80 | payload.size())).append("\x01\x02\x03\x04", 4);
        for (int i = 0; i < payload.size(); ++i)
            frame.append(char(payload[i] ^ "\x01\x02\x03\x04"[i % 4]));
        // WebSocket protocol pings (opcode 9), which Qt answers with pongs by itself.
        QByteArray control;
        control.append(char(0x89))
            .append(char(0x80 | 4))
            .append("\x01\x02\x03\x04", 4)
            .append("\x71\x71\x71\x71", 4);
        frame = control; // only those: they never pass through oee's own sending
        Http http(engine.port());
        const auto dropped = [&] {
            return http.get(QStringLiteral("/api/metrics"))
                .json()
                .value(QStringLiteral("webSocketDropped"))
                .toInt();
        };
        int sent = 0;
        QVERIFY2(waitUntil(
                     [&] {
                         if (raw.state() == QAbstractSocket::ConnectedState) {
                             for (int i = 0; i < 2000; ++i)
                                 raw.write(frame);
                             raw.waitForBytesWritten(1000);
                             sent += 2000;
                         }
                         return dropped() >= 1 || sent > 2000000;
                     },
                     60000) &&
                     dropped() >= 1,
                 qPrintable(QStringLiteral("not dropped after %1 pings").arg(sent)));
    }

    // 7, continued: a subscriber that stops reading. Its frames go straight to the kernel
    // until its socket buffer is full; what the kernel does not take waits in Qt's buffer and
    // counts against its limit, and past the limit it is dropped. Another subscriber meanwhile
    // gets every event of every order.
    void aSubscriberThatStopsReadingIsDropped()
    {
        Config c = fastConfig(m_servers);
        c.wsMaxBufferBytes = 64 * 1024;
        Engine engine(c);
        QString error;
        QVERIFY2(engine.start(&error), qPrintable(error));
        QTcpSocket raw;
        raw.setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 4096);
        raw.setReadBufferSize(4096); // or Qt reads everything into memory for us
        raw.connectToHost(QHostAddress::LocalHost, engine.port());
        QVERIFY(raw.waitForConnected(10000));
        raw.write("GET /ws/orders?batch=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n");
        QByteArray handshake;
        while (!handshake.contains("\r\n\r\n") && raw.waitForReadyRead(10000))
            handshake += raw.read(4096);
        QVERIFY2(handshake.startsWith("HTTP/1.1 101"), handshake.constData());
        // From now on it reads nothing.
        WsClient reader(QStringLiteral("ws://127.0.0.1:%1/ws/orders").arg(engine.port()));
        QVERIFY(reader.waitConnected());
        Http http(engine.port());
        const auto dropped = [&] {
            return http.get(QStringLiteral("/api/metrics"))
                .json()
                .value(QStringLiteral("webSocketDropped"))
                .toInt();
        };
        const QJsonObject order{{QStringLiteral("orderType"), QStringLiteral("market")},
                                {QStringLiteral("tokenIn"), QStringLiteral("SOL")},
                                {QStringLiteral("tokenOut"), QStringLiteral("USDC")},
                                {QStringLiteral("amount"), 0.5},
                                {QStringLiteral("slippage"), 0.05}};
        // About 8 MB of events for it: more than its kernel buffers and its 64 KiB limit hold.
        QStringList ids;
        for (int i = 0; i < 3000; ++i)
            ids << http.submit(order);
        QVERIFY(!ids.contains(QString()));
        // The one that reads got every order to its end.
        QVERIFY(reader.waitFor(
            [&](const QList<QJsonObject> &messages) {
                QSet<QString> ended;
                for (const QJsonObject &m : messages)
                    if (m.value(QStringLiteral("status")).toString() == QLatin1String("confirmed"))
                        ended.insert(m.value(QStringLiteral("orderId")).toString());
                return ended.size() == ids.size();
            },
            120000));
        QVERIFY(waitUntil([&] { return dropped() >= 1; }, 30000));
        QCOMPARE(dropped(), 1);
    }

    // 7, the rest: a client MUST mask its frames and a server MUST close on one that is not
    // (RFC 6455, 5.1), with 1002. QtWebSockets 6.4 accepts them; WsFrameGuard watches ahead of it.
    void webSocketFrameScannerFindsUnmaskedFrames()
    {
        const auto masked = [](quint8 opcode, const QByteArray &payload) {
            return wsFrame(opcode, payload, true);
        };
        QByteArray stream = masked(0x9, "ping") + masked(0x2, QByteArray(200, 'a')) +
                            masked(0x2, QByteArray(70000, 'b')) + masked(0x1, {});
        // Fed whole, byte by byte, and in awkward pieces with the payload passed over: fine.
        {
            WsFrameScanner s;
            QVERIFY(s.feed(stream));
        }
        {
            WsFrameScanner s;
            for (char c : std::as_const(stream))
                QVERIFY(s.feed(QByteArrayView(&c, 1)));
        }
        for (const qsizetype piece : {qsizetype(3), qsizetype(7), qsizetype(1000)}) {
            WsFrameScanner s;
            for (qsizetype at = 0; at < stream.size();) {
                const auto skipped = qsizetype(std::min<quint64>(s.skippable(), quint64(piece)));
                s.skip(quint64(skipped));
                const qsizetype n = std::min(piece - skipped, stream.size() - at - skipped);
                QVERIFY(s.feed(QByteArrayView(stream).sliced(at + skipped, n)));
                at += skipped + n;
            }
        }
        // An unmasked frame after masked ones, wherever its header falls.
        stream += wsFrame(0x1, "hello", false);
        for (const qsizetype piece : {qsizetype(1), qsizetype(5), stream.size()}) {
            WsFrameScanner s;
            bool fine = true;
            for (qsizetype at = 0; at < stream.size() && fine; at += piece)
                fine =
                    s.feed(QByteArrayView(stream).sliced(at, std::min(piece, stream.size() - at)));
            QVERIFY(!fine);
            QVERIFY(s.unmasked());
        }
        // Payload that looks like an unmasked header is payload.
        WsFrameScanner s;
        QVERIFY(s.feed(masked(0x2, QByteArray("\x81\x05hello", 7))));
    }

    void unmaskedWebSocketFramesAreRefusedWith1002()
    {
        Config c = fastConfig(m_servers);
        c.wsPort = freePort();
        Engine engine(c);
        QString error;
        QVERIFY2(engine.start(&error), qPrintable(error));
        const QByteArray head =
            "GET /ws/orders HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n";
        for (const quint16 port : {engine.port(), engine.wsPort()}) {
            const QString where = QStringLiteral("port %1").arg(port);
            // Masked frames of every shape, some of them in pieces, are served: pings get their
            // pongs. Then one unmasked frame: closed with 1002.
            {
                RawWs ws(port, head);
                QVERIFY2(ws.upgraded(), qPrintable(where));
                ws.send(wsFrame(0x9, "one", true));
                QCOMPARE(ws.nextFrame(0xA), QByteArray("one"));
                const QByteArray big = wsFrame(0x2, QByteArray(60000, 'x'), true);
                for (qsizetype at = 0; at < big.size(); at += 4096)
                    ws.send(big.mid(at, 4096));
                const QByteArray ping = wsFrame(0x9, "two", true);
                for (char b : ping) // its header a byte at a time
                    ws.send(QByteArray(1, b));
                QCOMPARE(ws.nextFrame(0xA), QByteArray("two"));
                ws.send(wsFrame(0x9, "three", false));
                QCOMPARE(ws.closeCode(), 1002);
                QVERIFY2(ws.waitClosed(), qPrintable(where));
            }
            // An unmasked frame sent with the handshake itself.
            {
                RawWs ws(port, head + wsFrame(0x1, R"({"type":"ping"})", false));
                QVERIFY2(ws.upgraded(), qPrintable(where));
                QCOMPARE(ws.closeCode(), 1002);
                QVERIFY2(ws.waitClosed(), qPrintable(where));
            }
            // A masked one sent with the handshake is served.
            {
                RawWs ws(port, head + wsFrame(0x9, "four", true));
                QVERIFY2(ws.upgraded(), qPrintable(where));
                QCOMPARE(ws.nextFrame(0xA), QByteArray("four"));
            }
        }
        // A real client (masking, as it must) still gets its stream.
        WsClient client(QStringLiteral("ws://127.0.0.1:%1/ws/orders").arg(engine.port()));
        QVERIFY(client.waitConnected());
        Http http(engine.port());
        const QString id = http.submit(order(1));
        QVERIFY(!id.isEmpty());
        QVERIFY(client.waitFor([&](const QList<QJsonObject> &messages) {
            return statusesOf(messages, id).contains(QStringLiteral("confirmed"));
        }));
    }

    // 4. PostgreSQL is the record: orders whose jobs Redis lost (a FLUSHALL, a restart without
    // its append-only file) get them back from the reconciler, with the attempts they have
    // left, without a restart of oee.
    void ordersWhoseJobsRedisLostAreReconciled()
    {
        Config c = fastConfig(m_servers);
        c.dex.failAttempts = 1;    // the first attempt fails...
        c.retryBackoffMs = 600000; // ...and its retry waits in Redis for ten minutes
        c.leaseMs = 1000;
        c.reconcileMs = 200;
        Engine engine(c);
        QString error;
        QVERIFY2(engine.start(&error), qPrintable(error));
        Http http(engine.port());
        const int total = 5;
        for (int i = 0; i < total; ++i)
            QVERIFY(!http.submit(order(1 + i)).isEmpty());
        QVERIFY(waitUntil([&] {
            return count(QStringLiteral(
                       "SELECT count(*) FROM orders WHERE status = 'pending' AND attempts = 1")) ==
                   total;
        }));
        const auto redisEndpoint = RedisEndpoint::fromUrl(m_servers.redisUrl(), &error);
        QVERIFY(redisEndpoint);
        RedisConnection redis(*redisEndpoint);
        QVERIFY(redis.command({"FLUSHALL"}).ok()); // every job, the delayed set, all of it
        QVERIFY2(waitUntil(
                     [&] {
                         return count(QStringLiteral(
                                    "SELECT count(*) FROM orders WHERE status = 'confirmed'")) ==
                                total;
                     },
                     30000),
                 "orders stuck after Redis lost their jobs");
        // Attempt 2 ran (not a fresh attempt 1): the attempts left were kept.
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM orders WHERE attempts = 2")), total);
        verifyConfirmedOnce(total);
    }

    // 8. Reads cannot starve /health, nor queue without bound: with every read stuck behind a
    // lock, /health still answers from its own thread, and reads beyond the queue's bound are
    // answered 503 with Retry-After at once.
    void healthNeverWaitsBehindReads()
    {
        Config c = fastConfig(m_servers);
        c.readThreads = 1;
        c.maxQueuedReads = 5;
        Engine engine(c);
        QString error;
        QVERIFY2(engine.start(&error), qPrintable(error));
        const auto pg = PgEndpoint::fromUrl(m_servers.databaseUrl(), &error);
        QVERIFY(pg);
        // Twenty reads at once, each on its own connection.
        std::vector<std::unique_ptr<QTcpSocket>> reads;
        QList<QByteArray> answers(20);
        const auto statusOf = [](const QByteArray &a) { return a.mid(9, 3).toInt(); };
        {
            QSqlDatabase locker = Database::open(QStringLiteral("hardening-reads"), *pg);
            QVERIFY(locker.transaction());
            QSqlQuery lock(locker);
            QVERIFY2(lock.exec(QStringLiteral("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")),
                     qPrintable(lock.lastError().text()));
            for (int i = 0; i < 20; ++i) {
                auto s = std::make_unique<QTcpSocket>();
                s->connectToHost(QHostAddress::LocalHost, engine.port());
                QVERIFY(s->waitForConnected(10000));
                s->write("GET /api/orders/" +
                         QUuid::createUuid().toByteArray(QUuid::WithoutBraces) +
                         " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                s->flush();
                reads.push_back(std::move(s));
            }
            int refused = 0;
            QVERIFY2(waitUntil(
                         [&] {
                             refused = 0;
                             for (size_t i = 0; i < reads.size(); ++i) {
                                 answers[int(i)] += reads[i]->readAll();
                                 refused += statusOf(answers[int(i)]) == 503 &&
                                            answers[int(i)].contains("Retry-After: 1");
                             }
                             return refused >= 20 - 1 - c.maxQueuedReads;
                         },
                         20000),
                     qPrintable(QStringLiteral("%1 reads refused").arg(refused)));
            Http http(engine.port());
            const HttpResult health = http.get(QStringLiteral("/health"));
            QCOMPARE(health.status, 200);
            QVERIFY(locker.rollback());
            lock.finish();
        }
        Database::remove(QStringLiteral("hardening-reads"));
        // The reads that waited are answered once the lock is gone (no such order: 404).
        for (size_t i = 0; i < reads.size(); ++i) {
            while (!answers[int(i)].contains("\r\n\r\n") && reads[i]->waitForReadyRead(30000))
                answers[int(i)] += reads[i]->readAll();
            const int status = statusOf(answers[int(i)]);
            QVERIFY2(status == 404 || status == 503, answers[int(i)].left(100).constData());
        }
    }

    // 8, metrics: counts by status come from counters the writes maintain, not from a scan of
    // the orders table, and they stay exact through retries and failures.
    void metricsCountsAreMaintainedNotScanned()
    {
        Config c = fastConfig(m_servers);
        c.maxAttempts = 2;
        c.dex.executionPriceShiftPpm = -50000; // a 1 % tolerance fails, 10 % confirms
        Engine engine(c);
        QString error;
        QVERIFY2(engine.start(&error), qPrintable(error));
        Http http(engine.port());
        for (int i = 0; i < 20; ++i) {
            QJsonObject o = order(1 + i);
            o.insert(QStringLiteral("slippage"), i % 2 ? 0.1 : 0.01);
            QVERIFY(!http.submit(o).isEmpty());
        }
        QVERIFY(waitUntil([&] {
            return count(QStringLiteral(
                       "SELECT count(*) FROM orders WHERE status IN ('confirmed', 'failed')")) ==
                   20;
        }));
        QJsonObject orders = http.get(QStringLiteral("/api/metrics"))
                                 .json()
                                 .value(QStringLiteral("orders"))
                                 .toObject();
        for (const char *status :
             {"pending", "routing", "building", "submitted", "confirmed", "failed"})
            QCOMPARE(orders.value(QLatin1String(status)).toInt(-1),
                     int(count(QStringLiteral("SELECT count(*) FROM orders WHERE status = '%1'")
                                   .arg(QLatin1String(status)))));
        QCOMPARE(orders.value(QStringLiteral("confirmed")).toInt(), 10);
        QCOMPARE(orders.value(QStringLiteral("total")).toInt(), 20);
        // What /api/metrics reads is the counters: change them and it follows.
        m_servers.sql(
            QStringLiteral("INSERT INTO order_status_counts VALUES ('confirmed', 99, 1000)"));
        orders = http.get(QStringLiteral("/api/metrics"))
                     .json()
                     .value(QStringLiteral("orders"))
                     .toObject();
        QCOMPARE(orders.value(QStringLiteral("confirmed")).toInt(), 1010);
    }

    // 3. Resuming a submitted order after a crash is not a new attempt: with the first two
    // attempts failing at the venue and three allowed, a kill -9 during attempt 2 must not
    // turn the third (successful) attempt into "attempts exhausted".
    void aCrashDoesNotSpendARetry()
    {
        QTemporaryDir dataDir;
        QVERIFY(dataDir.isValid());
        const QMap<QString, QString> env{
            {QStringLiteral("DEX_QUOTE_LATENCY_MS"), QStringLiteral("0")},
            {QStringLiteral("DEX_EXECUTION_LATENCY_MS"), QStringLiteral("1500")},
            {QStringLiteral("DEX_FAILURE_RATE"), QStringLiteral("0")},
            {QStringLiteral("DEX_FAIL_ATTEMPTS"), QStringLiteral("2")},
            {QStringLiteral("MAX_RETRY_ATTEMPTS"), QStringLiteral("3")},
            {QStringLiteral("RETRY_BACKOFF_MS"), QStringLiteral("50")},
            {QStringLiteral("MAX_CONCURRENT_ORDERS"), QStringLiteral("100")},
            {QStringLiteral("MAX_ORDERS_PER_MINUTE"), QStringLiteral("0")},
            {QStringLiteral("JOB_LEASE_MS"), QStringLiteral("1500")}};
        const int total = 20;
        {
            QProcess oee;
            const quint16 port = launchOee(oee, dataDir.path(), env);
            QVERIFY(port);
            Http http(port);
            for (int i = 0; i < total; ++i)
                QVERIFY(!http.submit(order(1 + i)).isEmpty());
            // Kill it while attempt 2 of every order is submitted (executing at the venue).
            QVERIFY(waitUntil(
                [&] {
                    const QJsonArray rows =
                        QJsonDocument::fromJson(
                            http.get(QStringLiteral("/api/orders?status=submitted&limit=500")).body)
                            .array();
                    int second = 0;
                    for (const QJsonValue &r : rows)
                        second += r.toObject().value(QStringLiteral("attempts")).toInt() == 2;
                    return second == total;
                },
                60000));
            ::kill(pid_t(oee.processId()), SIGKILL);
            QVERIFY(oee.waitForFinished(60000));
        }
        QProcess oee;
        const quint16 port = launchOee(oee, dataDir.path(), env);
        QVERIFY(port);
        Http http(port);
        QJsonObject orders;
        QVERIFY(waitUntil(
            [&] {
                orders = http.get(QStringLiteral("/api/metrics"))
                             .json()
                             .value(QStringLiteral("orders"))
                             .toObject();
                return orders.value(QStringLiteral("confirmed")).toInt() +
                           orders.value(QStringLiteral("failed")).toInt() ==
                       total;
            },
            120000));
        QCOMPARE(orders.value(QStringLiteral("confirmed")).toInt(), total);
        const QJsonArray rows =
            QJsonDocument::fromJson(http.get(QStringLiteral("/api/orders?limit=500")).body).array();
        for (const QJsonValue &r : rows)
            QCOMPARE(r.toObject().value(QStringLiteral("attempts")).toInt(), 3);
        ::kill(pid_t(oee.processId()), SIGTERM);
        QVERIFY(oee.waitForFinished(60000));
    }
};

QTEST_GUILESS_MAIN(TestHardening)
#include "tst_hardening.moc"
