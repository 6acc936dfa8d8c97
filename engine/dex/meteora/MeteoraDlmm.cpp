#include "dex/meteora/MeteoraDlmm.h"

#include "money/Tokens.h"
#include "money/WideMath.h"

#include <QJsonArray>
#include <algorithm>

namespace oee {

namespace {

constexpr u128 kOne = u128(1) << 64;          // 1.0 in Q64.64
constexpr u128 kFeePrecision = 1'000'000'000; // fee rates are over 10^9
constexpr u128 kMaxFeeRate = 100'000'000;     // 10 %
constexpr quint32 kBasisPointMax = 10'000;
constexpr quint32 kMaxExponent = 0x80000;

u128 qpow(u128 base, qint32 exponent)
{
    if (exponent == 0)
        return kOne;
    bool invert = exponent < 0;
    const quint32 e = quint32(exponent < 0 ? -qint64(exponent) : qint64(exponent));
    if (e > kMaxExponent)
        return 0;
    u128 squared = base;
    u128 result = kOne;
    if (squared >= result) {
        squared = kU128Max / squared;
        invert = !invert;
    }
    for (quint32 bit = 1; bit <= 0x40000; bit <<= 1) {
        if (e & bit)
            result = mulShr64(result, squared, false);
        squared = mulShr64(squared, squared, false);
    }
    if (result == 0)
        return 0;
    return invert ? kU128Max / result : result;
}

// Input needed for `amountOut` at `price` (rounded up), and output for an input (down).
u128 amountInFor(u128 amountOut, u128 price, bool forY)
{
    return forY ? shlDiv64(amountOut, price, true) : mulShr64(amountOut, price, true);
}

u128 amountOutFor(u128 amountIn, u128 price, bool forY)
{
    return forY ? mulShr64(amountIn, price, false) : shlDiv64(amountIn, price, false);
}

void updateReferences(DlmmVParameters &v, const DlmmParameters &p, qint32 activeId, qint64 now)
{
    const qint64 elapsed = now - v.lastUpdateTimestamp;
    if (elapsed >= qint64(p.filterPeriod)) {
        v.indexReference = activeId;
        if (elapsed < qint64(p.decayPeriod))
            v.volatilityReference =
                quint32(quint64(v.volatilityAccumulator) * p.reductionFactor / kBasisPointMax);
        else
            v.volatilityReference = 0;
    }
}

void updateVolatilityAccumulator(DlmmVParameters &v, const DlmmParameters &p, qint32 id)
{
    const quint64 delta = quint64(qAbs(qint64(v.indexReference) - qint64(id)));
    const quint64 acc = quint64(v.volatilityReference) + delta * kBasisPointMax;
    v.volatilityAccumulator = quint32(std::min<quint64>(acc, p.maxVolatilityAccumulator));
}

} // namespace

void DlmmBins::set(qint32 id, const DlmmBin &bin)
{
    if (m_bins.empty()) {
        m_lower = id;
        m_bins.push_back(bin);
        return;
    }
    if (id < m_lower) {
        m_bins.insert(m_bins.begin(), size_t(m_lower - id), DlmmBin{});
        m_lower = id;
    } else if (id > upperId()) {
        m_bins.resize(size_t(id - m_lower + 1));
    }
    m_bins[size_t(id - m_lower)] = bin;
}

u128 MeteoraDlmmPool::priceFromId(qint32 id, quint32 binStep)
{
    const u128 base = kOne + (u128(binStep) << 64) / kBasisPointMax;
    return qpow(base, id);
}

u128 MeteoraDlmmPool::totalFeeRate(const DlmmParameters &p, quint32 binStep, quint32 va)
{
    u128 power = 1;
    for (quint32 i = 0; i < p.baseFeePowerFactor; ++i)
        power *= 10;
    const u128 baseFee = u128(p.baseFactor) * binStep * 10 * power;
    u128 variableFee = 0;
    if (p.variableFeeControl > 0) {
        const u128 vab = u128(va) * binStep;
        variableFee = (u128(p.variableFeeControl) * vab * vab + 99'999'999'999) / 100'000'000'000;
    }
    return std::min(baseFee + variableFee, kMaxFeeRate);
}

SwapResult MeteoraDlmmPool::swap(const QString &inputMint, BaseUnits amountIn, qint64 now,
                                 bool apply)
{
    if (inputMint != m_s.mintX && inputMint != m_s.mintY) {
        SwapResult r;
        r.inAmount = amountIn;
        r.failure = SwapResult::Failure::UnknownMint;
        return r;
    }
    return swapForY(inputMint == m_s.mintX, amountIn, now, apply);
}

SwapResult MeteoraDlmmPool::swapForY(bool forY, BaseUnits amountIn, qint64 now, bool apply)
{
    SwapResult r;
    r.inAmount = amountIn;
    DlmmVParameters v = m_s.vParameters;
    updateReferences(v, m_s.parameters, m_s.activeId, now);

    u128 left = amountIn;
    u128 out = 0, lpFee = 0, protocolFee = 0;
    std::optional<qint32> last;
    std::vector<std::pair<qint32, DlmmBin>> changed;

    auto visit = [&](qint32 id, const DlmmBin &bin) {
        const u128 maxOut = forY ? bin.amountY : bin.amountX;
        if (maxOut == 0)
            return;
        updateVolatilityAccumulator(v, m_s.parameters, id);
        const u128 rate = totalFeeRate(m_s.parameters, m_s.binStep, v.volatilityAccumulator);
        const u128 price = priceFromId(id, m_s.binStep);
        // Fee on input: what is left of the input after its fee.
        u128 fee = divCeil(left * rate, kFeePrecision);
        u128 excluded = left - fee;
        const u128 maxIn = amountInFor(maxOut, price, forY);
        u128 binOut;
        u128 includedIn = left;
        if (excluded >= maxIn) {
            // Drains the bin; the fee is recomputed on what it took.
            const u128 amountLeft = excluded - maxIn;
            binOut = maxOut;
            if (amountLeft != 0) {
                excluded = maxIn;
                includedIn = divCeil(excluded * kFeePrecision, kFeePrecision - rate);
                fee = includedIn - excluded;
            }
        } else {
            binOut = amountOutFor(excluded, price, forY);
        }
        if (includedIn == 0)
            return;
        // The SDK splits the fee in proportion to what the bin filled (splitFee): a fill of 0
        // (an input the fee ate whole) carries no fee, and the input lands in the bin.
        if (excluded == 0)
            fee = 0;
        const u128 protocol = fee * m_s.parameters.protocolShare / kBasisPointMax;
        left -= includedIn;
        out += binOut;
        lpFee += fee - protocol;
        protocolFee += protocol;
        last = id;
        DlmmBin nb = bin;
        const u128 into = includedIn - fee;
        if (forY) {
            nb.amountX = quint64(u128(nb.amountX) + into);
            nb.amountY = quint64(u128(nb.amountY) - binOut);
        } else {
            nb.amountY = quint64(u128(nb.amountY) + into);
            nb.amountX = quint64(u128(nb.amountX) - binOut);
        }
        changed.emplace_back(id, nb);
    };

    const DlmmBins &bins = m_s.bins;
    if (!bins.isEmpty()) {
        if (forY) {
            for (qint32 id = std::min(m_s.activeId, bins.upperId());
                 left > 0 && id >= bins.lowerId(); --id)
                visit(id, bins.at(id));
        } else {
            for (qint32 id = std::max(m_s.activeId, bins.lowerId());
                 left > 0 && id <= bins.upperId(); ++id)
                visit(id, bins.at(id));
        }
    }
    r.fee = BaseUnits(lpFee + protocolFee);
    r.protocolFee = BaseUnits(protocolFee);
    r.endActiveId = last;
    if (left > 0 || !last) {
        r.failure = SwapResult::Failure::InsufficientLiquidity;
        return r;
    }
    if (out > kU64Max) {
        r.failure = SwapResult::Failure::Overflow;
        return r;
    }
    r.consumedInAmount = amountIn;
    r.outAmount = BaseUnits(out);
    if (apply) {
        for (const auto &[id, bin] : changed)
            m_s.bins.set(id, bin);
        m_s.activeId = *last;
        v.lastUpdateTimestamp = now;
        m_s.vParameters = v;
        (forY ? m_s.protocolFeeX : m_s.protocolFeeY) += r.protocolFee;
        ++slot;
    }
    return r;
}

u128 MeteoraDlmmPool::spotPriceQ64(const QString &inputMint) const
{
    const u128 p = priceFromId(m_s.activeId, m_s.binStep);
    if (inputMint == m_s.mintX)
        return p;
    return p == 0 ? 0 : shlDiv64(kOne, p, false);
}

QJsonObject MeteoraDlmmPool::toJson() const
{
    const auto s = [](quint64 v) { return QString::number(v); };
    const DlmmParameters &p = m_s.parameters;
    const DlmmVParameters &v = m_s.vParameters;
    QJsonArray bins;
    m_s.bins.forEachNonEmpty([&](qint32 binId, const DlmmBin &b) {
        bins.append(QJsonObject{{QStringLiteral("id"), binId},
                                {QStringLiteral("amountX"), s(b.amountX)},
                                {QStringLiteral("amountY"), s(b.amountY)}});
    });
    return QJsonObject{
        {QStringLiteral("id"), id},
        {QStringLiteral("venue"), venue()},
        {QStringLiteral("kind"), kind()},
        {QStringLiteral("mintX"), m_s.mintX},
        {QStringLiteral("mintY"), m_s.mintY},
        {QStringLiteral("decimalsX"), m_s.decimalsX},
        {QStringLiteral("decimalsY"), m_s.decimalsY},
        {QStringLiteral("binStep"), int(m_s.binStep)},
        {QStringLiteral("activeId"), m_s.activeId},
        {QStringLiteral("parameters"),
         QJsonObject{
             {QStringLiteral("baseFactor"), int(p.baseFactor)},
             {QStringLiteral("baseFeePowerFactor"), int(p.baseFeePowerFactor)},
             {QStringLiteral("filterPeriod"), int(p.filterPeriod)},
             {QStringLiteral("decayPeriod"), int(p.decayPeriod)},
             {QStringLiteral("reductionFactor"), int(p.reductionFactor)},
             {QStringLiteral("variableFeeControl"), qint64(p.variableFeeControl)},
             {QStringLiteral("maxVolatilityAccumulator"), qint64(p.maxVolatilityAccumulator)},
             {QStringLiteral("protocolShare"), int(p.protocolShare)}}},
        {QStringLiteral("vParameters"),
         QJsonObject{
             {QStringLiteral("volatilityAccumulator"), qint64(v.volatilityAccumulator)},
             {QStringLiteral("volatilityReference"), qint64(v.volatilityReference)},
             {QStringLiteral("indexReference"), v.indexReference},
             {QStringLiteral("lastUpdateTimestamp"), QString::number(v.lastUpdateTimestamp)}}},
        {QStringLiteral("bins"), bins},
        {QStringLiteral("protocolFeeX"), s(m_s.protocolFeeX)},
        {QStringLiteral("protocolFeeY"), s(m_s.protocolFeeY)},
        {QStringLiteral("slot"), s(slot)}};
}

QByteArray MeteoraDlmmPool::encode() const
{
    const DlmmParameters &p = m_s.parameters;
    const DlmmVParameters &v = m_s.vParameters;
    QByteArray out;
    out.reserve(512 + 48 * 256);
    out.append("meteora ")
        .append(id.toUtf8())
        .append(' ')
        .append(m_s.mintX.toUtf8())
        .append(' ')
        .append(m_s.mintY.toUtf8());
    const auto num = [&](qint64 x) { out.append(' ').append(QByteArray::number(x)); };
    const auto unum = [&](quint64 x) { out.append(' ').append(QByteArray::number(x)); };
    num(m_s.decimalsX);
    num(m_s.decimalsY);
    num(m_s.binStep);
    num(m_s.activeId);
    for (const quint32 x :
         {p.baseFactor, p.baseFeePowerFactor, p.filterPeriod, p.decayPeriod, p.reductionFactor,
          p.variableFeeControl, p.maxVolatilityAccumulator, p.protocolShare})
        num(x);
    num(v.volatilityAccumulator);
    num(v.volatilityReference);
    num(v.indexReference);
    num(v.lastUpdateTimestamp);
    unum(m_s.protocolFeeX);
    unum(m_s.protocolFeeY);
    unum(slot);
    num(m_s.bins.isEmpty() ? 0 : m_s.bins.lowerId());
    num(m_s.bins.isEmpty() ? 0 : m_s.bins.upperId() - m_s.bins.lowerId() + 1);
    if (!m_s.bins.isEmpty())
        for (qint32 binId = m_s.bins.lowerId(); binId <= m_s.bins.upperId(); ++binId) {
            unum(m_s.bins.at(binId).amountX);
            unum(m_s.bins.at(binId).amountY);
        }
    return out;
}

std::unique_ptr<Pool> MeteoraDlmmVenue::decode(const QList<QByteArray> &f) const
{
    constexpr int kFixed = 25; // fields before the bins
    if (f.size() < kFixed)
        return nullptr;
    bool ok = true;
    const auto i64 = [&](int i) {
        bool good = false;
        const qint64 v = f[i].toLongLong(&good);
        ok = ok && good;
        return v;
    };
    const auto u64 = [&](int i) {
        bool good = false;
        const quint64 v = f[i].toULongLong(&good);
        ok = ok && good;
        return v;
    };
    DlmmState s;
    s.mintX = QString::fromUtf8(f[2]);
    s.mintY = QString::fromUtf8(f[3]);
    s.decimalsX = int(i64(4));
    s.decimalsY = int(i64(5));
    s.binStep = quint32(i64(6));
    s.activeId = qint32(i64(7));
    DlmmParameters &p = s.parameters;
    quint32 *params[] = {&p.baseFactor,
                         &p.baseFeePowerFactor,
                         &p.filterPeriod,
                         &p.decayPeriod,
                         &p.reductionFactor,
                         &p.variableFeeControl,
                         &p.maxVolatilityAccumulator,
                         &p.protocolShare};
    for (int k = 0; k < 8; ++k)
        *params[k] = quint32(i64(8 + k));
    s.vParameters.volatilityAccumulator = quint32(i64(16));
    s.vParameters.volatilityReference = quint32(i64(17));
    s.vParameters.indexReference = qint32(i64(18));
    s.vParameters.lastUpdateTimestamp = i64(19);
    s.protocolFeeX = u64(20);
    s.protocolFeeY = u64(21);
    const quint64 slot = u64(22);
    const qint32 lower = qint32(i64(23));
    const qint64 count = i64(24);
    if (!ok || count < 0 || f.size() != 25 + 2 * count || s.binStep == 0 || s.binStep > 400)
        return nullptr;
    for (qint64 k = 0; k < count; ++k)
        s.bins.set(lower + qint32(k), DlmmBin{u64(25 + 2 * int(k)), u64(26 + 2 * int(k))});
    if (!ok)
        return nullptr;
    auto pool = std::make_unique<MeteoraDlmmPool>(std::move(s));
    pool->id = QString::fromUtf8(f[1]);
    pool->slot = slot;
    return pool;
}

std::unique_ptr<Pool> MeteoraDlmmVenue::fromJson(const QJsonObject &o, QString *error) const
{
    const auto fail = [&](const QString &what) -> std::unique_ptr<Pool> {
        if (error)
            *error = QStringLiteral("malformed DLMM pool state: ") + what;
        return nullptr;
    };
    DlmmState s;
    s.mintX = o.value(QStringLiteral("mintX")).toString();
    s.mintY = o.value(QStringLiteral("mintY")).toString();
    s.decimalsX = o.value(QStringLiteral("decimalsX")).toInt();
    s.decimalsY = o.value(QStringLiteral("decimalsY")).toInt();
    const auto binStep = intField(o, QStringLiteral("binStep"));
    const auto activeId = intField(o, QStringLiteral("activeId"));
    if (!binStep || *binStep <= 0 || *binStep > 400 || !activeId)
        return fail(QStringLiteral("binStep/activeId"));
    s.binStep = quint32(*binStep);
    s.activeId = qint32(*activeId);
    const QJsonObject p = o.value(QStringLiteral("parameters")).toObject();
    const auto u32 = [](const QJsonObject &obj, const char *key, quint32 &into) {
        const auto v = intField(obj, QString::fromLatin1(key));
        if (!v || *v < 0 || *v > 0xffffffffLL)
            return false;
        into = quint32(*v);
        return true;
    };
    DlmmParameters &dp = s.parameters;
    if (!u32(p, "baseFactor", dp.baseFactor) || !u32(p, "filterPeriod", dp.filterPeriod) ||
        !u32(p, "decayPeriod", dp.decayPeriod) || !u32(p, "reductionFactor", dp.reductionFactor) ||
        !u32(p, "variableFeeControl", dp.variableFeeControl) ||
        !u32(p, "maxVolatilityAccumulator", dp.maxVolatilityAccumulator) ||
        !u32(p, "protocolShare", dp.protocolShare) || dp.protocolShare > kBasisPointMax)
        return fail(QStringLiteral("parameters"));
    u32(p, "baseFeePowerFactor", dp.baseFeePowerFactor);
    if (dp.baseFeePowerFactor > 8)
        return fail(QStringLiteral("baseFeePowerFactor"));
    const QJsonObject v = o.value(QStringLiteral("vParameters")).toObject();
    DlmmVParameters &dv = s.vParameters;
    quint32 indexRef = 0;
    const auto index = intField(v, QStringLiteral("indexReference"));
    const auto last = intField(v, QStringLiteral("lastUpdateTimestamp"));
    if (!u32(v, "volatilityAccumulator", dv.volatilityAccumulator) ||
        !u32(v, "volatilityReference", dv.volatilityReference) || !index || !last)
        return fail(QStringLiteral("vParameters"));
    (void)indexRef;
    dv.indexReference = qint32(*index);
    dv.lastUpdateTimestamp = *last;
    for (const QJsonValue &bv : o.value(QStringLiteral("bins")).toArray()) {
        const QJsonObject b = bv.toObject();
        const auto id = intField(b, QStringLiteral("id"));
        const auto x = u64Field(b, QStringLiteral("amountX"));
        const auto y = u64Field(b, QStringLiteral("amountY"));
        if (!id || !x || !y)
            return fail(QStringLiteral("bins"));
        if (*x || *y)
            s.bins.set(qint32(*id), DlmmBin{*x, *y});
    }
    s.protocolFeeX = u64Field(o, QStringLiteral("protocolFeeX")).value_or(0);
    s.protocolFeeY = u64Field(o, QStringLiteral("protocolFeeY")).value_or(0);
    auto pool = std::make_unique<MeteoraDlmmPool>(std::move(s));
    pool->id = o.value(QStringLiteral("id")).toString();
    pool->slot = u64Field(o, QStringLiteral("slot")).value_or(0);
    return pool;
}

std::unique_ptr<Pool> MeteoraDlmmVenue::create(const QString &id, const Token &x, const Token &y,
                                               const QJsonObject &config) const
{
    const auto pow10 = [](int n) {
        u128 p = 1;
        while (n-- > 0)
            p *= 10;
        return p;
    };
    const DecimalRatio ux = decimalRatio(x.usd), uy = decimalRatio(y.usd);
    // Price of one base unit of X in base units of Y: num / den.
    const u128 num = ux.numerator * uy.denominator * pow10(y.decimals);
    const u128 den = ux.denominator * uy.numerator * pow10(x.decimals);
    const quint32 binStep = quint32(config.value(QStringLiteral("binStep")).toInt(10));
    // The active bin: the highest id whose price does not exceed num/den (compare
    // price · den with num · 2^64 in 256 bits).
    const auto notAbove = [&](qint32 bin) {
        const U256 lhs = mulWide(MeteoraDlmmPool::priceFromId(bin, binStep), den);
        const U256 rhs{num >> 64, num << 64};
        return lhs.hi < rhs.hi || (lhs.hi == rhs.hi && lhs.lo <= rhs.lo);
    };
    // Within ±e^40 of 1, where Q64.64 prices neither overflow nor vanish.
    const qint32 range = qint32(400000 / binStep);
    qint32 lo = -range, hi = range;
    while (lo < hi) {
        const qint32 mid = lo + (hi - lo + 1) / 2;
        if (notAbove(mid))
            lo = mid;
        else
            hi = mid - 1;
    }
    const int side = config.value(QStringLiteral("binsEachSide")).toInt(100);
    const u128 usdPerBin = u128(config.value(QStringLiteral("usdPerBin")).toInteger(250000));
    const quint64 perBinX = quint64(usdPerBin * ux.denominator * pow10(x.decimals) / ux.numerator);
    const quint64 perBinY = quint64(usdPerBin * uy.denominator * pow10(y.decimals) / uy.numerator);
    QJsonArray bins;
    for (int d = -side; d <= side; ++d) {
        const quint64 ax = d > 0 ? perBinX : d == 0 ? perBinX / 2 : 0;
        const quint64 ay = d < 0 ? perBinY : d == 0 ? perBinY / 2 : 0;
        bins.append(QJsonObject{{QStringLiteral("id"), lo + d},
                                {QStringLiteral("amountX"), QString::number(ax)},
                                {QStringLiteral("amountY"), QString::number(ay)}});
    }
    QJsonObject state{
        {QStringLiteral("id"), id},
        {QStringLiteral("venue"), name()},
        {QStringLiteral("mintX"), x.mint},
        {QStringLiteral("mintY"), y.mint},
        {QStringLiteral("decimalsX"), x.decimals},
        {QStringLiteral("decimalsY"), y.decimals},
        {QStringLiteral("binStep"), int(binStep)},
        {QStringLiteral("activeId"), lo},
        {QStringLiteral("parameters"), config.value(QStringLiteral("parameters"))},
        {QStringLiteral("vParameters"), QJsonObject{{QStringLiteral("volatilityAccumulator"), 0},
                                                    {QStringLiteral("volatilityReference"), 0},
                                                    {QStringLiteral("indexReference"), lo},
                                                    {QStringLiteral("lastUpdateTimestamp"), 0}}},
        {QStringLiteral("bins"), bins}};
    QString error;
    auto pool = fromJson(state, &error);
    if (!pool)
        qFatal("resources/pools.json: pool %s: %s", qPrintable(id), qPrintable(error));
    return pool;
}

} // namespace oee
