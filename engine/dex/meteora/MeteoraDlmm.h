#pragma once
#include "dex/Venue.h"

#include <vector>

namespace oee {

// Meteora's DLMM (lb_clmm): liquidity in discrete bins, bin `id` priced (1 + binStep/10^4)^id
// in Q64.64 (Y base units per X base unit); a swap drains the active bin before moving to the
// next; the fee rate is the base fee baseFactor · binStep · 10 · 10^powerFactor plus a variable
// fee from the volatility accumulator (updated for every bin crossed, decaying between swaps by
// the filter and decay periods), capped at 10 %, over 10^9, charged on the input per bin; the
// protocol takes protocolShare / 10^4 of it. Follows @meteora-ag/dlmm 1.9.14's swapQuote
// (fee on input, no limit orders) to the base unit; tests/tst_venues checks that.
struct DlmmParameters
{
    quint32 baseFactor = 10000;
    quint32 baseFeePowerFactor = 0;
    quint32 filterPeriod = 30;
    quint32 decayPeriod = 600;
    quint32 reductionFactor = 5000;
    quint32 variableFeeControl = 40000;
    quint32 maxVolatilityAccumulator = 350000;
    quint32 protocolShare = 1000;
};

struct DlmmVParameters
{
    quint32 volatilityAccumulator = 0;
    quint32 volatilityReference = 0;
    qint32 indexReference = 0;
    qint64 lastUpdateTimestamp = 0;
};

struct DlmmBin
{
    quint64 amountX = 0;
    quint64 amountY = 0;
    [[nodiscard]] bool empty() const { return amountX == 0 && amountY == 0; }
};

// Bins lowerId … lowerId + size - 1, contiguous (a pool is copied on every quote that walks it
// and on every fill: one allocation, not one per bin).
class DlmmBins
{
public:
    [[nodiscard]] qint32 lowerId() const { return m_lower; }
    [[nodiscard]] qint32 upperId() const { return m_lower + qint32(m_bins.size()) - 1; }
    [[nodiscard]] bool isEmpty() const { return m_bins.empty(); }
    [[nodiscard]] const DlmmBin &at(qint32 id) const { return m_bins[size_t(id - m_lower)]; }
    void set(qint32 id, const DlmmBin &bin);
    template <typename F> void forEachNonEmpty(F f) const
    {
        for (size_t i = 0; i < m_bins.size(); ++i)
            if (!m_bins[i].empty())
                f(m_lower + qint32(i), m_bins[i]);
    }

private:
    qint32 m_lower = 0;
    std::vector<DlmmBin> m_bins;
};

struct DlmmState
{
    QString mintX, mintY;
    int decimalsX = 0, decimalsY = 0;
    quint32 binStep = 10;
    qint32 activeId = 0;
    DlmmParameters parameters;
    DlmmVParameters vParameters;
    DlmmBins bins;
    quint64 protocolFeeX = 0, protocolFeeY = 0;
};

class MeteoraDlmmPool final : public Pool
{
public:
    explicit MeteoraDlmmPool(DlmmState state) : m_s(std::move(state)) {}

    QString venue() const override { return QStringLiteral("meteora"); }
    QString kind() const override { return QStringLiteral("dlmm"); }
    std::array<QString, 2> mints() const override { return {m_s.mintX, m_s.mintY}; }
    SwapResult swap(const QString &inputMint, BaseUnits amountIn, qint64 now, bool apply) override;
    QJsonObject toJson() const override;
    std::unique_ptr<Pool> clone() const override
    {
        return std::make_unique<MeteoraDlmmPool>(*this);
    }
    QByteArray encode() const override;
    u128 spotPriceQ64(const QString &inputMint) const override;

    [[nodiscard]] const DlmmState &state() const { return m_s; }
    [[nodiscard]] SwapResult swapForY(bool forY, BaseUnits amountIn, qint64 now, bool apply);

    // Q64.64 price of bin `id`, as the program's get_price_from_id.
    [[nodiscard]] static u128 priceFromId(qint32 id, quint32 binStep);
    // The fee rate (over 10^9) for a volatility accumulator.
    [[nodiscard]] static u128 totalFeeRate(const DlmmParameters &p, quint32 binStep,
                                           quint32 volatilityAccumulator);

private:
    DlmmState m_s;
};

class MeteoraDlmmVenue final : public Venue
{
public:
    QString name() const override { return QStringLiteral("meteora"); }
    QString kind() const override { return QStringLiteral("dlmm"); }
    QString label() const override { return QStringLiteral("Meteora DLMM"); }
    std::unique_ptr<Pool> fromJson(const QJsonObject &state, QString *error) const override;
    std::unique_ptr<Pool> decode(const QList<QByteArray> &fields) const override;
    std::unique_ptr<Pool> create(const QString &id, const Token &a, const Token &b,
                                 const QJsonObject &config) const override;
};

} // namespace oee
