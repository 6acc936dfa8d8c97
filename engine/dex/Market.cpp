#include "dex/Market.h"

#include "dex/meteora/MeteoraDlmm.h"
#include "money/Tokens.h"
#include "queue/RedisConnection.h"
#include "runtime/Logging.h"

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QMutexLocker>
#include <algorithm>
#include <cmath>

namespace oee {

namespace {

const RedisScript &seedScript()
{
    // ARGV: key, slot, state. Writes the state only where there is none.
    static const RedisScript s(QByteArrayLiteral(
        "if redis.call('EXISTS', ARGV[1]) == 0 then\n"
        "  redis.call('HSET', ARGV[1], 'slot', ARGV[2], 'state', ARGV[3])\n"
        "end\n"
        "return 1\n"));
    return s;
}

const RedisScript &slotsScript()
{
    // ARGV: pool keys. Returns each one's slot.
    static const RedisScript s(QByteArrayLiteral(
        "local out = {}\n"
        "for i = 1, #ARGV do out[i] = redis.call('HGET', ARGV[i], 'slot') or '' end\n"
        "return out\n"));
    return s;
}

const RedisScript &statesScript()
{
    static const RedisScript s(QByteArrayLiteral(
        "local out = {}\n"
        "for i = 1, #ARGV do out[i] = redis.call('HGET', ARGV[i], 'state') or '' end\n"
        "return out\n"));
    return s;
}

// The pools configured in resources/pools.json, at their genesis state.
PoolSet genesisPools()
{
    PoolSet out;
    QFile file(QStringLiteral(":/oee/pools.json"));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("the pool configuration (:/oee/pools.json) is not compiled in");
    const TokenRegistry &tokens = TokenRegistry::instance();
    const QJsonArray pools = QJsonDocument::fromJson(file.readAll()).object().value(
        QStringLiteral("pools")).toArray();
    for (const QJsonValue &v : pools) {
        const QJsonObject o = v.toObject();
        const QString id = o.value(QStringLiteral("id")).toString();
        const Venue *venue = venueNamed(o.value(QStringLiteral("venue")).toString());
        const Token *a = tokens.bySymbol(o.value(QStringLiteral("a")).toString());
        const Token *b = tokens.bySymbol(o.value(QStringLiteral("b")).toString());
        if (!venue || !a || !b)
            qFatal("resources/pools.json: pool %s: unknown venue or token", qPrintable(id));
        auto pool = venue->create(id, *a, *b, o);
        if (!pool)
            qFatal("resources/pools.json: pool %s is malformed", qPrintable(id));
        out.insert(id, std::shared_ptr<const Pool>(std::move(pool)));
    }
    return out;
}

u128 pow10(int n)
{
    u128 p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

// Reference price of one base unit of `x` in base units of `y`, Q64.64.
u128 referenceQ64(const Token &x, const Token &y)
{
    const DecimalRatio ux = decimalRatio(x.usd), uy = decimalRatio(y.usd);
    const u128 num = ux.numerator * uy.denominator * pow10(y.decimals);
    const u128 den = ux.denominator * uy.numerator * pow10(x.decimals);
    if (num >> 64)
        return (num / den) << 64;
    return shlDiv64(num, den, false);
}

} // namespace

QString Fill::amountOutText() const
{
    const Token *t = TokenRegistry::instance().bySymbol(tokenOut);
    return formatTokenAmount(amountOut, t ? t->decimals : 0);
}

QString Fill::executedPriceText() const
{
    const Token *in = TokenRegistry::instance().bySymbol(tokenIn);
    const Token *out = TokenRegistry::instance().bySymbol(tokenOut);
    if (!in || !out || amountIn == 0)
        return QString();
    return formatRatio(amountOut, out->decimals, amountIn, in->decimals);
}

QByteArray Fill::encode() const
{
    return QJsonDocument(QJsonObject{{QStringLiteral("in"), QString::number(amountIn)},
                                     {QStringLiteral("out"), QString::number(amountOut)},
                                     {QStringLiteral("tokenIn"), tokenIn},
                                     {QStringLiteral("tokenOut"), tokenOut},
                                     {QStringLiteral("legs"), legs}})
        .toJson(QJsonDocument::Compact);
}

Fill Fill::decode(const QByteArray &text)
{
    Fill f;
    const QJsonObject o = QJsonDocument::fromJson(text).object();
    bool okIn = false, okOut = false;
    f.amountIn = o.value(QStringLiteral("in")).toString().toULongLong(&okIn);
    f.amountOut = o.value(QStringLiteral("out")).toString().toULongLong(&okOut);
    f.tokenIn = o.value(QStringLiteral("tokenIn")).toString();
    f.tokenOut = o.value(QStringLiteral("tokenOut")).toString();
    f.legs = o.value(QStringLiteral("legs")).toArray();
    f.ok = okIn && okOut;
    if (!f.ok)
        f.error = QStringLiteral("unreadable landing record");
    return f;
}

Market::Market(const DexConfig &config)
    : m_config(config), m_pools(genesisPools()),
      m_rng(config.seed ? config.seed : quint64(QDateTime::currentMSecsSinceEpoch()))
{
}

const QStringList &Market::tokens()
{
    return TokenRegistry::instance().symbols();
}

qint64 Market::now()
{
    return QDateTime::currentSecsSinceEpoch();
}

PoolSet Market::pools() const
{
    QMutexLocker lock(&m_mutex);
    return m_pools;
}

std::shared_ptr<const Pool> Market::pool(const QString &id) const
{
    QMutexLocker lock(&m_mutex);
    return m_pools.value(id);
}

void Market::update(const QList<std::shared_ptr<Pool>> &states)
{
    QMutexLocker lock(&m_mutex);
    for (const auto &s : states) {
        auto &current = m_pools[s->id];
        if (!current || s->slot > current->slot)
            current = s;
    }
}

void Market::updateFromEncoded(const QList<QByteArray> &states)
{
    QList<std::shared_ptr<Pool>> pools;
    for (const QByteArray &encoded : states) {
        if (auto p = decodePool(encoded))
            pools.append(std::shared_ptr<Pool>(std::move(p)));
        else if (!encoded.isEmpty())
            qCWarning(lcEngine, "unreadable pool state in Redis: %s", encoded.left(80).constData());
    }
    update(pools);
}

RoutePlan Market::route(const QString &tokenIn, const QString &tokenOut, BaseUnits amount) const
{
    const TokenRegistry &tokens = TokenRegistry::instance();
    const Token *in = tokens.find(tokenIn);
    const Token *out = tokens.find(tokenOut);
    if (!in || !out) {
        RoutePlan p;
        p.in = in ? in : &tokens.all().first();
        p.out = out ? out : &tokens.all().first();
        p.amountIn = amount;
        p.best.error = QStringLiteral("unknown token");
        return p;
    }
    return Router::route(pools(), *in, *out, amount, now(), disabledVenues());
}

Fill Market::fillOf(const RoutePlan &plan, const Router::Execution &ex, BaseUnits minAmountOut) const
{
    Fill fill;
    fill.amountIn = plan.amountIn;
    fill.tokenIn = plan.in->symbol;
    fill.tokenOut = plan.out->symbol;
    if (!ex.error.isEmpty()) {
        fill.error = ex.error;
        return fill;
    }
    fill.amountOut = ex.amountOut;
    if (const qint64 shift = m_config.executionPriceShiftPpm; shift != 0)
        fill.amountOut = BaseUnits(u128(ex.amountOut) * u128(qMax<qint64>(0, 1'000'000 + shift)) / 1'000'000);
    if (fill.amountOut < minAmountOut) {
        fill.error = QStringLiteral("Slippage tolerance exceeded: would receive %1 %2, minimum %3")
                         .arg(formatTokenAmount(fill.amountOut, plan.out->decimals), plan.out->symbol,
                              formatTokenAmount(minAmountOut, plan.out->decimals));
        return fill;
    }
    for (const RouteLeg &l : ex.legs)
        fill.legs.append(l.toJson());
    fill.ok = true;
    return fill;
}

Fill Market::executeLocally(const RoutePlan &plan, BaseUnits minAmountOut)
{
    QMutexLocker lock(&m_mutex);
    const Router::Execution ex = Router::execute(m_pools, plan.best, now());
    const Fill fill = fillOf(plan, ex, minAmountOut);
    if (fill.ok)
        for (const auto &s : ex.newStates)
            m_pools[s->id] = s;
    return fill;
}

void Market::setVenueEnabled(const QString &venue, bool enabled)
{
    QMutexLocker lock(&m_mutex);
    m_disabled.removeAll(venue);
    if (!enabled)
        m_disabled.append(venue);
}

QStringList Market::disabledVenues() const
{
    QMutexLocker lock(&m_mutex);
    return m_disabled;
}

QByteArray Market::poolKey(const QByteArray &prefix, const QString &id)
{
    return prefix + "pool:" + id.toUtf8();
}

bool Market::seed(RedisConnection *redis, const QByteArray &prefix, QString *error)
{
    const PoolSet genesis = pools(); // as constructed: nothing has updated them yet
    for (const auto &p : genesis) {
        const RedisReply r = redis->eval(seedScript(), {poolKey(prefix, p->id), "0", p->encode()});
        if (!r.ok()) {
            if (error)
                *error = QString::fromUtf8(r.str);
            return false;
        }
    }
    QList<QByteArray> keys;
    for (const auto &p : genesis)
        keys << poolKey(prefix, p->id);
    const RedisReply states = redis->eval(statesScript(), keys);
    if (!states.ok()) {
        if (error)
            *error = QString::fromUtf8(states.str);
        return false;
    }
    {
        // What Redis holds (genesis, or a previous run's state) replaces this copy, whatever
        // its slot.
        QMutexLocker lock(&m_mutex);
        for (const RedisReply &e : states.elements) {
            const QByteArray &encoded = e.str;
            std::shared_ptr<const Pool> p = decodePool(encoded);
            if (p)
                m_pools.insert(p->id, p);
        }
    }
    return true;
}

bool Market::sync(RedisConnection *redis, const QByteArray &prefix)
{
    const PoolSet current = pools();
    QList<QByteArray> keys;
    QList<QString> ids;
    for (auto it = current.cbegin(); it != current.cend(); ++it) {
        keys << poolKey(prefix, it.key());
        ids << it.key();
    }
    const RedisReply slotReply = redis->eval(slotsScript(), keys);
    if (!slotReply.ok() || slotReply.elements.size() != keys.size())
        return false;
    QList<QByteArray> stale;
    for (qsizetype i = 0; i < keys.size(); ++i) {
        if (slotReply.elements[i].str.isEmpty()) {
            // Redis lost the pool (FLUSHALL, data loss): the latest state this process knows
            // is the best there is; put it back (unless another process already did).
            const auto &pool = current.value(ids[i]);
            redis->eval(seedScript(), {keys[i], QByteArray::number(pool->slot), pool->encode()});
            stale << keys[i];
            continue;
        }
        bool ok = false;
        const quint64 slot = slotReply.elements[i].str.toULongLong(&ok);
        if (ok && slot != current.value(ids[i])->slot)
            stale << keys[i];
    }
    if (stale.isEmpty())
        return true;
    const RedisReply states = redis->eval(statesScript(), stale);
    if (!states.ok())
        return false;
    QList<QByteArray> json;
    for (const RedisReply &e : states.elements)
        json << e.str;
    updateFromEncoded(json);
    return true;
}

QList<std::shared_ptr<Pool>> Market::arbitrage(qint64 nowMs)
{
    QList<std::shared_ptr<Pool>> trades;
    if (m_config.volatility <= 0)
        return trades;
    const TokenRegistry &tokens = TokenRegistry::instance();
    PoolSet snapshot;
    {
        QMutexLocker lock(&m_mutex);
        const double dt = m_lastWalkMs ? double(nowMs - m_lastWalkMs) / 1000.0 : 0.0;
        m_lastWalkMs = nowMs;
        if (dt > 0) {
            std::normal_distribution<double> n(0.0, 1.0);
            for (const Token &t : tokens.all()) {
                // The walk's step is random (the simulated world); the tick it lands on is an
                // integer, and everything priced from it is integer math.
                const double sigmaTicks = m_config.volatility * t.volatility * 1e4 * std::sqrt(dt);
                qint64 &tick = m_ticks[t.symbol];
                tick = std::clamp<qint64>(tick + qint64(std::llround(n(m_rng) * sigmaTicks)), -10000, 10000);
            }
        }
        snapshot = m_pools;
    }
    const qint64 now = nowMs / 1000;
    for (const auto &shared : std::as_const(snapshot)) {
        const auto mints = shared->mints();
        const Token *x = tokens.find(mints[0]);
        const Token *y = tokens.find(mints[1]);
        if (!x || !y)
            continue;
        // Target: reference · 1.0001^(tickX - tickY), all Q64.64.
        const qint64 dTick = m_ticks.value(x->symbol) - m_ticks.value(y->symbol);
        const u128 target = mulShr64(referenceQ64(*x, *y),
                                     MeteoraDlmmPool::priceFromId(qint32(dTick), 1), false);
        const u128 spot = shared->spotPriceQ64(x->mint);
        if (spot == 0 || target == 0)
            continue;
        // Within 5 bps: leave it. Above target: X is dear here, sell X; below: buy X.
        const u128 band = target / 2000;
        const bool sellX = spot > target + band;
        const bool buyX = spot + band < target;
        if (!sellX && !buyX)
            continue;
        const QString inMint = sellX ? x->mint : y->mint;
        const auto crosses = [&](BaseUnits amount) {
            auto trial = shared->clone();
            const SwapResult r = trial->swap(inMint, amount, now, true);
            if (r.failure == SwapResult::Failure::ZeroOutput)
                return false; // too small to move anything yet
            if (!r.ok())
                return true;
            const u128 after = trial->spotPriceQ64(x->mint);
            return sellX ? after < target : after > target;
        };
        // Largest amount that does not carry the price past the target: doubling, then
        // bisection, on the pool's own integer math.
        BaseUnits lo = 0, hi = 1;
        while (!crosses(hi) && hi < (BaseUnits(1) << 62))
            hi <<= 1;
        while (hi - lo > 1) {
            const BaseUnits mid = lo + (hi - lo) / 2;
            (crosses(mid) ? hi : lo) = mid;
        }
        if (lo == 0)
            continue;
        auto next = shared->clone();
        if (next->swap(inMint, lo, now, true).ok())
            trades.append(std::shared_ptr<Pool>(std::move(next)));
    }
    return trades;
}

bool Market::rollFailure()
{
    if (m_config.failureRate <= 0)
        return false;
    QMutexLocker lock(&m_mutex);
    return std::uniform_real_distribution<double>(0, 1)(m_rng) < m_config.failureRate;
}

int Market::executionLatencyMs()
{
    if (m_config.executionLatencyMaxMs <= m_config.executionLatencyMinMs)
        return m_config.executionLatencyMinMs;
    QMutexLocker lock(&m_mutex);
    return std::uniform_int_distribution<int>(m_config.executionLatencyMinMs,
                                              m_config.executionLatencyMaxMs)(m_rng);
}

} // namespace oee
