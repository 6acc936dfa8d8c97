#include "domain/OrderRequest.h"

#include "domain/Order.h"
#include "execution/OrderType.h"
#include "money/Tokens.h"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QRegularExpression>

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
        return fieldError(alias,
                          QStringLiteral("%1 and %2 are both given and differ").arg(name, alias));
    if (present(a) || !present(b))
        return std::pair{name, a};
    return std::pair{alias, b};
}

std::variant<QString, ApiError> tokenField(const QString &field, const QString &alias,
                                           const QJsonValue &v)
{
    if (!present(v))
        return fieldError(field, QStringLiteral("%1 (or %2) is required").arg(field, alias));
    if (!v.isString())
        return fieldError(field,
                          field + QStringLiteral(" must be a string (a token symbol or mint)"));
    const QString name = v.toString().trimmed();
    if (name.isEmpty())
        return fieldError(field, field + QStringLiteral(" must not be empty"));
    const TokenRegistry &tokens = TokenRegistry::instance();
    const Token *token = tokens.find(name);
    if (!token) {
        return ApiError{
            ErrorKind::UnknownToken,
            QStringLiteral("%1: unknown token '%2'; supported: %3 (by symbol or mint)")
                .arg(field, v.toString().left(48), tokens.symbols().join(QStringLiteral(", "))),
            field,
            {}};
    }
    return token->symbol;
}

// Every field some seed client sends, and nothing else; the order types add theirs.
const QStringList &commonFields()
{
    static const QStringList fields = {QStringLiteral("orderType"),    QStringLiteral("tokenIn"),
                                       QStringLiteral("tokenOut"),     QStringLiteral("inputMint"),
                                       QStringLiteral("outputMint"),   QStringLiteral("amount"),
                                       QStringLiteral("amountIn"),     QStringLiteral("slippage"),
                                       QStringLiteral("slippage_pct"), QStringLiteral("side")};
    return fields;
}

} // namespace

QString OrderRequest::amountText() const
{
    const Token *t = TokenRegistry::instance().bySymbol(tokenIn);
    return formatTokenAmount(amount, t ? t->decimals : 0);
}

QString OrderRequest::slippageText() const
{
    return formatTokenAmount(slippagePpm, 6);
}

std::variant<quint32, QString> parseSlippageFraction(const QString &text)
{
    const auto ppm = parseTokenAmount(text, 6);
    if (const auto *e = std::get_if<QString>(&ppm))
        return *e;
    if (std::get<BaseUnits>(ppm) > kMaxSlippagePpm)
        return QStringLiteral("must be at most 0.5 (50%)");
    return quint32(std::get<BaseUnits>(ppm));
}

QJsonObject termsJson(const OrderRequest &r)
{
    QJsonObject t;
    if (!r.limitPrice.isEmpty())
        t.insert(QStringLiteral("limitPrice"), r.limitPrice);
    if (r.limitMinOut)
        t.insert(QStringLiteral("minAmountOutRaw"), QString::number(r.limitMinOut));
    if (!r.maxPrice.isEmpty())
        t.insert(QStringLiteral("maxPrice"), r.maxPrice);
    if (r.expiresAt.isValid())
        t.insert(QStringLiteral("expiresAt"), isoTime(r.expiresAt));
    return t;
}

bool readTerms(const QJsonObject &t, OrderRequest &r)
{
    r.limitPrice = t.value(QStringLiteral("limitPrice")).toString();
    r.maxPrice = t.value(QStringLiteral("maxPrice")).toString();
    bool ok = true;
    if (t.contains(QStringLiteral("minAmountOutRaw")))
        r.limitMinOut = t.value(QStringLiteral("minAmountOutRaw")).toString().toULongLong(&ok);
    if (!ok)
        return false;
    if (const QString at = t.value(QStringLiteral("expiresAt")).toString(); !at.isEmpty()) {
        r.expiresAt = QDateTime::fromString(at, Qt::ISODateWithMs);
        if (!r.expiresAt.isValid())
            return false;
        r.expiresAt = r.expiresAt.toUTC();
    }
    return true;
}

QJsonObject toJobPayload(const OrderRequest &r)
{
    QJsonObject payload{{QStringLiteral("orderType"), r.orderType},
                        {QStringLiteral("tokenIn"), r.tokenIn},
                        {QStringLiteral("tokenOut"), r.tokenOut},
                        {QStringLiteral("amount"), r.amountText()},
                        {QStringLiteral("amountRaw"), QString::number(r.amount)},
                        {QStringLiteral("slippage"), r.slippageText()},
                        {QStringLiteral("slippagePpm"), qint64(r.slippagePpm)}};
    const QJsonObject terms = termsJson(r);
    for (auto it = terms.begin(); it != terms.end(); ++it)
        payload.insert(it.key(), it.value());
    if (!r.retryOf.isEmpty())
        payload.insert(QStringLiteral("retryOf"), r.retryOf);
    return payload;
}

