#include "dex/Chain.h"

#include "money/Tokens.h"
#include "queue/RedisConnection.h"
#include "queue/RedisKeys.h"

#include <QMutexLocker>

namespace oee {

namespace {

const RedisScript &landScript()
{
    static const RedisScript s(luaScript("land"));
    return s;
}

constexpr int kMaxRetries = 16;

// land.lua's pool part: the keys, and per pool its expected slot, new slot and state.
void poolArgs(const QByteArray &prefix, const QList<std::shared_ptr<Pool>> &states,
              QList<QByteArray> *keys, QList<QByteArray> *args)
{
    for (const auto &p : states) {
        *keys << Market::poolKey(prefix, p->id);
        *args << QByteArray::number(p->slot - 1) << QByteArray::number(p->slot) << p->encode();
    }
}

} // namespace

SimulatedChain::SimulatedChain(RedisConnection *redis, QByteArray prefix)
    : m_redis(redis), m_prefix(std::move(prefix))
{
}

std::optional<SimulatedChain::Landing> SimulatedChain::execute(const QString &signature,
                                                               const RoutePlan &plan,
                                                               BaseUnits minAmountOut,
                                                               Market *market)
{
    const auto r = executeBatch({Request{signature, &plan, minAmountOut}}, market);
    if (!r)
        return std::nullopt;
    return r->first();
}

std::optional<QList<SimulatedChain::Landing>>
SimulatedChain::executeBatch(const QList<Request> &requests, Market *market)
{
    QList<Landing> out(requests.size());
    QList<bool> settled(requests.size(), false); // known to have landed before
    QMutexLocker serial(&market->executionMutex());
    for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
        // Price each transaction on the pools as the previous ones leave them.
        const PoolSet base = market->pools();
        PoolSet working = base;
        QHash<QString, std::shared_ptr<Pool>> touched;
        QList<QByteArray> ledger, fills;
        QList<qsizetype> landing; // request index of each ledger entry
        const qint64 now = Market::now();
        for (qsizetype i = 0; i < requests.size(); ++i) {
            if (settled[i])
                continue;
            const RoutePlan &plan = *requests[i].plan;
            const Router::Execution ex = Router::execute(working, plan.best, now);
            out[i] = Landing{false, market->fillOf(plan, ex, requests[i].minAmountOut)};
            if (!out[i].fill.ok)
                continue; // refused: nothing lands, nothing moves (unless it landed before: below)
            for (const auto &s : ex.newStates) { // each one slot past the state it was priced on
                touched.insert(s->id, s);
                working.insert(s->id, s);
            }
            ledger << rkeys::ledger(m_prefix, requests[i].signature);
            fills << out[i].fill.encode();
            landing << i;
        }
        // Refused ones may have landed before (a resubmission after a crash): the ledger decides.
        for (qsizetype i = 0; i < requests.size(); ++i) {
            if (settled[i] || out[i].fill.ok)
                continue;
            const auto landed = lookup(requests[i].signature);
            if (!landed)
                return std::nullopt;
            if (*landed) {
                out[i] = Landing{true, **landed};
                settled[i] = true;
            }
        }
        if (landing.isEmpty())
            return out;
        QList<QByteArray> keys = ledger;
        QList<QByteArray> args{QByteArray::number(landing.size())};
        args << fills;
        for (auto it = touched.cbegin(); it != touched.cend(); ++it) {
            // Redis must still hold the state this batch started from.
            keys << Market::poolKey(m_prefix, it.key());
            args << QByteArray::number(base.value(it.key())->slot)
                 << QByteArray::number(it.value()->slot) << it.value()->encode();
        }
        const RedisReply r = m_redis->eval(landScript(), keys, args);
        if (!r.ok() || r.elements.isEmpty())
            return std::nullopt;
        const qint64 code = r.elements[0].toInt();
        if (code == 1) {
            market->update(touched.values());
            return out;
        }
        if (code == 0) {
            // Some had landed before: they are settled with their first fill; price the rest again.
            for (qsizetype k = 1; k + 1 < r.elements.size(); k += 2) {
                const qsizetype i = landing.value(r.elements[k].toInt() - 1, -1);
                if (i < 0)
                    continue;
                out[i] = Landing{true, Fill::decode(r.elements[k + 1].str)};
                settled[i] = true;
            }
            continue;
        }
        // A pool moved under us (another process filled it): take its state, price again.
        QList<QByteArray> states;
        for (qsizetype i = 1; i < r.elements.size(); ++i)
            states << r.elements[i].str;
        market->updateFromEncoded(states);
    }
    return std::nullopt;
}

bool SimulatedChain::apply(const QList<std::shared_ptr<Pool>> &states, Market *market)
{
    QMutexLocker serial(&market->executionMutex());
    for (const auto &s : states) {
        QList<QByteArray> keys;
        QList<QByteArray> args{QByteArrayLiteral("0")};
        poolArgs(m_prefix, {s}, &keys, &args);
        const RedisReply r = m_redis->eval(landScript(), keys, args);
        if (!r.ok() || r.elements.isEmpty())
            return false;
        if (r.elements[0].toInt() == 1) {
            market->update({s});
        } else {
            QList<QByteArray> fresh;
            for (qsizetype i = 1; i < r.elements.size(); ++i)
                fresh << r.elements[i].str;
            market->updateFromEncoded(fresh);
        }
    }
    return true;
}

std::optional<std::optional<Fill>> SimulatedChain::lookup(const QString &signature)
{
    const RedisReply r = m_redis->command({"GET", rkeys::ledger(m_prefix, signature)});
    if (!r.ok())
        return std::nullopt;
    if (r.type == RedisReply::Nil)
        return std::optional<Fill>{};
    return std::optional<Fill>{Fill::decode(r.str)};
}

} // namespace oee
