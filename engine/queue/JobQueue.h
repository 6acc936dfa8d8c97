#pragma once
#include "queue/RedisConnection.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

namespace oee {

struct Job
{
    QString id;         // the order id
    QByteArray payload; // the order request as JSON
    int attempt = 0;    // how many times the job was claimed (PostgreSQL counts attempts)
    QByteArray token;   // this claim's lease token: renew and settle act only while it holds
};

struct ClaimResult
{
    bool ok = false;
    QString error;
    QList<Job> jobs;
    qint64 rateLimitedForMs = 0; // > 0: the global rate limit is exhausted for this long
    qint64 nextDelayedInMs = -1; // when the earliest delayed job becomes due, -1: none
    qint64 waiting = 0;          // jobs still waiting after this claim
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
    Park = 'P',     // the order rests (open): the job goes; the RestingBook brings it back
};

struct SettleOp
{
    Settle kind;
    QString id;
    qint64 delayMs = 0;
    QByteArray token; // the claim's token; a superseded claim settles nothing
};

// A job this worker holds, for lease renewal.
struct Lease
{
    QString id;
    QByteArray token;
};

// The durable job queue in Redis (BullMQ-like). Every move between waiting, active (leased),
// delayed and done is one Lua script, so it is atomic across threads and processes. Times come
// from the Redis server clock, so processes on several machines agree on leases and delays.
//
// Sharded: N shards ({oee:0} … {oee:N-1}, see RedisKeys.h), an order's job in the shard its
// id hashes to, so on a Redis Cluster the shards spread over the masters. Operations on many
// jobs are grouped by shard and pipelined (one round trip for all shards); a claim asks every
// shard for its share, starting at a shard that rotates with each claim, and asks again those
// that had more. The global rate limit is one counter beside the shards (rate.lua), taken
// before the claim and given back for what the shards did not have.
// Not thread-safe: one JobQueue per thread, over that thread's RedisConnection.
class JobQueue
{
public:
    struct Options
    {
        QString prefix = QStringLiteral("oee:");
        int leaseMs = 30000;
        int ratePerWindow = 0; // 0: no rate limit
        int rateWindowMs = 60000;
        int shards = 1; // every process on one Redis must agree (checked at start)
    };

    JobQueue(RedisConnection *connection, Options options);

    // One script call per shard that has something to do: its keys and its arguments.
    struct ShardCalls
    {
        QList<QList<QByteArray>> keys, args;
        [[nodiscard]] bool isEmpty() const { return keys.isEmpty(); }
    };

    // Two-phase submission: stage() stores jobs invisibly (inside the PostgreSQL transaction
    // that writes their rows), publish() makes them claimable once the rows are committed.
    // A job id already queued is not added twice.
    // `submitter` names the process whose PostgreSQL session inserts their rows (the sweep
    // must not drop a staged job while that session may still commit).
    bool stage(const QList<Job> &jobs, const QByteArray &submitter, QString *error);
    bool publish(const QStringList &ids, QString *error = nullptr);
    bool enqueue(const QList<Job> &jobs, QString *error); // stage + publish
    // Staged jobs never published (their submitter died between commit and publish).
    QStringList staleStaged(qint64 olderThanMs);
    // The same, grouped by submitter ("" for jobs staged without one).
    QHash<QByteArray, QStringList> staleStagedBySubmitter(qint64 olderThanMs);
    // Adds n to a counter in the queue's stats hash (observability of rare paths).
    void countStat(const char *name, qint64 n = 1);
    // Takes up to max jobs, within the global rate limit, each with a fresh lease and token.
    ClaimResult claim(int max);
    // Extends the leases still held under these tokens; a lease taken over by a later claim
    // (after this worker stalled past it) is left alone.
    bool renew(const QList<Lease> &leases);
    bool settle(const QList<SettleOp> &ops, QString *error = nullptr);
    // Returns jobs whose lease expired (their worker died) to waiting; returns how many.
    int recoverStalled();
    // For orders PostgreSQL says are unfinished (or resting orders whose trigger fired):
    // creates (as waiting) each job that Redis holds nowhere, counted under `stat` in the
    // stats hash, and wakes the workers; returns their ids.
    QStringList ensureJobs(const QList<Job> &jobs, const QByteArray &stat = "reconciled");
    // A resting order's trigger: its job back unless it already exists (a job is never there
    // twice). The first `leaseHere` of them are leased at once, as claim() would, for this
    // process's own worker threads (no claim round trip); the others wait in the queue, ahead
    // of new orders, and the workers of every process are woken.
    struct Triggered
    {
        bool ok = false;
        QStringList queued;
        QList<Job> leased;
    };
    Triggered trigger(const QList<Job> &jobs, int leaseHere = 0);
    bool remove(const QStringList &ids);
    QueueCounts counts();

    // For pipelining publish with other commands: one EVALSHA per shard holding some of ids.
    [[nodiscard]] QList<QList<QByteArray>> publishCommands(const QStringList &ids) const;
    [[nodiscard]] const Options &options() const { return m_options; }
    [[nodiscard]] int shardOf(const QString &id) const;
    // The shard count this Redis was set up with (the first process to start decides);
    // false with an error naming both when options().shards differs.
    bool checkShardCount(QString *error);

private:
    struct Shard
    {
        QByteArray jobPrefix, wait, active, delayed, staged, stats;
    };
    // Ids, or things with an id, grouped by shard (shard index → them, in the order given).
    template <typename T> [[nodiscard]] QList<QList<T>> byShard(const QList<T> &items) const;
    // The hash of each job (or lease, or settle op) in one shard, for a script's KEYS.
    template <typename T>
    [[nodiscard]] QList<QByteArray> jobKeys(int shard, const QList<T> &items) const;
    [[nodiscard]] ShardCalls publishCalls(const QStringList &ids) const;
    // Runs the calls in one pipeline (NOSCRIPT answered by EVAL, per call).
    QList<RedisReply> evalAll(const RedisScript &script, const ShardCalls &calls);

    RedisConnection *m_redis;
    Options m_options;
    QByteArray m_prefix;
    QByteArray m_wake;
    QList<Shard> m_shards;
    int m_nextShard = 0; // where the next claim starts (rotates: every shard gets its turn)
};

} // namespace oee
