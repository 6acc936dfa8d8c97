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

TokenRegistry &TokenRegistry::instance()
{
    static TokenRegistry registry;
    return registry;
}

TokenRegistry::TokenRegistry()
{
    initEngineResources();
    QFile file(QStringLiteral(":/oee/tokens.json"));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("the token registry (:/oee/tokens.json) is not compiled in");
    const QJsonArray tokens =
        QJsonDocument::fromJson(file.readAll()).object().value(QStringLiteral("tokens")).toArray();
    for (const QJsonValue &v : tokens) {
        const QJsonObject o = v.toObject();
        Token t;
        t.symbol = o.value(QStringLiteral("symbol")).toString();
        t.mint = o.value(QStringLiteral("mint")).toString();
        t.decimals = o.value(QStringLiteral("decimals")).toInt();
        t.usd = o.value(QStringLiteral("usd")).toString();
        t.volatility = o.value(QStringLiteral("volatility")).toString().toDouble();
        m_tokens.push_back(t);
    }
    if (m_tokens.empty())
        qFatal("the token registry is empty");
}

const Token *TokenRegistry::bySymbol(const QString &symbol) const
{
    QReadLocker lock(&m_lock);
    for (const Token &t : m_tokens)
        if (t.symbol.compare(symbol, Qt::CaseInsensitive) == 0)
            return &t;
    return nullptr;
}

const Token *TokenRegistry::findLocked(const QString &symbolOrMint) const
{
    const QString key = symbolOrMint.trimmed();
    for (const Token &t : m_tokens)
        if (t.mint == key)
            return &t;
    for (const Token &t : m_tokens)
        if (t.symbol.compare(key, Qt::CaseInsensitive) == 0)
            return &t;
    return nullptr;
}

const Token *TokenRegistry::find(const QString &symbolOrMint) const
{
    QReadLocker lock(&m_lock);
    return findLocked(symbolOrMint);
}

QList<Token> TokenRegistry::all() const
{
    QReadLocker lock(&m_lock);
    return QList<Token>(m_tokens.begin(), m_tokens.end());
}

const Token *TokenRegistry::first() const
{
    QReadLocker lock(&m_lock);
    return &m_tokens.front();
}

QStringList TokenRegistry::symbols() const
{
    QReadLocker lock(&m_lock);
    QStringList out;
    for (const Token &t : m_tokens)
        out << t.symbol;
    return out;
}

const Token *TokenRegistry::add(const Token &token)
{
    QWriteLocker lock(&m_lock);
    const Token *bySym = findLocked(token.symbol);
    const Token *byMint = findLocked(token.mint);
    if (bySym || byMint) {
        if (bySym == byMint && bySym->symbol == token.symbol && bySym->mint == token.mint)
            return bySym;
        return nullptr;
    }
    m_tokens.push_back(token);
    m_tokens.back().launched = true;
    return &m_tokens.back();
}

} // namespace oee
