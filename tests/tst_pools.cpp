// Pool state and quotes as clients read them: GET /api/pools[/<id>[/quote]] in the exact
// shapes (integers as strings), a pool quote that a client can recompute from the state it was
// given, a fill that moves the pool and its slot, pool state that survives a restart, and
// Jupiter's /quote read by Jupiter's own client (@jup-ag/api from npm, unchanged but for
// basePath).
#include "Engine.h"
#include "TestSupport.h"
#include "dex/Market.h"
#include "money/Tokens.h"
#include "queue/RedisConnection.h"
#include "queue/RedisKeys.h"

#include <QJsonArray>
#include <QProcess>
#include <QTest>

using namespace oee;
using namespace oee::test;

namespace {
const QString kSol = QStringLiteral("So11111111111111111111111111111111111111112");
const QString kUsdc = QStringLiteral("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v");
} // namespace

class TestPools : public QObject
{
    Q_OBJECT
    TestServers m_servers;
    std::unique_ptr<Engine> m_engine;

    Engine &startEngine(const Config &config)
    {
        m_engine = startedEngine(config);
        return *m_engine;
    }

    // Waits until this process's copy of a pool shows a slot past `slot`.
    QJsonObject waitForSlot(Http &http, const QString &pool, quint64 slot)
    {
        QJsonObject state;
        waitUntil(
            [&] {
                state = http.get(QStringLiteral("/api/pools/") + pool).json();
                return state.value(QStringLiteral("slot")).toString().toULongLong() > slot;
            },
            30000);
        return state;
    }

