#pragma once
#include <QByteArray>
#include <QString>

// Every Redis key and channel name oee uses, in one place. On a Redis Cluster the keys one
// script touches must share a hash tag (the text in braces), so they are grouped by tag:
//
//   {<prefix><shard>}:wait|active|delayed|staged|stats, {…}:job:<id>   one queue shard
//   {<prefix>chain}:pool:<id>|tx:<signature>|tokens|launches           the simulated chain
//   {<prefix>rl}                                                       the global rate limit
//   <prefix>control, <prefix>arbitrageur, <prefix>shards               single keys
//   <prefix>events|wake|launched                                       pub/sub channels
//
// With the default prefix "oee:" the shards are {oee:0} … {oee:N-1}.
namespace oee::rkeys {

// The simulated chain is one state machine (a landing moves several pools and records its
// fills atomically), so all of it lives in one slot.
inline QByteArray chain(const QByteArray &prefix)
{
    return '{' + prefix + "chain}:";
}
inline QByteArray pool(const QByteArray &prefix, const QString &id)
{
    return chain(prefix) + "pool:" + id.toUtf8();
}
inline QByteArray ledger(const QByteArray &prefix, const QString &signature)
{
    return chain(prefix) + "tx:" + signature.toUtf8();
}
inline QByteArray tokens(const QByteArray &prefix)
{
    return chain(prefix) + "tokens";
}
inline QByteArray launches(const QByteArray &prefix)
{
    return chain(prefix) + "launches";
}

inline QByteArray shard(const QByteArray &prefix, int shard)
{
    return '{' + prefix + QByteArray::number(shard) + "}:";
}
inline QByteArray rateLimit(const QByteArray &prefix)
{
    return '{' + prefix + "rl}";
}
inline QByteArray control(const QByteArray &prefix)
{
    return prefix + "control";
}
inline QByteArray shardCount(const QByteArray &prefix)
{
    return prefix + "shards";
}
inline QByteArray arbitrageur(const QByteArray &prefix)
{
    return prefix + "arbitrageur";
}

inline QByteArray eventsChannel(const QByteArray &prefix)
{
    return prefix + "events";
}
inline QByteArray wakeChannel(const QByteArray &prefix)
{
    return prefix + "wake";
}
inline QByteArray launchedChannel(const QByteArray &prefix)
{
    return prefix + "launched";
}

// The shard an order's job lives in: FNV-1a of its id, so every process agrees.
inline int shardOf(const QString &id, int shards)
{
    if (shards <= 1)
        return 0;
    quint32 h = 2166136261u;
    for (const QChar c : id) {
        h ^= c.unicode();
        h *= 16777619u;
    }
    return int(h % quint32(shards));
}

} // namespace oee::rkeys
