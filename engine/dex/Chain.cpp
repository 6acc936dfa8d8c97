#include "dex/Chain.h"

#include "money/Tokens.h"
#include "queue/RedisConnection.h"

#include <QJsonDocument>

namespace oee {

namespace {

const RedisScript &landScript()
{
    // ARGV: ledger key ('' for none), fill, then per pool: key, expected slot, new slot, state.
    // Returns {1} when it landed and the pools moved; {0, first fill} for a transaction that
    // had landed before; {2, state, state, ...} when a pool moved meanwhile (its current state).
    static const RedisScript s(QByteArrayLiteral(
        "if ARGV[1] ~= '' then\n"
        "  local landed = redis.call('GET', ARGV[1])\n"
        "  if landed then return {0, landed} end\n"
        "end\n"
        "local moved = {}\n"
        "for i = 3, #ARGV, 4 do\n"
        "  if redis.call('HGET', ARGV[i], 'slot') ~= ARGV[i + 1] then\n"
        "    moved[#moved + 1] = redis.call('HGET', ARGV[i], 'state') or ''\n"
        "  end\n"
        "end\n"
        "if #moved > 0 then return {2, unpack(moved)} end\n"
        "for i = 3, #ARGV, 4 do\n"
        "  redis.call('HSET', ARGV[i], 'slot', ARGV[i + 2], 'state', ARGV[i + 3])\n"
        "end\n"
        "if ARGV[1] ~= '' then redis.call('SET', ARGV[1], ARGV[2]) end\n"
        "return {1}\n"));
    return s;
}

constexpr int kMaxRetries = 16;

QList<QByteArray> poolArgs(const QByteArray &prefix, const QList<std::shared_ptr<Pool>> &states)
{
    QList<QByteArray> args;
    for (const auto &p : states) {
        args << Market::poolKey(prefix, p->id) << QByteArray::number(p->slot - 1)
             << QByteArray::number(p->slot)
             << QJsonDocument(p->toJson()).toJson(QJsonDocument::Compact);
    }
    return args;
}

} // namespace

SimulatedChain::SimulatedChain(RedisConnection *redis, QByteArray prefix)
    : m_redis(redis), m_prefix(std::move(prefix))
{
}

std::optional<SimulatedChain::Landing> SimulatedChain::execute(const QString &signature,
                                                               const RoutePlan &plan,
                                                               BaseUnits minAmountOut, Market *market)
{
    const QByteArray ledgerKey = m_prefix + "chain:" + signature.toUtf8();
    for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
        Fill fill;
        fill.amountIn = plan.amountIn;
        fill.tokenIn = plan.in->symbol;
        fill.tokenOut = plan.out->symbol;
        const Router::Execution ex = Router::execute(market->pools(), plan.best, Market::now());
        QList<QByteArray> args{ledgerKey, {}};
        if (ex.error.isEmpty()) {
            fill.amountOut = market->shifted(ex.amountOut);
            for (const RouteLeg &l : ex.legs)
                fill.legs.append(l.toJson());
            fill.ok = fill.amountOut >= minAmountOut;
            if (!fill.ok)
                fill.error = QStringLiteral("Slippage tolerance exceeded: would receive %1 %2, minimum %3")
                                 .arg(formatTokenAmount(fill.amountOut, plan.out->decimals),
                                      plan.out->symbol,
                                      formatTokenAmount(minAmountOut, plan.out->decimals));
        } else {
            fill.error = ex.error;
        }
        if (!fill.ok) {
            // Refused by the venue: nothing lands, nothing moves. But it may have landed
            // before (a resubmission after a crash): the ledger decides.
            const auto landed = lookup(signature);
            if (!landed)
                return std::nullopt;
            if (*landed)
                return Landing{true, **landed};
            return Landing{false, fill};
        }
        args[1] = fill.encode();
        args << poolArgs(m_prefix, ex.newStates);
        const RedisReply r = m_redis->eval(landScript(), args);
        if (!r.ok() || r.elements.isEmpty())
            return std::nullopt;
        const qint64 code = r.elements[0].toInt();
        if (code == 1) {
            market->update(ex.newStates);
            return Landing{false, fill};
        }
        if (code == 0 && r.elements.size() == 2)
            return Landing{true, Fill::decode(r.elements[1].str)};
        // A pool moved under us (another worker or process filled it): take its state, price again.
        QList<QByteArray> states;
        for (qsizetype i = 1; i < r.elements.size(); ++i)
            states << r.elements[i].str;
        market->updateFromJson(states);
    }
    return std::nullopt;
}

bool SimulatedChain::apply(const QList<std::shared_ptr<Pool>> &states, Market *market)
{
    for (const auto &s : states) {
        QList<QByteArray> args{QByteArray(), QByteArray()};
        args << poolArgs(m_prefix, {s});
        const RedisReply r = m_redis->eval(landScript(), args);
        if (!r.ok() || r.elements.isEmpty())
            return false;
        if (r.elements[0].toInt() == 1) {
            market->update({s});
        } else {
            QList<QByteArray> fresh;
            for (qsizetype i = 1; i < r.elements.size(); ++i)
                fresh << r.elements[i].str;
            market->updateFromJson(fresh);
        }
    }
    return true;
}

std::optional<std::optional<Fill>> SimulatedChain::lookup(const QString &signature)
{
    const RedisReply r = m_redis->command({"GET", m_prefix + "chain:" + signature.toUtf8()});
    if (!r.ok())
        return std::nullopt;
    if (r.type == RedisReply::Nil)
        return std::optional<Fill>{};
    return std::optional<Fill>{Fill::decode(r.str)};
}

} // namespace oee
