#include "queue/JobQueue.h"

#include "runtime/Logging.h"

namespace oee {

namespace {

// Server time in ms; scripts are effect-replicated (Redis >= 5), so TIME is allowed.
#define OEE_LUA_NOW "local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

// Stages jobs: stored, but not yet visible to workers (their rows are not committed yet).
const RedisScript &stageScript()
{
    static const RedisScript s(QByteArrayLiteral(
        OEE_LUA_NOW
        "local p = ARGV[1]\n"
        "local by = ARGV[2]\n"
        "local added = 0\n"
        "for i = 3, #ARGV, 2 do\n"
        "  local id = ARGV[i]\n"
        "  if redis.call('HSETNX', p .. 'job:' .. id, 'data', ARGV[i + 1]) == 1 then\n"
        "    redis.call('HSET', p .. 'job:' .. id, 'attempts', 0, 'by', by)\n"
        "    redis.call('ZADD', p .. 'staged', now, id)\n"
        "    added = added + 1\n"
        "  end\n"
        "end\n"
        "return added\n"));
    return s;
}

// Makes staged jobs visible to workers, first in first out, and wakes them.
const RedisScript &publishScript()
{
    static const RedisScript s(QByteArrayLiteral(
        "local p = ARGV[1]\n"
        "local n = 0\n"
        "for i = 2, #ARGV do\n"
        "  if redis.call('ZREM', p .. 'staged', ARGV[i]) == 1 then\n"
        "    redis.call('LPUSH', p .. 'wait', ARGV[i])\n"
        "    n = n + 1\n"
        "  end\n"
        "end\n"
        "if n > 0 then redis.call('PUBLISH', p .. 'wake', n) end\n"
        "return n\n"));
    return s;
}

const RedisScript &claimScript()
{
    static const RedisScript s(QByteArrayLiteral(
        OEE_LUA_NOW
        "local p = ARGV[1]\n"
        "local max = tonumber(ARGV[2])\n"
        "local lease = tonumber(ARGV[3])\n"
        "local rlMax = tonumber(ARGV[4])\n"
        "local rlWin = tonumber(ARGV[5])\n"
        "local due = redis.call('ZRANGEBYSCORE', p .. 'delayed', '-inf', now, 'LIMIT', 0, 1000)\n"
        "for _, id in ipairs(due) do\n"
        "  redis.call('ZREM', p .. 'delayed', id)\n"
        "  redis.call('RPUSH', p .. 'wait', id)\n"
        "end\n"
        "local limited = 0\n"
        "if rlMax > 0 then\n"
        "  local used = tonumber(redis.call('GET', p .. 'rl') or '0')\n"
        "  if used >= rlMax then\n"
        "    limited = redis.call('PTTL', p .. 'rl')\n"
        "    if limited <= 0 then limited = 1 end\n"
        "    max = 0\n"
        "  elseif rlMax - used < max then max = rlMax - used end\n"
        "end\n"
        "local out = {}\n"
        "local taken = 0\n"
        "if max > 0 then\n"
        "  local ids = redis.call('RPOP', p .. 'wait', max)\n"
        "  if ids then\n"
        "    for _, id in ipairs(ids) do\n"
        "      local jk = p .. 'job:' .. id\n"
        "      local data = redis.call('HGET', jk, 'data')\n"
        "      if data then\n"
        "        local att = redis.call('HINCRBY', jk, 'attempts', 1)\n"
        "        local tok = redis.call('HINCRBY', jk, 'claims', 1) .. ':' .. now\n"
        "        redis.call('HSET', jk, 'token', tok)\n"
        "        redis.call('ZADD', p .. 'active', now + lease, id)\n"
        "        out[#out + 1] = id; out[#out + 1] = data; out[#out + 1] = att; out[#out + 1] = tok\n"
        "        taken = taken + 1\n"
        "      end\n"
        "    end\n"
        "  end\n"
        "  if rlMax > 0 and taken > 0 then\n"
        "    if redis.call('INCRBY', p .. 'rl', taken) == taken then\n"
        "      redis.call('PEXPIRE', p .. 'rl', rlWin)\n"
        "    end\n"
        "  end\n"
        "end\n"
        "local nd = -1\n"
        "local first = redis.call('ZRANGE', p .. 'delayed', 0, 0, 'WITHSCORES')\n"
        "if first[2] then nd = math.max(0, tonumber(first[2]) - now) end\n"
        "return {out, limited, nd, redis.call('LLEN', p .. 'wait')}\n"));
    return s;
}

const RedisScript &renewScript()
{
    static const RedisScript s(QByteArrayLiteral(
        OEE_LUA_NOW
        "local p = ARGV[1]\n"
        "local deadline = now + tonumber(ARGV[2])\n"
        "local n = 0\n"
        "for i = 3, #ARGV, 2 do\n"
        "  if redis.call('HGET', p .. 'job:' .. ARGV[i], 'token') == ARGV[i + 1] and\n"
        "     redis.call('ZADD', p .. 'active', 'XX', 'CH', deadline, ARGV[i]) == 1 then n = n + 1 end\n"
        "end\n"
        "return n\n"));
    return s;
}

const RedisScript &settleScript()
{
    static const RedisScript s(QByteArrayLiteral(
        OEE_LUA_NOW
        "local p = ARGV[1]\n"
        "local n = 0\n"
        "for i = 2, #ARGV, 4 do\n"
        "  local op, id, delay, tok = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]\n"
        "  local jk = p .. 'job:' .. id\n"
        "  if redis.call('HGET', jk, 'token') == tok and redis.call('ZREM', p .. 'active', id) == 1 then\n"
        "    n = n + 1\n"
        "    if op == 'C' then\n"
        "      redis.call('DEL', jk); redis.call('HINCRBY', p .. 'stats', 'completed', 1)\n"
        "    elseif op == 'P' then\n"
        "      redis.call('DEL', jk); redis.call('HINCRBY', p .. 'stats', 'parked', 1)\n"
        "    elseif op == 'F' then\n"
        "      redis.call('DEL', jk); redis.call('HINCRBY', p .. 'stats', 'failed', 1)\n"
        "    elseif op == 'R' then\n"
        "      redis.call('ZADD', p .. 'delayed', now + delay, id)\n"
        "    elseif op == 'D' then\n"
        "      redis.call('HINCRBY', jk, 'attempts', -1)\n"
        "      redis.call('ZADD', p .. 'delayed', now + delay, id)\n"
        "    elseif op == 'L' then\n"
        "      redis.call('HINCRBY', jk, 'attempts', -1)\n"
        "      redis.call('RPUSH', p .. 'wait', id)\n"
        "    end\n"
        "  end\n"
        "end\n"
        "return n\n"));
    return s;
}

const RedisScript &recoverScript()
{
    static const RedisScript s(QByteArrayLiteral(
        OEE_LUA_NOW
        "local p = ARGV[1]\n"
        "local ids = redis.call('ZRANGEBYSCORE', p .. 'active', '-inf', now, 'LIMIT', 0, 1000)\n"
        "for _, id in ipairs(ids) do\n"
        "  redis.call('ZREM', p .. 'active', id)\n"
        "  redis.call('RPUSH', p .. 'wait', id)\n"
        "  redis.call('HINCRBY', p .. 'stats', 'stalled', 1)\n"
        "end\n"
        "if #ids > 0 then redis.call('PUBLISH', p .. 'wake', #ids) end\n"
        "return #ids\n"));
    return s;
}

// Recreates the jobs of orders that PostgreSQL says are not finished but Redis no longer holds
// anywhere (Redis lost data: a restart without its append-only file, a FLUSHALL).
const RedisScript &ensureScript()
{
    static const RedisScript s(QByteArrayLiteral(
        "local p = ARGV[1]\n"
        "local out = {}\n"
        "for i = 3, #ARGV, 2 do\n"
        "  local id = ARGV[i]\n"
        "  local jk = p .. 'job:' .. id\n"
        "  local held = redis.call('EXISTS', jk) == 1 and (\n"
        "    redis.call('ZSCORE', p .. 'active', id) or redis.call('ZSCORE', p .. 'delayed', id) or\n"
        "    redis.call('ZSCORE', p .. 'staged', id) or redis.call('LPOS', p .. 'wait', id))\n"
        "  if not held then\n"
        "    redis.call('HSET', jk, 'data', ARGV[i + 1], 'attempts', 0)\n"
        "    redis.call('LREM', p .. 'wait', 0, id)\n"
        "    redis.call('RPUSH', p .. 'wait', id)\n"
        "    out[#out + 1] = id\n"
        "  end\n"
        "end\n"
        "if #out > 0 then\n"
        "  redis.call('HINCRBY', p .. 'stats', ARGV[2], #out)\n"
        "  redis.call('PUBLISH', p .. 'wake', #out)\n"
        "end\n"
        "return out\n"));
    return s;
}

} // namespace

const RedisScript &triggerScript()
{
    // ARGV: prefix, then id, payload pairs. A job that exists is held somewhere (waiting,
    // active, delayed or staged: every script that ends a job deletes it, atomically; every
    // job has its data), so one HSETNX decides and stores; O(1) per job, unlike the
    // reconciler's search of every list.
    static const RedisScript s(QByteArrayLiteral(
        "local p = ARGV[1]\n"
        "local out = {}\n"
        "for i = 2, #ARGV, 2 do\n"
        "  if redis.call('HSETNX', p .. 'job:' .. ARGV[i], 'data', ARGV[i + 1]) == 1 then\n"
        "    out[#out + 1] = ARGV[i]\n"
        "  end\n"
        "end\n"
        "if #out > 0 then\n"
        // At the end workers pop from, ahead of new orders, first given first out; in chunks:
        // unpack() has a limit on results.
        "  local rev = {}\n"
        "  for j = #out, 1, -1 do rev[#rev + 1] = out[j] end\n"
        "  for j = 1, #rev, 4000 do\n"
        "    redis.call('RPUSH', p .. 'wait', unpack(rev, j, math.min(j + 3999, #rev)))\n"
        "  end\n"
        "  redis.call('HINCRBY', p .. 'stats', 'triggered', #out)\n"
        "  redis.call('PUBLISH', p .. 'wake', #out)\n"
        "end\n"
        "return out\n"));
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
