#pragma once
#include "dex/Venue.h"

namespace oee {

// Raydium's constant-product program (raydium-cp-swap, swap_base_input): the trade fee is
// taken from the input and rounded up (rate over 1,000,000), the protocol and fund fees are
// shares of the trade fee rounded down, the output is floor(in' · Y / (X + in')) on the vault
// amounts the curve uses (token balances less accrued protocol and fund fees), and a swap
// whose output would be 0 is refused. Creator fees are not modelled (rate 0).
struct CpmmState
{
    QString mintA, mintB;
    int decimalsA = 0, decimalsB = 0;
    quint64 vaultA = 0, vaultB = 0; // curve amounts
    quint64 tradeFeeRate = 2500, protocolFeeRate = 120000, fundFeeRate = 40000;
    quint64 protocolFeesA = 0, protocolFeesB = 0, fundFeesA = 0, fundFeesB = 0; // accrued
};

class RaydiumCpmmPool final : public Pool
{
public:
    explicit RaydiumCpmmPool(CpmmState state) : m_s(std::move(state)) {}

    QString venue() const override { return QStringLiteral("raydium"); }
    QString kind() const override { return QStringLiteral("cpmm"); }
    std::array<QString, 2> mints() const override { return {m_s.mintA, m_s.mintB}; }
    SwapResult swap(const QString &inputMint, BaseUnits amountIn, qint64 now, bool apply) override;
    QJsonObject toJson() const override;
    std::unique_ptr<Pool> clone() const override
    {
        return std::make_unique<RaydiumCpmmPool>(*this);
    }
    QByteArray encode() const override;
    u128 spotPriceQ64(const QString &inputMint) const override;

    [[nodiscard]] const CpmmState &state() const { return m_s; }
    // The program's swap on bare numbers: vaults in and out, rates over 1e6.
    [[nodiscard]] static SwapResult swapBaseInput(quint64 amountIn, quint64 vaultIn,
                                                  quint64 vaultOut, quint64 tradeFeeRate,
                                                  quint64 protocolFeeRate, quint64 fundFeeRate);

private:
    CpmmState m_s;
};

class RaydiumCpmmVenue final : public Venue
{
public:
    QString name() const override { return QStringLiteral("raydium"); }
    QString kind() const override { return QStringLiteral("cpmm"); }
    QString label() const override { return QStringLiteral("Raydium CP"); }
    std::unique_ptr<Pool> fromJson(const QJsonObject &state, QString *error) const override;
    std::unique_ptr<Pool> decode(const QList<QByteArray> &fields) const override;
    std::unique_ptr<Pool> create(const QString &id, const Token &a, const Token &b,
                                 const QJsonObject &config) const override;
};

} // namespace oee