    // node tests/clients/jupiter/quote.mjs …: what Jupiter's client parsed.
    QJsonObject jupiter(const QStringList &args)
    {
        const QString dir = QStringLiteral(OEE_SOURCE_DIR "/tests/clients/jupiter");
        if (!QFile::exists(dir + QStringLiteral("/node_modules/@jup-ag/api/package.json")))
            qFatal("@jup-ag/api is not installed: run ./oee.sh test (it runs npm ci in %s)",
                   qPrintable(dir));
        QProcess node;
        node.setWorkingDirectory(dir);
        node.start(QStringLiteral("node"),
                   QStringList{QStringLiteral("quote.mjs"),
                               QStringLiteral("http://127.0.0.1:%1").arg(m_engine->port())} +
                       args);
        // The engine serves on this thread: spin the event loop while node runs.
        if (!waitUntil([&] { return node.state() == QProcess::NotRunning; }, 60000))
            return {};
        return QJsonDocument::fromJson(node.readAllStandardOutput()).object();
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

    void poolsInTheirExactShapes()
    {
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const HttpResult list = http.get(QStringLiteral("/api/pools"));
        QCOMPARE(list.status, 200);
        const QJsonArray pools = QJsonDocument::fromJson(list.body).array();
        QVERIFY(pools.size() >= 10);
        int cpmm = 0, dlmm = 0;
        for (const QJsonValue &v : pools) {
            const QJsonObject p = v.toObject();
            QVERIFY(p.value(QStringLiteral("slot")).isString());
            QVERIFY(p.value(QStringLiteral("now")).isString());
            if (p.value(QStringLiteral("kind")).toString() == QLatin1String("cpmm")) {
                ++cpmm;
                QCOMPARE(p.value(QStringLiteral("venue")).toString(), QStringLiteral("raydium"));
                for (const char *k : {"id", "mintA", "mintB", "vaultA", "vaultB", "tradeFeeRate",
                                      "protocolFeeRate", "fundFeeRate"})
                    QVERIFY2(p.value(QLatin1String(k)).isString(), k);
                QVERIFY(p.value(QStringLiteral("decimalsA")).isDouble());
            } else {
                ++dlmm;
                QCOMPARE(p.value(QStringLiteral("venue")).toString(), QStringLiteral("meteora"));
                for (const char *k : {"mintX", "mintY"})
                    QVERIFY(p.value(QLatin1String(k)).isString());
                for (const char *k : {"binStep", "activeId", "decimalsX", "decimalsY"})
                    QVERIFY(p.value(QLatin1String(k)).isDouble());
                const QJsonObject params = p.value(QStringLiteral("parameters")).toObject();
                for (const char *k : {"baseFactor", "baseFeePowerFactor", "filterPeriod",
                                      "decayPeriod", "reductionFactor", "variableFeeControl",
                                      "maxVolatilityAccumulator", "protocolShare"})
                    QVERIFY2(params.contains(QLatin1String(k)), k);
                const QJsonObject v = p.value(QStringLiteral("vParameters")).toObject();
                for (const char *k : {"volatilityAccumulator", "volatilityReference",
                                      "indexReference", "lastUpdateTimestamp"})
                    QVERIFY2(v.contains(QLatin1String(k)), k);
                const QJsonArray bins = p.value(QStringLiteral("bins")).toArray();
                QVERIFY(!bins.isEmpty());
                QVERIFY(bins.first().toObject().value(QStringLiteral("amountX")).isString());
            }
        }
        QVERIFY(cpmm >= 4 && dlmm >= 4);
        QCOMPARE(http.get(QStringLiteral("/api/pools/nope")).status, 404);
        QCOMPARE(http.get(QStringLiteral("/api/pools/nope"))
                     .json()
                     .value(QStringLiteral("code"))
                     .toString(),
                 QStringLiteral("pool_not_found"));
    }

    void aPoolQuoteIsWhatTheStateSays()
    {
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        for (const QString &id :
             {QStringLiteral("raydium-SOL-USDC"), QStringLiteral("meteora-SOL-USDC")}) {
            for (const QString &mint : {kSol, kUsdc}) {
                const QString amount =
                    mint == kSol ? QStringLiteral("2500000000") : QStringLiteral("350000000");
                const QJsonObject state = http.get(QStringLiteral("/api/pools/") + id).json();
                const HttpResult q =
                    http.get(QStringLiteral("/api/pools/%1/quote?inputMint=%2&amount=%3")
                                 .arg(id, mint, amount));
                QCOMPARE(q.status, 200);
                const QJsonObject quote = q.json();
                // Nothing moves the pools here (no orders, DEX_VOLATILITY=0): the same state.
                QCOMPARE(quote.value(QStringLiteral("slot")), state.value(QStringLiteral("slot")));
                // A client rebuilds the pool from the state and prices it itself.
                QString error;
                auto pool = poolFromJson(state, &error);
                QVERIFY2(pool, qPrintable(error));
                const SwapResult mine =
                    pool->swap(mint, amount.toULongLong(),
                               quote.value(QStringLiteral("now")).toString().toLongLong(), false);
                QVERIFY(mine.ok());
                QCOMPARE(quote.value(QStringLiteral("outAmount")).toString(),
                         QString::number(mine.outAmount));
                QCOMPARE(quote.value(QStringLiteral("fee")).toString(), QString::number(mine.fee));
                QCOMPARE(quote.value(QStringLiteral("protocolFee")).toString(),
                         QString::number(mine.protocolFee));
                QCOMPARE(quote.value(QStringLiteral("consumedInAmount")).toString(), amount);
                QCOMPARE(quote.value(QStringLiteral("inAmount")).toString(), amount);
                QCOMPARE(quote.contains(QStringLiteral("endActiveId")),
                         id.startsWith(QLatin1String("meteora")));
            }
        }
        const HttpResult bad = http.get(
            QStringLiteral("/api/pools/raydium-SOL-USDC/quote?inputMint=%1&amount=1.5").arg(kSol));
        QCOMPARE(bad.status, 400);
        QCOMPARE(bad.json().value(QStringLiteral("field")).toString(), QStringLiteral("amount"));
        const HttpResult wrongMint =
            http.get(QStringLiteral("/api/pools/raydium-SOL-USDC/quote?inputMint=JUP&amount=1"));
        QCOMPARE(wrongMint.status, 400);
        QCOMPARE(wrongMint.json().value(QStringLiteral("field")).toString(),
                 QStringLiteral("inputMint"));
        const HttpResult dry = http.get(
            QStringLiteral("/api/pools/meteora-SOL-USDC/quote?inputMint=%1&amount=100000000000000")
                .arg(kUsdc));
        QCOMPARE(dry.status, 422);
        QVERIFY(dry.json()
                    .value(QStringLiteral("error"))
                    .toString()
                    .contains(QStringLiteral("insufficient liquidity")));
    }

    void aFillMovesThePoolAndSurvivesARestart()
    {
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const QJsonObject before =
            http.get(QStringLiteral("/api/quotes?tokenIn=SOL&tokenOut=USDC&amount=10")).json();
        const QString poolId = before.value(QStringLiteral("plan"))
                                   .toObject()
                                   .value(QStringLiteral("legs"))
                                   .toArray()
                                   .first()
                                   .toObject()
                                   .value(QStringLiteral("pool"))
                                   .toString();
        const quint64 slot = http.get(QStringLiteral("/api/pools/") + poolId)
                                 .json()
                                 .value(QStringLiteral("slot"))
                                 .toString()
                                 .toULongLong();
        QJsonObject order{{QStringLiteral("tokenIn"), QStringLiteral("SOL")},
                          {QStringLiteral("tokenOut"), QStringLiteral("USDC")},
                          {QStringLiteral("amount"), QStringLiteral("10")}};
        const QString id = http.submit(order);
        QVERIFY(!id.isEmpty());
        QVERIFY(waitUntil(
            [&] {
                return m_servers.count(QStringLiteral(
                           "SELECT count(*) FROM orders WHERE status = 'confirmed'")) == 1;
            },
            30000));
        const QJsonObject after = waitForSlot(http, poolId, slot);
        QVERIFY(after.value(QStringLiteral("slot")).toString().toULongLong() > slot);
        // The same order now quotes worse.
        const QJsonObject again =
            http.get(QStringLiteral("/api/quotes?tokenIn=SOL&tokenOut=USDC&amount=10")).json();
        QVERIFY(again.value(QStringLiteral("plan"))
                    .toObject()
                    .value(QStringLiteral("amountOutRaw"))
                    .toString()
                    .toULongLong() < before.value(QStringLiteral("plan"))
                                         .toObject()
                                         .value(QStringLiteral("amountOutRaw"))
                                         .toString()
                                         .toULongLong());
        // A restart of oee keeps the market where the fill left it (the state is in Redis).
        m_engine.reset();
        startEngine(fastConfig(m_servers));
        Http http2(m_engine->port());
        const QJsonObject restarted = http2.get(QStringLiteral("/api/pools/") + poolId).json();
        QCOMPARE(restarted.value(QStringLiteral("slot")), after.value(QStringLiteral("slot")));
        QJsonObject a = after, b = restarted;
        a.remove(QStringLiteral("now"));
        b.remove(QStringLiteral("now"));
        QCOMPARE(a, b);
    }

    void theArbitrageFlowMovesThePoolsInRedis()
    {
        // With a moving reference price, pools are traded toward it with no order at all: the
        // flow holds the arbitrageur lease and its trades land in Redis (slots move), and the
        // venues' prices for a pair stay within a few fees of each other.
        Config c = fastConfig(m_servers);
        c.dex.volatility = 0.002;
        c.dex.arbitrageMs = 50;
        startEngine(c);
        Http http(m_engine->port());
        const auto slotOf = [&](const QString &id) {
            return http.get(QStringLiteral("/api/pools/") + id)
                .json()
                .value(QStringLiteral("slot"))
                .toString()
                .toULongLong();
        };
        const quint64 ray = slotOf(QStringLiteral("raydium-SOL-USDC"));
        const quint64 met = slotOf(QStringLiteral("meteora-SOL-USDC"));
        QVERIFY(waitUntil(
            [&] {
                return slotOf(QStringLiteral("raydium-SOL-USDC")) > ray + 2 &&
                       slotOf(QStringLiteral("meteora-SOL-USDC")) > met + 2;
            },
            30000));
        QString error;
        const auto endpoint = RedisEndpoint::fromUrl(m_servers.redisUrl(), &error);
        RedisConnection redis(*endpoint);
        QVERIFY(
            !redis.command({"GET", "oee:arbitrageur"}).str.isEmpty()); // one holder, this process
        const auto inRedis = decodePool(
            redis
                .command({"HGET", rkeys::pool("oee:", QStringLiteral("raydium-SOL-USDC")), "state"})
                .str);
        QVERIFY(inRedis && inRedis->slot > ray + 2);
        const QJsonObject q =
            http.get(QStringLiteral("/api/quotes?tokenIn=SOL&tokenOut=USDC&amount=1")).json();
        const double r =
            q.value(QStringLiteral("raydium")).toObject().value(QStringLiteral("price")).toDouble();
        const double m =
            q.value(QStringLiteral("meteora")).toObject().value(QStringLiteral("price")).toDouble();
        QVERIFY2(r > 0 && m > 0 && qAbs(r / m - 1) < 0.01,
                 qPrintable(QStringLiteral("%1 vs %2").arg(r).arg(m)));
    }

    void jupitersOwnClientReadsTheQuote()
    {
        startEngine(fastConfig(m_servers));
        Http http(m_engine->port());
        const QJsonObject direct =
            http.get(QStringLiteral(
                         "/quote?inputMint=%1&outputMint=%2&amount=1000000000&slippageBps=50")
                         .arg(kSol, kUsdc))
                .json();
        const QJsonObject r =
            jupiter({kSol, kUsdc, QStringLiteral("1000000000"), QStringLiteral("50")});
        QVERIFY2(r.value(QStringLiteral("ok")).toBool(), QJsonDocument(r).toJson().constData());
        const QJsonObject q = r.value(QStringLiteral("quote")).toObject();
        QCOMPARE(q.value(QStringLiteral("inputMint")).toString(), kSol);
        QCOMPARE(q.value(QStringLiteral("outputMint")).toString(), kUsdc);
        QCOMPARE(q.value(QStringLiteral("inAmount")).toString(), QStringLiteral("1000000000"));
        QCOMPARE(q.value(QStringLiteral("outAmount")), direct.value(QStringLiteral("outAmount")));
        const quint64 out = q.value(QStringLiteral("outAmount")).toString().toULongLong();
        QVERIFY(out > 100'000'000); // > 100 USDC for 1 SOL
        QCOMPARE(q.value(QStringLiteral("otherAmountThreshold")).toString(),
                 QString::number(out * 9950 / 10000));
        QCOMPARE(q.value(QStringLiteral("swapMode")).toString(), QStringLiteral("ExactIn"));
        QCOMPARE(q.value(QStringLiteral("slippageBps")).toInt(), 50);
        const QJsonArray plan = q.value(QStringLiteral("routePlan")).toArray();
        QVERIFY(!plan.isEmpty());
        const QJsonObject info =
            plan.first().toObject().value(QStringLiteral("swapInfo")).toObject();
        QVERIFY(QStringList({QStringLiteral("Raydium CP"), QStringLiteral("Meteora DLMM")})
                    .contains(info.value(QStringLiteral("label")).toString()));
        QVERIFY(!info.value(QStringLiteral("ammKey")).toString().isEmpty());
        QVERIFY(q.contains(QStringLiteral("contextSlot")) &&
                q.contains(QStringLiteral("priceImpactPct")));
        // Only one dex: the plan uses it.
        const QJsonObject onlyRaydium =
            jupiter({kSol, kUsdc, QStringLiteral("1000000000"), QStringLiteral("50"),
                     QStringLiteral("Raydium CP")});
        QVERIFY(onlyRaydium.value(QStringLiteral("ok")).toBool());
        for (const QJsonValue &step : onlyRaydium.value(QStringLiteral("quote"))
                                          .toObject()
                                          .value(QStringLiteral("routePlan"))
                                          .toArray())
            QCOMPARE(step.toObject()
                         .value(QStringLiteral("swapInfo"))
                         .toObject()
                         .value(QStringLiteral("label"))
                         .toString(),
                     QStringLiteral("Raydium CP"));
        // Two hops, as Jupiter lays them out: BONK -> (SOL or USDC) -> JUP.
        const Token *bonk = TokenRegistry::instance().bySymbol(QStringLiteral("BONK"));
        const Token *jup = TokenRegistry::instance().bySymbol(QStringLiteral("JUP"));
        const QJsonObject hop = jupiter({bonk->mint, jup->mint, QStringLiteral("100000000000")});
        QVERIFY2(hop.value(QStringLiteral("ok")).toBool(), QJsonDocument(hop).toJson().constData());
        const QJsonArray steps = hop.value(QStringLiteral("quote"))
                                     .toObject()
                                     .value(QStringLiteral("routePlan"))
                                     .toArray();
        QCOMPARE(steps.size(), 2);
        QCOMPARE(steps[0]
                     .toObject()
                     .value(QStringLiteral("swapInfo"))
                     .toObject()
                     .value(QStringLiteral("outputMint")),
                 steps[1]
                     .toObject()
                     .value(QStringLiteral("swapInfo"))
                     .toObject()
                     .value(QStringLiteral("inputMint")));
        // A bad request reaches the client as Jupiter's client reports errors.
        const QJsonObject bad = jupiter({kSol, QStringLiteral("NotAMint"), QStringLiteral("1000")});
        QVERIFY(!bad.value(QStringLiteral("ok")).toBool());
        QCOMPARE(bad.value(QStringLiteral("status")).toInt(), 400);
    }
};

QTEST_MAIN(TestPools)
#include "tst_pools.moc"
