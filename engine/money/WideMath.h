#pragma once
#include <QByteArray>
#include <QtGlobal>

namespace oee {

// The on-chain programs compute in u64 / u128 (and the SDKs in arbitrary-precision BN); oee
// uses the compiler's 128-bit integers and, where a product can exceed 128 bits (a u64 amount
// times a Q64.64 price), a 256-bit intermediate.
// __extension__: the compiler's 128-bit integers are not ISO C++ (-Wpedantic says so once,
// here, instead of at every use).
__extension__ using u128 = unsigned __int128;
__extension__ using i128 = __int128;
inline constexpr u128 kU128Max = ~u128(0);
inline constexpr quint64 kU64Max = ~quint64(0);

struct U256
{
    u128 hi = 0;
    u128 lo = 0;
};

[[nodiscard]] U256 mulWide(u128 a, u128 b);
// (a·b) >> 64, rounded down or up; nullopt-free: callers keep a·b < 2^192 (checked).
[[nodiscard]] u128 mulShr64(u128 a, u128 b, bool roundUp, bool *overflow = nullptr);
// (a << 64) / d, rounded down or up; a < 2^64 keeps the numerator within 128 bits.
[[nodiscard]] u128 shlDiv64(u128 a, u128 d, bool roundUp);
// ceil(a / d) and floor(a / d)
[[nodiscard]] inline u128 divCeil(u128 a, u128 d)
{
    return a / d + (a % d != 0 ? 1 : 0);
}

// Decimal text of a 128-bit value.
[[nodiscard]] QByteArray toDecimal(u128 v);

} // namespace oee
