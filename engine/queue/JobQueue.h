#pragma once
#include "queue/RedisConnection.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

namespace oee {

struct Job
{
    QString id;          // the order id
    QByteArray payload;  // the order request as JSON
    int attempt = 0;     // 1-based attempt this claim starts
};

struct ClaimResult
{
    bool ok = false;
    QString error;
    QList<Job> jobs;
    qint64 rateLimitedForMs = 0;  // > 0: the global rate limit is exhausted for this long
    qint64 nextDelayedInMs = -1;  // when the earliest delayed job becomes due, -1: none
    qint64 waiting = 0;           // jobs still waiting after this claim
};

struct QueueCounts
{
    bool ok = false;
    QString error;
    qint64 waiting = 0;
    qint64 active = 0;
    qint64 delayed = 0;
    qint64 completed = 0;
    qint64 failed = 0;
    qint64 stalled = 0;
};

// How a claimed job leaves the active set.
enum class Settle : char {
    Complete = 'C', // done; counted as completed
    Fail = 'F',     // terminal failure; counted as failed
    Retry = 'R',    // to the delayed set; the attempt counts
    Defer = 'D',    // to the delayed set; the attempt does not count
    Release = 'L',  // straight back to waiting; the attempt does not count (shutdown)
};

struct SettleOp
{
    Settle kind;
    QString id;
    qint64 delayMs = 0;
};

// The durable job queue in Redis (BullMQ-like). Every move between waiting, active (leased),
// delayed and done is one Lua script, so it is atomic across threads and processes. Times come
// from the Redis server clock, so processes on several machines agree on leases and delays.
// Not thread-safe: one JobQueue per thread, over that thread's RedisConnection.
class JobQueue
{
public:
    struct Options
    {
        QString prefix = QStringLiteral("oee:");
        int leaseMs = 30000;
        int ratePerWindow = 0;    // 0: no rate limit
        int rateWindowMs = 60000;
    };

    JobQueue(RedisConnection *connection, Options options);

    // Two-phase submission: stage() stores jobs invisibly (inside the PostgreSQL transaction
    // that writes their rows), publish() makes them claimable once the rows are committed.
    // A job id already queued is not added twice.
    bool stage(const QList<Job> &jobs, QString *error);
    bool publish(const QStringList &ids, QString *error = nullptr);
    bool enqueue(const QList<Job> &jobs, QString *error); // stage + publish
    // Staged jobs never published (their submitter died between commit and publish).
    QStringList staleStaged(qint64 olderThanMs);
    // Takes up to max jobs, within the global rate limit, each with a fresh lease.
    ClaimResult claim(int max);
    bool renew(const QStringList &ids);
    bool settle(const QList<SettleOp> &ops, QString *error = nullptr);
    // Returns jobs whose lease expired (their worker died) to waiting; returns how many.
    int recoverStalled();
    bool remove(const QStringList &ids);
    QueueCounts counts();

    // For pipelining publish with other commands: EVALSHA <sha> 0 <prefix> <ids...>.
    [[nodiscard]] static QByteArray publishScriptSha();
    [[nodiscard]] const Options &options() const { return m_options; }

private:
    RedisConnection *m_redis;
    Options m_options;
    QByteArray m_prefix;
};

} // namespace oee