std::optional<OrderRequest> fromJobPayload(const QJsonObject &p)
{
    OrderRequest r;
    r.orderType = p.value(QStringLiteral("orderType")).toString(QStringLiteral("market"));
    r.tokenIn = p.value(QStringLiteral("tokenIn")).toString();
    r.tokenOut = p.value(QStringLiteral("tokenOut")).toString();
    const OrderType *type = orderTypeNamed(r.orderType);
    const Token *in = TokenRegistry::instance().bySymbol(r.tokenIn);
    const Token *out = TokenRegistry::instance().find(r.tokenOut);
    if (!type || !in || r.tokenOut.isEmpty() || (!out && !type->acceptsUnknownTokenOut()))
        return std::nullopt;
    // The registry's and the type's own strings (shared, not one copy per order: the
    // RestingBook holds a hundred thousand of these).
    r.orderType = type->name();
    r.tokenIn = in->symbol;
    if (out && out->symbol.compare(r.tokenOut, Qt::CaseInsensitive) == 0)
        r.tokenOut = out->symbol;
    if (!readTerms(p, r))
        return std::nullopt;
    r.retryOf = p.value(QStringLiteral("retryOf")).toString();
    bool ok = false;
    r.amount = p.value(QStringLiteral("amountRaw")).toString().toULongLong(&ok);
    if (!ok) {
        const QJsonValue text = p.value(QStringLiteral("amount"));
        const auto parsed = parseTokenAmount(
            text.isString() ? text.toString()
                            : QString::number(text.toDouble(), 'g', QLocale::FloatingPointShortest),
            in->decimals);
        if (!std::holds_alternative<BaseUnits>(parsed))
            return std::nullopt;
        r.amount = std::get<BaseUnits>(parsed);
    }
    if (p.contains(QStringLiteral("slippagePpm"))) {
        r.slippagePpm = quint32(p.value(QStringLiteral("slippagePpm")).toInteger());
    } else {
        const QJsonValue text = p.value(QStringLiteral("slippage"));
        const auto parsed = parseSlippageFraction(
            text.isString()
                ? text.toString()
                : QString::number(text.toDouble(), 'g', QLocale::FloatingPointShortest));
        if (!std::holds_alternative<quint32>(parsed))
            return std::nullopt;
        r.slippagePpm = std::get<quint32>(parsed);
    }
    return r;
}

QString requestFingerprint(const OrderRequest &r)
{
    QStringList parts{r.orderType, r.tokenIn, r.tokenOut, QString::number(r.amount),
                      QString::number(r.slippagePpm)};
    if (r.orderType != QLatin1String("market")) // market fingerprints stay as they were
        parts << QString::fromUtf8(QJsonDocument(termsJson(r)).toJson(QJsonDocument::Compact));
    const QString canonical = parts.join(QLatin1Char('|'));
    return QString::fromLatin1(
        QCryptographicHash::hash(canonical.toUtf8(), QCryptographicHash::Sha256).toHex());
}

