// The order-request parser and validator, without any server.
#include "dex/Market.h"
#include "domain/Order.h"
#include "domain/OrderRequest.h"
#include "runtime/Config.h"
#include "runtime/Logging.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <QTest>

using namespace oee;

class TestOrderRequest : public QObject
{
    Q_OBJECT

private:
    static std::variant<OrderRequest, ApiError> parse(const QByteArray &body,
                                                      const QByteArray &type = "application/json")
    {
        return parseOrderRequest(body, type, 10000, 1024);
    }

private slots:
    void jsonLogRecords()
    {
        // --log-format json: one object per line, the order id lifted out of the message.
        const QDateTime at = QDateTime::fromMSecsSinceEpoch(1795359000123, Qt::UTC);
        const QByteArray line =
            logRecordJson(QtWarningMsg, "oee.queue",
                          QStringLiteral("order 6F1C0A52-8d4b-4d8e-9a57-3c1f8e0b2d11: "
                                         "taken over by a later claim"),
                          at);
        QVERIFY(line.endsWith('\n') && line.count('\n') == 1);
        const QJsonObject o = QJsonDocument::fromJson(line).object();
        QCOMPARE(o.value(QStringLiteral("time")).toString(),
                 QStringLiteral("2026-11-22T14:50:00.123Z"));
        QCOMPARE(o.value(QStringLiteral("level")).toString(), QStringLiteral("warning"));
        QCOMPARE(o.value(QStringLiteral("category")).toString(), QStringLiteral("oee.queue"));
        QCOMPARE(o.value(QStringLiteral("orderId")).toString(),
                 QStringLiteral("6f1c0a52-8d4b-4d8e-9a57-3c1f8e0b2d11"));
        QVERIFY(o.value(QStringLiteral("message"))
                    .toString()
                    .startsWith(QStringLiteral("order 6F1C0A52")));
        const QJsonObject plain =
            QJsonDocument::fromJson(logRecordJson(QtInfoMsg, "oee.engine",
                                                  QStringLiteral("engine \"started\"\nnext"), at))
                .object();
        QCOMPARE(plain.value(QStringLiteral("level")).toString(), QStringLiteral("info"));
        QCOMPARE(plain.value(QStringLiteral("message")).toString(),
                 QStringLiteral("engine \"started\"\nnext"));
        QVERIFY(!plain.contains(QStringLiteral("orderId")));

        Config c;
        QVERIFY(!Config::load(
            {QStringLiteral("oee"), QStringLiteral("--log-format"), QStringLiteral("json")}, &c,
            nullptr, nullptr));
        QVERIFY(c.jsonLogs);
        const auto bad = Config::load(
            {QStringLiteral("oee"), QStringLiteral("--log-format"), QStringLiteral("xml")}, &c,
            nullptr, nullptr);
        QVERIFY(bad && bad->contains(QStringLiteral("LOG_FORMAT")));
    }

