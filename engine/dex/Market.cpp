#include "dex/Market.h"

#include "dex/meteora/MeteoraDlmm.h"
#include "money/Tokens.h"
#include "queue/RedisConnection.h"
#include "queue/RedisKeys.h"
#include "runtime/Logging.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QMutexLocker>
#include <QRegularExpression>
#include <algorithm>
#include <cmath>

namespace oee {

namespace {

const RedisScript &seedScript()
{
    static const RedisScript s(luaScript("pool_seed"));
    return s;
}

// One field (slot or state) of each pool: resources/lua/pool_field.lua.
const RedisScript &poolFieldScript()
{
    static const RedisScript s(luaScript("pool_field"));
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
    const QJsonArray pools =
        QJsonDocument::fromJson(file.readAll()).object().value(QStringLiteral("pools")).toArray();
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
      m_rng(config.seed ? config.seed : quint64(QDateTime::currentMSecsSinceEpoch())),
      m_volatility(config.volatility)
{
}

QStringList Market::tokens()
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
    bool changed = false;
    {
        QMutexLocker lock(&m_mutex);
        for (const auto &s : states) {
            auto &current = m_pools[s->id];
            if (!current || s->slot > current->slot) {
                current = s;
                changed = true;
            }
        }
    }
    if (changed)
        emit m_signals.poolsChanged();
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
        p.in = in ? in : tokens.first();
        p.out = out ? out : tokens.first();
        p.amountIn = amount;
        p.best.error = QStringLiteral("unknown token");
        return p;
    }
    return Router::route(pools(), *in, *out, amount, now(), disabledVenues());
}

Fill Market::fillOf(const RoutePlan &plan, const Router::Execution &ex,
                    BaseUnits minAmountOut) const
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
        fill.amountOut =
            BaseUnits(u128(ex.amountOut) * u128(qMax<qint64>(0, 1'000'000 + shift)) / 1'000'000);
    if (fill.amountOut < minAmountOut) {
        fill.error =
            QStringLiteral("Slippage tolerance exceeded: would receive %1 %2, minimum %3")
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
    lock.unlock();
    if (fill.ok)
        emit m_signals.poolsChanged();
    return fill;
}

void Market::setVenueEnabled(const QString &venue, bool enabled)
{
    QMutexLocker lock(&m_mutex);
    m_disabled.removeAll(venue);
    if (!enabled)
        m_disabled.append(venue);
}

void Market::setDisabledVenues(const QStringList &venues)
{
    QMutexLocker lock(&m_mutex);
    m_disabled = venues;
}

QStringList Market::disabledVenues() const
{
    QMutexLocker lock(&m_mutex);
    return m_disabled;
}

QByteArray Market::poolKey(const QByteArray &prefix, const QString &id)
{
    return rkeys::pool(prefix, id);
}

bool Market::seed(RedisConnection *redis, const QByteArray &prefix, QString *error)
{
    const PoolSet genesis = pools(); // as constructed: nothing has updated them yet
    for (const auto &p : genesis) {
        const RedisReply r =
            redis->eval(seedScript(), {poolKey(prefix, p->id)}, {"0", p->encode()});
        if (!r.ok()) {
            if (error)
                *error = QString::fromUtf8(r.str);
            return false;
        }
    }
    QList<QByteArray> keys;
    for (const auto &p : genesis)
        keys << poolKey(prefix, p->id);
    const RedisReply states = redis->eval(poolFieldScript(), keys, {"state"});
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
    emit m_signals.poolsChanged();
    return discoverLaunches(redis, prefix);
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
    const RedisReply slotReply = redis->eval(poolFieldScript(), keys, {"slot"});
    if (!slotReply.ok() || slotReply.elements.size() != keys.size())
        return false;
    QList<QByteArray> stale;
    for (qsizetype i = 0; i < keys.size(); ++i) {
        if (slotReply.elements[i].str.isEmpty()) {
            // Redis lost the pool (FLUSHALL, data loss): the latest state this process knows
            // is the best there is; put it back (unless another process already did).
            const auto &pool = current.value(ids[i]);
            redis->eval(seedScript(), {keys[i]}, {QByteArray::number(pool->slot), pool->encode()});
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
    const RedisReply states = redis->eval(poolFieldScript(), stale, {"state"});
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
    const double volatility = m_volatility.load();
    if (volatility <= 0) {
        QMutexLocker lock(&m_mutex);
        m_lastWalkMs = 0; // a walk restarted later takes no step for the time it was off
        return trades;
    }
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
                const double sigmaTicks = volatility * t.volatility * 1e4 * std::sqrt(dt);
                qint64 &tick = m_ticks[t.symbol];
                tick = std::clamp<qint64>(tick + qint64(std::llround(n(m_rng) * sigmaTicks)),
                                          -10000, 10000);
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
        const u128 target =
            mulShr64(referenceQ64(*x, *y), MeteoraDlmmPool::priceFromId(qint32(dTick), 1), false);
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

namespace {

const RedisScript &launchScript()
{
    static const RedisScript s(luaScript("launch"));
    return s;
}

const char kBase58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

QString madeUpMint(const QString &symbol)
{
    // 44 base58 characters, like a Solana address; derived from the symbol and the time.
    QByteArray seed = QCryptographicHash::hash(
        symbol.toUtf8() + QByteArray::number(QDateTime::currentMSecsSinceEpoch()),
        QCryptographicHash::Sha256);
    QString out;
    for (int i = 0; i < 44; ++i)
        out += QLatin1Char(kBase58[quint8(seed[i % seed.size()] ^ (i * 37)) % 58]);
    return out;
}

// price (quote per token) × the quote token's USD reference, as exact decimal text.
QString usdOf(const DecimalPrice &price, const Token &quote)
{
    const DecimalRatio q = decimalRatio(quote.usd); // numerator / 10^k
    int k = 0;
    for (u128 d = q.denominator; d > 1; d /= 10)
        ++k;
    const u128 num = u128(price.num) * q.numerator;
    QByteArray digits = toDecimal(num);
    const int scale = price.scale + k;
    while (digits.size() <= scale)
        digits.prepend('0');
    QByteArray text = digits.left(digits.size() - scale);
    QByteArray frac = digits.mid(digits.size() - scale);
    while (frac.endsWith('0'))
        frac.chop(1);
    if (!frac.isEmpty())
        text += '.' + frac;
    return QString::fromLatin1(text);
}

} // namespace

std::variant<LaunchSpec, ApiError> parseLaunchSpec(const QJsonObject &o)
{
    const auto bad = [](const QString &field, const QString &message) {
        return ApiError{ErrorKind::InvalidField, message, field, {}};
    };
    static const QStringList known{QStringLiteral("symbol"),   QStringLiteral("quoteToken"),
                                   QStringLiteral("price"),    QStringLiteral("liquidity"),
                                   QStringLiteral("decimals"), QStringLiteral("mint"),
                                   QStringLiteral("venue"),    QStringLiteral("afterMs")};
    for (auto it = o.begin(); it != o.end(); ++it)
        if (!known.contains(it.key()))
            return ApiError{ErrorKind::UnknownField,
                            QStringLiteral("unknown field '%1'; accepted: %2")
                                .arg(it.key().left(64), known.join(QStringLiteral(", "))),
                            it.key().left(64),
                            {}};
    LaunchSpec spec;
    static const QRegularExpression symbol(QStringLiteral("^[A-Za-z][A-Za-z0-9]{0,15}$"));
    spec.symbol = o.value(QStringLiteral("symbol")).toString();
    if (!symbol.match(spec.symbol).hasMatch())
        return bad(QStringLiteral("symbol"),
                   QStringLiteral("symbol is required: 1 to 16 letters and digits, "
                                  "starting with a letter"));
    if (o.contains(QStringLiteral("quoteToken"))) {
        if (!o.value(QStringLiteral("quoteToken")).isString() ||
            !TokenRegistry::instance().find(o.value(QStringLiteral("quoteToken")).toString()))
            return bad(QStringLiteral("quoteToken"),
                       QStringLiteral("quoteToken must name a trading token (symbol or mint)"));
        spec.quoteToken = o.value(QStringLiteral("quoteToken")).toString();
    }
    if (o.contains(QStringLiteral("price"))) {
        const auto p = parsePrice(o.value(QStringLiteral("price")));
        if (const auto *e = std::get_if<QString>(&p))
            return bad(QStringLiteral("price"),
                       QStringLiteral("price (quoteToken per token) ") + *e);
        spec.price = std::get<DecimalPrice>(p).text();
    }
    if (o.contains(QStringLiteral("liquidity"))) {
        const QJsonValue v = o.value(QStringLiteral("liquidity"));
        const qint64 usd = v.isString() ? v.toString().toLongLong() : v.toInteger(-1);
        if (usd < 100 || usd > 1'000'000'000)
            return bad(
                QStringLiteral("liquidity"),
                QStringLiteral("liquidity must be whole USD on each side, 100 to 1000000000"));
        spec.liquidityUsd = usd;
    }
    if (o.contains(QStringLiteral("decimals"))) {
        const qint64 d = o.value(QStringLiteral("decimals")).toInteger(-1);
        if (d < 0 || d > 12)
            return bad(QStringLiteral("decimals"),
                       QStringLiteral("decimals must be an integer from 0 to 12"));
        spec.decimals = int(d);
    }
    if (o.contains(QStringLiteral("mint"))) {
        static const QRegularExpression base58(QStringLiteral("^[1-9A-HJ-NP-Za-km-z]{32,44}$"));
        spec.mint = o.value(QStringLiteral("mint")).toString();
        if (!base58.match(spec.mint).hasMatch())
            return bad(QStringLiteral("mint"),
                       QStringLiteral("mint must be a base58 address (32 to 44 characters)"));
    }
    if (o.contains(QStringLiteral("venue"))) {
        spec.venue = o.value(QStringLiteral("venue")).toString();
        if (!venueNamed(spec.venue))
            return bad(QStringLiteral("venue"), QStringLiteral("venue must be raydium or meteora"));
    }
    return spec;
}

QJsonObject LaunchResult::toJson() const
{
    return QJsonObject{
        {QStringLiteral("symbol"), symbol},     {QStringLiteral("mint"), mint},
        {QStringLiteral("decimals"), decimals}, {QStringLiteral("poolId"), poolId},
        {QStringLiteral("venue"), venue},       {QStringLiteral("quoteToken"), quoteToken},
        {QStringLiteral("price"), price}};
}

std::optional<LaunchResult> Market::launch(const LaunchSpec &spec, RedisConnection *redis,
                                           const QByteArray &prefix, QString *error, bool *conflict)
{
    *conflict = false;
    TokenRegistry &tokens = TokenRegistry::instance();
    const Token *quote = tokens.find(spec.quoteToken);
    const Venue *venue = venueNamed(spec.venue);
    if (!quote) {
        *error = QStringLiteral("quoteToken: unknown token '%1'").arg(spec.quoteToken);
        return std::nullopt;
    }
    if (!venue) {
        *error = QStringLiteral("venue must be raydium or meteora");
        return std::nullopt;
    }
    const auto price = parsePrice(QJsonValue(spec.price));
    if (!std::holds_alternative<DecimalPrice>(price)) {
        *error = QStringLiteral("price ") + std::get<QString>(price);
        return std::nullopt;
    }
    Token t;
    t.symbol = spec.symbol.toUpper();
    t.mint = spec.mint.isEmpty() ? madeUpMint(t.symbol) : spec.mint;
    t.decimals = spec.decimals;
    t.usd = usdOf(std::get<DecimalPrice>(price), *quote);
    t.volatility = 2.0; // a new token moves more than the majors
    if (tokens.find(t.symbol) || tokens.find(t.mint)) {
        *conflict = true;
        *error = QStringLiteral("a token with symbol %1 or mint %2 already trades")
                     .arg(t.symbol, t.mint);
        return std::nullopt;
    }
    const QString poolId = QStringLiteral("%1-%2-%3").arg(venue->name(), t.symbol, quote->symbol);
    QJsonObject config{{QStringLiteral("depthUsd"), spec.liquidityUsd}};
    if (venue->kind() == QLatin1String("dlmm")) {
        config.insert(QStringLiteral("binStep"), 100);
        config.insert(QStringLiteral("usdPerBin"), qMax<qint64>(1, spec.liquidityUsd / 40));
        config.insert(QStringLiteral("binsEachSide"), 60);
        config.insert(QStringLiteral("parameters"),
                      QJsonObject{{QStringLiteral("baseFactor"), 10000},
                                  {QStringLiteral("baseFeePowerFactor"), 0},
                                  {QStringLiteral("filterPeriod"), 30},
                                  {QStringLiteral("decayPeriod"), 600},
                                  {QStringLiteral("reductionFactor"), 5000},
                                  {QStringLiteral("variableFeeControl"), 7500},
                                  {QStringLiteral("maxVolatilityAccumulator"), 350000},
                                  {QStringLiteral("protocolShare"), 500}});
    } else {
        config.insert(QStringLiteral("tradeFeeRate"), QStringLiteral("10000"));
        config.insert(QStringLiteral("protocolFeeRate"), QStringLiteral("120000"));
        config.insert(QStringLiteral("fundFeeRate"), QStringLiteral("40000"));
    }
    const std::unique_ptr<Pool> pool = venue->create(poolId, t, *quote, config);
    if (!pool) {
        *error = QStringLiteral("the pool could not be created at that price and liquidity");
        return std::nullopt;
    }
    const QJsonObject record{{QStringLiteral("symbol"), t.symbol},
                             {QStringLiteral("mint"), t.mint},
                             {QStringLiteral("decimals"), t.decimals},
                             {QStringLiteral("usd"), t.usd},
                             {QStringLiteral("pool"), poolId},
                             {QStringLiteral("venue"), venue->name()},
                             {QStringLiteral("quoteToken"), quote->symbol},
                             {QStringLiteral("price"), std::get<DecimalPrice>(price).text()}};
    const RedisReply r = redis->eval(
        launchScript(), {rkeys::launches(prefix), rkeys::tokens(prefix), poolKey(prefix, poolId)},
        {t.symbol.toUtf8(), t.mint.toUtf8(), QJsonDocument(record).toJson(QJsonDocument::Compact),
         pool->encode(), rkeys::launchedChannel(prefix)});
    if (!r.ok()) {
        *error = QStringLiteral("Redis: ") + QString::fromUtf8(r.str);
        return std::nullopt;
    }
    if (r.toInt() == 0) {
        *conflict = true;
        *error = QStringLiteral("a token with symbol %1 or mint %2 was already launched")
                     .arg(t.symbol, t.mint);
        return std::nullopt;
    }
    discoverLaunches(redis, prefix);
    LaunchResult out;
    out.symbol = t.symbol;
    out.mint = t.mint;
    out.decimals = t.decimals;
    out.poolId = poolId;
    out.venue = venue->name();
    out.quoteToken = quote->symbol;
    out.price = std::get<DecimalPrice>(price).text();
    return out;
}

bool Market::discoverLaunches(RedisConnection *redis, const QByteArray &prefix)
{
    QMutexLocker guard(&m_launchMutex);
    const RedisReply list = redis->command(
        {"LRANGE", rkeys::launches(prefix), QByteArray::number(m_launchesSeen), "-1"});
    if (!list.ok())
        return false;
    struct Found
    {
        QString symbol, mint, pool;
    };
    QList<Found> announce;
    for (const RedisReply &e : list.elements) {
        const QJsonObject o = QJsonDocument::fromJson(e.str).object();
        Token t;
        t.symbol = o.value(QStringLiteral("symbol")).toString();
        t.mint = o.value(QStringLiteral("mint")).toString();
        t.decimals = o.value(QStringLiteral("decimals")).toInt();
        t.usd = o.value(QStringLiteral("usd")).toString();
        t.volatility = 2.0;
        const QString poolId = o.value(QStringLiteral("pool")).toString();
        if (!TokenRegistry::instance().add(t)) {
            qCWarning(lcEngine, "launch of %s conflicts with a known token; ignored",
                      qPrintable(t.symbol));
            ++m_launchesSeen;
            continue;
        }
        const RedisReply state = redis->command({"HGET", poolKey(prefix, poolId), "state"});
        if (!state.ok())
            return false; // read again next time, from the same entry
        if (auto p = decodePool(state.str)) {
            QMutexLocker lock(&m_mutex);
            auto &current = m_pools[p->id];
            if (!current || p->slot >= current->slot)
                current = std::shared_ptr<const Pool>(std::move(p));
        }
        ++m_launchesSeen;
        if (!m_launchedPools.contains(poolId)) {
            m_launchedPools.insert(poolId);
            announce.append(Found{t.symbol, t.mint, poolId});
        }
    }
    guard.unlock();
    for (const Found &f : std::as_const(announce)) {
        qCInfo(lcEngine, "launch: %s (%s) trades in pool %s", qPrintable(f.symbol),
               qPrintable(f.mint), qPrintable(f.pool));
        emit m_signals.launched(f.symbol, f.mint, f.pool);
    }
    if (!announce.isEmpty())
        emit m_signals.poolsChanged();
    return true;
}

} // namespace oee
