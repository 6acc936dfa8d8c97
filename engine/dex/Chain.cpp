#include "dex/Chain.h"

#include "queue/RedisConnection.h"

namespace oee {

namespace {

const RedisScript &landScript()
{
    // KEYS none; ARGV: key, value. Returns {1, value} if it landed now, {0, first value} if not.
    static const RedisScript s(QByteArrayLiteral(
        "if redis.call('SET', ARGV[1], ARGV[2], 'NX') then return {1, ARGV[2]} end\n"
        "return {0, redis.call('GET', ARGV[1])}\n"));
    return s;
}

QByteArray encode(const Fill &f)
{
    return QByteArray::number(f.amountOut, 'g', 17) + '|' + QByteArray::number(f.executedPrice, 'g', 17);
}

Fill decode(const QByteArray &v)
{
    Fill f;
    const QList<QByteArray> parts = v.split('|');
    f.ok = parts.size() == 2;
    if (f.ok) {
        f.amountOut = parts[0].toDouble();
        f.executedPrice = parts[1].toDouble();
    }
    return f;
}

} // namespace

SimulatedChain::SimulatedChain(RedisConnection *redis, QByteArray prefix)
    : m_redis(redis), m_prefix(std::move(prefix))
{
}

std::optional<SimulatedChain::Landing> SimulatedChain::land(const QString &signature, const Fill &fill)
{
    const RedisReply r = m_redis->eval(landScript(), {m_prefix + "chain:" + signature.toUtf8(), encode(fill)});
    if (!r.ok() || r.elements.size() != 2)
        return std::nullopt;
    return Landing{r.elements[0].toInt() == 0, decode(r.elements[1].str)};
}

std::optional<std::optional<Fill>> SimulatedChain::lookup(const QString &signature)
{
    const RedisReply r = m_redis->command({"GET", m_prefix + "chain:" + signature.toUtf8()});
    if (!r.ok())
        return std::nullopt;
    if (r.type == RedisReply::Nil)
        return std::optional<Fill>{};
    return std::optional<Fill>{decode(r.str)};
}

} // namespace oee
