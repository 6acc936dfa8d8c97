#include "money/Amount.h"

#include "money/WideMath.h"

#include <QLocale>
#include <cmath>

namespace oee {

namespace {

constexpr double kExactDoubleLimit = 9007199254740992.0; // 2^53

} // namespace

std::variant<BaseUnits, QString> parseTokenAmount(const QString &input, int decimals)
{
    const QString text = input.trimmed();
    if (text.isEmpty())
        return QStringLiteral("must not be empty");
    if (text.size() > 80)
        return QStringLiteral("is too long");
    int i = 0;
    if (text[0] == QLatin1Char('+'))
        ++i;
    else if (text[0] == QLatin1Char('-'))
        return QStringLiteral("must be greater than 0");
    QByteArray intDigits, fracDigits;
    bool dot = false;
    for (; i < text.size(); ++i) {
        const QChar c = text[i];
        if (c.isDigit() && c.unicode() < 128) {
            (dot ? fracDigits : intDigits).append(char(c.unicode()));
        } else if (c == QLatin1Char('.') && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (intDigits.isEmpty() && fracDigits.isEmpty())
        return QStringLiteral("must be a decimal number, e.g. \"1.5\"");
    int exponent = 0;
    if (i < text.size()) {
        if (text[i] != QLatin1Char('e') && text[i] != QLatin1Char('E'))
            return QStringLiteral("must be a decimal number, e.g. \"1.5\"");
        bool ok = false;
        exponent = text.mid(i + 1).toInt(&ok);
        if (!ok || qAbs(exponent) > 40)
            return QStringLiteral("has an invalid exponent");
    }
    // digits · 10^(exponent - fracDigits) token units = digits · 10^(exponent - frac + decimals)
    QByteArray digits = intDigits + fracDigits;
    int shift = exponent - int(fracDigits.size()) + decimals;
    while (shift < 0 && digits.endsWith('0')) { // trailing zeros below the point cost nothing
        digits.chop(1);
        ++shift;
    }
    if (shift < 0)
        return QStringLiteral("has more than %1 decimal places").arg(decimals);
    u128 value = 0;
    for (char d : digits) {
        value = value * 10 + u128(d - '0');
        if (value > kU64Max)
            return QStringLiteral("is too large (more than 2^64-1 base units)");
    }
    for (int k = 0; k < shift && value != 0; ++k) {
        value *= 10;
        if (value > kU64Max)
            return QStringLiteral("is too large (more than 2^64-1 base units)");
    }
    if (value == 0)
        return QStringLiteral("must be greater than 0");
    return BaseUnits(value);
}

std::variant<BaseUnits, QString> parseTokenAmount(const QJsonValue &value, int decimals)
{
    if (value.isString())
        return parseTokenAmount(value.toString(), decimals);
    if (!value.isDouble())
        return QStringLiteral("must be a number or a decimal string, e.g. 1.5 or \"1.5\"");
    const double d = value.toDouble();
    if (!std::isfinite(d))
        return QStringLiteral("must be a finite number");
    if (d <= 0)
        return QStringLiteral("must be greater than 0");
    // Above 2^53 a JSON number may already have been rounded by the JSON reader; refuse it
    // rather than trade an amount the client did not send.
    if (d >= kExactDoubleLimit)
        return QStringLiteral("is too large to be exact as a JSON number; send it as a decimal "
                              "string");
    return parseTokenAmount(QString::number(d, 'g', QLocale::FloatingPointShortest), decimals);
}

std::variant<BaseUnits, QString> parseBaseUnits(const QString &text)
{
    if (text.isEmpty())
        return QStringLiteral("must be an integer number of base units");
    u128 value = 0;
    for (QChar c : text) {
        if (!c.isDigit() || c.unicode() >= 128)
            return QStringLiteral("must be an integer number of base units, e.g. \"1000000\"");
        value = value * 10 + u128(c.unicode() - '0');
        if (value > kU64Max)
            return QStringLiteral("is too large (more than 2^64-1 base units)");
    }
    if (value == 0)
        return QStringLiteral("must be greater than 0");
    return BaseUnits(value);
}

QString baseUnitsText(BaseUnits amount)
{
    return QString::number(amount);
}

QString formatTokenAmount(BaseUnits amount, int decimals)
{
    QString digits = QString::number(amount);
    if (decimals <= 0)
        return digits;
    if (digits.size() <= decimals)
        digits.prepend(QString(decimals - digits.size() + 1, QLatin1Char('0')));
    QString whole = digits.left(digits.size() - decimals);
    QString frac = digits.mid(digits.size() - decimals);
    while (frac.endsWith(QLatin1Char('0')))
        frac.chop(1);
    return frac.isEmpty() ? whole : whole + QLatin1Char('.') + frac;
}

QString formatRatio(BaseUnits numerator, int numeratorDecimals, BaseUnits denominator,
                    int denominatorDecimals, int fractionDigits)
{
    if (denominator == 0)
        return QString();
    auto pow10 = [](int n) {
        u128 p = 1;
        while (n-- > 0)
            p *= 10;
        return p;
    };
    const u128 n = u128(numerator) * pow10(denominatorDecimals);
    const u128 d = u128(denominator) * pow10(numeratorDecimals);
    QString out = QString::fromLatin1(toDecimal(n / d));
    u128 rest = n % d;
    if (rest == 0 || fractionDigits <= 0)
        return out;
    QString frac;
    for (int k = 0; k < fractionDigits && rest != 0; ++k) {
        rest *= 10;
        frac.append(QLatin1Char(char('0' + int(rest / d))));
        rest %= d;
    }
    while (frac.endsWith(QLatin1Char('0')))
        frac.chop(1);
    return frac.isEmpty() ? out : out + QLatin1Char('.') + frac;
}

namespace {

u128 pow10(int n)
{
    u128 v = 1;
    for (int i = 0; i < n; ++i)
        v *= 10;
    return v;
}

// ceil(n / d) for a 256-bit n and a 64-bit d; nullopt when the quotient exceeds 2^64-1.
std::optional<BaseUnits> divCeilToU64(const U256 &n, quint64 d)
{
    const quint64 limbs[4] = {quint64(n.hi >> 64), quint64(n.hi), quint64(n.lo >> 64),
                              quint64(n.lo)};
    u128 rem = 0;
    quint64 q[4] = {};
    for (int i = 0; i < 4; ++i) {
        const u128 cur = (rem << 64) | limbs[i];
        q[i] = quint64(cur / d);
        rem = cur % d;
    }
    if (q[0] || q[1] || q[2])
        return std::nullopt;
    u128 out = u128(q[3]) + (rem ? 1 : 0);
    if (out > kU64Max)
        return std::nullopt;
    return BaseUnits(out);
}

} // namespace

QString DecimalPrice::text() const
{
    return formatTokenAmount(num, scale);
}

std::variant<DecimalPrice, QString> parsePrice(const QJsonValue &value)
{
    QString text;
    if (value.isString()) {
        text = value.toString().trimmed();
    } else if (value.isDouble()) {
        const double d = value.toDouble();
        if (!std::isfinite(d) || d <= 0)
            return QStringLiteral("must be a positive decimal number");
        text = QString::number(d, 'g', QLocale::FloatingPointShortest);
    } else {
        return QStringLiteral("must be a decimal number or string, e.g. \"187.25\"");
    }
    if (text.isEmpty() || text.size() > 80)
        return QStringLiteral("must be a decimal number, e.g. \"187.25\"");
    // Read as base units of a 36-decimal token, then drop the trailing zeros of the scale.
    QString digits;
    int i = 0, exponent = 0, frac = 0;
    bool dot = false;
    if (text[0] == QLatin1Char('+'))
        ++i;
    for (; i < text.size(); ++i) {
        const QChar c = text[i];
        if (c.unicode() >= '0' && c.unicode() <= '9') {
            digits.append(c);
            frac += dot ? 1 : 0;
        } else if (c == QLatin1Char('.') && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (digits.isEmpty())
        return QStringLiteral("must be a decimal number, e.g. \"187.25\"");
    if (i < text.size()) {
        if (text[i] != QLatin1Char('e') && text[i] != QLatin1Char('E'))
            return QStringLiteral("must be a decimal number, e.g. \"187.25\"");
        bool ok = false;
        exponent = text.mid(i + 1).toInt(&ok);
        if (!ok || qAbs(exponent) > 40)
            return QStringLiteral("has an invalid exponent");
    }
    while (digits.size() > 1 && digits.startsWith(QLatin1Char('0')))
        digits.remove(0, 1);
    int scale = frac - exponent;
    while (scale > 0 && digits.size() > 1 && digits.endsWith(QLatin1Char('0'))) {
        digits.chop(1);
        --scale;
    }
    if (digits == QLatin1String("0"))
        return QStringLiteral("must be greater than 0");
    if (digits.size() > 18)
        return QStringLiteral("has more than 18 significant digits");
    u128 num = digits.toULongLong();
    for (; scale < 0; ++scale) {
        num *= 10;
        if (num > kU64Max)
            return QStringLiteral("is too large");
    }
    if (scale > 36)
        return QStringLiteral("is too small (more than 36 decimal places)");
    return DecimalPrice{quint64(num), scale};
}

std::optional<BaseUnits> floorAtPrice(BaseUnits amountIn, int decimalsIn, int decimalsOut,
                                      const DecimalPrice &price)
{
    // amountIn/10^dIn · num/10^scale tokens of out = amountIn·num·10^(dOut − dIn − scale) base
    // units
    const u128 product = u128(amountIn) * price.num; // < 2^128
    const int e = decimalsOut - decimalsIn - price.scale;
    if (e < 0) {
        if (-e > 38)
            return product == 0 ? std::optional<BaseUnits>(0) : std::optional<BaseUnits>(1);
        const u128 q = divCeil(product, pow10(-e));
        if (q > kU64Max)
            return std::nullopt;
        return BaseUnits(q);
    }
    const U256 wide = mulWide(product, pow10(e));
    if (wide.hi != 0 || wide.lo > kU64Max)
        return std::nullopt;
    return BaseUnits(wide.lo);
}

std::optional<BaseUnits> floorAtMaxCost(BaseUnits amountIn, int decimalsIn, int decimalsOut,
                                        const DecimalPrice &price)
{
    // amountIn/10^dIn ÷ (num/10^scale) tokens of out = amountIn·10^(dOut + scale − dIn) / num
    const int f = decimalsOut + price.scale - decimalsIn;
    if (f >= 0) {
        if (f > 38)
            return std::nullopt;
        return divCeilToU64(mulWide(amountIn, pow10(f)), price.num);
    }
    const u128 d = u128(price.num) * pow10(qMin(-f, 19));
    const u128 q = divCeil(amountIn, d);
    return BaseUnits(q);
}

} // namespace oee
