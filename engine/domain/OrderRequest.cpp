#include "domain/OrderRequest.h"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QLocale>
#include <QJsonObject>
#include <cmath>

namespace oee {

namespace {

ApiError fieldError(const QString &field, const QString &message)
{
    return ApiError{ErrorKind::InvalidField, message, field, {}};
}

bool present(const QJsonValue &v)
{
    return !v.isUndefined() && !v.isNull();
}

// A value that two dialects name differently (tokenIn / inputMint, amount / amountIn): the
// name the client used, and the value; both given and different is an error.
std::variant<std::pair<QString, QJsonValue>, ApiError>
aliased(const QJsonObject &o, const QString &name, const QString &alias)
{
    const QJsonValue a = o.value(name);
    const QJsonValue b = o.value(alias);
    if (present(a) && present(b) && a != b)
        return fieldError(alias, QStringLiteral("%1 and %2 are both given and differ").arg(name, alias));
    if (present(a) || !present(b))
        return std::pair{name, a};
    return std::pair{alias, b};
}

std::variant<QString, ApiError> tokenField(const QString &field, const QString &alias,
                                           const QJsonValue &v, const QStringList &known)
{
    if (!present(v))
        return fieldError(field, QStringLiteral("%1 (or %2) is required").arg(field, alias));
    if (!v.isString())
        return fieldError(field, field + QStringLiteral(" must be a string (a token symbol)"));
    const QString symbol = v.toString().trimmed().toUpper();
    if (symbol.isEmpty())
        return fieldError(field, field + QStringLiteral(" must not be empty"));
    if (!known.contains(symbol)) {
        return ApiError{ErrorKind::UnknownToken,
                        QStringLiteral("%1: unknown token '%2'; supported: %3")
                            .arg(field, v.toString().left(32), known.join(QStringLiteral(", "))),
                        field, {}};
    }
    return symbol;
}

// Every field some seed client sends, and nothing else.
const QStringList &knownFields()
{
    static const QStringList fields = {
        QStringLiteral("orderType"), QStringLiteral("tokenIn"),  QStringLiteral("tokenOut"),
        QStringLiteral("inputMint"), QStringLiteral("outputMint"), QStringLiteral("amount"),
        QStringLiteral("amountIn"),  QStringLiteral("slippage"), QStringLiteral("slippage_pct"),
        QStringLiteral("side")};
    return fields;
}

} // namespace

QString requestFingerprint(const OrderRequest &r)
{
    const auto number = [](double v) { return QString::number(v, 'g', QLocale::FloatingPointShortest); };
    const QString canonical = QStringList{r.orderType, r.tokenIn, r.tokenOut, number(r.amount),
                                          number(r.slippage)}.join(QLatin1Char('|'));
    return QString::fromLatin1(
        QCryptographicHash::hash(canonical.toUtf8(), QCryptographicHash::Sha256).toHex());
}

std::variant<OrderRequest, ApiError>
parseOrderRequest(const QByteArray &body, const QByteArray &contentType,
                  const QStringList &knownTokens, double defaultSlippage, int maxBodyBytes)
{
    if (body.size() > maxBodyBytes) {
        return ApiError{ErrorKind::PayloadTooLarge,
                        QStringLiteral("request body of %1 bytes exceeds the limit of %2 bytes")
                            .arg(body.size())
                            .arg(maxBodyBytes),
                        {}, {}};
    }
    const QByteArray mime = contentType.split(';').first().trimmed().toLower();
    if (mime != "application/json") {
        return ApiError{ErrorKind::UnsupportedMediaType,
                        QStringLiteral("Content-Type must be application/json, got '%1'")
                            .arg(QString::fromLatin1(contentType.left(64))),
                        {}, {}};
    }
    QJsonParseError parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return ApiError{ErrorKind::InvalidJson,
                        QStringLiteral("malformed JSON at offset %1: %2")
                            .arg(parseError.offset)
                            .arg(parseError.errorString()),
                        {}, {}};
    }
    if (!doc.isObject()) {
        return ApiError{ErrorKind::InvalidJson, QStringLiteral("request body must be a JSON object"),
                        {}, {}};
    }
    const QJsonObject o = doc.object();
    // A field oee does not know is refused, not ignored: ignoring a tolerance sent under a
    // name we do not read would execute the order with a tolerance the client did not ask for.
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (!knownFields().contains(it.key())) {
            return ApiError{ErrorKind::UnknownField,
                            QStringLiteral("unknown field '%1'; accepted: %2")
                                .arg(it.key().left(64), knownFields().join(QStringLiteral(", "))),
                            it.key().left(64), {}};
        }
    }
    OrderRequest r;

    const QJsonValue type = o.value(QStringLiteral("orderType"));
    if (present(type)) {
        if (!type.isString())
            return fieldError(QStringLiteral("orderType"),
                              QStringLiteral("orderType must be a string"));
        if (type.toString() != QStringLiteral("market")) {
            return ApiError{ErrorKind::UnsupportedOrderType,
                            QStringLiteral("orderType '%1' is not supported; use 'market'")
                                .arg(type.toString().left(32)),
                            QStringLiteral("orderType"), {}};
        }
    }

    // Seed 004 names the tokens inputMint / outputMint (symbols, as its clients send them).
    const auto inField = aliased(o, QStringLiteral("tokenIn"), QStringLiteral("inputMint"));
    if (auto *e = std::get_if<ApiError>(&inField))
        return *e;
    const auto outField = aliased(o, QStringLiteral("tokenOut"), QStringLiteral("outputMint"));
    if (auto *e = std::get_if<ApiError>(&outField))
        return *e;
    const auto &[inName, inValue] = std::get<std::pair<QString, QJsonValue>>(inField);
    const auto &[outName, outValue] = std::get<std::pair<QString, QJsonValue>>(outField);
    auto in = tokenField(inName, QStringLiteral("inputMint"), inValue, knownTokens);
    if (auto *e = std::get_if<ApiError>(&in))
        return *e;
    auto out = tokenField(outName, QStringLiteral("outputMint"), outValue, knownTokens);
    if (auto *e = std::get_if<ApiError>(&out))
        return *e;
    r.tokenIn = std::get<QString>(in);
    r.tokenOut = std::get<QString>(out);
    if (r.tokenIn == r.tokenOut)
        return fieldError(outName, outName + QStringLiteral(" must differ from ") + inName);

    // `amountIn` is what seeds 001 and 003 send.
    const auto amountField = aliased(o, QStringLiteral("amount"), QStringLiteral("amountIn"));
    if (auto *e = std::get_if<ApiError>(&amountField))
        return *e;
    const auto &[amountName, amount] = std::get<std::pair<QString, QJsonValue>>(amountField);
    if (!present(amount))
        return fieldError(QStringLiteral("amount"), QStringLiteral("amount is required"));
    if (!amount.isDouble())
        return fieldError(amountName, amountName + QStringLiteral(" must be a number"));
    r.amount = amount.toDouble();
    if (!std::isfinite(r.amount) || r.amount <= 0)
        return fieldError(amountName, amountName + QStringLiteral(" must be greater than 0"));
    if (r.amount > kMaxOrderAmount)
        return fieldError(amountName, amountName + QStringLiteral(" exceeds the maximum of %1")
                                                       .arg(kMaxOrderAmount, 0, 'g'));

    // The tolerance: `slippage` is a fraction (0.01 = 1 %), seed 004's `slippage_pct` is in
    // percent (0.5 = 0.5 %). One or the other.
    const QJsonValue slippage = o.value(QStringLiteral("slippage"));
    const QJsonValue slippagePct = o.value(QStringLiteral("slippage_pct"));
    if (present(slippage) && present(slippagePct)) {
        return fieldError(QStringLiteral("slippage_pct"),
                          QStringLiteral("give slippage (a fraction) or slippage_pct (percent), "
                                         "not both"));
    }
    if (present(slippagePct)) {
        if (!slippagePct.isDouble())
            return fieldError(QStringLiteral("slippage_pct"),
                              QStringLiteral("slippage_pct must be a number (percent, e.g. 0.5)"));
        const double pct = slippagePct.toDouble();
        if (!(pct > 0 && pct <= 50))
            return fieldError(QStringLiteral("slippage_pct"),
                              QStringLiteral("slippage_pct must be in (0, 50] percent, e.g. 0.5 "
                                             "for 0.5%"));
        r.slippage = pct / 100.0;
    } else if (present(slippage)) {
        if (!slippage.isDouble())
            return fieldError(QStringLiteral("slippage"),
                              QStringLiteral("slippage must be a number (a fraction, e.g. 0.01)"));
        r.slippage = slippage.toDouble();
        if (!(r.slippage > 0 && r.slippage <= 0.5))
            return fieldError(QStringLiteral("slippage"),
                              QStringLiteral("slippage must be in (0, 0.5], e.g. 0.01 for 1%"));
    } else {
        r.slippage = defaultSlippage;
    }

    // Seed 002 sends a side. The swap is always tokenIn → tokenOut, which says everything side
    // could; a side that is not buy or sell is refused rather than guessed at.
    const QJsonValue side = o.value(QStringLiteral("side"));
    if (present(side)) {
        const QString s = side.isString() ? side.toString().toLower() : QString();
        if (s != QStringLiteral("buy") && s != QStringLiteral("sell"))
            return fieldError(QStringLiteral("side"),
                              QStringLiteral("side must be \"buy\" or \"sell\""));
    }
    return r;
}

} // namespace oee
