#include "queue/JobQueue.h"

#include "runtime/Logging.h"

namespace oee {

namespace {

// The scripts: resources/lua/*.lua (each with a header naming its keys and arguments).
// Stages jobs: stored, but not yet visible to workers (their rows are not committed yet).
const RedisScript &stageScript()
{
    static const RedisScript s(luaScript("stage"));
    return s;
}

// Makes staged jobs visible to workers, first in first out, and wakes them.
const RedisScript &publishScript()
{
    static const RedisScript s(luaScript("publish"));
    return s;
}

const RedisScript &claimScript()
{
    static const RedisScript s(luaScript("claim"));
    return s;
}

const RedisScript &renewScript()
{
    static const RedisScript s(luaScript("renew"));
    return s;
}

const RedisScript &settleScript()
{
    static const RedisScript s(luaScript("settle"));
    return s;
}

const RedisScript &recoverScript()
{
    static const RedisScript s(luaScript("recover"));
    return s;
}

// Recreates the jobs of orders that PostgreSQL says are not finished but Redis no longer holds
// anywhere (Redis lost data: a restart without its append-only file, a FLUSHALL).
const RedisScript &ensureScript()
{
    static const RedisScript s(luaScript("ensure"));
    return s;
}

} // namespace

const RedisScript &triggerScript()
{
    static const RedisScript s(luaScript("trigger"));
    return s;
}

QStringList JobQueue::trigger(const QList<Job> &jobs)
{
    QStringList added;
    if (jobs.isEmpty())
        return added;
    QList<QByteArray> args{m_prefix};
    for (const Job &j : jobs) {
        args.append(j.id.toUtf8());
        args.append(j.payload);
    }
    const RedisReply r = m_redis->eval(triggerScript(), args);
    for (const RedisReply &e : r.elements)
        added << QString::fromUtf8(e.str);
    return added;
}

QStringList JobQueue::ensureJobs(const QList<Job> &jobs, const QByteArray &stat)
{
    QStringList recreated;
    if (jobs.isEmpty())
        return recreated;
    QList<QByteArray> args{m_prefix, stat};
    for (const Job &j : jobs) {
        args.append(j.id.toUtf8());
        args.append(j.payload);
    }
    const RedisReply r = m_redis->eval(ensureScript(), args);
    for (const RedisReply &e : r.elements)
        recreated << QString::fromUtf8(e.str);
    return recreated;
}

JobQueue::JobQueue(RedisConnection *connection, Options options)
    : m_redis(connection), m_options(std::move(options)), m_prefix(m_options.prefix.toUtf8())
{
}

QByteArray JobQueue::publishScriptSha()
{
    return publishScript().sha;
}

bool JobQueue::stage(const QList<Job> &jobs, const QByteArray &submitter, QString *error)
{
    if (jobs.isEmpty())
        return true;
    QList<QByteArray> args{m_prefix, submitter};
    args.reserve(2 + jobs.size() * 2);
    for (const Job &j : jobs) {
        args.append(j.id.toUtf8());
        args.append(j.payload);
    }
    const RedisReply r = m_redis->eval(stageScript(), args);
    if (!r.ok() && error)
        *error = QString::fromUtf8(r.str);
    return r.ok();
}

bool JobQueue::publish(const QStringList &ids, QString *error)
{
    if (ids.isEmpty())
        return true;
    QList<QByteArray> args{m_prefix};
    args.reserve(1 + ids.size());
    for (const QString &id : ids)
        args.append(id.toUtf8());
    const RedisReply r = m_redis->eval(publishScript(), args);
    if (!r.ok() && error)
        *error = QString::fromUtf8(r.str);
    return r.ok();
}

bool JobQueue::enqueue(const QList<Job> &jobs, QString *error)
{
    QStringList ids;
    for (const Job &j : jobs)
        ids << j.id;
    return stage(jobs, QByteArray(), error) && publish(ids, error);
}

QStringList JobQueue::staleStaged(qint64 olderThanMs)
{
    const RedisReply t = m_redis->command({"TIME"});
    if (!t.ok() || t.elements.size() != 2)
        return {};
    const qint64 now = t.elements[0].str.toLongLong() * 1000 + t.elements[1].str.toLongLong() / 1000;
    const RedisReply r = m_redis->command({"ZRANGEBYSCORE", m_prefix + "staged", "-inf",
                                           QByteArray::number(now - olderThanMs), "LIMIT", "0",
                                           "1000"});
    QStringList ids;
    for (const RedisReply &e : r.elements)
        ids << QString::fromUtf8(e.str);
    return ids;
}

QHash<QByteArray, QStringList> JobQueue::staleStagedBySubmitter(qint64 olderThanMs)
{
    QHash<QByteArray, QStringList> out;
    const QStringList ids = staleStaged(olderThanMs);
    if (ids.isEmpty())
        return out;
    QList<QList<QByteArray>> cmds;
    for (const QString &id : ids)
        cmds.append({"HGET", m_prefix + "job:" + id.toUtf8(), "by"});
    const QList<RedisReply> replies = m_redis->pipeline(cmds);
    for (qsizetype i = 0; i < ids.size() && i < replies.size(); ++i)
        out[replies[i].str].append(ids[i]);
    return out;
}

void JobQueue::countStat(const char *name, qint64 n)
{
    m_redis->command({"HINCRBY", m_prefix + "stats", name, QByteArray::number(n)});
}

ClaimResult JobQueue::claim(int max)
{
    ClaimResult result;
    const RedisReply r = m_redis->eval(
        claimScript(), {m_prefix, QByteArray::number(qMax(0, max)),
                        QByteArray::number(m_options.leaseMs),
                        QByteArray::number(m_options.ratePerWindow),
                        QByteArray::number(m_options.rateWindowMs)});
    if (!r.ok() || r.type != RedisReply::Array || r.elements.size() != 4) {
        result.error = QString::fromUtf8(r.str);
        return result;
    }
    const QList<RedisReply> &flat = r.elements[0].elements;
    for (qsizetype i = 0; i + 3 < flat.size(); i += 4)
        result.jobs.append(Job{QString::fromUtf8(flat[i].str), flat[i + 1].str,
                               int(flat[i + 2].toInt()), flat[i + 3].str});
    result.rateLimitedForMs = r.elements[1].toInt();
    result.nextDelayedInMs = r.elements[2].toInt();
    result.waiting = r.elements[3].toInt();
    result.ok = true;
    return result;
}

bool JobQueue::renew(const QList<Lease> &leases)
{
    if (leases.isEmpty())
        return true;
    QList<QByteArray> args{m_prefix, QByteArray::number(m_options.leaseMs)};
    for (const Lease &l : leases) {
        args.append(l.id.toUtf8());
        args.append(l.token);
    }
    return m_redis->eval(renewScript(), args).ok();
}

bool JobQueue::settle(const QList<SettleOp> &ops, QString *error)
{
    if (ops.isEmpty())
        return true;
    QList<QByteArray> args{m_prefix};
    args.reserve(1 + ops.size() * 4);
    for (const SettleOp &op : ops) {
        args.append(QByteArray(1, char(op.kind)));
        args.append(op.id.toUtf8());
        args.append(QByteArray::number(op.delayMs));
        args.append(op.token);
    }
    const RedisReply r = m_redis->eval(settleScript(), args);
    if (!r.ok() && error)
        *error = QString::fromUtf8(r.str);
    return r.ok();
}

int JobQueue::recoverStalled()
{
    const RedisReply r = m_redis->eval(recoverScript(), {m_prefix});
    return r.ok() ? int(r.toInt()) : 0;
}

bool JobQueue::remove(const QStringList &ids)
{
    QList<QList<QByteArray>> cmds;
    for (const QString &id : ids) {
        cmds.append({"ZREM", m_prefix + "staged", id.toUtf8()});
        cmds.append({"LREM", m_prefix + "wait", "0", id.toUtf8()});
        cmds.append({"DEL", m_prefix + "job:" + id.toUtf8()});
    }
    bool ok = true;
    for (const RedisReply &r : m_redis->pipeline(cmds))
        ok = ok && r.ok();
    return ok;
}

QueueCounts JobQueue::counts()
{
    QueueCounts c;
    const QList<RedisReply> r = m_redis->pipeline({
        {"LLEN", m_prefix + "wait"},
        {"ZCARD", m_prefix + "active"},
        {"ZCARD", m_prefix + "delayed"},
        {"HMGET", m_prefix + "stats", "completed", "failed", "stalled"},
    });
    for (const RedisReply &x : r) {
        if (!x.ok()) {
            c.error = QString::fromUtf8(x.str);
            return c;
        }
    }
    c.waiting = r[0].toInt();
    c.active = r[1].toInt();
    c.delayed = r[2].toInt();
    if (r[3].elements.size() == 3) {
        c.completed = r[3].elements[0].toInt();
        c.failed = r[3].elements[1].toInt();
        c.stalled = r[3].elements[2].toInt();
    }
    c.ok = true;
    return c;
}

} // namespace oee