    void acceptsMarketOrder()
    {
        const auto r = parse(
            R"({"orderType":"market","tokenIn":"SOL","tokenOut":"USDC","amount":1.5,"slippage":0.02})");
        QVERIFY(std::holds_alternative<OrderRequest>(r));
        const OrderRequest o = std::get<OrderRequest>(r);
        QCOMPARE(o.tokenIn, QStringLiteral("SOL"));
        QCOMPARE(o.tokenOut, QStringLiteral("USDC"));
        QCOMPARE(o.amount, BaseUnits(1'500'000'000)); // lamports
        QCOMPARE(o.amountText(), QStringLiteral("1.5"));
        QCOMPARE(o.slippagePpm, 20000u);
        QCOMPARE(o.slippageText(), QStringLiteral("0.02"));
    }

    void defaultsAndAliases()
    {
        // amountIn for amount, orderType defaults to market, slippage to the configured 0.01,
        // lower-case symbols, seed 002's "side" accepted.
        const auto r = parse(R"({"tokenIn":"sol","tokenOut":"usdc","amountIn":3,"side":"buy"})",
                             "application/json; charset=utf-8");
        QVERIFY(std::holds_alternative<OrderRequest>(r));
        const OrderRequest o = std::get<OrderRequest>(r);
        QCOMPARE(o.orderType, QStringLiteral("market"));
        QCOMPARE(o.tokenIn, QStringLiteral("SOL"));
        QCOMPARE(o.amount, BaseUnits(3'000'000'000));
        QCOMPARE(o.slippagePpm, 10000u);
    }

    void seed004Dialect()
    {
        // inputMint/outputMint name the tokens; slippage_pct is percent: 0.5 is 0.5 %.
        const auto r =
            parse(R"({"inputMint":"SOL","outputMint":"USDC","amount":1.5,"slippage_pct":0.5})");
        QVERIFY(std::holds_alternative<OrderRequest>(r));
        const OrderRequest o = std::get<OrderRequest>(r);
        QCOMPARE(o.tokenIn, QStringLiteral("SOL"));
        QCOMPARE(o.tokenOut, QStringLiteral("USDC"));
        QCOMPARE(o.slippagePpm, 5000u);
        // the same token under both names is fine
        QVERIFY(std::holds_alternative<OrderRequest>(
            parse(R"({"tokenIn":"SOL","inputMint":"SOL","tokenOut":"USDC","amount":1})")));
        QCOMPARE(std::get<OrderRequest>(
                     parse(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"slippage_pct":50})"))
                     .slippagePpm,
                 500000u);
    }

    void acceptsMintsAndDecimalStrings()
    {
        // Tokens by mint, amounts as decimal strings, both read exactly; the same order spelled
        // either way has the same fingerprint (Idempotency-Key).
        const auto r = parse(
            R"({"inputMint":"EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v","outputMint":"So11111111111111111111111111111111111111112","amount":"224.123009"})");
        QVERIFY(std::holds_alternative<OrderRequest>(r));
        const OrderRequest o = std::get<OrderRequest>(r);
        QCOMPARE(o.tokenIn, QStringLiteral("USDC"));
        QCOMPARE(o.tokenOut, QStringLiteral("SOL"));
        QCOMPARE(o.amount, BaseUnits(224'123'009));
        const auto same = parse(R"({"tokenIn":"USDC","tokenOut":"SOL","amount":224.123009})");
        QVERIFY(std::holds_alternative<OrderRequest>(same));
        QCOMPARE(requestFingerprint(std::get<OrderRequest>(same)), requestFingerprint(o));
        // The smallest unit of each token, and no less.
        QCOMPARE(
            std::get<OrderRequest>(parse(R"({"tokenIn":"BONK","tokenOut":"SOL","amount":0.00001})"))
                .amount,
            BaseUnits(1));
    }

    void isoTimeIsQtsIsoDateWithMs()
    {
        // The hand-written formatter gives exactly what QDateTime would.
        for (const qint64 ms : {0LL, 1LL, 999LL, 86399999LL, 951782400000LL, 1798000000123LL,
                                4102444799999LL, -1LL, -86400001LL, 1582934400000LL}) {
            const QDateTime t = QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
            QCOMPARE(isoTime(t), t.toString(Qt::ISODateWithMs));
        }
        QCOMPARE(isoTime(QDateTime()), QString());
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("field");
        const QByteArray json = "application/json";
        QTest::newRow("malformed") << QByteArray("{\"tokenIn\":") << json << 400 << "invalid_json"
                                   << "";
        QTest::newRow("not an object") << QByteArray("[1,2]") << json << 400 << "invalid_json"
                                       << "";
        QTest::newRow("content type")
            << QByteArray("{}") << QByteArray("text/plain") << 415 << "unsupported_media_type"
            << "";
        QTest::newRow("no content type")
            << QByteArray("{}") << QByteArray() << 415 << "unsupported_media_type"
            << "";
        QTest::newRow("oversized") << QByteArray(2000, ' ') << json << 413 << "payload_too_large"
                                   << "";
        QTest::newRow("missing tokenIn")
            << QByteArray(R"({"tokenOut":"USDC","amount":1})") << json << 400 << "invalid_field"
            << "tokenIn";
        QTest::newRow("tokenIn number")
            << QByteArray(R"({"tokenIn":5,"tokenOut":"USDC","amount":1})") << json << 400
            << "invalid_field"
            << "tokenIn";
        QTest::newRow("missing tokenOut")
            << QByteArray(R"({"tokenIn":"SOL","amount":1})") << json << 400 << "invalid_field"
            << "tokenOut";
        QTest::newRow("unknown token")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"DOGE","amount":1})") << json << 400
            << "unknown_token"
            << "tokenOut";
        QTest::newRow("same token")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"sol","amount":1})") << json << 400
            << "invalid_field"
            << "tokenOut";
        QTest::newRow("missing amount") << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC"})")
                                        << json << 400 << "invalid_field"
                                        << "amount";
        QTest::newRow("amount zero")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":0})") << json << 400
            << "invalid_field"
            << "amount";
        QTest::newRow("amount negative")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":-1})") << json << 400
            << "invalid_field"
            << "amount";
        QTest::newRow("amount not a number")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":"1.5 SOL"})") << json
            << 400 << "invalid_field"
            << "amount";
        QTest::newRow("amount below one unit")
            << QByteArray(R"({"tokenIn":"USDC","tokenOut":"SOL","amount":0.0000001})") << json
            << 400 << "invalid_field"
            << "amount";
        QTest::newRow("amount too precise")
            << QByteArray(R"({"tokenIn":"USDC","tokenOut":"SOL","amount":"1.1234567"})") << json
            << 400 << "invalid_field"
            << "amount";
        QTest::newRow("slippage too precise")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"slippage":0.0000001})")
            << json << 400 << "invalid_field"
            << "slippage";
        QTest::newRow("amount huge")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1e300})") << json << 400
            << "invalid_field"
            << "amount";
        QTest::newRow("amountIn negative")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC","amountIn":-2})") << json << 400
            << "invalid_field"
            << "amountIn";
        QTest::newRow("amounts disagree")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"amountIn":2})") << json
            << 400 << "invalid_field"
            << "amountIn";
        QTest::newRow("slippage zero")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"slippage":0})") << json
            << 400 << "invalid_field"
            << "slippage";
        QTest::newRow("slippage big")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"slippage":0.6})")
            << json << 400 << "invalid_field"
            << "slippage";
        QTest::newRow("slippage string")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"slippage":"1%"})")
            << json << 400 << "invalid_field"
            << "slippage";
        QTest::newRow("limit without a price")
            << QByteArray(R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"USDC","amount":1})")
            << json << 400 << "invalid_field"
            << "limitPrice";
        QTest::newRow("limit with both")
            << QByteArray(
                   R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"USDC","amount":1,"limitPrice":"200","minAmountOut":"200"})")
            << json << 400 << "invalid_field"
            << "limitPrice";
        QTest::newRow("limit price zero")
            << QByteArray(
                   R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"USDC","amount":1,"limitPrice":"0"})")
            << json << 400 << "invalid_field"
            << "limitPrice";
        QTest::newRow("limit price 19 digits")
            << QByteArray(
                   R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"USDC","amount":1,"limitPrice":"1.234567890123456789"})")
            << json << 400 << "invalid_field"
            << "limitPrice";
        QTest::newRow("limit min too precise")
            << QByteArray(
                   R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"USDC","amount":1,"minAmountOut":"1.0000001"})")
            << json << 400 << "invalid_field"
            << "minAmountOut";
        QTest::newRow("limit price too high")
            << QByteArray(
                   R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"BONK","amount":"1000000","limitPrice":"1000000000000000000"})")
            << json << 400 << "invalid_field"
            << "limitPrice";
        QTest::newRow("limit price on market")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"limitPrice":"200"})")
            << json << 400 << "unknown_field"
            << "limitPrice";
        QTest::newRow("maxPrice on limit")
            << QByteArray(
                   R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"USDC","amount":1,"limitPrice":"200","maxPrice":"1"})")
            << json << 400 << "unknown_field"
            << "maxPrice";
        QTest::newRow("expiry in the past")
            << QByteArray(
                   R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"USDC","amount":1,"limitPrice":"200","expiresAt":"2020-01-01T00:00:00Z"})")
            << json << 400 << "invalid_field"
            << "expiresAt";
        QTest::newRow("expiry without zone")
            << QByteArray(
                   R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"USDC","amount":1,"limitPrice":"200","expiresAt":"2099-01-01T00:00:00"})")
            << json << 400 << "invalid_field"
            << "expiresAt";
        QTest::newRow("expiry twice")
            << QByteArray(
                   R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"USDC","amount":1,"limitPrice":"200","expiresAt":"2099-01-01T00:00:00Z","ttlSeconds":5})")
            << json << 400 << "invalid_field"
            << "ttlSeconds";
        QTest::newRow("ttl fraction")
            << QByteArray(
                   R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"USDC","amount":1,"limitPrice":"200","ttlSeconds":1.5})")
            << json << 400 << "invalid_field"
            << "ttlSeconds";
        QTest::newRow("unknown orderType")
            << QByteArray(R"({"orderType":"stop","tokenIn":"SOL","tokenOut":"USDC","amount":1})")
            << json << 400 << "unsupported_order_type"
            << "orderType";
        QTest::newRow("market unknown token")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"WIF","amount":1})") << json << 400
            << "unknown_token"
            << "tokenOut";
        QTest::newRow("sniper odd token name")
            << QByteArray(R"({"orderType":"sniper","tokenIn":"SOL","tokenOut":"W-F","amount":1})")
            << json << 400 << "unknown_token"
            << "tokenOut";
        QTest::newRow("sniper bad maxPrice")
            << QByteArray(
                   R"({"orderType":"sniper","tokenIn":"SOL","tokenOut":"WIF","amount":1,"maxPrice":"cheap"})")
            << json << 400 << "invalid_field"
            << "maxPrice";
        QTest::newRow("unknown field")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"slipage":0.5})") << json
            << 400 << "unknown_field"
            << "slipage";
        QTest::newRow("slippage_pct zero")
            << QByteArray(R"({"inputMint":"SOL","outputMint":"USDC","amount":1,"slippage_pct":0})")
            << json << 400 << "invalid_field"
            << "slippage_pct";
        QTest::newRow("slippage_pct negative")
            << QByteArray(R"({"inputMint":"SOL","outputMint":"USDC","amount":1,"slippage_pct":-1})")
            << json << 400 << "invalid_field"
            << "slippage_pct";
        QTest::newRow("slippage_pct over 50")
            << QByteArray(
                   R"({"inputMint":"SOL","outputMint":"USDC","amount":1,"slippage_pct":50.5})")
            << json << 400 << "invalid_field"
            << "slippage_pct";
        QTest::newRow("slippage_pct string")
            << QByteArray(
                   R"({"inputMint":"SOL","outputMint":"USDC","amount":1,"slippage_pct":"1"})")
            << json << 400 << "invalid_field"
            << "slippage_pct";
        QTest::newRow("both tolerances")
            << QByteArray(
                   R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"slippage":0.01,"slippage_pct":1})")
            << json << 400 << "invalid_field"
            << "slippage_pct";
        QTest::newRow("missing inputMint")
            << QByteArray(R"({"outputMint":"BTC"})") << json << 400 << "invalid_field"
            << "tokenIn";
        QTest::newRow("unknown outputMint")
            << QByteArray(R"({"inputMint":"SOL","outputMint":"BTC","amount":1})") << json << 400
            << "unknown_token"
            << "outputMint";
        QTest::newRow("token names disagree")
            << QByteArray(R"({"tokenOut":"USDC","outputMint":"JUP","tokenIn":"SOL","amount":1})")
            << json << 400 << "invalid_field"
            << "outputMint";
        QTest::newRow("side neither")
            << QByteArray(R"({"tokenIn":"SOL","tokenOut":"USDC","amount":1,"side":"short"})")
            << json << 400 << "invalid_field"
            << "side";
        QTest::newRow("orderType number")
            << QByteArray(R"({"orderType":1,"tokenIn":"SOL","tokenOut":"USDC","amount":1})") << json
            << 400 << "invalid_field"
            << "orderType";
    }

    void limitOrders()
    {
        // 1.5 SOL at 187.25 USDC per SOL: the floor is exactly 280.875 USDC in base units.
        auto r = parse(
            R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"USDC","amount":"1.5","limitPrice":"187.25","ttlSeconds":60})");
        QVERIFY(std::holds_alternative<OrderRequest>(r));
        OrderRequest o = std::get<OrderRequest>(r);
        QCOMPARE(o.orderType, QStringLiteral("limit"));
        QCOMPARE(o.limitMinOut, BaseUnits(280'875'000));
        QCOMPARE(o.limitPrice, QStringLiteral("187.25"));
        QVERIFY(o.expiresAt.isValid());
        QVERIFY(qAbs(o.expiresAt.secsTo(QDateTime::currentDateTimeUtc()) + 60) <= 1);
        // Rounded up: 1 lamport at 0.000001 USDC per SOL asks for 1e-15 USDC → 1 base unit.
        r = parse(
            R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"USDC","amount":"0.000000001","limitPrice":"0.000001"})");
        QCOMPARE(std::get<OrderRequest>(r).limitMinOut, BaseUnits(1));
        // BONK per SOL (5 vs 9 decimals), a JSON number read from its shortest text.
        r = parse(
            R"({"orderType":"limit","tokenIn":"SOL","tokenOut":"BONK","amount":2,"limitPrice":7123456.5})");
        QCOMPARE(std::get<OrderRequest>(r).limitMinOut, BaseUnits(1'424'691'300'000));
        // minAmountOut instead of a price; an absolute expiry.
        r = parse(
            R"({"orderType":"limit","tokenIn":"USDC","tokenOut":"SOL","amount":"100","minAmountOut":"0.5","expiresAt":"2099-01-01T00:00:00.250+01:00"})");
        o = std::get<OrderRequest>(r);
        QCOMPARE(o.limitMinOut, BaseUnits(500'000'000));
        QCOMPARE(isoTime(o.expiresAt), QStringLiteral("2098-12-31T23:00:00.250Z"));
        // The job payload carries the terms and reads back the same.
        const auto back = fromJobPayload(toJobPayload(o));
        QVERIFY(back);
        QCOMPARE(back->limitMinOut, o.limitMinOut);
        QCOMPARE(back->expiresAt, o.expiresAt);
        QCOMPARE(requestFingerprint(*back), requestFingerprint(o));
    }

    void sniperOrders()
    {
        // A token that does not trade yet is accepted, as named.
        const auto r = parse(
            R"({"orderType":"sniper","tokenIn":"SOL","tokenOut":"wif","amount":"0.5","maxPrice":"0.002","slippage":0.05})");
        QVERIFY(std::holds_alternative<OrderRequest>(r));
        const OrderRequest o = std::get<OrderRequest>(r);
        QCOMPARE(o.tokenOut, QStringLiteral("wif"));
        QCOMPARE(o.maxPrice, QStringLiteral("0.002"));
        QVERIFY(fromJobPayload(toJobPayload(o)));
        // 0.5 SOL at most 0.002 SOL per token (6 decimals): at least 250 tokens.
        const auto floor = floorAtMaxCost(
            o.amount, 9, 6, std::get<DecimalPrice>(parsePrice(QJsonValue(o.maxPrice))));
        QCOMPARE(floor.value_or(0), BaseUnits(250'000'000));
    }

    void rejects()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, contentType);
        QFETCH(int, status);
        QFETCH(QString, code);
        QFETCH(QString, field);
        const auto r = parse(body, contentType);
        QVERIFY(std::holds_alternative<ApiError>(r));
        const ApiError e = std::get<ApiError>(r);
        QCOMPARE(e.httpStatus(), status);
        QCOMPARE(e.code(), code);
        QCOMPARE(e.field, field);
        QVERIFY(!e.message.isEmpty());
        if (!field.isEmpty())
            QVERIFY2(e.message.contains(field), qPrintable(e.message));
    }
};

QTEST_APPLESS_MAIN(TestOrderRequest)
#include "tst_orderrequest.moc"
