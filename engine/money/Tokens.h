#pragma once
#include <QList>
#include <QReadWriteLock>
#include <QString>
#include <QStringList>
#include <deque>

namespace oee {

struct Token
{
    QString symbol;
    QString mint;
    int decimals = 0;
    QString usd;           // reference price in USD, a decimal string
    double volatility = 0; // relative volatility of the simulated reference walk (not money)
    bool launched = false; // appeared at run time (a launch), not in resources/tokens.json
};

// The tokens oee trades: resources/tokens.json (compiled in), and the tokens launched while
// it runs (add()). Requests may name a token by symbol (any case) or by mint address.
// Thread-safe; a Token's address never changes once registered.
class TokenRegistry
{
public:
    [[nodiscard]] static TokenRegistry &instance();

    [[nodiscard]] const Token *find(const QString &symbolOrMint) const;
    [[nodiscard]] const Token *bySymbol(const QString &symbol) const;
    [[nodiscard]] QList<Token> all() const;
    [[nodiscard]] const Token *first() const; // resources/tokens.json's first
    [[nodiscard]] QStringList symbols() const;
    // Registers a launched token. The same symbol and mint again returns the registered one;
    // a symbol or mint already taken by another token returns nullptr.
    const Token *add(const Token &token);

private:
    TokenRegistry();
    const Token *findLocked(const QString &symbolOrMint) const;
    mutable QReadWriteLock m_lock;
    std::deque<Token> m_tokens;
};

} // namespace oee
