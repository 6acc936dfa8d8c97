#include "money/WideMath.h"

#include <QByteArray>
#include <algorithm>

namespace oee {

U256 mulWide(u128 a, u128 b)
{
    const u128 mask = (u128(1) << 64) - 1;
    const u128 a0 = a & mask, a1 = a >> 64, b0 = b & mask, b1 = b >> 64;
    const u128 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    // middle = p01 + p10 + (p00 >> 64), with its carry
    const u128 mid1 = p01 + (p00 >> 64);
    const u128 mid = mid1 + p10;
    const u128 carry = mid < mid1 ? (u128(1) << 64) : 0;
    U256 r;
    r.lo = (mid << 64) | (p00 & mask);
    r.hi = p11 + (mid >> 64) + carry;
    return r;
}

u128 mulShr64(u128 a, u128 b, bool roundUp, bool *overflow)
{
    const U256 p = mulWide(a, b);
    if (overflow)
        *overflow = (p.hi >> 64) != 0;
    u128 r = (p.hi << 64) | (p.lo >> 64);
    const bool rest = (p.lo & ((u128(1) << 64) - 1)) != 0;
    if (roundUp && rest)
        ++r;
    return r;
}

u128 shlDiv64(u128 a, u128 d, bool roundUp)
{
    const u128 n = a << 64;
    u128 q = n / d;
    if (roundUp && n % d != 0)
        ++q;
    return q;
}

QByteArray toDecimal(u128 v)
{
    if (v == 0)
        return QByteArrayLiteral("0");
    char buf[48];
    int i = 0;
    while (v > 0) {
        buf[i++] = char('0' + int(v % 10));
        v /= 10;
    }
    std::reverse(buf, buf + i);
    return QByteArray(buf, i);
}

} // namespace oee
