#include "dex/Route.h"

#include <algorithm>
#include <cmath>

#include "money/Tokens.h"

#include <QJsonArray>
#include <algorithm>

namespace oee {

namespace {

constexpr int kFullBps = 10000;

RouteLeg quoteLeg(const Pool &pool, const Token &in, const Token &out, BaseUnits amount, qint64 now,
                  int shareBps = kFullBps)
{
    RouteLeg leg;
    leg.poolId = pool.id;
    leg.venue = pool.venue();
    leg.kind = pool.kind();
    leg.input = &in;
    leg.output = &out;
    leg.slot = pool.slot;
    leg.shareBps = shareBps;
    leg.result = pool.quote(in.mint, amount, now); // shared, so not copied: a quote changes nothing
    leg.spotQ64 = pool.spotPriceQ64(in.mint);
    return leg;
}

RouteCandidate single(const RouteLeg &leg)
{
    RouteCandidate c;
    c.type = RouteCandidate::Type::Direct;
    c.legs = {leg};
    if (leg.result.ok())
        c.amountOut = leg.result.outAmount;
    else
        c.error = leg.result.error();
    return c;
}

const Token *hubToken(const char *symbol)
{
    return TokenRegistry::instance().bySymbol(QString::fromLatin1(symbol));
}

} // namespace

QJsonValue decimalNumber(const QString &decimal)
{
    return QJsonValue(decimal.toDouble());
}

QJsonValue amountNumber(BaseUnits amount, int decimals)
{
    return decimalNumber(formatTokenAmount(amount, decimals));
}

QJsonObject RouteLeg::toJson() const
{
    QJsonObject o{{QStringLiteral("pool"), poolId},
                  {QStringLiteral("kind"), kind},
                  {QStringLiteral("tokenIn"), input->symbol},
                  {QStringLiteral("tokenOut"), output->symbol},
                  {QStringLiteral("inRaw"), QString::number(result.inAmount)},
                  {QStringLiteral("outRaw"), QString::number(result.outAmount)},
                  {QStringLiteral("feeRaw"), QString::number(result.fee)},
                  {QStringLiteral("protocolFeeRaw"), QString::number(result.protocolFee)},
                  {QStringLiteral("shareBps"), shareBps}};
    if (result.fundFee)
        o.insert(QStringLiteral("fundFeeRaw"), QString::number(result.fundFee));
    if (result.endActiveId)
        o.insert(QStringLiteral("endActiveId"), *result.endActiveId);
    if (!result.ok())
        o.insert(QStringLiteral("error"), result.error());
    return o;
}

qint64 RouteLeg::impactCentiBps() const
{
    if (!result.ok() || spotQ64 == 0 || result.inAmount <= result.fee)
        return 0;
    // Display only: doubles are fine here (nothing is decided by it).
    const double atSpot =
        double(result.inAmount - result.fee) * (double(spotQ64) / 18446744073709551616.0);
    if (atSpot <= 0)
        return 0;
    return std::max<qint64>(0,
                            qint64(std::llround((1.0 - double(result.outAmount) / atSpot) * 1e6)));
}

QJsonObject RouteLeg::toShortJson() const
{
    QJsonObject o{{QStringLiteral("pool"), poolId},
                  {QStringLiteral("inRaw"), QString::number(result.inAmount)},
                  {QStringLiteral("outRaw"), QString::number(result.outAmount)},
                  {QStringLiteral("feeRaw"), QString::number(result.fee)},
                  {QStringLiteral("shareBps"), shareBps}};
    if (result.ok() && spotQ64)
        o.insert(QStringLiteral("impactBps"),
                 QString::number(double(impactCentiBps()) / 100.0, 'f', 2));
    return o;
}

QString RouteCandidate::typeName() const
{
    switch (type) {
    case Type::Direct:
        return QStringLiteral("direct");
    case Type::TwoHop:
        return QStringLiteral("two-hop");
    case Type::Split:
        return QStringLiteral("split");
    }
    return {};
}

QString RouteCandidate::venue() const
{
    const RouteLeg *top = nullptr;
    for (const RouteLeg &l : legs)
        if (!top || l.shareBps > top->shareBps)
            top = &l;
    return top ? top->venue : QString();
}

QJsonArray RouteCandidate::legsJson() const
{
    QJsonArray a;
    for (const RouteLeg &l : legs)
        a.append(l.toJson());
    return a;
}

QJsonObject RouteCandidate::toShortJson() const
{
    QJsonArray legArray;
    for (const RouteLeg &l : legs)
        legArray.append(l.toShortJson());
    QJsonObject o{{QStringLiteral("type"), typeName()},
                  {QStringLiteral("venue"), venue()},
                  {QStringLiteral("legs"), legArray}};
    if (ok())
        o.insert(QStringLiteral("amountOutRaw"), QString::number(amountOut));
    else
        o.insert(QStringLiteral("error"), error);
    return o;
}

QJsonObject RouteCandidate::toJson(const Token &in, const Token &out, BaseUnits amountIn) const
{
    const QJsonArray legArray = legsJson();
    QJsonObject o{{QStringLiteral("type"), typeName()},
                  {QStringLiteral("venue"), venue()},
                  {QStringLiteral("legs"), legArray},
                  {QStringLiteral("amountIn"), formatTokenAmount(amountIn, in.decimals)},
                  {QStringLiteral("amountInRaw"), QString::number(amountIn)}};
    if (ok()) {
        o.insert(QStringLiteral("amountOut"), formatTokenAmount(amountOut, out.decimals));
        o.insert(QStringLiteral("amountOutRaw"), QString::number(amountOut));
        o.insert(QStringLiteral("price"),
                 formatRatio(amountOut, out.decimals, amountIn, in.decimals));
    } else {
        o.insert(QStringLiteral("error"), error);
    }
    return o;
}

QJsonObject RoutePlan::toEventJson() const
{
    QJsonArray list;
    for (const RouteCandidate &c : candidates)
        list.append(c.toShortJson());
    // candidates[0] is the chosen plan (they are ordered best first).
    QJsonObject o{{QStringLiteral("route"), best.typeName()}, {QStringLiteral("candidates"), list}};
    if (best.ok()) { // "expected": only a fill has an amountOut (the seeds' clients read that)
        o.insert(QStringLiteral("expectedAmountOut"),
                 formatTokenAmount(best.amountOut, out->decimals));
        o.insert(QStringLiteral("expectedAmountOutRaw"), QString::number(best.amountOut));
    }
    return o;
}

QJsonObject RoutePlan::toJson() const
{
    QJsonArray list;
    for (const RouteCandidate &c : candidates)
        list.append(c.toJson(*in, *out, amountIn));
    QJsonObject o{{QStringLiteral("tokenIn"), in->symbol},
                  {QStringLiteral("tokenOut"), out->symbol},
                  {QStringLiteral("amountIn"), formatTokenAmount(amountIn, in->decimals)},
                  {QStringLiteral("amountInRaw"), QString::number(amountIn)},
                  {QStringLiteral("candidates"), list},
                  {QStringLiteral("plan"), best.toJson(*in, *out, amountIn)},
                  {QStringLiteral("chosen"), best.venue()}};
    if (best.ok())
        o.insert(QStringLiteral("amountOut"), amountNumber(best.amountOut, out->decimals));
    // The earlier shape: each venue's best direct pool, with numbers.
    for (const Venue *v : venues()) {
        const RouteCandidate *top = nullptr;
        for (const RouteCandidate &c : candidates)
            if (c.type == RouteCandidate::Type::Direct && c.ok() && c.venue() == v->name() &&
                (!top || c.amountOut > top->amountOut))
                top = &c;
        if (!top)
            continue;
        const SwapResult &r = top->legs.first().result;
        o.insert(v->name(),
                 QJsonObject{
                     {QStringLiteral("venue"), v->name()},
                     {QStringLiteral("pool"), top->legs.first().poolId},
                     {QStringLiteral("tokenIn"), in->symbol},
                     {QStringLiteral("tokenOut"), out->symbol},
                     {QStringLiteral("amountIn"), amountNumber(amountIn, in->decimals)},
                     {QStringLiteral("amountOut"), amountNumber(r.outAmount, out->decimals)},
                     {QStringLiteral("amountOutRaw"), QString::number(r.outAmount)},
                     {QStringLiteral("price"), decimalNumber(formatRatio(r.outAmount, out->decimals,
                                                                         amountIn, in->decimals))},
                     {QStringLiteral("feeAmount"), amountNumber(r.fee, in->decimals)},
                     {QStringLiteral("feeRaw"), QString::number(r.fee)}});
    }
    return o;
}

RoutePlan Router::route(const PoolSet &pools, const Token &in, const Token &out, BaseUnits amount,
                        qint64 now, const QStringList &excludedVenues)
{
    RoutePlan plan;
    plan.in = &in;
    plan.out = &out;
    plan.amountIn = amount;
    plan.now = now;
    // Deterministic order: by pool id.
    QList<std::shared_ptr<const Pool>> usable;
    for (const auto &p : pools)
        if (!excludedVenues.contains(p->venue()))
            usable.append(p);
    std::sort(usable.begin(), usable.end(),
              [](const auto &a, const auto &b) { return a->id < b->id; });

    QList<std::shared_ptr<const Pool>> direct;
    for (const auto &p : usable)
        if (p->trades(in.mint) && p->trades(out.mint))
            direct.append(p);
    for (const auto &p : direct)
        plan.candidates.append(single(quoteLeg(*p, in, out, amount, now)));

    // Two hops through SOL or USDC.
    for (const char *hub : {"SOL", "USDC"}) {
        const Token *mid = hubToken(hub);
        if (!mid || mid == &in || mid == &out)
            continue;
        for (const auto &p1 : usable) {
            if (!(p1->trades(in.mint) && p1->trades(mid->mint)))
                continue;
            const RouteLeg first = quoteLeg(*p1, in, *mid, amount, now);
            for (const auto &p2 : usable) {
                if (!(p2->trades(mid->mint) && p2->trades(out.mint)))
                    continue;
                RouteCandidate c;
                c.type = RouteCandidate::Type::TwoHop;
                c.legs = {first};
                if (!first.result.ok()) {
                    c.error = first.result.error();
                } else {
                    const RouteLeg second = quoteLeg(*p2, *mid, out, first.result.outAmount, now);
                    c.legs.append(second);
                    if (second.result.ok())
                        c.amountOut = second.result.outAmount;
                    else
                        c.error = second.result.error();
                }
                plan.candidates.append(c);
            }
        }
    }

    // A split across two direct pools, when the second pool's first units pay more than the
    // best pool's last ones (outputs are concave in the input, so then a split nets more):
    // the best share is found by a ternary search over basis points.
    QList<const RouteCandidate *> directOk;
    for (const RouteCandidate &c : plan.candidates)
        if (c.type == RouteCandidate::Type::Direct && c.ok())
            directOk.append(&c);
    std::sort(directOk.begin(), directOk.end(),
              [](const auto *a, const auto *b) { return a->amountOut > b->amountOut; });
    if (directOk.size() >= 2 && amount >= 2) {
        const Pool &a = *pools.value(directOk[0]->legs.first().poolId);
        const Pool &b = *pools.value(directOk[1]->legs.first().poolId);
        const auto outOf = [&](const Pool &p, BaseUnits x) -> BaseUnits {
            if (x == 0)
                return 0;
            const SwapResult r = p.quote(in.mint, x, now);
            return r.ok() ? r.outAmount : 0;
        };
        const BaseUnits delta = std::max<BaseUnits>(1, amount / 1000);
        const BaseUnits lastOfA = directOk[0]->amountOut - outOf(a, amount - delta);
        const BaseUnits firstOfB = outOf(b, delta);
        if (firstOfB > lastOfA) {
            const auto total = [&](int bps) {
                const BaseUnits inA = BaseUnits(u128(amount) * bps / kFullBps);
                const BaseUnits outA = outOf(a, inA), outB = outOf(b, amount - inA);
                if ((inA > 0 && outA == 0) || (amount - inA > 0 && outB == 0))
                    return BaseUnits(0);
                return outA + outB;
            };
            int lo = 0, hi = kFullBps;
            while (hi - lo > 2) {
                const int m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3;
                if (total(m1) < total(m2))
                    lo = m1 + 1;
                else
                    hi = m2;
            }
            int bestBps = lo;
            BaseUnits bestOut = total(lo);
            for (int s = lo + 1; s <= hi; ++s)
                if (const BaseUnits t = total(s); t > bestOut) {
                    bestOut = t;
                    bestBps = s;
                }
            if (bestBps > 0 && bestBps < kFullBps && bestOut > directOk[0]->amountOut) {
                const BaseUnits inA = BaseUnits(u128(amount) * bestBps / kFullBps);
                RouteCandidate c;
                c.type = RouteCandidate::Type::Split;
                c.legs = {quoteLeg(a, in, out, inA, now, bestBps),
                          quoteLeg(b, in, out, amount - inA, now, kFullBps - bestBps)};
                c.amountOut = c.legs[0].result.outAmount + c.legs[1].result.outAmount;
                plan.candidates.append(c);
            }
        }
    }

    std::stable_sort(plan.candidates.begin(), plan.candidates.end(),
                     [](const RouteCandidate &x, const RouteCandidate &y) {
                         if (x.ok() != y.ok())
                             return x.ok();
                         if (x.amountOut != y.amountOut)
                             return x.amountOut > y.amountOut;
                         return x.legs.size() < y.legs.size();
                     });
    if (plan.candidates.isEmpty()) {
        plan.best.error = QStringLiteral("no pool trades %1 for %2").arg(in.symbol, out.symbol);
        return plan;
    }
    plan.best = plan.candidates.first();
    return plan;
}

Router::Execution Router::execute(const PoolSet &pools, const RouteCandidate &plan, qint64 now)
{
    Execution ex;
    QHash<QString, std::shared_ptr<Pool>> working;
    BaseUnits carried = 0; // a second hop's input
    for (qsizetype i = 0; i < plan.legs.size(); ++i) {
        RouteLeg leg = plan.legs[i];
        auto &pool = working[leg.poolId];
        if (!pool) {
            const auto shared = pools.value(leg.poolId);
            if (!shared) {
                ex.error = QStringLiteral("pool %1 is gone").arg(leg.poolId);
                return ex;
            }
            pool = shared->clone();
        }
        const BaseUnits amount =
            plan.type == RouteCandidate::Type::TwoHop && i > 0 ? carried : leg.result.inAmount;
        leg.slot = pool->slot;
        leg.result = pool->swap(leg.input->mint, amount, now, true);
        if (!leg.result.ok()) {
            ex.error = QStringLiteral("%1 on %2").arg(leg.result.error(), leg.poolId);
            return ex;
        }
        carried = leg.result.outAmount;
        if (plan.type != RouteCandidate::Type::TwoHop || i == plan.legs.size() - 1)
            ex.amountOut += leg.result.outAmount;
        ex.legs.append(leg);
    }
    for (auto it = working.begin(); it != working.end(); ++it)
        ex.newStates.append(it.value());
    return ex;
}

} // namespace oee
