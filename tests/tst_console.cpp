// The real console, offscreen, over a real engine (Redis, PostgreSQL): an order submitted
// through the form reaches `confirmed` in the table, the quote and queue charts gain points,
// the lifecycle view shows the order; and the view models, fed canned events.
#include "ConsoleController.h"
#include "Console.h"
#include "LifecycleLane.h"
#include "TestSupport.h"

#include <QQuickItem>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QTest>

using namespace oee;
using namespace oee::test;
using namespace oee::ui;

namespace {
OrderEvent statusEvent(const QString &id, int seq, OrderStatus status, qint64 atMs, EventData data = {})
{
    OrderEvent e;
    e.orderId = id;
    e.seq = seq;
    e.status = status;
    e.at = QDateTime::fromMSecsSinceEpoch(atMs, Qt::UTC);
    e.setPayload(std::move(data));
    return e;
}

SubmittedOrder submitted(const char *in, const char *out, BaseUnits amount)
{
    OrderRequest r;
    r.tokenIn = QString::fromLatin1(in);
    r.tokenOut = QString::fromLatin1(out);
    r.amount = amount;
    r.slippagePpm = 10000;
    return SubmittedOrder{r};
}
} // namespace

class TestConsole : public QObject
{
    Q_OBJECT
    TestServers m_servers;

