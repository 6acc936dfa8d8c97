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

} // namespace oee
