#pragma once
#include <QJsonValue>
#include <QString>
#include <QtGlobal>
#include <optional>
#include <variant>

namespace oee {

// An amount of a token in base units (lamports for SOL, 10^-6 USDC): what the chain moves.
using BaseUnits = quint64;

// "1.5" or 1.5 in token units → base units. Exact: the text is read digit by digit (a JSON
// number is read from its shortest round-trip text, so 0.1 is 0.1, not 0.1000000000000000055),
// more fractional digits than the token has is an error, never a rounding; zero, negative,
// exponents beyond the token's precision and values past 2^64-1 base units are errors.
// The error is a sentence without the field name ("has more than 6 decimal places").
[[nodiscard]] std::variant<BaseUnits, QString> parseTokenAmount(const QJsonValue &value,
                                                                int decimals);
[[nodiscard]] std::variant<BaseUnits, QString> parseTokenAmount(const QString &text, int decimals);
// A base-unit integer as text ("1500000000"): what Jupiter's API and the pool endpoints take.
[[nodiscard]] std::variant<BaseUnits, QString> parseBaseUnits(const QString &text);

// Base units → exact decimal text in token units, without trailing zeros ("1.5", "0.000001",
// "42").
[[nodiscard]] QString formatTokenAmount(BaseUnits amount, int decimals);
[[nodiscard]] QString baseUnitsText(BaseUnits amount);

// A price as an exact decimal: numerator/denominator (both in base units) scaled by the
// tokens' decimals, to `digits` significant fractional digits, rounded down. For display and
// records; nothing decides on it.
[[nodiscard]] QString formatRatio(BaseUnits numerator, int numeratorDecimals, BaseUnits denominator,
                                  int denominatorDecimals, int fractionDigits = 12);

// An exact positive decimal price: num / 10^scale, at most 18 significant digits.
struct DecimalPrice
{
    quint64 num = 0;
    int scale = 0; // 0..36
    [[nodiscard]] QString text() const;
};
// "187.25" or 187.25 → an exact DecimalPrice; a JSON number is read from its shortest text.
[[nodiscard]] std::variant<DecimalPrice, QString> parsePrice(const QJsonValue &value);

// The least output (base units of tokenOut) at which `amountIn` (base units of tokenIn) trades
// at `price` tokenOut per tokenIn or better: ceil(amountIn · price), in base units.
// nullopt if it exceeds 2^64-1 (no pool can ever pay it).
[[nodiscard]] std::optional<BaseUnits> floorAtPrice(BaseUnits amountIn, int decimalsIn,
                                                    int decimalsOut, const DecimalPrice &price);
// The least output at which paying `amountIn` costs at most `price` tokenIn per tokenOut:
// ceil(amountIn / price), in base units of tokenOut.
[[nodiscard]] std::optional<BaseUnits> floorAtMaxCost(BaseUnits amountIn, int decimalsIn,
                                                      int decimalsOut, const DecimalPrice &price);

} // namespace oee
