#include "money/Tokens.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

static void initEngineResources()
{
    Q_INIT_RESOURCE(engine_resources);
}

namespace oee {

const TokenRegistry &TokenRegistry::instance()
{
    static const TokenRegistry registry;
    return registry;
}

TokenRegistry::TokenRegistry()
{
    initEngineResources();
    QFile file(QStringLiteral(":/oee/tokens.json"));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("the token registry (:/oee/tokens.json) is not compiled in");
    const QJsonArray tokens = QJsonDocument::fromJson(file.readAll()).object().value(
        QStringLiteral("tokens")).toArray();
    for (const QJsonValue &v : tokens) {
        const QJsonObject o = v.toObject();
        Token t;
        t.symbol = o.value(QStringLiteral("symbol")).toString();
        t.mint = o.value(QStringLiteral("mint")).toString();
        t.decimals = o.value(QStringLiteral("decimals")).toInt();
        t.usd = o.value(QStringLiteral("usd")).toString();
        t.volatility = o.value(QStringLiteral("volatility")).toString().toDouble();
        m_tokens.append(t);
        m_symbols.append(t.symbol);
    }
    if (m_tokens.isEmpty())
        qFatal("the token registry is empty");
}

const Token *TokenRegistry::bySymbol(const QString &symbol) const
{
    for (const Token &t : m_tokens)
        if (t.symbol.compare(symbol, Qt::CaseInsensitive) == 0)
            return &t;
    return nullptr;
}

const Token *TokenRegistry::find(const QString &symbolOrMint) const
{
    const QString key = symbolOrMint.trimmed();
    for (const Token &t : m_tokens)
        if (t.mint == key)
            return &t;
    return bySymbol(key);
}

} // namespace oee
