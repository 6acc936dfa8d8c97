#pragma once
#include "money/Amount.h"
#include "money/WideMath.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <array>
#include <memory>
#include <optional>

namespace oee {

struct Token;

// What one pool gives for an exact input, as its program would compute it.
struct SwapResult
{
    enum class Failure { None, InsufficientLiquidity, ZeroOutput, Overflow, UnknownMint };
    Failure failure = Failure::None;
    BaseUnits inAmount = 0;         // what was offered
    BaseUnits consumedInAmount = 0; // what the pool took (all of it unless it failed)
    BaseUnits outAmount = 0;
    BaseUnits fee = 0;                 // the whole trade fee, in input units
    BaseUnits protocolFee = 0;         // the protocol's share of `fee`
    BaseUnits fundFee = 0;             // the fund's share of `fee` (Raydium)
    std::optional<qint32> endActiveId; // the bin the swap ended in (DLMM)

    [[nodiscard]] bool ok() const { return failure == Failure::None; }
    [[nodiscard]] QString error() const;
    // GET /api/pools/<id>/quote: integers as strings.
    [[nodiscard]] QJsonObject toJson(quint64 slot, qint64 now) const;
};

// One pool's state and its program's swap math. A pool is a value: the market keeps the
// shared copy (PoolBook), a quote runs on a clone.
class Pool
{
public:
    virtual ~Pool() = default;

    [[nodiscard]] virtual QString venue() const = 0; // "raydium", "meteora"
    [[nodiscard]] virtual QString kind() const = 0;  // "cpmm", "dlmm"
    [[nodiscard]] virtual std::array<QString, 2> mints() const = 0;
    // Exact-input swap at unix time `now`. With apply, the state moves as the program moves it
    // (nothing changes when the swap fails).
    [[nodiscard]] virtual SwapResult swap(const QString &inputMint, BaseUnits amountIn, qint64 now,
                                          bool apply) = 0;
    // The same swap priced without changing anything: what routing and the quote endpoints
    // call on the shared (const) pool states, from several threads at once.
    [[nodiscard]] SwapResult quote(const QString &inputMint, BaseUnits amountIn, qint64 now) const
    {
        // swap() with apply == false writes no member (both venues), so this is a pure read.
        return const_cast<Pool *>(this)->swap(inputMint, amountIn, now, false);
    }
    // The state in the shape of GET /api/pools/<id> (integers as strings), without `now`.
    [[nodiscard]] virtual QJsonObject toJson() const = 0;
    [[nodiscard]] virtual std::unique_ptr<Pool> clone() const = 0;
    // The state as Redis keeps it: compact text ("<venue> <fields…>"), cheap to write and read
    // on every fill. decodePool() reads it back.
    [[nodiscard]] virtual QByteArray encode() const = 0;
    // Mid price of one base unit of `mint` in base units of the other, as a Q64.64 ratio; for
    // the simulated arbitrage flow and for price impact.
    [[nodiscard]] virtual u128 spotPriceQ64(const QString &inputMint) const = 0;

    [[nodiscard]] bool trades(const QString &mint) const
    {
        const auto m = mints();
        return m[0] == mint || m[1] == mint;
    }

    QString id;
    quint64 slot = 0; // increases with every change of state
};

// A venue: how to build and read its pools. Adding a venue is one folder under engine/dex/
// with a Venue subclass, and one line in venues() (Venue.cpp).
class Venue
{
public:
    virtual ~Venue() = default;
    [[nodiscard]] virtual QString name() const = 0;  // "raydium"
    [[nodiscard]] virtual QString kind() const = 0;  // "cpmm"
    [[nodiscard]] virtual QString label() const = 0; // Jupiter's label: "Raydium CP"
    // A pool from its JSON state (GET /api/pools/<id> shape); nullptr and *error if malformed.
    [[nodiscard]] virtual std::unique_ptr<Pool> fromJson(const QJsonObject &state,
                                                         QString *error) const = 0;
    // A new pool for tokens a/b at their reference prices, from resources/pools.json.
    [[nodiscard]] virtual std::unique_ptr<Pool> decode(const QList<QByteArray> &fields) const = 0;
    [[nodiscard]] virtual std::unique_ptr<Pool>
    create(const QString &id, const Token &a, const Token &b, const QJsonObject &config) const = 0;
};

[[nodiscard]] const QList<const Venue *> &venues();
[[nodiscard]] const Venue *venueNamed(const QString &name);
[[nodiscard]] std::unique_ptr<Pool> poolFromJson(const QJsonObject &state, QString *error);
// Pool::encode() read back; nullptr if malformed.
[[nodiscard]] std::unique_ptr<Pool> decodePool(const QByteArray &encoded);

// Helpers shared by the venues' JSON readers.
[[nodiscard]] std::optional<quint64> u64Field(const QJsonObject &o, const QString &key);
[[nodiscard]] std::optional<qint64> intField(const QJsonObject &o, const QString &key);
// USD reference price "0.00002" → numerator / 10^scale
struct DecimalRatio
{
    u128 numerator = 0;
    u128 denominator = 1;
};
[[nodiscard]] DecimalRatio decimalRatio(const QString &text);

} // namespace oee