std::variant<OrderRequest, ApiError> parseOrderRequest(const QByteArray &body,
                                                       const QByteArray &contentType,
                                                       quint32 defaultSlippagePpm, int maxBodyBytes)
{
    if (body.size() > maxBodyBytes) {
        return ApiError{ErrorKind::PayloadTooLarge,
                        QStringLiteral("request body of %1 bytes exceeds the limit of %2 bytes")
                            .arg(body.size())
                            .arg(maxBodyBytes),
                        {},
                        {}};
    }
    const QByteArray mime = contentType.split(';').first().trimmed().toLower();
    if (mime != "application/json") {
        return ApiError{ErrorKind::UnsupportedMediaType,
                        QStringLiteral("Content-Type must be application/json, got '%1'")
                            .arg(QString::fromLatin1(contentType.left(64))),
                        {},
                        {}};
    }
    QJsonParseError parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return ApiError{ErrorKind::InvalidJson,
                        QStringLiteral("malformed JSON at offset %1: %2")
                            .arg(parseError.offset)
                            .arg(parseError.errorString()),
                        {},
                        {}};
    }
    if (!doc.isObject()) {
        return ApiError{
            ErrorKind::InvalidJson, QStringLiteral("request body must be a JSON object"), {}, {}};
    }
    const QJsonObject o = doc.object();
    // A field oee does not know is refused, not ignored: ignoring a tolerance sent under a
    // name we do not read would execute the order with a tolerance the client did not ask for.
    OrderRequest r;
    const OrderType *orderType = orderTypeNamed(QStringLiteral("market"));
    const QJsonValue type = o.value(QStringLiteral("orderType"));
    if (present(type)) {
        if (!type.isString())
            return fieldError(QStringLiteral("orderType"),
                              QStringLiteral("orderType must be a string"));
        orderType = orderTypeNamed(type.toString());
        if (!orderType) {
            return ApiError{
                ErrorKind::UnsupportedOrderType,
                QStringLiteral("orderType '%1' is not supported; use one of: %2")
                    .arg(type.toString().left(32), orderTypeNames().join(QStringLiteral(", "))),
                QStringLiteral("orderType"),
                {}};
        }
    }
    r.orderType = orderType->name();
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (commonFields().contains(it.key()) || orderType->fields().contains(it.key()))
            continue;
        for (const OrderType *other : orderTypes()) {
            if (other->fields().contains(it.key()))
                return ApiError{ErrorKind::UnknownField,
                                QStringLiteral("field '%1' applies to orderType '%2', not '%3'")
                                    .arg(it.key(), other->name(), orderType->name()),
                                it.key(),
                                {}};
        }
        return ApiError{ErrorKind::UnknownField,
                        QStringLiteral("unknown field '%1'; accepted: %2")
                            .arg(it.key().left(64),
                                 (commonFields() + orderType->fields()).join(QStringLiteral(", "))),
                        it.key().left(64),
                        {}};
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
    auto in = tokenField(inName, QStringLiteral("inputMint"), inValue);
    if (auto *e = std::get_if<ApiError>(&in))
        return *e;
    auto out = tokenField(outName, QStringLiteral("outputMint"), outValue);
    if (auto *e = std::get_if<ApiError>(&out)) {
        // A sniper waits for a token that does not trade yet: it names it as it will launch.
        const QString name = outValue.isString() ? outValue.toString().trimmed() : QString();
        static const QRegularExpression tokenName(QStringLiteral("^[A-Za-z0-9]{1,64}$"));
        if (e->kind != ErrorKind::UnknownToken || !orderType->acceptsUnknownTokenOut() ||
            !tokenName.match(name).hasMatch())
            return *e;
        out = name;
    }
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
    const Token *tokenIn = TokenRegistry::instance().bySymbol(r.tokenIn);
    const auto parsedAmount = parseTokenAmount(amount, tokenIn->decimals);
    if (const auto *e = std::get_if<QString>(&parsedAmount))
        return fieldError(amountName, QStringLiteral("%1 %2 (%3 has %4 decimals)")
                                          .arg(amountName, *e, r.tokenIn)
                                          .arg(tokenIn->decimals));
    r.amount = std::get<BaseUnits>(parsedAmount);

    // The tolerance: `slippage` is a fraction (0.01 = 1 %), seed 004's `slippage_pct` is in
    // percent (0.5 = 0.5 %). One or the other.
    const QJsonValue slippage = o.value(QStringLiteral("slippage"));
    const QJsonValue slippagePct = o.value(QStringLiteral("slippage_pct"));
    if (present(slippage) && present(slippagePct)) {
        return fieldError(QStringLiteral("slippage_pct"),
                          QStringLiteral("give slippage (a fraction) or slippage_pct (percent), "
                                         "not both"));
    }
    // Exact: the number's shortest text read as a decimal; percent has 4 decimals (ppm / 100).
    const auto numberText = [](const QJsonValue &v) {
        return v.isString() ? v.toString()
                            : QString::number(v.toDouble(), 'g', QLocale::FloatingPointShortest);
    };
    if (present(slippagePct)) {
        if (!slippagePct.isDouble())
            return fieldError(QStringLiteral("slippage_pct"),
                              QStringLiteral("slippage_pct must be a number (percent, e.g. 0.5)"));
        const auto ppm = parseTokenAmount(numberText(slippagePct), 4);
        if (!std::holds_alternative<BaseUnits>(ppm) || std::get<BaseUnits>(ppm) > 500'000)
            return fieldError(QStringLiteral("slippage_pct"),
                              QStringLiteral("slippage_pct must be in (0, 50] percent with at most "
                                             "4 decimals, e.g. 0.5 for 0.5%"));
        r.slippagePpm = quint32(std::get<BaseUnits>(ppm));
    } else if (present(slippage)) {
        if (!slippage.isDouble())
            return fieldError(QStringLiteral("slippage"),
                              QStringLiteral("slippage must be a number (a fraction, e.g. 0.01)"));
        const auto ppm = parseSlippageFraction(numberText(slippage));
        if (!std::holds_alternative<quint32>(ppm))
            return fieldError(
                QStringLiteral("slippage"),
                QStringLiteral("slippage must be in (0, 0.5] with at most 6 decimals, "
                               "e.g. 0.01 for 1%"));
        r.slippagePpm = std::get<quint32>(ppm);
    } else {
        r.slippagePpm = defaultSlippagePpm;
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
    if (auto e = orderType->parse(o, r))
        return *e;
    return r;
}

} // namespace oee
