#pragma once
#include "domain/Order.h"

#include <QAbstractListModel>
#include <QHash>
#include <QSortFilterProxyModel>
#include <QTimer>

namespace oee::ui {

// The console's orders, newest first, fed by the engine's committed events (never by HTTP).
// Keeps the last `capacity` orders with their events, so selecting one shows its history.
class OrdersModel : public QAbstractListModel
{
    Q_OBJECT
    Q_PROPERTY(int count READ count NOTIFY countChanged)
public:
    enum Role {
        OrderIdRole = Qt::UserRole + 1, // the order id
        StatusRole,                     // pending … confirmed | failed
        PairRole,                       // "SOL → USDC"
        AmountRole,                     // amount in
        VenueRole,                      // chosen venue
        AmountOutRole,                  // amount out, once confirmed
        ExecutedPriceRole,              // executed price, once confirmed
        SignatureRole,                  // transaction signature, once submitted
        ErrorRole,                      // last error
        AttemptRole,                    // current attempt
        CreatedRole,                    // "hh:mm:ss.zzz"
        LatencyMsRole,                  // submitted → terminal (ms), or age so far
        TerminalRole,                   // confirmed or failed
        OrderTypeRole,                  // market, limit, sniper
        TermsRole,                      // "limit 151 · until 12:30:00", "max 0.01 · …"
    };
    Q_ENUM(Role)

    explicit OrdersModel(int capacity = 500, QObject *parent = nullptr);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;
    [[nodiscard]] int count() const { return int(m_rows.size()); }

    void applyEvents(const QList<oee::OrderEvent> &events);
    void seed(const QList<oee::Order> &orders);
    [[nodiscard]] QList<oee::OrderEvent> eventsOf(const QString &orderId) const;
    [[nodiscard]] int rowOf(const QString &orderId) const;
    // The limit prices of the open limit orders on this pair (tokenOut per tokenIn), for the
    // quote chart's limit lines (display only).
    [[nodiscard]] QList<double> openLimitPrices(const QString &tokenIn,
                                                const QString &tokenOut) const;

signals:
    void countChanged();
    // An order reached a terminal status: its end-to-end latency in ms.
    void orderFinished(const QString &orderId, bool confirmed, qint64 latencyMs);

private:
    struct Row
    {
        QString id;
        OrderStatus status = OrderStatus::Pending;
        QString tokenIn, tokenOut, venue, signature, error;
        QString amount, amountOut, executedPrice; // exact decimal text in token units
        QString orderType, terms, limitPrice;
        int attempt = 0;
        QDateTime created;
        QList<OrderEvent> events;
    };
    void refreshOpenRows();

    QList<Row> m_rows; // newest first
    int m_capacity;
    QTimer m_tick{this};
};

// Status filter over OrdersModel ("" = all).
class OrderFilter : public QSortFilterProxyModel
{
    Q_OBJECT
    Q_PROPERTY(QString status READ status WRITE setStatus NOTIFY statusChanged)
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    [[nodiscard]] QString status() const { return m_status; }
    void setStatus(const QString &status);
    Q_INVOKABLE QString orderIdAt(int row) const;

signals:
    void statusChanged();

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_status;
};

// The selected order's event history.
class EventsModel : public QAbstractListModel
{
    Q_OBJECT
    Q_PROPERTY(QString orderId READ orderId NOTIFY orderIdChanged)
    // The selected order's status and transaction signature (its last event's, its latest).
    Q_PROPERTY(QString status READ status NOTIFY progressed)
    Q_PROPERTY(QString signature READ signature NOTIFY progressed)
public:
    enum Role {
        SeqRole = Qt::UserRole + 1,
        StatusRole,
        TimeRole,
        DetailsRole,  // the step in a sentence and its raw JSON (behind the console's toggle)
        HeadlineRole, // formatted (EventFormat): one line
        FactsRole,    // [{label, value, copy}]
        RoutesRole,   // routing: every candidate [{venue, type, pools, out, fees, impact, share,
                      // chosen}]
    };
    using QAbstractListModel::QAbstractListModel;
    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;
    [[nodiscard]] QString orderId() const { return m_orderId; }
    [[nodiscard]] QString status() const;
    [[nodiscard]] QString signature() const;
    void show(const QString &orderId, const QList<oee::OrderEvent> &events);
    void append(const QList<oee::OrderEvent> &events);

signals:
    void orderIdChanged();
    void progressed();

private:
    QString m_orderId;
    QList<OrderEvent> m_events;
};

} // namespace oee::ui
