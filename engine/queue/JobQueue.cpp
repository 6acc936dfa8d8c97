#include "queue/JobQueue.h"

#include "queue/RedisKeys.h"
#include "runtime/Logging.h"

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

QList<QStringList> JobQueue::byShard(const QStringList &ids) const
{
    QList<QStringList> out(m_options.shards);
    for (const QString &id : ids)
        out[shardOf(id)].append(id);
    return out;
}

QList<QList<Job>> JobQueue::byShard(const QList<Job> &jobs) const
{
    QList<QList<Job>> out(m_options.shards);
    for (const Job &j : jobs)
        out[shardOf(j.id)].append(j);
    return out;
}

QList<RedisReply> JobQueue::evalAll(const RedisScript &script, const QList<int> &shards,
                                    const QList<QList<QByteArray>> &keys,
                                    const QList<QList<QByteArray>> &args)
{
    if (shards.size() == 1)
        return {m_redis->eval(script, keys.first(), args.first())};
    QList<QList<QByteArray>> commands;
    for (qsizetype i = 0; i < shards.size(); ++i)
        commands.append(RedisConnection::evalCommand(script, keys[i], args[i]));
    QList<RedisReply> replies = m_redis->pipeline(commands);
    for (qsizetype i = 0; i < replies.size(); ++i)
        if (replies[i].type == RedisReply::Error && replies[i].str.startsWith("NOSCRIPT"))
            replies[i] = m_redis->eval(script, keys[i], args[i]); // this node had not seen it yet
    return replies;
}

QStringList JobQueue::trigger(const QList<Job> &jobs)
{
    QList<int> shards;
    QList<QList<QByteArray>> keys, args;
    const auto grouped = byShard(jobs);
    for (int s = 0; s < grouped.size(); ++s) {
        if (grouped[s].isEmpty())
            continue;
        shards.append(s);
        keys.append({m_shards[s].wait, m_shards[s].stats});
        args.append(QList<QByteArray>{m_shards[s].jobPrefix, m_wake} + idsAndPayloads(grouped[s]));
    }
    QStringList added;
    if (shards.isEmpty())
        return added;
    for (const RedisReply &r : evalAll(triggerScript(), shards, keys, args))
        for (const RedisReply &e : r.elements)
            added << QString::fromUtf8(e.str);
    return added;
}

QStringList JobQueue::ensureJobs(const QList<Job> &jobs, const QByteArray &stat)
{
    QList<int> shards;
    QList<QList<QByteArray>> keys, args;
    const auto grouped = byShard(jobs);
    for (int s = 0; s < grouped.size(); ++s) {
        if (grouped[s].isEmpty())
            continue;
        const Shard &sh = m_shards[s];
        shards.append(s);
        keys.append({sh.active, sh.delayed, sh.staged, sh.wait, sh.stats});
        args.append(QList<QByteArray>{sh.jobPrefix, m_wake, stat} + idsAndPayloads(grouped[s]));
    }
    QStringList recreated;
    if (shards.isEmpty())
        return recreated;
    for (const RedisReply &r : evalAll(ensureScript(), shards, keys, args))
        for (const RedisReply &e : r.elements)
            recreated << QString::fromUtf8(e.str);
    return recreated;
}

bool JobQueue::stage(const QList<Job> &jobs, const QByteArray &submitter, QString *error)
{
    QList<int> shards;
    QList<QList<QByteArray>> keys, args;
    const auto grouped = byShard(jobs);
    for (int s = 0; s < grouped.size(); ++s) {
        if (grouped[s].isEmpty())
            continue;
        shards.append(s);
        keys.append({m_shards[s].staged});
        args.append(QList<QByteArray>{m_shards[s].jobPrefix, submitter} +
                    idsAndPayloads(grouped[s]));
    }
    if (shards.isEmpty())
        return true;
    for (const RedisReply &r : evalAll(stageScript(), shards, keys, args)) {
        if (!r.ok()) {
            if (error)
                *error = QString::fromUtf8(r.str);
            return false;
        }
    }
    return true;
}