    template <typename T> static T *find(QQuickWindow *w, const char *name)
    {
        return w->findChild<T *>(QString::fromLatin1(name));
    }

private slots:
    void ordersModelFollowsEvents()
    {
        OrdersModel model;
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy finished(&model, &OrdersModel::orderFinished);
        const qint64 t0 = 1'800'000'000'000;
        model.applyEvents({statusEvent("a", 1, OrderStatus::Pending, t0, submitted("SOL", "USDC", 2'000'000'000)),
                           statusEvent("a", 2, OrderStatus::Routing, t0 + 200, RoutingPlan{1, QStringLiteral("meteora"), {}, std::nullopt})});
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(model.rowCount(), 1);
        const QModelIndex row = model.index(0);
        QCOMPARE(row.data(OrdersModel::StatusRole).toString(), QStringLiteral("routing"));
        QCOMPARE(row.data(OrdersModel::PairRole).toString(), QStringLiteral("SOL → USDC"));
        QCOMPARE(row.data(OrdersModel::VenueRole).toString(), QStringLiteral("meteora"));
        model.applyEvents({statusEvent("a", 3, OrderStatus::Building, t0 + 250),
                           statusEvent("a", 4, OrderStatus::Submitted, t0 + 260, TransactionSubmitted{1, QStringLiteral("meteora"), QStringLiteral("sig")}),
                           statusEvent("a", 5, OrderStatus::Confirmed, t0 + 2260, FillReport{1, QStringLiteral("meteora"), QStringLiteral("sig"), 2'000'000'000, QStringLiteral("2"), 299'500'000, QStringLiteral("299.5"), QStringLiteral("149.75"), {}, false})});
        QCOMPARE(row.data(OrdersModel::StatusRole).toString(), QStringLiteral("confirmed"));
        QCOMPARE(row.data(OrdersModel::AmountOutRole).toDouble(), 299.5);
        QCOMPARE(row.data(OrdersModel::LatencyMsRole).toDouble(), 2260.0);
        QCOMPARE(model.eventsOf("a").size(), 5); // what the lifecycle lane paints
        QVERIFY(changed.count() >= 4);
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.first().at(2).toLongLong(), 2260);
        // A duplicate (e.g. the same event via another path) changes nothing.
        const int before = int(changed.count());
        model.applyEvents({statusEvent("a", 5, OrderStatus::Confirmed, t0 + 2260)});
        QCOMPARE(changed.count(), before);
        // A later event of an order never seen opens no half-known row.
        model.applyEvents({statusEvent("zz", 4, OrderStatus::Submitted, t0 + 100)});
        QCOMPARE(model.rowCount(), 1);
        // Newest first, filterable.
        model.applyEvents({statusEvent("b", 1, OrderStatus::Pending, t0 + 3000, submitted("JUP", "USDC", 5'000'000))});
        QCOMPARE(model.index(0).data(OrdersModel::OrderIdRole).toString(), QStringLiteral("b"));
        OrderFilter filter;
        filter.setSourceModel(&model);
        filter.setStatus(QStringLiteral("confirmed"));
        QCOMPARE(filter.rowCount(), 1);
        QCOMPARE(filter.orderIdAt(0), QStringLiteral("a"));
        // History of the selected order, live.
        EventsModel history;
        history.show("b", model.eventsOf("b"));
        QSignalSpy appended(&history, &QAbstractItemModel::rowsInserted);
        history.append({statusEvent("a", 6, OrderStatus::Confirmed, t0), statusEvent("b", 2, OrderStatus::Routing, t0 + 3100)});
        QCOMPARE(appended.count(), 1);
        QCOMPARE(history.rowCount(), 2);
        LatencyHistogram latency;
        QSignalSpy bucket(&latency, &QAbstractItemModel::dataChanged);
        latency.add(2260);
        latency.add(30);
        QCOMPARE(bucket.count(), 2);
        QCOMPARE(latency.maxCount(), 1);
    }

    void consoleRunsAnOrderThroughTheForm()
    {
        QString error;
        QVERIFY2(m_servers.start(&error), qPrintable(error));
        QVERIFY2(m_servers.reset(&error), qPrintable(error));
        Config c = fastConfig(m_servers);
        c.dex.quoteLatencyMs = 50;
        c.dex.executionLatencyMinMs = 200;
        c.dex.executionLatencyMaxMs = 400;
        c.dex.volatility = 0.0005;
        Engine engine(c);
        QVERIFY2(engine.start(&error), qPrintable(error));
        Console console(&engine);
        QVERIFY2(console.load(&error), qPrintable(error));
        QQuickWindow *w = console.window();
        QVERIFY(w);
        ConsoleController *ctl = console.controller();

        auto *amount = find<QQuickItem>(w, "amountField");
        auto *submit = find<QQuickItem>(w, "submitButton");
        QVERIFY(amount && submit);
        amount->setProperty("text", QStringLiteral("2.5"));
        QVERIFY(QMetaObject::invokeMethod(submit, "clicked"));
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->rowCount(), 1, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->index(0).data(OrdersModel::StatusRole).toString(), QStringLiteral("confirmed"), 30000);
        QCOMPARE(ctl->orders()->index(0).data(OrdersModel::AmountRole).toDouble(), 2.5);
        // The table shows it; the lifecycle view has its lane.
        QTRY_COMPARE_WITH_TIMEOUT(find<QQuickItem>(w, "ordersView")->property("count").toInt(), 1, 10000);
        QCOMPARE(find<QQuickItem>(w, "timelineView")->property("count").toInt(), 1);
        const QString firstId = ctl->orders()->index(0).data(OrdersModel::OrderIdRole).toString();
        // Delegates are in the visual tree, not the QObject tree.
        const std::function<bool(QQuickItem *)> hasLane = [&](QQuickItem *item) {
            auto *lane = qobject_cast<LifecycleLane *>(item);
            if (lane && lane->orderId() == firstId && lane->model() == ctl->orders())
                return true;
            const QList<QQuickItem *> children = item->childItems();
            return std::any_of(children.begin(), children.end(), hasLane);
        };
        QTRY_VERIFY_WITH_TIMEOUT(hasLane(find<QQuickItem>(w, "timelineView")), 10000);
        // Both charts gain points.
        QTRY_VERIFY_WITH_TIMEOUT(ctl->quotes()->points() >= 8, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(ctl->queue()->points() >= 2, 10000);
        QVERIFY(ctl->quotes()->raydiumPrice() > 100 && ctl->quotes()->meteoraPrice() > 100);
        // The plan for the form's amount, and the pair's pools: Raydium's reserves, Meteora's
        // bins around the active one.
        QVERIFY2(ctl->quotes()->planText().startsWith(QStringLiteral("plan: ")) && !ctl->quotes()->planText().startsWith(QStringLiteral("plan: none")),
                 qPrintable(ctl->quotes()->planText()));
        const QVariantList pools = ctl->quotes()->pools();
        QCOMPARE(pools.size(), 2);
        const QVariantMap dlmm = pools.value(0).toMap();
        QCOMPARE(dlmm.value(QStringLiteral("kind")).toString(), QStringLiteral("dlmm"));
        QCOMPARE(dlmm.value(QStringLiteral("bins")).toList().size(), 41);
        QVERIFY(pools.value(1).toMap().value(QStringLiteral("summary")).toString().contains(QStringLiteral(" SOL / ")));
        QVERIFY(ctl->redisUp() && ctl->postgresUp());
        // Selecting it shows its whole history.
        ctl->selectOrder(ctl->orders()->index(0).data(OrdersModel::OrderIdRole).toString());
        QCOMPARE(ctl->history()->rowCount(), 5);
        // A burst, as the seeds' dashboards do.
        ctl->burst(5, QStringLiteral("JUP"), QStringLiteral("USDC"), QStringLiteral("10"), 0.02);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->rowCount(), 6, 30000);

        // Keyboard only: type an amount, Tab to the slippage, Tab to Submit, Space.
        amount->forceActiveFocus();
        QVERIFY(amount->hasActiveFocus());
        QTest::keyClick(w, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClick(w, Qt::Key_4);
        QCOMPARE(amount->property("text").toString(), QStringLiteral("4"));
        QTest::keyClick(w, Qt::Key_Tab);
        QVERIFY(find<QQuickItem>(w, "slippageField")->hasActiveFocus());
        QTest::keyClick(w, Qt::Key_Tab);
        QVERIFY(submit->hasActiveFocus());
        QTest::keyClick(w, Qt::Key_Space);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->rowCount(), 7, 30000);
        QCOMPARE(ctl->orders()->index(0).data(OrdersModel::AmountRole).toDouble(), 4.0);

        // A limit order far from the price rests in the resting list; Delete cancels it.
        auto *type = find<QQuickItem>(w, "orderTypeBox");
        auto *price = find<QQuickItem>(w, "priceField");
        auto *resting = find<QQuickItem>(w, "restingView");
        QVERIFY(type && price && resting);
        type->setProperty("currentIndex", 1);
        price->setProperty("text", QStringLiteral("1000")); // USDC per SOL: far above the price
        QVERIFY(QMetaObject::invokeMethod(submit, "clicked"));
        QTRY_COMPARE_WITH_TIMEOUT(resting->property("count").toInt(), 1, 30000);
        const QString limitId = ctl->openOrders()->orderIdAt(0);
        QCOMPARE(ctl->orders()->index(ctl->orders()->rowOf(limitId)).data(OrdersModel::OrderTypeRole).toString(), QStringLiteral("limit"));
        QVERIFY(ctl->orders()->index(ctl->orders()->rowOf(limitId)).data(OrdersModel::TermsRole).toString().contains(QStringLiteral("limit 1000")));
        resting->setProperty("currentIndex", 0);
        resting->forceActiveFocus();
        QTest::keyClick(w, Qt::Key_Delete);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->index(ctl->orders()->rowOf(limitId)).data(OrdersModel::StatusRole).toString(), QStringLiteral("cancelled"), 30000);
        QTRY_COMPARE_WITH_TIMEOUT(resting->property("count").toInt(), 0, 10000);

        // A sniper for a token that does not trade yet rests until the launch button launches it.
        type->setProperty("currentIndex", 2);
        auto *tokenOut = find<QQuickItem>(w, "tokenOutBox");
        QVERIFY(tokenOut->property("editable").toBool());
        tokenOut->setProperty("editText", QStringLiteral("BOME"));
        price->setProperty("text", QString());
        QVERIFY(QMetaObject::invokeMethod(submit, "clicked"));
        QTRY_COMPARE_WITH_TIMEOUT(resting->property("count").toInt(), 1, 30000);
        const QString sniperId = ctl->openOrders()->orderIdAt(0);
        find<QQuickItem>(w, "launchSymbolField")->setProperty("text", QStringLiteral("BOME"));
        QVERIFY(QMetaObject::invokeMethod(find<QQuickItem>(w, "launchButton"), "clicked"));
        QTRY_VERIFY_WITH_TIMEOUT(find<QQuickItem>(w, "lastLaunch")->property("text").toString().contains(QStringLiteral("BOME launched")), 30000);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->index(ctl->orders()->rowOf(sniperId)).data(OrdersModel::StatusRole).toString(), QStringLiteral("confirmed"), 30000);
        QVERIFY(ctl->tokens().contains(QStringLiteral("BOME")));
        type->setProperty("currentIndex", 0);

        const QImage shot = w->grabWindow();
        QVERIFY(!shot.isNull());
        const QString path = QDir::current().filePath(QStringLiteral("console.png"));
        QVERIFY(shot.save(path));
        qInfo("screenshot: %s", qPrintable(path));
    }

    void followsADarkSystemPalette()
    {
        QString error;
        Config c = fastConfig(m_servers);
        Engine engine(c);
        QVERIFY2(engine.start(&error), qPrintable(error));
        const QPalette light = QGuiApplication::palette();
        // A whole dark palette, derived as a desktop's dark theme would be (button, window).
        const QPalette dark(QColor(0x2c, 0x2f, 0x34), QColor(0x20, 0x22, 0x26));
        QGuiApplication::setPalette(dark);
        Console console(&engine);
        QVERIFY2(console.load(&error), qPrintable(error));
        QQuickWindow *w = console.window();
        QVERIFY(w->property("dark").toBool());
        QVERIFY(w->color().lightnessF() < 0.5);
        QTRY_VERIFY_WITH_TIMEOUT(console.controller()->quotes()->points() >= 4, 10000);
        QVERIFY(w->grabWindow().save(QDir::current().filePath(QStringLiteral("console-dark.png"))));
        QGuiApplication::setPalette(light);
    }
};

QTEST_MAIN(TestConsole)
#include "tst_console.moc"
