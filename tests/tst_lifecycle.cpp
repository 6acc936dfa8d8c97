// The order lifecycle's transition table (domain/Lifecycle), without Redis or PostgreSQL: every
// (from, to) pair against the table as the README states it.
#include "domain/EventData.h"
#include "domain/Lifecycle.h"
#include "domain/Order.h"

#include <QJsonDocument>

#include <QSet>
#include <QTest>

using namespace oee;

class TestLifecycle : public QObject
{
    Q_OBJECT

private slots:
    void everyPairAgainstTheTable()
    {
        const QSet<QString> allowed = {
            QStringLiteral("->pending"),          QStringLiteral("pending->routing"),
            QStringLiteral("pending->pending"),   QStringLiteral("pending->failed"),
            QStringLiteral("pending->cancelled"), QStringLiteral("pending->open"),
            QStringLiteral("pending->expired"),   QStringLiteral("open->routing"),
            QStringLiteral("open->failed"),       QStringLiteral("open->cancelled"),
            QStringLiteral("open->expired"),      QStringLiteral("routing->building"),
            QStringLiteral("routing->routing"),   QStringLiteral("routing->pending"),
            QStringLiteral("routing->failed"),    QStringLiteral("routing->open"),
            QStringLiteral("routing->expired"),   QStringLiteral("building->submitted"),
            QStringLiteral("building->routing"),  QStringLiteral("building->pending"),
            QStringLiteral("building->failed"),   QStringLiteral("building->open"),
            QStringLiteral("building->expired"),  QStringLiteral("submitted->confirmed"),
            QStringLiteral("submitted->pending"), QStringLiteral("submitted->failed"),
            QStringLiteral("submitted->open"),    QStringLiteral("submitted->expired"),
        };
        QList<std::optional<OrderStatus>> froms{std::nullopt};
        for (OrderStatus s : allStatuses())
            froms << s;
        int checked = 0;
        for (const auto &from : froms) {
            for (OrderStatus to : allStatuses()) {
                const QString key =
                    (from ? statusName(*from) : QString()) + QStringLiteral("->") + statusName(to);
                QVERIFY2(canFollow(from, to) == allowed.contains(key), qPrintable(key));
                ++checked;
            }
        }
        QCOMPARE(checked, 10 * 9);
    }

    void terminalStatusesEndEverything()
    {
        for (OrderStatus to : allStatuses()) {
            QVERIFY(!canFollow(OrderStatus::Confirmed, to));
            QVERIFY(!canFollow(OrderStatus::Failed, to));
            QVERIFY(!canFollow(OrderStatus::Cancelled, to));
            QVERIFY(!canFollow(OrderStatus::Expired, to));
        }
    }

    void theLifecyclesTheEngineRuns()
    {
        using S = OrderStatus;
        const QList<QList<S>> paths = {
            {S::Pending, S::Routing, S::Building, S::Submitted, S::Confirmed}, // happy path
            {S::Pending, S::Routing, S::Building, S::Submitted, S::Pending, S::Routing, // a retry
             S::Building, S::Submitted, S::Confirmed},
            {S::Pending, S::Pending, S::Routing, S::Building, S::Submitted,
             S::Failed}, // no route, then exhausted
            {S::Pending, S::Routing, S::Routing, S::Building, S::Submitted,
             S::Confirmed}, // crash mid-attempt
            {S::Pending, S::Open, S::Routing, S::Building, S::Submitted,
             S::Confirmed}, // a limit that crossed
            {S::Pending, S::Open, S::Routing, S::Building, S::Submitted,
             S::Open, // missed, rests again
             S::Routing, S::Building, S::Submitted, S::Confirmed},
            {S::Pending, S::Open, S::Cancelled},
            {S::Pending, S::Open, S::Expired},
            {S::Pending, S::Routing, S::Building, S::Submitted,
             S::Expired}, // missed after its time
        };
        for (const QList<S> &path : paths) {
            std::optional<S> at;
            for (S next : path) {
                QVERIFY2(canFollow(at, next), qPrintable((at ? statusName(*at) : QString()) +
                                                         QStringLiteral("->") + statusName(next)));
                at = next;
            }
        }
        // What must never happen: confirm without a transaction, execute twice.
        QVERIFY(!canFollow(OrderStatus::Routing, OrderStatus::Confirmed));
        QVERIFY(!canFollow(OrderStatus::Pending, OrderStatus::Submitted));
        QVERIFY(!canFollow(std::nullopt, OrderStatus::Routing));
        // Cancelled only before anything was sent.
        QVERIFY(!canFollow(OrderStatus::Routing, OrderStatus::Cancelled));
        QVERIFY(!canFollow(OrderStatus::Submitted, OrderStatus::Cancelled));
        // A resting order executes only through routing; nothing returns to pending from open.
        QVERIFY(!canFollow(OrderStatus::Open, OrderStatus::Submitted));
        QVERIFY(!canFollow(OrderStatus::Open, OrderStatus::Confirmed));
        QVERIFY(!canFollow(OrderStatus::Open, OrderStatus::Open));
        QVERIFY(!canFollow(std::nullopt, OrderStatus::Open));
    }

