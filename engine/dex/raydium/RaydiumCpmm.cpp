#include "dex/raydium/RaydiumCpmm.h"

#include "money/Tokens.h"
#include "money/WideMath.h"

namespace oee {

namespace {
constexpr u128 kFeeDenominator = 1'000'000;
}

SwapResult RaydiumCpmmPool::swapBaseInput(quint64 amountIn, quint64 vaultIn, quint64 vaultOut,
                                          quint64 tradeFeeRate, quint64 protocolFeeRate,
                                          quint64 fundFeeRate)
{
    SwapResult r;
    r.inAmount = amountIn;
    const u128 in = amountIn;
    const u128 tradeFee = divCeil(in * tradeFeeRate, kFeeDenominator);
    const u128 protocolFee = tradeFee * protocolFeeRate / kFeeDenominator;
    const u128 fundFee = tradeFee * fundFeeRate / kFeeDenominator;
    r.fee = BaseUnits(tradeFee);
    r.protocolFee = BaseUnits(protocolFee);
    r.fundFee = BaseUnits(fundFee);
    if (tradeFee > in || u128(vaultIn) + in > kU64Max) {
        r.failure = SwapResult::Failure::Overflow;
        return r;
    }
    const u128 inLessFees = in - tradeFee;
    const U256 numerator = mulWide(inLessFees, vaultOut);
    if (numerator.hi != 0) { // the program's u128 checked_mul would fail
        r.failure = SwapResult::Failure::Overflow;
        return r;
    }
    const u128 out = numerator.lo / (u128(vaultIn) + inLessFees);
    if (out == 0) {
        r.failure = SwapResult::Failure::ZeroOutput;
        return r;
    }
    r.outAmount = BaseUnits(out);
    r.consumedInAmount = amountIn;
    return r;
}

SwapResult RaydiumCpmmPool::swap(const QString &inputMint, BaseUnits amountIn, qint64, bool apply)
{
    const bool aToB = inputMint == m_s.mintA;
    if (!aToB && inputMint != m_s.mintB) {
        SwapResult r;
        r.inAmount = amountIn;
        r.failure = SwapResult::Failure::UnknownMint;
        return r;
    }
    quint64 &vin = aToB ? m_s.vaultA : m_s.vaultB;
    quint64 &vout = aToB ? m_s.vaultB : m_s.vaultA;
    SwapResult r =
        swapBaseInput(amountIn, vin, vout, m_s.tradeFeeRate, m_s.protocolFeeRate, m_s.fundFeeRate);
    if (r.ok() && apply) {
        // The whole input lands in the vault; the protocol and fund fees accrue beside the
        // curve, the LP share of the fee stays in it.
        vin = vin + amountIn - r.protocolFee - r.fundFee;
        vout -= r.outAmount;
        (aToB ? m_s.protocolFeesA : m_s.protocolFeesB) += r.protocolFee;
        (aToB ? m_s.fundFeesA : m_s.fundFeesB) += r.fundFee;
        ++slot;
    }
    return r;
}

u128 RaydiumCpmmPool::spotPriceQ64(const QString &inputMint) const
{
    const bool aToB = inputMint == m_s.mintA;
    const quint64 vin = aToB ? m_s.vaultA : m_s.vaultB;
    const quint64 vout = aToB ? m_s.vaultB : m_s.vaultA;
    if (vin == 0)
        return 0;
    return shlDiv64(vout, vin, false);
}

QJsonObject RaydiumCpmmPool::toJson() const
{
    const auto s = [](quint64 v) { return QString::number(v); };
    return QJsonObject{{QStringLiteral("id"), id},
                       {QStringLiteral("venue"), venue()},
                       {QStringLiteral("kind"), kind()},
                       {QStringLiteral("mintA"), m_s.mintA},
                       {QStringLiteral("mintB"), m_s.mintB},
                       {QStringLiteral("decimalsA"), m_s.decimalsA},
                       {QStringLiteral("decimalsB"), m_s.decimalsB},
                       {QStringLiteral("vaultA"), s(m_s.vaultA)},
                       {QStringLiteral("vaultB"), s(m_s.vaultB)},
                       {QStringLiteral("tradeFeeRate"), s(m_s.tradeFeeRate)},
                       {QStringLiteral("protocolFeeRate"), s(m_s.protocolFeeRate)},
                       {QStringLiteral("fundFeeRate"), s(m_s.fundFeeRate)},
                       {QStringLiteral("protocolFeesA"), s(m_s.protocolFeesA)},
                       {QStringLiteral("protocolFeesB"), s(m_s.protocolFeesB)},
                       {QStringLiteral("fundFeesA"), s(m_s.fundFeesA)},
                       {QStringLiteral("fundFeesB"), s(m_s.fundFeesB)},
                       {QStringLiteral("slot"), s(slot)}};
}

QByteArray RaydiumCpmmPool::encode() const
{
    QByteArray out;
    out.reserve(256);
    out.append("raydium ")
        .append(id.toUtf8())
        .append(' ')
        .append(m_s.mintA.toUtf8())
        .append(' ')
        .append(m_s.mintB.toUtf8());
    for (const quint64 v :
         {quint64(m_s.decimalsA), quint64(m_s.decimalsB), m_s.vaultA, m_s.vaultB, m_s.tradeFeeRate,
          m_s.protocolFeeRate, m_s.fundFeeRate, m_s.protocolFeesA, m_s.protocolFeesB, m_s.fundFeesA,
          m_s.fundFeesB, slot})
        out.append(' ').append(QByteArray::number(v));
    return out;
}

std::unique_ptr<Pool> RaydiumCpmmVenue::decode(const QList<QByteArray> &f) const
{
    if (f.size() != 16)
        return nullptr;
    bool ok = true;
    const auto u = [&](int i) {
        bool good = false;
        const quint64 v = f[i].toULongLong(&good);
        ok = ok && good;
        return v;
    };
    CpmmState s;
    s.mintA = QString::fromUtf8(f[2]);
    s.mintB = QString::fromUtf8(f[3]);
    s.decimalsA = int(u(4));
    s.decimalsB = int(u(5));
    s.vaultA = u(6);
    s.vaultB = u(7);
    s.tradeFeeRate = u(8);
    s.protocolFeeRate = u(9);
    s.fundFeeRate = u(10);
    s.protocolFeesA = u(11);
    s.protocolFeesB = u(12);
    s.fundFeesA = u(13);
    s.fundFeesB = u(14);
    const quint64 slot = u(15);
    if (!ok)
        return nullptr;
    auto pool = std::make_unique<RaydiumCpmmPool>(s);
    pool->id = QString::fromUtf8(f[1]);
    pool->slot = slot;
    return pool;
}

std::unique_ptr<Pool> RaydiumCpmmVenue::fromJson(const QJsonObject &o, QString *error) const
{
    CpmmState s;
    s.mintA = o.value(QStringLiteral("mintA")).toString();
    s.mintB = o.value(QStringLiteral("mintB")).toString();
    s.decimalsA = o.value(QStringLiteral("decimalsA")).toInt();
    s.decimalsB = o.value(QStringLiteral("decimalsB")).toInt();
    const auto need = [&](const char *key, quint64 &into, bool required) {
        const auto v = u64Field(o, QString::fromLatin1(key));
        if (v)
            into = *v;
        return v.has_value() || !required;
    };
    if (!need("vaultA", s.vaultA, true) || !need("vaultB", s.vaultB, true) ||
        !need("tradeFeeRate", s.tradeFeeRate, true) ||
        !need("protocolFeeRate", s.protocolFeeRate, true) ||
        !need("fundFeeRate", s.fundFeeRate, true) ||
        !need("protocolFeesA", s.protocolFeesA, false) ||
        !need("protocolFeesB", s.protocolFeesB, false) || !need("fundFeesA", s.fundFeesA, false) ||
        !need("fundFeesB", s.fundFeesB, false) || s.tradeFeeRate > kFeeDenominator ||
        s.protocolFeeRate + s.fundFeeRate > kFeeDenominator) {
        if (error)
            *error = QStringLiteral("malformed CPMM pool state");
        return nullptr;
    }
    auto pool = std::make_unique<RaydiumCpmmPool>(s);
    pool->id = o.value(QStringLiteral("id")).toString();
    pool->slot = u64Field(o, QStringLiteral("slot")).value_or(0);
    return pool;
}

std::unique_ptr<Pool> RaydiumCpmmVenue::create(const QString &id, const Token &a, const Token &b,
                                               const QJsonObject &config) const
{
    // Each side holds `depthUsd` worth at the reference prices: vault = depth / usd · 10^decimals.
    const u128 depth = u128(config.value(QStringLiteral("depthUsd")).toInteger());
    const auto vault = [&](const Token &t) {
        const DecimalRatio usd = decimalRatio(t.usd);
        u128 scale = 1;
        for (int i = 0; i < t.decimals; ++i)
            scale *= 10;
        return quint64(depth * usd.denominator * scale / usd.numerator);
    };
    QJsonObject state = config;
    state.insert(QStringLiteral("id"), id);
    state.insert(QStringLiteral("venue"), name());
    state.insert(QStringLiteral("mintA"), a.mint);
    state.insert(QStringLiteral("mintB"), b.mint);
    state.insert(QStringLiteral("decimalsA"), a.decimals);
    state.insert(QStringLiteral("decimalsB"), b.decimals);
    state.insert(QStringLiteral("vaultA"), QString::number(vault(a)));
    state.insert(QStringLiteral("vaultB"), QString::number(vault(b)));
    return fromJson(state, nullptr);
}

} // namespace oee
