// The real console, offscreen, over a real engine (Redis, PostgreSQL): an order submitted
// through the form reaches `confirmed` in the table, the quote and queue charts gain points,
// the lifecycle view shows the order; and the view models, fed canned events.
#include "Console.h"
#include "ConsoleController.h"
#include "EventFormat.h"
#include "LifecycleLane.h"
#include "RemoteBackend.h"
#include "TestSupport.h"
#include "VenueStats.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QJsonArray>
#include <QProcess>
#include <QQuickItem>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace oee;
using namespace oee::test;
using namespace oee::ui;

namespace {
OrderEvent statusEvent(const QString &id, int seq, OrderStatus status, qint64 atMs,
                       EventData data = {})
{
    OrderEvent e;
    e.orderId = id;
    e.seq = seq;
    e.status = status;
    e.at = QDateTime::fromMSecsSinceEpoch(atMs, Qt::UTC);
    e.setPayload(std::move(data));
    return e;
}

OrderEvent statusEvent(const char *id, int seq, OrderStatus status, qint64 atMs,
                       EventData data = {})
{
    return statusEvent(QLatin1String(id), seq, status, atMs, std::move(data));
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
// What a user would call broken at this size: a panel outside the window or overlapping
// another, text wider than its box (not elided, not wrapped), text or a layout's child running
// past its layout or its clipping ancestor (a list, a panel). Walks the visible item tree.
QStringList layoutProblems(QQuickWindow *w)
{
    QStringList problems;
    const QRectF window(0, 0, w->width(), w->height());
    QList<std::pair<QString, QRectF>> panels;
    const auto name = [](QQuickItem *item) {
        QString n = item->objectName();
        for (QQuickItem *p = item->parentItem(); n.isEmpty() && p; p = p->parentItem())
            if (!p->objectName().isEmpty())
                n = QStringLiteral("(in %1)").arg(p->objectName());
        return QStringLiteral("%1 %2").arg(QString::fromLatin1(item->metaObject()->className()), n);
    };
    const std::function<void(QQuickItem *, QRectF)> walk = [&](QQuickItem *item, QRectF clip) {
        if (!item->isVisible() || item->opacity() <= 0.01 || item->width() <= 0 ||
            item->height() <= 0)
            return;
        const QRectF r = item->mapRectToScene(QRectF(0, 0, item->width(), item->height()));
        if (!r.intersects(clip) && clip != window)
            return; // scrolled out of its list
        const QString cls = QString::fromLatin1(item->metaObject()->className());
        if (item->objectName().endsWith(QLatin1String("Panel")) ||
            item->objectName() == QLatin1String("controlBar")) {
            if (!window.adjusted(-1, -1, 1, 1).contains(r))
                problems << QStringLiteral("%1 is cut off by the window: %2,%3 %4x%5")
                                .arg(name(item))
                                .arg(r.x())
                                .arg(r.y())
                                .arg(r.width())
                                .arg(r.height());
            panels.append({item->objectName(), r});
        }
        if (item->inherits("QQuickText")) {
            const QString text = item->property("text").toString();
            const bool elided = item->property("elide").toInt() != 0;
            const bool wraps = item->property("wrapMode").toInt() != 0;
            const qreal content = item->property("contentWidth").toReal();
            if (!text.isEmpty() && !elided && !wraps && content > item->width() + 1)
                problems << QStringLiteral("%1 '%2' is wider (%3) than its box (%4)")
                                .arg(name(item), text.left(40))
                                .arg(content)
                                .arg(item->width());
            const QRectF drawn = item->mapRectToScene(
                QRectF(0, 0, std::min(content, item->width()), item->height()));
            if (!text.isEmpty() &&
                (drawn.right() > clip.right() + 1 || drawn.left() < clip.left() - 1))
                problems << QStringLiteral("%1 '%2' runs past %3 (%4 > %5)")
                                .arg(name(item), text.left(40),
                                     clip == window ? QStringLiteral("the window")
                                                    : QStringLiteral("its clipping parent"))
                                .arg(drawn.right())
                                .arg(clip.right());
        }
        if (cls.contains(QLatin1String("Layout")) && !cls.contains(QLatin1String("Stack"))) {
            for (QQuickItem *child : item->childItems()) {
                if (!child->isVisible() || child->width() <= 0)
                    continue;
                const QRectF c =
                    child->mapRectToScene(QRectF(0, 0, child->width(), child->height()));
                if (c.right() > r.right() + 1.5 || c.left() < r.left() - 1.5)
                    problems << QStringLiteral("%1 overflows its layout %2 (%3..%4 outside %5..%6)")
                                    .arg(name(child), name(item))
                                    .arg(c.left())
                                    .arg(c.right())
                                    .arg(r.left())
                                    .arg(r.right());
            }
        }
        const QRectF inner = item->clip() ? clip.intersected(r) : clip;
        for (QQuickItem *child : item->childItems())
            walk(child, inner);
    };
    walk(w->contentItem(), window);
    if (QQuickItem *header = w->contentItem()->parentItem())
        for (QQuickItem *child : header->childItems())
            if (child != w->contentItem())
                walk(child, window); // header and footer tool bars
    for (qsizetype i = 0; i < panels.size(); ++i)
        for (qsizetype j = i + 1; j < panels.size(); ++j) {
            const QRectF overlap = panels[i].second.intersected(panels[j].second);
            if (overlap.width() > 1 && overlap.height() > 1 &&
                !panels[i].second.contains(panels[j].second) &&
                !panels[j].second.contains(panels[i].second))
                problems << QStringLiteral("%1 overlaps %2").arg(panels[i].first, panels[j].first);
        }
    problems.removeDuplicates();
    return problems;
}

OrderEvent routingEvent(const QString &id, int seq, qint64 atMs, const QString &venue,
                        const QJsonArray &candidates, const QString &expectedRaw, int attempt = 1)
{
    RoutingPlan p;
    p.attempt = attempt;
    p.venue = venue;
    p.plan = QJsonObject{
        {QStringLiteral("route"), candidates.first().toObject().value(QStringLiteral("type"))},
        {QStringLiteral("candidates"), candidates},
        {QStringLiteral("expectedAmountOutRaw"), expectedRaw}};
    return statusEvent(id, seq, OrderStatus::Routing, atMs, p);
}

QJsonObject leg(const char *pool, const char *in, const char *out, const char *fee, int share,
                const char *impact)
{
    return QJsonObject{{QStringLiteral("pool"), QString::fromLatin1(pool)},
                       {QStringLiteral("inRaw"), QString::fromLatin1(in)},
                       {QStringLiteral("outRaw"), QString::fromLatin1(out)},
                       {QStringLiteral("feeRaw"), QString::fromLatin1(fee)},
                       {QStringLiteral("shareBps"), share},
                       {QStringLiteral("impactBps"), QString::fromLatin1(impact)}};
}

QString factValue(const QVariantList &facts, const QString &label)
{
    for (const QVariant &f : facts)
        if (f.toMap().value(QStringLiteral("label")).toString() == label)
            return f.toMap().value(QStringLiteral("value")).toString();
    return QStringLiteral("<no %1>").arg(label);
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
    // Delegates (a Repeater's) are in the visual tree only.
    static QQuickItem *findItem(QQuickWindow *w, const QString &name)
    {
        const std::function<QQuickItem *(QQuickItem *)> search =
            [&](QQuickItem *item) -> QQuickItem * {
            if (item->objectName() == name)
                return item;
            for (QQuickItem *child : item->childItems())
                if (QQuickItem *found = search(child))
                    return found;
            return nullptr;
        };
        return search(w->contentItem()->parentItem() ? w->contentItem()->parentItem()
                                                     : w->contentItem());
    }

private slots:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_servers.start(&error), qPrintable(error));
    }

