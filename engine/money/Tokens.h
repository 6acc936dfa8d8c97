#pragma once
#include <QList>
#include <QString>
#include <QStringList>

namespace oee {

struct Token
{
    QString symbol;
    QString mint;
    int decimals = 0;
    QString usd;          // reference price in USD, a decimal string
    double volatility = 0; // relative volatility of the simulated reference walk (not money)
};

// The tokens oee trades, from resources/tokens.json (compiled in). Requests may name a token
// by symbol (any case) or by mint address. Tokens launched at run time (issue 11) are not here.
class TokenRegistry
{
public:
    [[nodiscard]] static const TokenRegistry &instance();

    [[nodiscard]] const Token *find(const QString &symbolOrMint) const;
    [[nodiscard]] const Token *bySymbol(const QString &symbol) const;
    [[nodiscard]] const QList<Token> &all() const { return m_tokens; }
    [[nodiscard]] const QStringList &symbols() const { return m_symbols; }

private:
    TokenRegistry();
    QList<Token> m_tokens;
    QStringList m_symbols;
};

} // namespace oee
