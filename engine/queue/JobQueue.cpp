#include "queue/JobQueue.h"

#include "queue/RedisKeys.h"
#include "runtime/Logging.h"

#include <type_traits>

namespace oee {

namespace {

// The scripts: resources/lua/*.lua (each with a header naming its keys and arguments).
#define OEE_SCRIPT(fn, file)                                                                       \
    const RedisScript &fn()                                                                        \
    {                                                                                              \
        static const RedisScript s(luaScript(file));                                               \
        return s;                                                                                  \
    }
OEE_SCRIPT(stageScript, "stage")     // stores jobs, invisible to workers until published
OEE_SCRIPT(publishScript, "publish") // makes staged jobs visible, first in first out
OEE_SCRIPT(claimScript, "claim")
OEE_SCRIPT(rateScript, "rate") // the global rate limit, beside the shards
OEE_SCRIPT(renewScript, "renew")
OEE_SCRIPT(settleScript, "settle")
OEE_SCRIPT(recoverScript, "recover")
// Recreates the jobs of orders that PostgreSQL says are not finished but Redis no longer holds
// anywhere (Redis lost data: a restart without its append-only file, a FLUSHALL).
OEE_SCRIPT(ensureScript, "ensure")
OEE_SCRIPT(triggerScript, "trigger")
#undef OEE_SCRIPT

QList<QByteArray> idsAndPayloads(const QList<Job> &jobs)
{
    QList<QByteArray> out;
    out.reserve(jobs.size() * 2);
    for (const Job &j : jobs) {
        out.append(j.id.toUtf8());
        out.append(j.payload);
    }
    return out;
}

// A script call's keys and arguments.
struct Call
{
    QList<QByteArray> keys, args;
};

// One call per shard with something in `grouped` (shard index → its items).
template <typename Items, typename Build>
JobQueue::ShardCalls perShard(const QList<Items> &grouped, Build build)
{
    JobQueue::ShardCalls out;
    for (int s = 0; s < grouped.size(); ++s) {
        if (grouped[s].isEmpty())
            continue;
        Call c = build(s, grouped[s]);
        out.keys.append(std::move(c.keys));
        out.args.append(std::move(c.args));
    }
    return out;
}

// True when every reply is; else the first error in *error.
bool allOk(const QList<RedisReply> &replies, QString *error)
{
    for (const RedisReply &r : replies) {
        if (!r.ok()) {
            if (error)
                *error = QString::fromUtf8(r.str);
            return false;
        }
    }
    return true;
}

// The ids the scripts answered with, all shards together.
QStringList idsIn(const QList<RedisReply> &replies)
{
    QStringList ids;
    for (const RedisReply &r : replies)
        for (const RedisReply &e : r.elements)
            ids << QString::fromUtf8(e.str);
    return ids;
}

} // namespace

JobQueue::JobQueue(RedisConnection *connection, Options options)
    : m_redis(connection), m_options(std::move(options)), m_prefix(m_options.prefix.toUtf8()),
      m_wake(rkeys::wakeChannel(m_prefix))
{
    m_options.shards = qMax(1, m_options.shards);
    for (int i = 0; i < m_options.shards; ++i) {
        const QByteArray tag = rkeys::shard(m_prefix, i);
        m_shards.append(Shard{tag + "job:", tag + "wait", tag + "active", tag + "delayed",
                              tag + "staged", tag + "stats"});
    }
}

int JobQueue::shardOf(const QString &id) const
{
    return rkeys::shardOf(id, m_options.shards);
}

bool JobQueue::checkShardCount(QString *error)
{
    const QByteArray key = rkeys::shardCount(m_prefix);
    const QByteArray mine = QByteArray::number(m_options.shards);
    const QList<RedisReply> r = m_redis->pipeline({{"SET", key, mine, "NX"}, {"GET", key}});
    if (!r.last().ok()) {
        *error = QString::fromUtf8(r.last().str);
        return false;
    }
    if (r.last().str != mine) {
        *error =
            QStringLiteral("this Redis holds a queue of %1 shard(s) (%2) but QUEUE_SHARDS is %3: "
                           "every process must use the same count, and changing it needs an "
                           "empty queue")
                .arg(QString::fromUtf8(r.last().str), QString::fromUtf8(key),
                     QString::fromUtf8(mine));
        return false;
    }
    return true;
}

template <typename T> QList<QList<T>> JobQueue::byShard(const QList<T> &items) const
{
    QList<QList<T>> out(m_options.shards);
    for (const T &item : items) {
        if constexpr (std::is_same_v<T, QString>)
            out[shardOf(item)].append(item);
        else
            out[shardOf(item.id)].append(item);
    }
    return out;
}

QList<RedisReply> JobQueue::evalAll(const RedisScript &script, const ShardCalls &calls)
{
    if (calls.keys.size() == 1)
        return {m_redis->eval(script, calls.keys.first(), calls.args.first())};
    QList<QList<QByteArray>> commands;
    for (qsizetype i = 0; i < calls.keys.size(); ++i)
        commands.append(RedisConnection::evalCommand(script, calls.keys[i], calls.args[i]));
    QList<RedisReply> replies = m_redis->pipeline(commands);
    for (qsizetype i = 0; i < replies.size(); ++i)
        if (replies[i].type == RedisReply::Error && replies[i].str.startsWith("NOSCRIPT"))
            replies[i] = m_redis->eval(script, calls.keys[i], calls.args[i]); // a node new to it
    return replies;
}

template <typename T> QList<QByteArray> JobQueue::jobKeys(int shard, const QList<T> &items) const
{
    QList<QByteArray> keys;
    keys.reserve(items.size());
    for (const T &item : items)
        keys.append(m_shards[shard].jobPrefix + item.id.toUtf8());
    return keys;
}

JobQueue::Triggered JobQueue::trigger(const QList<Job> &jobs, int leaseHere)
{
    Triggered out;
    out.ok = true;
    QHash<QString, QByteArray> payloads; // of the ones to lease here
    for (qsizetype i = 0; i < qMin<qsizetype>(leaseHere, jobs.size()); ++i)
        payloads.insert(jobs[i].id, jobs[i].payload);
    const ShardCalls calls = perShard(byShard(jobs), [&](int s, const QList<Job> &mine) {
        const Shard &sh = m_shards[s];
        QList<QByteArray> args{m_wake, QByteArray::number(m_options.leaseMs)};
        for (const Job &j : mine)
            args << j.id.toUtf8() << j.payload << (payloads.contains(j.id) ? "1" : "0");
        return Call{QList<QByteArray>{sh.wait, sh.stats, sh.active} + jobKeys(s, mine), args};
    });
    if (calls.isEmpty())
        return out;
    for (const RedisReply &r : evalAll(triggerScript(), calls)) {
        if (!r.ok() || r.elements.size() != 2) {
            out.ok = false; // that shard's jobs stay where they were: the sweep fires them again
            continue;
        }
        for (const RedisReply &id : r.elements[0].elements)
            out.queued << QString::fromUtf8(id.str);
        const QList<RedisReply> &flat = r.elements[1].elements;
        for (qsizetype j = 0; j + 2 < flat.size(); j += 3) {
            const QString id = QString::fromUtf8(flat[j].str);
            out.leased.append(
                Job{id, payloads.value(id), int(flat[j + 1].toInt()), flat[j + 2].str});
        }
    }
    return out;
}

QStringList JobQueue::ensureJobs(const QList<Job> &jobs, const QByteArray &stat)
{
    const ShardCalls calls = perShard(byShard(jobs), [&](int s, const QList<Job> &mine) {
        const Shard &sh = m_shards[s];
        return Call{QList<QByteArray>{sh.active, sh.delayed, sh.staged, sh.wait, sh.stats} +
                        jobKeys(s, mine),
                    QList<QByteArray>{m_wake, stat} + idsAndPayloads(mine)};
    });
    return calls.isEmpty() ? QStringList() : idsIn(evalAll(ensureScript(), calls));
}

bool JobQueue::stage(const QList<Job> &jobs, const QByteArray &submitter, QString *error)
{
    const ShardCalls calls = perShard(byShard(jobs), [&](int s, const QList<Job> &mine) {
        return Call{QList<QByteArray>{m_shards[s].staged} + jobKeys(s, mine),
                    QList<QByteArray>{submitter} + idsAndPayloads(mine)};
    });
    return calls.isEmpty() || allOk(evalAll(stageScript(), calls), error);
}

JobQueue::ShardCalls JobQueue::publishCalls(const QStringList &ids) const
{
    return perShard(byShard(ids), [this](int s, const QStringList &mine) {
        QList<QByteArray> args{m_wake};
        for (const QString &id : mine)
            args.append(id.toUtf8());
        return Call{{m_shards[s].staged, m_shards[s].wait}, args};
    });
}

QList<QList<QByteArray>> JobQueue::publishCommands(const QStringList &ids) const
{
    const ShardCalls calls = publishCalls(ids);
    QList<QList<QByteArray>> commands;
    for (qsizetype i = 0; i < calls.keys.size(); ++i)
        commands.append(
            RedisConnection::evalCommand(publishScript(), calls.keys[i], calls.args[i]));
    return commands;
}

bool JobQueue::publish(const QStringList &ids, QString *error)
{
    const ShardCalls calls = publishCalls(ids);
    return calls.isEmpty() || allOk(evalAll(publishScript(), calls), error);
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
    const qint64 now =
        t.elements[0].str.toLongLong() * 1000 + t.elements[1].str.toLongLong() / 1000;
    QList<QList<QByteArray>> cmds;
    for (const Shard &sh : std::as_const(m_shards))
        cmds.append({"ZRANGEBYSCORE", sh.staged, "-inf", QByteArray::number(now - olderThanMs),
                     "LIMIT", "0", "1000"});
    QStringList ids;
    for (const RedisReply &r : m_redis->pipeline(cmds))
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
        cmds.append({"HGET", m_shards[shardOf(id)].jobPrefix + id.toUtf8(), "by"});
    const QList<RedisReply> replies = m_redis->pipeline(cmds);
    for (qsizetype i = 0; i < ids.size() && i < replies.size(); ++i)
        out[replies[i].str].append(ids[i]);
    return out;
}

void JobQueue::countStat(const char *name, qint64 n)
{
    // Rare paths (the staged-job sweep): counted in shard 0's stats; counts() sums the shards.
    m_redis->command({"HINCRBY", m_shards.first().stats, name, QByteArray::number(n)});
}

ClaimResult JobQueue::claim(int max)
{
    ClaimResult result;
    max = qMax(0, max);
    // The global rate limit first: how many this claim may take, in which window.
    QByteArray window;
    int granted = max;
    if (m_options.ratePerWindow > 0 && max > 0) {
        const RedisReply r = m_redis->eval(rateScript(), {rkeys::rateLimit(m_prefix)},
                                           {"take", QByteArray::number(max),
                                            QByteArray::number(m_options.ratePerWindow),
                                            QByteArray::number(m_options.rateWindowMs)});
        if (!r.ok() || r.elements.size() != 3) {
            result.error = QString::fromUtf8(r.str);
            return result;
        }
        granted = int(r.elements[0].toInt());
        result.rateLimitedForMs = r.elements[1].toInt();
        window = r.elements[2].str;
    }
    // Every shard its share (the remainder to the shards after a rotating start), then those
    // that still had jobs waiting the room left: fair across shards and nothing left idle.
    const int n = m_options.shards;
    const int start = m_nextShard;
    m_nextShard = (m_nextShard + 1) % n;
    QList<qint64> waiting(n, 0);
    int taken = 0;
    qint64 nextDelayed = -1;
    bool failed = false;
    for (int pass = 0; pass < 2 && !failed; ++pass) {
        const int room = granted - taken;
        QList<int> shards;
        ShardCalls calls;
        for (int k = 0; k < n; ++k) {
            const int s = (start + k) % n;
            int share = room / n + (k < room % n ? 1 : 0);
            if (pass == 1) {
                // The first shard (in this claim's order) that has more gets the room left.
                if (waiting[s] <= 0 || !shards.isEmpty())
                    continue;
                share = room;
            }
            shards.append(s);
            const Shard &sh = m_shards[s];
            calls.keys.append({sh.delayed, sh.wait, sh.active});
            calls.args.append(
                {sh.jobPrefix, QByteArray::number(share), QByteArray::number(m_options.leaseMs)});
        }
        if (shards.isEmpty() || (pass == 1 && room <= 0))
            break;
        const QList<RedisReply> replies = evalAll(claimScript(), calls);
        for (qsizetype i = 0; i < replies.size(); ++i) {
            const RedisReply &r = replies[i];
            if (!r.ok() || r.type != RedisReply::Array || r.elements.size() != 3) {
                result.error = QString::fromUtf8(r.str);
                failed = true;
                continue;
            }
            const QList<RedisReply> &flat = r.elements[0].elements;
            for (qsizetype j = 0; j + 3 < flat.size(); j += 4) {
                result.jobs.append(Job{QString::fromUtf8(flat[j].str), flat[j + 1].str,
                                       int(flat[j + 2].toInt()), flat[j + 3].str});
                ++taken;
            }
            const qint64 nd = r.elements[1].toInt();
            if (nd >= 0)
                nextDelayed = nextDelayed < 0 ? nd : qMin(nextDelayed, nd);
            waiting[shards[i]] = r.elements[2].toInt();
        }
        if (taken >= granted)
            break;
    }
    if (!window.isEmpty() && taken < granted) // give back what the shards did not have
        m_redis->eval(rateScript(), {rkeys::rateLimit(m_prefix)},
                      {"give", QByteArray::number(granted - taken), window});
    if (failed && result.jobs.isEmpty())
        return result; // nothing claimed: the caller retries (claimed jobs are run, not lost)
    result.nextDelayedInMs = nextDelayed;
    for (const qint64 w : std::as_const(waiting))
        result.waiting += w;
    result.ok = true;
    return result;
}

bool JobQueue::renew(const QList<Lease> &leases)
{
    const ShardCalls calls = perShard(byShard(leases), [this](int s, const QList<Lease> &mine) {
        QList<QByteArray> args{QByteArray::number(m_options.leaseMs)};
        for (const Lease &l : mine)
            args << l.id.toUtf8() << l.token;
        return Call{QList<QByteArray>{m_shards[s].active} + jobKeys(s, mine), args};
    });
    return calls.isEmpty() || allOk(evalAll(renewScript(), calls), nullptr);
}

bool JobQueue::settle(const QList<SettleOp> &ops, QString *error)
{
    const ShardCalls calls = perShard(byShard(ops), [this](int s, const QList<SettleOp> &mine) {
        const Shard &sh = m_shards[s];
        QList<QByteArray> args;
        args.reserve(mine.size() * 4);
        for (const SettleOp &op : mine)
            args << QByteArray(1, char(op.kind)) << op.id.toUtf8() << QByteArray::number(op.delayMs)
                 << op.token;
        return Call{QList<QByteArray>{sh.active, sh.delayed, sh.wait, sh.stats} + jobKeys(s, mine),
                    args};
    });
    // Settling is idempotent under the token: when one shard fails, the caller settles the
    // whole list again and the shards that took it settle nothing twice.
    return calls.isEmpty() || allOk(evalAll(settleScript(), calls), error);
}

int JobQueue::recoverStalled()
{
    ShardCalls calls;
    for (const Shard &sh : std::as_const(m_shards)) {
        calls.keys.append({sh.active, sh.wait, sh.stats});
        calls.args.append({m_wake});
    }
    int n = 0;
    for (const RedisReply &r : evalAll(recoverScript(), calls))
        n += r.ok() ? int(r.toInt()) : 0;
    return n;
}

bool JobQueue::remove(const QStringList &ids)
{
    QList<QList<QByteArray>> cmds;
    for (const QString &id : ids) {
        const Shard &sh = m_shards[shardOf(id)];
        cmds.append({"ZREM", sh.staged, id.toUtf8()});
        cmds.append({"LREM", sh.wait, "0", id.toUtf8()});
        cmds.append({"DEL", sh.jobPrefix + id.toUtf8()});
    }
    bool ok = true;
    for (const RedisReply &r : m_redis->pipeline(cmds))
        ok = ok && r.ok();
    return ok;
}

QueueCounts JobQueue::counts()
{
    QueueCounts c;
    QList<QList<QByteArray>> cmds;
    for (const Shard &sh : std::as_const(m_shards)) {
        cmds.append({"LLEN", sh.wait});
        cmds.append({"ZCARD", sh.active});
        cmds.append({"ZCARD", sh.delayed});
        cmds.append({"HMGET", sh.stats, "completed", "failed", "stalled"});
    }
    const QList<RedisReply> r = m_redis->pipeline(cmds);
    for (const RedisReply &x : r) {
        if (!x.ok()) {
            c.error = QString::fromUtf8(x.str);
            return c;
        }
    }
    for (qsizetype i = 0; i + 3 < r.size(); i += 4) {
        c.waiting += r[i].toInt();
        c.active += r[i + 1].toInt();
        c.delayed += r[i + 2].toInt();
        if (r[i + 3].elements.size() == 3) {
            c.completed += r[i + 3].elements[0].toInt();
            c.failed += r[i + 3].elements[1].toInt();
            c.stalled += r[i + 3].elements[2].toInt();
        }
    }
    c.ok = true;
    return c;
}

} // namespace oee