    void ordersModelFollowsEvents()
    {
        OrdersModel model;
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy finished(&model, &OrdersModel::orderFinished);
        const qint64 t0 = 1'800'000'000'000;
        model.applyEvents(
            {statusEvent("a", 1, OrderStatus::Pending, t0, submitted("SOL", "USDC", 2'000'000'000)),
             statusEvent("a", 2, OrderStatus::Routing, t0 + 200,
                         RoutingPlan{1, QStringLiteral("meteora"), {}, std::nullopt})});
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(model.rowCount(), 1);
        const QModelIndex row = model.index(0);
        QCOMPARE(row.data(OrdersModel::StatusRole).toString(), QStringLiteral("routing"));
        QCOMPARE(row.data(OrdersModel::PairRole).toString(), QStringLiteral("SOL → USDC"));
        QCOMPARE(row.data(OrdersModel::VenueRole).toString(), QStringLiteral("meteora"));
        model.applyEvents(
            {statusEvent("a", 3, OrderStatus::Building, t0 + 250),
             statusEvent("a", 4, OrderStatus::Submitted, t0 + 260,
                         TransactionSubmitted{1, QStringLiteral("meteora"), QStringLiteral("sig")}),
             statusEvent("a", 5, OrderStatus::Confirmed, t0 + 2260,
                         FillReport{1,
                                    QStringLiteral("meteora"),
                                    QStringLiteral("sig"),
                                    2'000'000'000,
                                    QStringLiteral("2"),
                                    299'500'000,
                                    QStringLiteral("299.5"),
                                    QStringLiteral("149.75"),
                                    {},
                                    false})});
        QCOMPARE(row.data(OrdersModel::StatusRole).toString(), QStringLiteral("confirmed"));
        QCOMPARE(row.data(OrdersModel::AmountOutRole).toDouble(), 299.5);
        QCOMPARE(row.data(OrdersModel::LatencyMsRole).toDouble(), 2260.0);
        QCOMPARE(model.eventsOf(QStringLiteral("a")).size(), 5); // what the lifecycle lane paints
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
        model.applyEvents({statusEvent("b", 1, OrderStatus::Pending, t0 + 3000,
                                       submitted("JUP", "USDC", 5'000'000))});
        QCOMPARE(model.index(0).data(OrdersModel::OrderIdRole).toString(), QStringLiteral("b"));
        OrderFilter filter;
        filter.setSourceModel(&model);
        filter.setStatus(QStringLiteral("confirmed"));
        QCOMPARE(filter.rowCount(), 1);
        QCOMPARE(filter.orderIdAt(0), QStringLiteral("a"));
        // History of the selected order, live.
        EventsModel history;
        history.show(QStringLiteral("b"), model.eventsOf(QStringLiteral("b")));
        QSignalSpy appended(&history, &QAbstractItemModel::rowsInserted);
        history.append({statusEvent("a", 6, OrderStatus::Confirmed, t0),
                        statusEvent("b", 2, OrderStatus::Routing, t0 + 3100)});
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
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->index(0).data(OrdersModel::StatusRole).toString(),
                                  QStringLiteral("confirmed"), 30000);
        QCOMPARE(ctl->orders()->index(0).data(OrdersModel::AmountRole).toDouble(), 2.5);
        // The table shows it; the lifecycle view has its lane.
        QTRY_COMPARE_WITH_TIMEOUT(find<QQuickItem>(w, "ordersView")->property("count").toInt(), 1,
                                  10000);
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
        find<QObject>(w, "bottomTabs")->setProperty("currentIndex", 1); // the lifecycles tab
        QTRY_VERIFY_WITH_TIMEOUT(hasLane(find<QQuickItem>(w, "timelineView")), 10000);
        // Both charts gain points.
        QTRY_VERIFY_WITH_TIMEOUT(ctl->quotes()->points() >= 8, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(ctl->queue()->points() >= 2, 10000);
        QVERIFY(ctl->quotes()->raydiumPrice() > 100 && ctl->quotes()->meteoraPrice() > 100);
        // The plan for the form's amount, and the pair's pools: Raydium's reserves, Meteora's
        // bins around the active one.
        QVERIFY2(ctl->quotes()->planText().startsWith(QStringLiteral("plan: ")) &&
                     !ctl->quotes()->planText().startsWith(QStringLiteral("plan: none")),
                 qPrintable(ctl->quotes()->planText()));
        const QVariantList pools = ctl->quotes()->pools();
        QCOMPARE(pools.size(), 2);
        const QVariantMap dlmm = pools.value(0).toMap();
        QCOMPARE(dlmm.value(QStringLiteral("kind")).toString(), QStringLiteral("dlmm"));
        QCOMPARE(dlmm.value(QStringLiteral("bins")).toList().size(), 41);
        QVERIFY(pools.value(1)
                    .toMap()
                    .value(QStringLiteral("summary"))
                    .toString()
                    .contains(QStringLiteral(" SOL / ")));
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
        QCOMPARE(ctl->orders()
                     ->index(ctl->orders()->rowOf(limitId))
                     .data(OrdersModel::OrderTypeRole)
                     .toString(),
                 QStringLiteral("limit"));
        QVERIFY(ctl->orders()
                    ->index(ctl->orders()->rowOf(limitId))
                    .data(OrdersModel::TermsRole)
                    .toString()
                    .contains(QStringLiteral("limit 1000")));
        find<QObject>(w, "ordersTabs")->setProperty("currentIndex", 1); // the resting orders
        resting->setProperty("currentIndex", 0);
        resting->forceActiveFocus();
        QTest::keyClick(w, Qt::Key_Delete);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()
                                      ->index(ctl->orders()->rowOf(limitId))
                                      .data(OrdersModel::StatusRole)
                                      .toString(),
                                  QStringLiteral("cancelled"), 30000);
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
        QTRY_VERIFY_WITH_TIMEOUT(find<QQuickItem>(w, "lastLaunch")
                                     ->property("text")
                                     .toString()
                                     .contains(QStringLiteral("BOME launched")),
                                 30000);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()
                                      ->index(ctl->orders()->rowOf(sniperId))
                                      .data(OrdersModel::StatusRole)
                                      .toString(),
                                  QStringLiteral("confirmed"), 30000);
        QVERIFY(ctl->tokens().contains(QStringLiteral("BOME")));
        type->setProperty("currentIndex", 0);

        const QImage shot = w->grabWindow();
        QVERIFY(!shot.isNull());
        const QString path = QDir::current().filePath(QStringLiteral("console.png"));
        QVERIFY(shot.save(path));
        qInfo("screenshot: %s", qPrintable(path));
    }

