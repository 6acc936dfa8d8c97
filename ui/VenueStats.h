#pragma once
#include "domain/Order.h"

#include <QAbstractListModel>
#include <QHash>

namespace oee::ui {

// Per venue, live from the committed events the console receives: routes won, fills and their
// volume (USD at the tokens' reference prices), failures (failed attempts), realised slippage
// against the attempt's quote (a distribution), and latency: quote (the step before routing →
// routing) and execution (submitted → confirmed). Display figures only.
class VenueStats : public QAbstractListModel
{
    Q_OBJECT
public:
    enum Role {
        NameRole = Qt::UserRole + 1,
        RoutesWonRole,
        FillsRole,
        VolumeRole, // "12,345 USD"
        FailuresRole,
        SlippageRole,        // "p50 -3.1 · p95 -12.0 bps"
        SlippageBucketsRole, // counts per bucket (bucketLabels)
        QuoteLatencyRole,    // "p50 210 · p95 240 ms"
        ExecLatencyRole,
        RoutingRole, // in routing (operator control)
    };
    Q_ENUM(Role)
    Q_PROPERTY(QStringList bucketLabels READ bucketLabels CONSTANT)
    Q_PROPERTY(int maxBucket READ maxBucket NOTIFY changed)

    explicit VenueStats(QObject *parent = nullptr);
    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;
    [[nodiscard]] QStringList bucketLabels() const;
    [[nodiscard]] int maxBucket() const;

    void applyEvents(const QList<oee::OrderEvent> &events);
    void setDisabled(const QStringList &venues);
    // For tests: the row's counters.
    [[nodiscard]] int routesWon(const QString &venue) const;
    [[nodiscard]] int fills(const QString &venue) const;
    [[nodiscard]] int failures(const QString &venue) const;

signals:
    void changed();

private:
    struct Venue
    {
        QString name;
        int routesWon = 0;
        int fills = 0;
        int failures = 0;
        double volumeUsd = 0;
        QList<double> slippageBps; // the last 500
        QList<qint64> quoteMs;     // the last 500
        QList<qint64> execMs;      // the last 500
        QList<int> buckets;
        bool routing = true;
    };
    struct Seen
    {
        qint64 lastAtMs = 0;
        QString tokenIn, tokenOut;
        QHash<int, quint64> quoted; // attempt → expected out (base units)
        qint64 submittedAtMs = 0;
    };
    Venue &venue(const QString &name);
    static int bucketOf(double bps);

    QList<Venue> m_venues;
    QHash<QString, Seen> m_seen; // by order id, bounded
    QStringList m_seenOrder;
};

} // namespace oee::ui
