// The order lifecycle's transition table (domain/Lifecycle), without Redis or PostgreSQL: every
// (from, to) pair against the table as the README states it.
#include "domain/Lifecycle.h"

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
            QStringLiteral("->pending"),
            QStringLiteral("pending->routing"), QStringLiteral("pending->pending"), QStringLiteral("pending->failed"),
            QStringLiteral("pending->cancelled"), QStringLiteral("pending->open"), QStringLiteral("pending->expired"),
            QStringLiteral("open->routing"), QStringLiteral("open->failed"), QStringLiteral("open->cancelled"),
            QStringLiteral("open->expired"),
            QStringLiteral("routing->building"), QStringLiteral("routing->routing"), QStringLiteral("routing->pending"),
            QStringLiteral("routing->failed"), QStringLiteral("routing->open"), QStringLiteral("routing->expired"),
            QStringLiteral("building->submitted"), QStringLiteral("building->routing"), QStringLiteral("building->pending"),
            QStringLiteral("building->failed"), QStringLiteral("building->open"), QStringLiteral("building->expired"),
            QStringLiteral("submitted->confirmed"), QStringLiteral("submitted->pending"), QStringLiteral("submitted->failed"),
            QStringLiteral("submitted->open"), QStringLiteral("submitted->expired"),
        };
        QList<std::optional<OrderStatus>> froms{std::nullopt};
        for (OrderStatus s : allStatuses())
            froms << s;
        int checked = 0;
        for (const auto &from : froms) {
            for (OrderStatus to : allStatuses()) {
                const QString key = (from ? statusName(*from) : QString()) + QStringLiteral("->") + statusName(to);
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
            {S::Pending, S::Routing, S::Building, S::Submitted, S::Confirmed},              // happy path
            {S::Pending, S::Routing, S::Building, S::Submitted, S::Pending, S::Routing,     // a retry
             S::Building, S::Submitted, S::Confirmed},
            {S::Pending, S::Pending, S::Routing, S::Building, S::Submitted, S::Failed},     // no route, then exhausted
            {S::Pending, S::Routing, S::Routing, S::Building, S::Submitted, S::Confirmed},   // crash mid-attempt
            {S::Pending, S::Open, S::Routing, S::Building, S::Submitted, S::Confirmed},      // a limit that crossed
            {S::Pending, S::Open, S::Routing, S::Building, S::Submitted, S::Open,            // missed, rests again
             S::Routing, S::Building, S::Submitted, S::Confirmed},
            {S::Pending, S::Open, S::Cancelled},
            {S::Pending, S::Open, S::Expired},
            {S::Pending, S::Routing, S::Building, S::Submitted, S::Expired},               // missed after its time
        };
        for (const QList<S> &path : paths) {
            std::optional<S> at;
            for (S next : path) {
                QVERIFY2(canFollow(at, next), qPrintable((at ? statusName(*at) : QString()) + "->" + statusName(next)));
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
};

QTEST_APPLESS_MAIN(TestLifecycle)
#include "tst_lifecycle.moc"
