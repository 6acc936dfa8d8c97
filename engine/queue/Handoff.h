#pragma once
#include "queue/JobQueue.h"

#include <QMutex>
#include <deque>

namespace oee {

// Jobs this process's resting book leased for its own worker threads (JobQueue::trigger): a
// burst of triggered orders reaches a worker from memory, without a claim round trip. Each
// take is a share of what was put (a burst split over the threads, a few orders not split); a
// thread that is free sooner takes the next share too, so a thread busy elsewhere holds nothing
// up.
// Thread-safe; shared by the book and the workers of one process.
class Handoff
{
public:
    explicit Handoff(int takers) : m_takers(qMax(1, takers)) {}

    void put(const QList<Job> &jobs, qint64 nowMs);
    // Up to max jobs (at most a share). The ones put more than staleMs ago go to *stale
    // instead: their lease may have lapsed, and another claim may hold them now.
    QList<Job> take(int max, qint64 nowMs, qint64 staleMs, QList<Job> *stale);
    QList<Job> takeAll();
    [[nodiscard]] bool isEmpty() const;

private:
    mutable QMutex m_mutex;
    int m_takers;
    int m_share = 1;
    std::deque<std::pair<Job, qint64>> m_jobs; // with when they were put
};

} // namespace oee