    // The history reads like a trading tool: per step, formatted facts; routes side by side.
    void historyIsFormattedForEveryKindOfOrder()
    {
        const qint64 t0 = 1'800'000'000'000;
        const QString id = QStringLiteral("11111111-2222-3333-4444-555555555555");
        // A split order: 2 SOL, 60/40 over two pools, confirmed below its quote.
        const QJsonArray candidates{
            QJsonObject{
                {QStringLiteral("type"), QStringLiteral("split")},
                {QStringLiteral("venue"), QStringLiteral("meteora")},
                {QStringLiteral("amountOutRaw"), QStringLiteral("299400000")},
                {QStringLiteral("legs"),
                 QJsonArray{
                     leg("meteora-SOL-USDC", "1200000000", "179700000", "2400000", 6000, "1.25"),
                     leg("raydium-SOL-USDC", "800000000", "119700000", "2000000", 4000, "0.80")}}},
            QJsonObject{
                {QStringLiteral("type"), QStringLiteral("direct")},
                {QStringLiteral("venue"), QStringLiteral("raydium")},
                {QStringLiteral("amountOutRaw"), QStringLiteral("299100000")},
                {QStringLiteral("legs"), QJsonArray{leg("raydium-SOL-USDC", "2000000000",
                                                        "299100000", "5000000", 10000, "3.10")}}}};
        QList<OrderEvent> split{
            statusEvent(id, 1, OrderStatus::Pending, t0, submitted("SOL", "USDC", 2'000'000'000)),
            routingEvent(id, 2, t0 + 200, QStringLiteral("meteora"), candidates,
                         QStringLiteral("299400000")),
            statusEvent(id, 3, OrderStatus::Building, t0 + 210,
                        TransactionBuilt{1, QStringLiteral("meteora"), QStringLiteral("split"),
                                         299'400'000, QStringLiteral("299.4"), 296'406'000,
                                         QStringLiteral("296.406"), QStringLiteral("0.01")}),
            statusEvent(
                id, 4, OrderStatus::Submitted, t0 + 220,
                TransactionSubmitted{1, QStringLiteral("meteora"), QStringLiteral("5sigXYZ")}),
            statusEvent(id, 5, OrderStatus::Confirmed, t0 + 2220,
                        FillReport{1,
                                   QStringLiteral("meteora"),
                                   QStringLiteral("5sigXYZ"),
                                   2'000'000'000,
                                   QStringLiteral("2"),
                                   299'250'000,
                                   QStringLiteral("299.25"),
                                   QStringLiteral("149.625"),
                                   {},
                                   false})};
        EventsModel history;
        history.show(id, split);
        QCOMPARE(history.status(), QStringLiteral("confirmed"));
        QCOMPARE(history.signature(), QStringLiteral("5sigXYZ"));
        const auto at = [&](int row, EventsModel::Role role) {
            return history.index(row).data(role);
        };
        QCOMPARE(at(0, EventsModel::HeadlineRole).toString(),
                 QStringLiteral("market order: 2 SOL → USDC"));
        QCOMPARE(factValue(at(0, EventsModel::FactsRole).toList(), QStringLiteral("Slippage")),
                 QStringLiteral("1%"));
        const QVariantList routes = at(1, EventsModel::RoutesRole).toList();
        QCOMPARE(routes.size(), 2);
        const QVariantMap chosen = routes[0].toMap();
        QCOMPARE(chosen.value(QStringLiteral("chosen")).toBool(), true);
        QCOMPARE(chosen.value(QStringLiteral("pools")).toString(),
                 QStringLiteral("meteora-SOL-USDC + raydium-SOL-USDC"));
        QCOMPARE(chosen.value(QStringLiteral("share")).toString(), QStringLiteral("60% / 40%"));
        QCOMPARE(chosen.value(QStringLiteral("out")).toString(), QStringLiteral("299.4 USDC"));
        QCOMPARE(chosen.value(QStringLiteral("fees")).toString(),
                 QStringLiteral("0.0024 SOL + 0.002 SOL"));
        QCOMPARE(chosen.value(QStringLiteral("impact")).toString(), QStringLiteral("1.25 bps"));
        QCOMPARE(routes[1].toMap().value(QStringLiteral("chosen")).toBool(), false);
        QCOMPARE(factValue(at(2, EventsModel::FactsRole).toList(), QStringLiteral("Minimum out")),
                 QStringLiteral("296.406 USDC"));
        QCOMPARE(factValue(at(2, EventsModel::FactsRole).toList(), QStringLiteral("Slippage")),
                 QStringLiteral("1%"));
        const QVariantList fill = at(4, EventsModel::FactsRole).toList();
        QCOMPARE(factValue(fill, QStringLiteral("Amount out")), QStringLiteral("299.25 USDC"));
        QCOMPARE(factValue(fill, QStringLiteral("Executed price")),
                 QStringLiteral("149.625 USDC per SOL"));
        QCOMPARE(factValue(fill, QStringLiteral("Slippage vs quote")),
                 QStringLiteral("-5.0 bps")); // 299.25 vs 299.4
        QCOMPARE(factValue(fill, QStringLiteral("Signature")), QStringLiteral("5sigXYZ"));
        bool copyable = false;
        for (const QVariant &f : fill)
            copyable = copyable ||
                       (f.toMap().value(QStringLiteral("label")) == QStringLiteral("Signature") &&
                        f.toMap().value(QStringLiteral("copy")).toBool());
        QVERIFY(copyable);
        // Raw JSON stays available (behind the toggle).
        QVERIFY(at(4, EventsModel::DetailsRole)
                    .toString()
                    .contains(QStringLiteral("\"amountOutRaw\"")));

        // Retried within the order: an attempt failed, the next one filled.
        QList<OrderEvent> retried{
            statusEvent(id, 1, OrderStatus::Pending, t0, submitted("SOL", "USDC", 1'000'000'000)),
            statusEvent(id, 2, OrderStatus::Pending, t0 + 300,
                        RetryScheduled{1, QStringLiteral("raydium"),
                                       QStringLiteral("venue timeout"), 500})};
        history.show(id, retried);
        QCOMPARE(history.index(1).data(EventsModel::HeadlineRole).toString(),
                 QStringLiteral("Attempt 1 failed on raydium — retrying in 500 ms"));
        QCOMPARE(factValue(history.index(1).data(EventsModel::FactsRole).toList(),
                           QStringLiteral("Error")),
                 QStringLiteral("venue timeout"));
        // Failed for good, with the attempts.
        history.show(
            id,
            {statusEvent(id, 1, OrderStatus::Pending, t0, submitted("SOL", "USDC", 1'000'000'000)),
             statusEvent(id, 2, OrderStatus::Failed, t0 + 300,
                         FailureReport{3, 3, QStringLiteral("meteora"),
                                       QStringLiteral("Slippage tolerance exceeded")})});
        QCOMPARE(history.status(), QStringLiteral("failed"));
        QCOMPARE(history.index(1).data(EventsModel::HeadlineRole).toString(),
                 QStringLiteral("Failed: Slippage tolerance exceeded"));
        QCOMPARE(factValue(history.index(1).data(EventsModel::FactsRole).toList(),
                           QStringLiteral("Attempts")),
                 QStringLiteral("3"));
        // Cancelled, with its reason.
        history.show(id, {statusEvent(id, 1, OrderStatus::Pending, t0,
                                      submitted("SOL", "USDC", 1'000'000'000)),
                          statusEvent(id, 2, OrderStatus::Cancelled, t0 + 300,
                                      CancelReport{QStringLiteral("kill switch")})});
        QCOMPARE(history.index(1).data(EventsModel::HeadlineRole).toString(),
                 QStringLiteral("Cancelled: kill switch"));
        // A retry of a failed order says which, copyable.
        SubmittedOrder again = submitted("JUP", "USDC", 12'345'678'901);
        again.request.retryOf = QStringLiteral("99999999-2222-3333-4444-555555555555");
        history.show(id, {statusEvent(id, 1, OrderStatus::Pending, t0, again)});
        QCOMPARE(history.index(0).data(EventsModel::HeadlineRole).toString(),
                 QStringLiteral("market order: 12,345.678901 JUP → USDC"));
        QCOMPARE(factValue(history.index(0).data(EventsModel::FactsRole).toList(),
                           QStringLiteral("Retry of")),
                 again.request.retryOf);
        // Amounts with the token's decimals, grouped.
        QCOMPARE(tokenAmount(QStringLiteral("31216032096054"), QStringLiteral("BONK")),
                 QStringLiteral("312,160,320.96054 BONK"));

        // The venue statistics follow the same events.
        VenueStats venues;
        venues.applyEvents(split);
        QCOMPARE(venues.routesWon(QStringLiteral("meteora")), 1);
        QCOMPARE(venues.fills(QStringLiteral("meteora")), 1);
        venues.applyEvents(retried);
        QCOMPARE(venues.failures(QStringLiteral("raydium")), 1);
        const int meteora =
            venues.index(0).data(VenueStats::NameRole).toString() == QStringLiteral("meteora") ? 0
                                                                                               : 1;
        QVERIFY(venues.index(meteora)
                    .data(VenueStats::SlippageRole)
                    .toString()
                    .contains(QStringLiteral("-5.0")));
    }

    // Every action from the console, offscreen: pause, resume, a venue out and back, the
    // volatility, the kill switch through its dialog, retry and cancel from the history, copy.
    void consoleActsOnTheEngine()
    {
        QString error;
        QVERIFY2(m_servers.reset(&error), qPrintable(error));
        Config c = fastConfig(m_servers);
        c.dex.failAttempts = 100; // every order fails: something to retry
        c.maxAttempts = 1;
        Engine engine(c);
        QVERIFY2(engine.start(&error), qPrintable(error));
        Console console(&engine);
        QVERIFY2(console.load(&error), qPrintable(error));
        QQuickWindow *w = console.window();
        ConsoleController *ctl = console.controller();

        QVERIFY(QMetaObject::invokeMethod(find<QQuickItem>(w, "pauseButton"), "clicked"));
        QTRY_VERIFY_WITH_TIMEOUT(engine.controls()->paused(), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(ctl->paused(), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(!find<QQuickItem>(w, "submitButton")->isEnabled(), 10000);
        QVERIFY(QMetaObject::invokeMethod(find<QQuickItem>(w, "pauseButton"), "clicked"));
        QTRY_VERIFY_WITH_TIMEOUT(!engine.controls()->paused(), 10000);

        // Keyboard: Ctrl+P pauses, Ctrl+P resumes; Ctrl+2 takes meteora out, Ctrl+2 back.
        w->requestActivate();
        QTest::keyClick(w, Qt::Key_P, Qt::ControlModifier);
        QTRY_VERIFY_WITH_TIMEOUT(engine.controls()->paused(), 10000);
        QTest::keyClick(w, Qt::Key_P, Qt::ControlModifier);
        QTRY_VERIFY_WITH_TIMEOUT(!engine.controls()->paused(), 10000);
        QTest::keyClick(w, Qt::Key_2, Qt::ControlModifier);
        QTRY_COMPARE_WITH_TIMEOUT(engine.market()->disabledVenues(),
                                  QStringList{QStringLiteral("meteora")}, 10000);
        // A venue out of routing still shows its price; the router's choice leaves it out.
        QTRY_COMPARE_WITH_TIMEOUT(ctl->quotes()->chosenVenue(), QStringLiteral("raydium"), 10000);
        QVERIFY(ctl->quotes()->meteoraPrice() > 100);
        QQuickItem *meteoraSwitch = findItem(w, QStringLiteral("venueSwitch_meteora"));
        QVERIFY(meteoraSwitch);
        QTRY_VERIFY_WITH_TIMEOUT(!meteoraSwitch->property("checked").toBool(), 10000);
        QVERIFY(QMetaObject::invokeMethod(meteoraSwitch, "toggle"));
        QVERIFY(QMetaObject::invokeMethod(meteoraSwitch, "toggled"));
        QTRY_VERIFY_WITH_TIMEOUT(engine.market()->disabledVenues().isEmpty(), 10000);

        auto *volatility = find<QQuickItem>(w, "volatilityField");
        volatility->setProperty("text", QStringLiteral("0.003"));
        QVERIFY(QMetaObject::invokeMethod(volatility, "accepted"));
        QTRY_COMPARE_WITH_TIMEOUT(engine.market()->volatility(), 0.003, 10000);
        volatility->setProperty("text", QStringLiteral("9"));
        QVERIFY(QMetaObject::invokeMethod(volatility, "accepted"));
        QTRY_VERIFY_WITH_TIMEOUT(ctl->lastMessage().contains(QStringLiteral("volatility must be")),
                                 10000);

        // A failed order, retried from its history (the new order fails too: same venue).
        ctl->submit(QStringLiteral("SOL"), QStringLiteral("USDC"), QStringLiteral("1"), 0.01);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->rowCount(), 1, 30000);
        const QString failed = ctl->orders()->index(0).data(OrdersModel::OrderIdRole).toString();
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->index(0).data(OrdersModel::StatusRole).toString(),
                                  QStringLiteral("failed"), 30000);
        ctl->selectOrder(failed);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->history()->status(), QStringLiteral("failed"), 10000);
        auto *retry = find<QQuickItem>(w, "historyRetry");
        QTRY_VERIFY_WITH_TIMEOUT(retry->isVisible(), 10000);
        QVERIFY(QMetaObject::invokeMethod(retry, "clicked"));
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->rowCount(), 2, 30000);
        QTRY_VERIFY_WITH_TIMEOUT(
            ctl->lastMessage().contains(QStringLiteral("retried as new order")), 10000);
        QCOMPARE(
            m_servers.count(
                QStringLiteral("SELECT count(*) FROM order_events WHERE data->>'retryOf' = '%1'")
                    .arg(failed)),
            1);

        // A resting order cancelled from its history; then one cancelled by the kill switch.
        ctl->submitOrder(QStringLiteral("limit"), QStringLiteral("SOL"), QStringLiteral("USDC"),
                         QStringLiteral("1"), 0.01, QStringLiteral("100000"), 0);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->openOrders()->rowCount(), 1, 30000);
        const QString resting = ctl->openOrders()->orderIdAt(0);
        ctl->selectOrder(resting);
        auto *cancel = find<QQuickItem>(w, "historyCancel");
        QTRY_VERIFY_WITH_TIMEOUT(cancel->isVisible(), 10000);
        QVERIFY(QMetaObject::invokeMethod(cancel, "clicked"));
        QTRY_COMPARE_WITH_TIMEOUT(ctl->openOrders()->rowCount(), 0, 30000);
        ctl->submitOrder(QStringLiteral("limit"), QStringLiteral("SOL"), QStringLiteral("USDC"),
                         QStringLiteral("1"), 0.01, QStringLiteral("100000"), 0);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->openOrders()->rowCount(), 1, 30000);
        auto *kill = find<QQuickItem>(w, "killButton");
        QVERIFY(QMetaObject::invokeMethod(kill, "clicked"));
        QObject *dialog = find<QObject>(w, "killDialog");
        QVERIFY(dialog);
        QTRY_VERIFY_WITH_TIMEOUT(dialog->property("opened").toBool(), 10000);
        QVERIFY(QMetaObject::invokeMethod(dialog, "accept"));
        QTRY_VERIFY_WITH_TIMEOUT(engine.controls()->paused(), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->openOrders()->rowCount(), 0, 30000);
        QVERIFY(ctl->lastMessage().contains(QStringLiteral("1 order(s) cancelled")));

        // The signature copies (a confirmed order's): ask from the history.
        ctl->copyText(QStringLiteral("5sigABC"));
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("5sigABC"));

        // Every action is in the audit trail the console lists, from the console.
        QTRY_VERIFY_WITH_TIMEOUT(ctl->actions().size() >= 10, 10000);
        QStringList kinds;
        for (const QVariant &a : ctl->actions()) {
            kinds << a.toMap().value(QStringLiteral("action")).toString();
            QCOMPARE(a.toMap().value(QStringLiteral("source")).toString(),
                     QStringLiteral("console"));
        }
        for (const char *k : {"pause", "resume", "venue", "volatility", "retry", "cancel", "kill",
                              "kill-cancelled"})
            QVERIFY2(kinds.contains(QString::fromLatin1(k)), qPrintable(kinds.join(u',')));
        // The help overlay lists the shortcuts.
        QTest::keyClick(w, Qt::Key_F1);
        QObject *help = find<QObject>(w, "helpOverlay");
        QTRY_VERIFY_WITH_TIMEOUT(help->property("opened").toBool(), 10000);
        QVERIFY(w->property("shortcutTable").toList().size() >= 12);
        QTest::keyClick(w, Qt::Key_Escape);
        QTRY_VERIFY_WITH_TIMEOUT(!help->property("opened").toBool(), 10000);
    }

    // Nothing overlaps, is cut off or runs out of its box at the console's minimum and at
    // 1920×1080, light and dark, on every tab, with orders of every kind in the lists.
    void fitsTheScreenAtBothSizesAndPalettes_data()
    {
        QTest::addColumn<QSize>("size");
        QTest::addColumn<QString>("palette");
        QTest::newRow("1280x800 light") << QSize(1280, 800) << QStringLiteral("light");
        QTest::newRow("1280x800 dark") << QSize(1280, 800) << QStringLiteral("dark");
        QTest::newRow("1920x1080 light") << QSize(1920, 1080) << QStringLiteral("light");
        QTest::newRow("1920x1080 dark") << QSize(1920, 1080) << QStringLiteral("dark");
    }
    void fitsTheScreenAtBothSizesAndPalettes()
    {
        QFETCH(QSize, size);
        QFETCH(QString, palette);
        QString error;
        QVERIFY2(m_servers.reset(&error), qPrintable(error));
        Config c = fastConfig(m_servers);
        c.dex.failAttempts = 1; // every order's first attempt fails: retries in the history
        c.dex.volatility = 0.0005;
        Engine engine(c);
        QVERIFY2(engine.start(&error), qPrintable(error));
        const QPalette before = QGuiApplication::palette();
        Console::applyPalette(palette);
        Console console(&engine);
        QVERIFY2(console.load(&error), qPrintable(error));
        QQuickWindow *w = console.window();
        w->resize(size);
        QCOMPARE(w->property("dark").toBool(), palette == QLatin1String("dark"));
        ConsoleController *ctl = console.controller();
        ctl->burst(6, QStringLiteral("SOL"), QStringLiteral("USDC"), QStringLiteral("1.25"), 0.01);
        ctl->submitOrder(QStringLiteral("limit"), QStringLiteral("SOL"), QStringLiteral("USDC"),
                         QStringLiteral("2"), 0.01, QStringLiteral("100000"), 600);
        ctl->pauseIntake(QStringLiteral(
            "a long reason for the pause, as operators write them, that must elide"));
        QTRY_VERIFY_WITH_TIMEOUT(
            ctl->orders()->rowCount() == 7 && ctl->openOrders()->rowCount() == 1, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->filteredOrders()->rowCount(), 7, 30000);
        QTRY_VERIFY_WITH_TIMEOUT(
            m_servers.count(
                QStringLiteral("SELECT count(*) FROM orders WHERE status = 'confirmed'")) == 6,
            30000);
        find<QQuickItem>(w, "ordersView")->setProperty("currentIndex", 1);
        QTRY_VERIFY_WITH_TIMEOUT(ctl->history()->rowCount() >= 6, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(ctl->actions().size() >= 1 && ctl->paused(), 10000);
        QObject *bottomTabs = find<QObject>(w, "bottomTabs");
        QObject *ordersTabs = find<QObject>(w, "ordersTabs");
        QStringList problems;
        for (int bottom = 0; bottom < 4; ++bottom) {
            for (int right = 0; right < 2; ++right) {
                bottomTabs->setProperty("currentIndex", bottom);
                ordersTabs->setProperty("currentIndex", right);
                QVERIFY(QTest::qWaitFor([&] { return !w->grabWindow().isNull(); },
                                        5000)); // laid out and drawn
                for (const QString &p : layoutProblems(w))
                    problems << QStringLiteral("[tab %1/%2] %3").arg(bottom).arg(right).arg(p);
            }
        }
        const QString shot = QDir::current().filePath(QStringLiteral("console-%1x%2-%3.png")
                                                          .arg(size.width())
                                                          .arg(size.height())
                                                          .arg(palette));
        QVERIFY(w->grabWindow().save(shot));
        QGuiApplication::setPalette(before);
        QVERIFY2(problems.isEmpty(), qPrintable(problems.mid(0, 25).join(QLatin1Char('\n')) +
                                                QStringLiteral("\nscreenshot: ") + shot));
    }

    // `oee --connect`: the same console over a real `oee --server` process, by its REST API and
    // its resumable stream; an order placed from it confirms; the server restarts and the
    // console says it is disconnected, reconnects by itself, resumes the stream where it left
    // off (an order that ran meanwhile arrives with all its events), and takes orders again.
    void remoteAttachToARealServer()
    {
        QTemporaryDir data;
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close();
        const auto startServer = [&](QProcess &p) {
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert(QStringLiteral("OEE_DATA_DIR"), data.path());
            env.insert(QStringLiteral("DEX_FAILURE_RATE"), QStringLiteral("0"));
            env.insert(QStringLiteral("DEX_QUOTE_LATENCY_MS"), QStringLiteral("0"));
            env.insert(QStringLiteral("DEX_EXECUTION_LATENCY_MS"), QStringLiteral("50"));
            env.insert(QStringLiteral("MAX_ORDERS_PER_MINUTE"), QStringLiteral("0"));
            env.remove(QStringLiteral("QT_QPA_PLATFORM"));
            p.setProcessEnvironment(env);
            p.setProgram(qEnvironmentVariable("OEE_BINARY"));
            p.setArguments(
                {QStringLiteral("--server"), QStringLiteral("--port"), QString::number(port)});
            p.start();
            Http http(port);
            return p.waitForStarted(10000) &&
                   waitUntil([&] { return http.get(QStringLiteral("/health")).status == 200; },
                             120000);
        };
        QProcess server;
        QVERIFY2(startServer(server), "oee --server did not start");

        auto backend = std::make_unique<RemoteBackend>(
            QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)), QString());
        RemoteBackend *remote = backend.get();
        Console console(std::move(backend));
        QString error;
        QVERIFY2(console.load(&error), qPrintable(error));
        ConsoleController *ctl = console.controller();
        QVERIFY(ctl->remote());
        QTRY_VERIFY_WITH_TIMEOUT(ctl->connected(), 30000);
        // The quote chart prices on the copy of the server's pools.
        QTRY_VERIFY_WITH_TIMEOUT(
            ctl->quotes()->raydiumPrice() > 100 && ctl->quotes()->points() >= 2, 30000);

        ctl->submit(QStringLiteral("SOL"), QStringLiteral("USDC"), QStringLiteral("1"), 0.01);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->rowCount(), 1, 30000);
        const QString first = ctl->orders()->index(0).data(OrdersModel::OrderIdRole).toString();
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->index(0).data(OrdersModel::StatusRole).toString(),
                                  QStringLiteral("confirmed"), 30000);
        QCOMPARE(ctl->orders()->eventsOf(first).size(), 5);
        ctl->selectOrder(first);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->history()->rowCount(), 5, 10000);
        // An action from the remote console reaches the server (and its audit trail).
        ctl->pauseIntake(QStringLiteral("remote drill"));
        Http http(port);
        QTRY_VERIFY_WITH_TIMEOUT(http.get(QStringLiteral("/api/control"))
                                     .json()
                                     .value(QStringLiteral("intake"))
                                     .toObject()
                                     .value(QStringLiteral("paused"))
                                     .toBool(),
                                 10000);
        QTRY_VERIFY_WITH_TIMEOUT(ctl->paused(), 10000);
        ctl->resumeIntake();
        QTRY_VERIFY_WITH_TIMEOUT(!ctl->paused(), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(ctl->actions().size() >= 2, 10000);

        // The server goes away: the console says so.
        server.terminate();
        QVERIFY(server.waitForFinished(60000));
        QTRY_VERIFY_WITH_TIMEOUT(!ctl->connected(), 30000);
        QQuickItem *banner = findItem(console.window(), QStringLiteral("disconnectedBanner"));
        QVERIFY(banner);
        QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible(), 10000);
        const qint64 seenBefore = remote->lastEventId();
        QVERIFY(seenBefore >= 5);

        // Back: an order placed by someone else right away, then the console reconnects.
        QProcess again;
        QVERIFY2(startServer(again), "oee --server did not restart");
        const QString meanwhile = http.submit(order(2));
        QVERIFY(!meanwhile.isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(ctl->connected(), 30000);
        QVERIFY(remote->reconnects() >= 1);
        QTRY_VERIFY_WITH_TIMEOUT(!banner->isVisible(), 10000);
        // Resumed after the last event it had: the order that ran meanwhile arrives whole
        // (a fresh subscription would have given a snapshot row without its events).
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->eventsOf(meanwhile).size(), 5, 30000);
        QCOMPARE(ctl->orders()->eventsOf(meanwhile).first().seq, 1);
        QCOMPARE(ctl->orders()->eventsOf(first).size(), 5); // nothing twice
        QVERIFY(remote->lastEventId() > seenBefore);
        // And it takes orders again.
        ctl->submit(QStringLiteral("SOL"), QStringLiteral("USDC"), QStringLiteral("0.5"), 0.01);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->rowCount(), 3, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(ctl->orders()->index(0).data(OrdersModel::StatusRole).toString(),
                                  QStringLiteral("confirmed"), 30000);
        QVERIFY(console.window()->grabWindow().save(
            QDir::current().filePath(QStringLiteral("console-remote.png"))));
        again.terminate();
        QVERIFY(again.waitForFinished(60000));
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
