#pragma once
#include <QAbstractListModel>
#include <QPointer>
#include <QTimer>

class QAbstractSeries;
class QXYSeries;

namespace oee {

}

namespace oee::ui {

class Backend;

// End-to-end latency distribution of finished orders: fixed buckets, counts updated in place.
class LatencyHistogram : public QAbstractListModel
{
    Q_OBJECT
    Q_PROPERTY(int maxCount READ maxCount NOTIFY maxCountChanged)
public:
    enum Role { LabelRole = Qt::UserRole + 1, CountRole };
    explicit LatencyHistogram(QObject *parent = nullptr);
    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;
    [[nodiscard]] int maxCount() const { return m_max; }
    void add(qint64 latencyMs);

signals:
    void maxCountChanged();

private:
    QList<int> m_counts;
    int m_max = 0;
};

// Queue depth (waiting / active / delayed) over the last minutes, read from Redis through the
// engine once a second and appended to chart series from C++; confirmed and failed per second.
class QueueMonitor : public QObject
{
    Q_OBJECT
    Q_PROPERTY(int waiting READ waiting NOTIFY updated)
    Q_PROPERTY(int active READ active NOTIFY updated)
    Q_PROPERTY(int delayed READ delayed NOTIFY updated)
    Q_PROPERTY(double confirmedPerSecond READ confirmedPerSecond NOTIFY updated)
    Q_PROPERTY(double failedPerSecond READ failedPerSecond NOTIFY updated)
    Q_PROPERTY(double maxDepth READ maxDepth NOTIFY updated)
    Q_PROPERTY(double windowStart READ windowStart NOTIFY updated)
    Q_PROPERTY(double windowEnd READ windowEnd NOTIFY updated)
    Q_PROPERTY(int points READ points NOTIFY updated)
    Q_PROPERTY(bool available READ available NOTIFY updated)
public:
    explicit QueueMonitor(Backend *backend, QObject *parent = nullptr);
    Q_INVOKABLE void attach(QAbstractSeries *waiting, QAbstractSeries *active,
                            QAbstractSeries *delayed);
    void orderFinished(bool confirmed);

    [[nodiscard]] int waiting() const { return m_waiting; }
    [[nodiscard]] int active() const { return m_active; }
    [[nodiscard]] int delayed() const { return m_delayed; }
    [[nodiscard]] double confirmedPerSecond() const { return m_confirmedRate; }
    [[nodiscard]] double failedPerSecond() const { return m_failedRate; }
    [[nodiscard]] double maxDepth() const { return m_maxDepth; }
    [[nodiscard]] double windowStart() const { return m_windowStart; }
    [[nodiscard]] double windowEnd() const { return m_windowEnd; }
    [[nodiscard]] int points() const;
    [[nodiscard]] bool available() const { return m_available; }

signals:
    void updated();

private:
    void poll();

    Backend *m_backend;
    QPointer<QXYSeries> m_series[3];
    int m_waiting = 0, m_active = 0, m_delayed = 0;
    int m_confirmedThisSecond = 0, m_failedThisSecond = 0;
    double m_confirmedRate = 0, m_failedRate = 0, m_maxDepth = 10;
    double m_windowStart = 0, m_windowEnd = 1;
    bool m_available = false;
    QTimer m_timer{this};
};

} // namespace oee::ui