    // Each kind of event data has one JSON encoding, read back to the same struct; the facts
    // the orders row keeps come from the struct.
    void eventDataRoundTrips()
    {
        OrderRequest r;
        r.orderType = QStringLiteral("limit");
        r.tokenIn = QStringLiteral("SOL");
        r.tokenOut = QStringLiteral("USDC");
        r.amount = 1'500'000'000;
        r.slippagePpm = 10000;
        r.limitMinOut = 225'000'000;
        r.limitPrice = QStringLiteral("150");
        r.expiresAt =
            QDateTime::fromString(QStringLiteral("2099-01-01T00:00:00.250Z"), Qt::ISODateWithMs);
        const QDateTime t =
            QDateTime::fromString(QStringLiteral("2026-11-22T12:00:00.125Z"), Qt::ISODateWithMs);
        using S = OrderStatus;
        const QList<std::pair<S, EventData>> kinds = {
            {S::Pending, SubmittedOrder{r}},
            {S::Pending,
             RetryScheduled{2, QStringLiteral("raydium"), QStringLiteral("rejected"), 2000}},
            {S::Routing,
             RoutingPlan{1, QStringLiteral("meteora"),
                         QJsonObject{{QStringLiteral("route"), QStringLiteral("direct")}},
                         TriggerInfo{QStringLiteral("price"), t, t.addMSecs(3)}}},
            {S::Building, TransactionBuilt{1, QStringLiteral("meteora"), QStringLiteral("direct"),
                                           225'100'000, QStringLiteral("225.1"), 225'000'000,
                                           QStringLiteral("225"), QStringLiteral("0.01")}},
            {S::Submitted,
             TransactionSubmitted{1, QStringLiteral("meteora"), QStringLiteral("5sig")}},
            {S::Confirmed,
             FillReport{1, QStringLiteral("meteora"), QStringLiteral("5sig"), 1'500'000'000,
                        QStringLiteral("1.5"), 225'100'000, QStringLiteral("225.1"),
                        QStringLiteral("150.066666666666"),
                        QJsonArray{QJsonObject{{QStringLiteral("pool"), QStringLiteral("p")}}},
                        true}},
            {S::Failed,
             FailureReport{3, 3, QStringLiteral("raydium"), QStringLiteral("exhausted")}},
            {S::Open, RestingOrderData{r, QStringLiteral("the limit asks for 225"), 0, {}, {}}},
            {S::Open, RestingOrderData{r,
                                       {},
                                       2,
                                       QStringLiteral("meteora"),
                                       QStringLiteral("Slippage tolerance exceeded")}},
            {S::Cancelled, CancelReport{QStringLiteral("cancelled by the client")}},
            {S::Expired, ExpiryReport{0, r.expiresAt}},
        };
        for (const auto &[status, data] : kinds) {
            const QJsonObject json = eventDataJson(data);
            const EventData back = eventDataFromJson(status, json);
            QCOMPARE(back.index(), data.index());
            QCOMPARE(eventDataJson(back), json);
            const EventFacts a = factsOf(data), b = factsOf(back);
            QCOMPARE(b.attempt, a.attempt);
            QCOMPARE(b.venue, a.venue);
            QCOMPARE(b.signature, a.signature);
            QCOMPARE(b.executedPrice, a.executedPrice);
            QCOMPARE(b.amountOut, a.amountOut);
            QCOMPARE(b.error, a.error);
            // An event built from the struct carries it; one known only as JSON reads the same.
            OrderEvent built;
            built.status = status;
            built.setPayload(data);
            OrderEvent received;
            received.status = status;
            received.data = json;
            QCOMPARE(QJsonDocument(received.head()).toJson(), QJsonDocument(built.head()).toJson());
            QCOMPARE(describeEvent(received), describeEvent(built));
        }
        // The facts the stream's top level and the orders row take.
        const EventFacts fill = factsOf(kinds[5].second);
        QCOMPARE(fill.executedPrice, QStringLiteral("150.066666666666"));
        QCOMPARE(fill.amountOut, QStringLiteral("225.1"));
        QCOMPARE(eventDataJson(kinds[1].second).value(QStringLiteral("nextAttempt")).toInt(), 3);
        QCOMPARE(eventDataJson(kinds[0].second).value(QStringLiteral("limitPrice")).toString(),
                 QStringLiteral("150"));
        const auto resting =
            std::get<RestingOrderData>(eventDataFromJson(S::Open, eventDataJson(kinds[7].second)));
        QCOMPARE(resting.request.limitMinOut, r.limitMinOut);
        QCOMPARE(resting.request.expiresAt, r.expiresAt);
    }

    // A stream message starts with its eventId whichever way it was encoded (the writer's
    // encoding gets the id spliced in front by the event log; one read back from the store is
    // encoded whole), so a client follows ids without parsing; it reads back as the same event.
    void aLoggedEventsMessageStartsWithItsId()
    {
        OrderEvent e;
        e.orderId = QStringLiteral("53c3df7e-af8b-4861-b916-cce755f50e07");
        e.seq = 5;
        e.status = OrderStatus::Confirmed;
        e.at = QDateTime::fromString(QStringLiteral("2026-11-22T12:00:00.125Z"), Qt::ISODateWithMs);
        e.setPayload(FillReport{1, QStringLiteral("meteora"), QStringLiteral("5sig"), 1'500'000'000,
                                QStringLiteral("1.5"), 225'100'000, QStringLiteral("225.1"),
                                QStringLiteral("150.066666666666"), QJsonArray{}, true});
        QVERIFY(!e.toMessage().contains("eventId")); // not logged yet: no id
        e.eventId = 2731;
        const QByteArray message = e.toMessage();
        QVERIFY2(message.startsWith("{\"eventId\":2731,\""), message.constData());
        const QJsonObject o = QJsonDocument::fromJson(message).object();
        QCOMPARE(o.value(QStringLiteral("amountOut")).toDouble(), 225.1); // keys after the id
        QCOMPARE(o.value(QStringLiteral("eventId")).toInteger(), 2731);
        const auto back = OrderEvent::fromMessage(message);
        QVERIFY(back);
        QCOMPARE(back->eventId, 2731);
        QCOMPARE(back->toJson(), e.toJson());
    }
};

QTEST_APPLESS_MAIN(TestLifecycle)
#include "tst_lifecycle.moc"
