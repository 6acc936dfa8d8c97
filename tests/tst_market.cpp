// The simulated market and the router, without Redis: pools are state (a fill moves them), a
// pool runs out, the router splits and hops, execution re-prices against the pools as they are.
#include "dex/Market.h"
#include "dex/Signature.h"
#include "money/Tokens.h"

#include <QTest>

using namespace oee;

class TestMarket : public QObject
{
    Q_OBJECT

private:
    static DexConfig still()
    {
        DexConfig c;
        c.volatility = 0; // no arbitrage flow: pools change only by fills
        c.seed = 1;
        return c;
    }
    static BaseUnits sol(quint64 whole) { return whole * 1'000'000'000ULL; }
    static const QString SOL, USDC, BONK, JUP;

private slots:
    void fillMovesThePoolAndTheNextQuoteIsWorse()
    {
        Market m(still());
        const RoutePlan first = m.route(SOL, USDC, sol(100));
        QVERIFY2(first.ok(), qPrintable(first.error()));
        const QString poolId = first.best.legs.first().poolId;
        const quint64 slotBefore = m.pool(poolId)->slot;
        const Fill f = m.executeLocally(first, 0);
        QVERIFY2(f.ok, qPrintable(f.error));
        QCOMPARE(f.amountOut, first.best.amountOut); // nothing moved between quote and fill
        QVERIFY(m.pool(poolId)->slot > slotBefore);
        // The same order again gets less: the fill moved the price.
        const RoutePlan second = m.route(SOL, USDC, sol(100));
        QVERIFY(second.ok());
        QVERIFY2(
            second.best.amountOut < first.best.amountOut,
            qPrintable(
                QStringLiteral("%1 then %2").arg(first.best.amountOut).arg(second.best.amountOut)));
        // And the other way round, a fill pays it back: selling USDC for SOL now gets more SOL.
    }

    void insufficientLiquidityIsAnError()
    {
        Market m(still());
        // A constant-product pool always fills (its price just runs away); DLMM bins run out.
        // JUP->SOL without Raydium: only Meteora's JUP/SOL pool, no two-hop.
        m.setVenueEnabled(QStringLiteral("raydium"), false);
        const RoutePlan plan = m.route(JUP, SOL, 1'000'000'000'000'000ULL); // 1e9 JUP
        QVERIFY(!plan.ok());
        QVERIFY2(plan.error().contains(QStringLiteral("insufficient liquidity")),
                 qPrintable(plan.error()));
        // A DLMM pool alone: more USDC than its bins hold of SOL.
        const auto pool = m.pool(QStringLiteral("meteora-SOL-USDC"));
        const SwapResult r = pool->quote(TokenRegistry::instance().bySymbol(USDC)->mint,
                                         100'000'000'000'000ULL, Market::now());
        QCOMPARE(r.failure, SwapResult::Failure::InsufficientLiquidity);
    }

    void splitBeatsSingleOnALargeOrderSingleWinsSmall()
    {
        Market m(still());
        const RoutePlan small = m.route(SOL, USDC, sol(1));
        QVERIFY(small.ok());
        QCOMPARE(small.best.type, RouteCandidate::Type::Direct);
        const RoutePlan large = m.route(SOL, USDC, sol(60'000)); // ~$9M
        QVERIFY2(large.ok(), qPrintable(large.error()));
        QCOMPARE(large.best.type, RouteCandidate::Type::Split);
        QCOMPARE(large.best.legs.size(), 2);
        QCOMPARE(large.best.legs[0].shareBps + large.best.legs[1].shareBps, 10000);
        QCOMPARE(large.best.legs[0].result.inAmount + large.best.legs[1].result.inAmount,
                 sol(60'000));
        // It nets more than every single pool, and it is what executes.
        for (const RouteCandidate &c : large.candidates)
            if (c.type == RouteCandidate::Type::Direct && c.ok())
                QVERIFY(large.best.amountOut > c.amountOut);
        const Fill f = m.executeLocally(large, 0);
        QVERIFY2(f.ok, qPrintable(f.error));
        QCOMPARE(f.amountOut, large.best.amountOut);
        QCOMPARE(f.legs.size(), 2);
    }

    void twoHopWhenThereIsNoDirectPool()
    {
        Market m(still());
        const RoutePlan plan = m.route(BONK, JUP, 1'000'000'00000ULL); // 1M BONK (5 decimals)
        QVERIFY2(plan.ok(), qPrintable(plan.error()));
        QCOMPARE(plan.best.type, RouteCandidate::Type::TwoHop);
        QCOMPARE(plan.best.legs.size(), 2);
        const QString mid = plan.best.legs[0].output->symbol;
        QVERIFY(mid == SOL || mid == USDC);
        QCOMPARE(plan.best.legs[1].input->symbol, mid);
        QCOMPARE(plan.best.legs[1].result.inAmount, plan.best.legs[0].result.outAmount);
        QCOMPARE(plan.best.amountOut, plan.best.legs[1].result.outAmount);
        // Both hubs were considered.
        int twoHops = 0;
        for (const RouteCandidate &c : plan.candidates)
            twoHops += c.type == RouteCandidate::Type::TwoHop;
        QVERIFY(twoHops >= 2);
        const Fill f = m.executeLocally(plan, 0);
        QVERIFY2(f.ok, qPrintable(f.error));
        QCOMPARE(f.amountOut, plan.best.amountOut);
    }

    void slippageExceededAfterACompetingFill()
    {
        Market m(still());
        const RoutePlan mine = m.route(SOL, USDC, sol(50));
        QVERIFY(mine.ok());
        const BaseUnits minOut = BaseUnits(u128(mine.best.amountOut) * 990'000 / 1'000'000); // 1 %
        // Someone else sells a lot of SOL into the same pools first.
        const RoutePlan competitor = m.route(SOL, USDC, sol(40'000));
        QVERIFY(m.executeLocally(competitor, 0).ok);
        const Fill f = m.executeLocally(mine, minOut);
        QVERIFY(!f.ok);
        QVERIFY2(f.error.startsWith(QStringLiteral("Slippage tolerance exceeded")),
                 qPrintable(f.error));
        // The refused fill moved nothing: a fresh quote prices the same as before it.
        const RoutePlan after = m.route(SOL, USDC, sol(50));
        const Fill ok =
            m.executeLocally(after, BaseUnits(u128(after.best.amountOut) * 990'000 / 1'000'000));
        QVERIFY2(ok.ok, qPrintable(ok.error));
        QCOMPARE(ok.amountOut, after.best.amountOut);
    }

    void chaosShiftIsAnIntegerFactor()
    {
        DexConfig c = still();
        c.executionPriceShiftPpm = -50000; // the venue returns 5 % less
        Market m(c);
        const RoutePlan r = m.route(SOL, USDC, sol(2));
        const BaseUnits minOut = BaseUnits(u128(r.best.amountOut) * 990'000 / 1'000'000);
        const Fill f = m.executeLocally(r, minOut);
        QVERIFY(!f.ok);
        QVERIFY(f.error.startsWith(QStringLiteral("Slippage tolerance exceeded")));
        const Fill loose = m.executeLocally(r, 0);
        QVERIFY(loose.ok);
        QCOMPARE(loose.amountOut, BaseUnits(u128(r.best.amountOut) * 950'000 / 1'000'000));
    }

    void disabledVenueIsNotRouted()
    {
        Market m(still());
        m.setVenueEnabled(QStringLiteral("raydium"), false);
        const RoutePlan r = m.route(SOL, USDC, sol(1));
        QVERIFY(r.ok());
        for (const RouteCandidate &c : r.candidates)
            for (const RouteLeg &l : c.legs)
                QCOMPARE(l.venue, QStringLiteral("meteora"));
    }

    void arbitragePullsPoolsTowardTheReference()
    {
        DexConfig c = still();
        c.volatility = 0.0002;
        Market m(c);
        // Push SOL/USDC on Raydium far off: sell 20k SOL there.
        const RoutePlan dump = m.route(SOL, USDC, sol(20'000));
        QVERIFY(m.executeLocally(dump, 0).ok);
        const QString id = QStringLiteral("raydium-SOL-USDC");
        const QString solMint = TokenRegistry::instance().bySymbol(SOL)->mint;
        const u128 before = m.pool(id)->spotPriceQ64(solMint);
        const auto trades = m.arbitrage(1'000);
        bool traded = false;
        for (const auto &t : trades)
            if (t->id == id) {
                traded = true;
                QVERIFY(t->spotPriceQ64(solMint) > before); // buys the cheap SOL back
            }
        QVERIFY(traded);
    }

    void signaturesAreBase58AndDeterministic()
    {
        QCOMPARE(base58Encode(QByteArrayLiteral("Hello World!")),
                 QStringLiteral("2NEpo7TZRRrLZSi2U"));
        QCOMPARE(base58Encode(QByteArray::fromHex("00000001")), QStringLiteral("1112"));
        const QString a = transactionSignature(QStringLiteral("order-1"), 1);
        QCOMPARE(a, transactionSignature(QStringLiteral("order-1"), 1));
        QVERIFY(a != transactionSignature(QStringLiteral("order-1"), 2));
        QVERIFY(a.size() >= 86 && a.size() <= 88);
        for (QChar ch : a)
            QVERIFY(!QStringLiteral("0OIl").contains(ch));
    }
};

const QString TestMarket::SOL = QStringLiteral("SOL");
const QString TestMarket::USDC = QStringLiteral("USDC");
const QString TestMarket::BONK = QStringLiteral("BONK");
const QString TestMarket::JUP = QStringLiteral("JUP");

QTEST_APPLESS_MAIN(TestMarket)
#include "tst_market.moc"