QList<QList<QByteArray>> JobQueue::publishCommands(const QStringList &ids) const
{
    QList<QList<QByteArray>> commands;
    const auto grouped = byShard(ids);
    for (int s = 0; s < grouped.size(); ++s) {
        if (grouped[s].isEmpty())
            continue;
        QList<QByteArray> args{m_wake};
        for (const QString &id : grouped[s])
            args.append(id.toUtf8());
        commands.append(RedisConnection::evalCommand(publishScript(),
                                                     {m_shards[s].staged, m_shards[s].wait}, args));
    }
    return commands;
}

bool JobQueue::publish(const QStringList &ids, QString *error)
{
    QList<int> shards;
    QList<QList<QByteArray>> keys, args;
    const auto grouped = byShard(ids);
    for (int s = 0; s < grouped.size(); ++s) {
        if (grouped[s].isEmpty())
            continue;
        shards.append(s);
        keys.append({m_shards[s].staged, m_shards[s].wait});
        QList<QByteArray> a{m_wake};
        for (const QString &id : grouped[s])
            a.append(id.toUtf8());
        args.append(a);
    }
    if (shards.isEmpty())
        return true;
    for (const RedisReply &r : evalAll(publishScript(), shards, keys, args)) {
        if (!r.ok()) {
            if (error)
                *error = QString::fromUtf8(r.str);
            return false;
        }
    }
    return true;
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
        QList<QList<QByteArray>> keys, args;
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
            keys.append({sh.delayed, sh.wait, sh.active});
            args.append(
                {sh.jobPrefix, QByteArray::number(share), QByteArray::number(m_options.leaseMs)});
        }
        if (shards.isEmpty() || (pass == 1 && room <= 0))
            break;
        const QList<RedisReply> replies = evalAll(claimScript(), shards, keys, args);
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
    QList<QList<Lease>> grouped(m_options.shards);
    for (const Lease &l : leases)
        grouped[shardOf(l.id)].append(l);
    QList<int> shards;
    QList<QList<QByteArray>> keys, args;
    for (int s = 0; s < grouped.size(); ++s) {
        if (grouped[s].isEmpty())
            continue;
        shards.append(s);
        keys.append({m_shards[s].active});
        QList<QByteArray> a{m_shards[s].jobPrefix, QByteArray::number(m_options.leaseMs)};
        for (const Lease &l : std::as_const(grouped[s])) {
            a.append(l.id.toUtf8());
            a.append(l.token);
        }
        args.append(a);
    }
    if (shards.isEmpty())
        return true;
    bool ok = true;
    for (const RedisReply &r : evalAll(renewScript(), shards, keys, args))
        ok = ok && r.ok();
    return ok;
}

bool JobQueue::settle(const QList<SettleOp> &ops, QString *error)
{
    QList<QList<SettleOp>> grouped(m_options.shards);
    for (const SettleOp &op : ops)
        grouped[shardOf(op.id)].append(op);
    QList<int> shards;
    QList<QList<QByteArray>> keys, args;
    for (int s = 0; s < grouped.size(); ++s) {
        if (grouped[s].isEmpty())
            continue;
        const Shard &sh = m_shards[s];
        shards.append(s);
        keys.append({sh.active, sh.delayed, sh.wait, sh.stats});
        QList<QByteArray> a{sh.jobPrefix};
        a.reserve(1 + grouped[s].size() * 4);
        for (const SettleOp &op : std::as_const(grouped[s])) {
            a.append(QByteArray(1, char(op.kind)));
            a.append(op.id.toUtf8());
            a.append(QByteArray::number(op.delayMs));
            a.append(op.token);
        }
        args.append(a);
    }
    if (shards.isEmpty())
        return true;
    // Settling is idempotent under the token: when one shard fails, the caller settles the
    // whole list again and the shards that took it settle nothing twice.
    for (const RedisReply &r : evalAll(settleScript(), shards, keys, args)) {
        if (!r.ok()) {
            if (error)
                *error = QString::fromUtf8(r.str);
            return false;
        }
    }
    return true;
}

int JobQueue::recoverStalled()
{
    QList<int> shards;
    QList<QList<QByteArray>> keys, args;
    for (int s = 0; s < m_shards.size(); ++s) {
        shards.append(s);
        keys.append({m_shards[s].active, m_shards[s].wait, m_shards[s].stats});
        args.append({m_wake});
    }
    int n = 0;
    for (const RedisReply &r : evalAll(recoverScript(), shards, keys, args))
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
