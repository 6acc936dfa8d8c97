#include "queue/Handoff.h"

#include <QMutexLocker>

namespace oee {

void Handoff::put(const QList<Job> &jobs, qint64 nowMs)
{
    if (jobs.isEmpty())
        return;
    QMutexLocker lock(&m_mutex);
    for (const Job &j : jobs)
        m_jobs.emplace_back(j, nowMs);
    // Split only what is worth a second thread: each take costs a fence statement, and a few
    // orders route in microseconds.
    constexpr qsizetype kMinShare = 32;
    m_share = int(qMax(kMinShare, (qsizetype(m_jobs.size()) + m_takers - 1) / m_takers));
}

QList<Job> Handoff::take(int max, qint64 nowMs, qint64 staleMs, QList<Job> *stale)
{
    QList<Job> out;
    QMutexLocker lock(&m_mutex);
    const int n = qMin(max, m_share);
    while (!m_jobs.empty() && out.size() < n) {
        auto &[job, putAt] = m_jobs.front();
        (nowMs - putAt > staleMs ? *stale : out).append(std::move(job));
        m_jobs.pop_front();
    }
    return out;
}

QList<Job> Handoff::takeAll()
{
    QList<Job> out;
    QMutexLocker lock(&m_mutex);
    for (auto &[job, putAt] : m_jobs)
        out.append(std::move(job));
    m_jobs.clear();
    return out;
}

bool Handoff::isEmpty() const
{
    QMutexLocker lock(&m_mutex);
    return m_jobs.empty();
}

} // namespace oee
