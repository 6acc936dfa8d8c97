// The simulated venues and the router.
#include "dex/Market.h"
#include "dex/Signature.h"

#include <QTest>

using namespace oee;

class TestMarket : public QObject
{
    Q_OBJECT

private:
    static DexConfig still()
    {
        DexConfig c;
        c.volatility = 0; // no drift: prices are a pure function of the pools
        c.seed = 1;
        return c;
    }

private slots:
    void picksRaydiumWhenItsNetOutputIsBetter()
    {
        Market m(still());
        m.setVenueBias(VenueId::Raydium, 0.01); // Raydium's price 1% better
        const Route r = m.route(QStringLiteral("SOL"), QStringLiteral("USDC"), 1.5);
        QVERIFY(r.raydium.amountOut > r.meteora.amountOut);
        QCOMPARE(r.chosen, VenueId::Raydium);
        QCOMPARE(r.best().amountOut, r.raydium.amountOut);
    }

    void picksMeteoraWhenItsNetOutputIsBetter()
    {
        Market m(still());
        m.setVenueBias(VenueId::Meteora, 0.01);
        const Route r = m.route(QStringLiteral("SOL"), QStringLiteral("USDC"), 1.5);
        QVERIFY(r.meteora.amountOut > r.raydium.amountOut);
        QCOMPARE(r.chosen, VenueId::Meteora);
    }

    void feesDecideAtEqualPrices()
    {
        // Same mid price on both venues: the lower fee (Meteora's 0.20% vs Raydium's 0.25%)
        // wins for a small order, net of fees.
        Market m(still());
        const Route r = m.route(QStringLiteral("SOL"), QStringLiteral("USDC"), 1.0);
        QCOMPARE(r.raydium.midPrice, r.meteora.midPrice);
        QVERIFY(r.raydium.feeRate > r.meteora.feeRate);
        QCOMPARE(r.chosen, VenueId::Meteora);
    }

    void priceImpactGrowsWithSize()
    {
        Market m(still());
        for (VenueId v : {VenueId::Raydium, VenueId::Meteora}) {
            const Quote small = m.quote(v, QStringLiteral("SOL"), QStringLiteral("USDC"), 1);
            const Quote big = m.quote(v, QStringLiteral("SOL"), QStringLiteral("USDC"), 100000);
            QVERIFY(big.priceImpact > small.priceImpact);
            QVERIFY(big.price < small.price);
            QVERIFY(small.amountOut > 0);
        }
    }

    void slippageExceededBelowMinimum()
    {
        DexConfig c = still();
        c.executionPriceShift = -0.05; // the price moves 5% against the order
        Market m(c);
        const Route r = m.route(QStringLiteral("SOL"), QStringLiteral("USDC"), 2);
        const double minOut = r.best().amountOut * (1 - 0.01);
        const Fill f = m.execute(r.chosen, QStringLiteral("SOL"), QStringLiteral("USDC"), 2, minOut);
        QVERIFY(!f.ok);
        QVERIFY(f.error.startsWith(QStringLiteral("Slippage tolerance exceeded")));

        Market calm(still());
        const Fill ok = calm.execute(r.chosen, QStringLiteral("SOL"), QStringLiteral("USDC"), 2, minOut);
        QVERIFY(ok.ok);
        QVERIFY(ok.amountOut >= minOut);
        QCOMPARE(ok.executedPrice, ok.amountOut / 2);
    }

    void signaturesAreBase58AndDeterministic()
    {
        QCOMPARE(base58Encode(QByteArrayLiteral("Hello World!")), QStringLiteral("2NEpo7TZRRrLZSi2U"));
        QCOMPARE(base58Encode(QByteArray::fromHex("00000001")), QStringLiteral("1112"));
        const QString a = transactionSignature(QStringLiteral("order-1"), 1);
        QCOMPARE(a, transactionSignature(QStringLiteral("order-1"), 1));
        QVERIFY(a != transactionSignature(QStringLiteral("order-1"), 2));
        QVERIFY(a.size() >= 86 && a.size() <= 88);
        for (QChar ch : a)
            QVERIFY(!QStringLiteral("0OIl").contains(ch));
    }
};

QTEST_APPLESS_MAIN(TestMarket)
#include "tst_market.moc"
