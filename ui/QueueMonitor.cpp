#include "QueueMonitor.h"

#include "Backend.h"

#include <QDateTime>
#include <QXYSeries>

namespace oee::ui {

namespace {
constexpr int kBuckets[] = {10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
constexpr int kBucketCount = int(std::size(kBuckets)) + 1;
constexpr int kWindowSeconds = 300;
} // namespace

LatencyHistogram::LatencyHistogram(QObject *parent)
    : QAbstractListModel(parent), m_counts(kBucketCount, 0)
{
}

int LatencyHistogram::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : kBucketCount;
}

QHash<int, QByteArray> LatencyHistogram::roleNames() const
{
    return {{LabelRole, "label"}, {CountRole, "count"}};
}

QVariant LatencyHistogram::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= kBucketCount)
        return {};
    if (role == CountRole)
        return m_counts[index.row()];
    if (role == LabelRole) {
        const int i = index.row();
        const auto fmt = [](int ms) {
            return ms >= 1000 ? QStringLiteral("%1s").arg(ms / 1000.0) : QString::number(ms);
        };
        // The bucket's upper bound (the axis says so), short enough for a narrow column.
        return i < kBucketCount - 1 ? fmt(kBuckets[i])
                                    : QStringLiteral(">") + fmt(kBuckets[kBucketCount - 2]);
    }
    return {};
}

void LatencyHistogram::add(qint64 latencyMs)
{
    int i = 0;
    while (i < kBucketCount - 1 && latencyMs > kBuckets[i])
        ++i;
    ++m_counts[i];
    emit dataChanged(index(i), index(i), {CountRole});
    if (m_counts[i] > m_max) {
        m_max = m_counts[i];
        emit maxCountChanged();
    }
}

QueueMonitor::QueueMonitor(Backend *backend, QObject *parent) : QObject(parent), m_backend(backend)
{
    connect(&m_timer, &QTimer::timeout, this, &QueueMonitor::poll);
    m_timer.start(1000);
}

void QueueMonitor::attach(QAbstractSeries *waiting, QAbstractSeries *active,
                          QAbstractSeries *delayed)
{
    m_series[0] = qobject_cast<QXYSeries *>(waiting);
    m_series[1] = qobject_cast<QXYSeries *>(active);
    m_series[2] = qobject_cast<QXYSeries *>(delayed);
    poll();
}

int QueueMonitor::points() const
{
    return m_series[0] ? m_series[0]->count() : 0;
}

void QueueMonitor::orderFinished(bool confirmed)
{
    (confirmed ? m_confirmedThisSecond : m_failedThisSecond)++;
}

void QueueMonitor::poll()
{
    m_confirmedRate = m_confirmedThisSecond;
    m_failedRate = m_failedThisSecond;
    m_confirmedThisSecond = m_failedThisSecond = 0;
    m_backend->fetchQueueCounts(this, [this](const QueueCounts &c) {
        m_available = c.ok;
        if (c.ok) {
            m_waiting = int(c.waiting);
            m_active = int(c.active);
            m_delayed = int(c.delayed);
        }
        const double now = double(QDateTime::currentMSecsSinceEpoch());
        m_windowEnd = now;
        m_windowStart = now - kWindowSeconds * 1000.0;
        const int values[3] = {m_waiting, m_active, m_delayed};
        double top = 10;
        for (int k = 0; k < 3; ++k) {
            QXYSeries *s = m_series[k];
            if (!s)
                continue;
            if (c.ok)
                s->append(now, values[k]);
            int expired = 0;
            while (expired < s->count() && s->at(expired).x() < m_windowStart)
                ++expired;
            if (expired)
                s->removePoints(0, expired);
            for (int i = 0; i < s->count(); ++i)
                top = std::max(top, s->at(i).y());
        }
        m_maxDepth = top * 1.15;
        emit updated();
    });
}

} // namespace oee::ui
