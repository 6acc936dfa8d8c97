#pragma once
#include "dex/Venue.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <memory>

namespace oee {

struct Token;

// The market as one process sees it: every pool's latest known state, by id.
using PoolSet = QHash<QString, std::shared_ptr<const Pool>>;

// One swap on one pool within a plan.
struct RouteLeg
{
    QString poolId;
    QString venue;
    QString kind;
    const Token *input = nullptr;
    const Token *output = nullptr;
    quint64 slot = 0;     // the pool state it was priced on
    int shareBps = 10000; // of the order's input (split legs)
    SwapResult result;
    u128 spotQ64 = 0; // the pool's mid price of the input when priced (Q64.64), for impact

    // Base units as strings, mints, fees; what the confirmed event and the conservation check
    // read. The leg of a candidate in the routing event is the short form.
    [[nodiscard]] QJsonObject toJson() const;
    [[nodiscard]] QJsonObject toShortJson() const;
    // How far the leg's output is below the same input (net of the fee) at the spot price, in
    // hundredths of a basis point: a display figure (the console, the routing event), never a
    // check. 0 when unknown.
    [[nodiscard]] qint64 impactCentiBps() const;
};

// A way to fill the order: one pool, two pools in sequence through SOL or USDC, or two pools
// side by side (a split).
struct RouteCandidate
{
    enum class Type { Direct, TwoHop, Split };
    Type type = Type::Direct;
    QList<RouteLeg> legs;
    BaseUnits amountOut = 0;
    QString error; // empty: it fills

    [[nodiscard]] bool ok() const { return error.isEmpty(); }
    [[nodiscard]] QString typeName() const;
    // The venue that carries the most of it: what the seeds' clients show as "dex".
    [[nodiscard]] QString venue() const;
    [[nodiscard]] QJsonObject toJson(const Token &in, const Token &out, BaseUnits amountIn) const;
    [[nodiscard]] QJsonObject toShortJson() const;
    [[nodiscard]] QJsonArray legsJson() const;
};

struct RoutePlan
{
    const Token *in = nullptr;
    const Token *out = nullptr;
    BaseUnits amountIn = 0;
    qint64 now = 0;
    RouteCandidate best;              // the chosen plan (check ok())
    QList<RouteCandidate> candidates; // everything considered, best first

    [[nodiscard]] bool ok() const { return best.ok(); }
    [[nodiscard]] QString error() const { return best.error; }
    // The routing event: every candidate and the chosen plan; `raydium`/`meteora` (each
    // venue's best direct pool), `chosen` and a numeric `amountOut` for the clients of the
    // earlier quote shape.
    [[nodiscard]] QJsonObject toJson() const;
    // The routing event's data: every candidate in short (pool, in, out, fee, share per leg),
    // the chosen one first.
    [[nodiscard]] QJsonObject toEventJson() const;
};

// Pure: prices on the given pool states, changes nothing.
class Router
{
public:
    [[nodiscard]] static RoutePlan route(const PoolSet &pools, const Token &in, const Token &out,
                                         BaseUnits amount, qint64 now,
                                         const QStringList &excludedVenues = {});
    // Executes `plan` on `pools` as it stands now (the legs' inputs; a second hop takes what
    // the first gave): the legs with their results, and the pools' new states. Fails with the
    // pool's error (insufficient liquidity) when a leg cannot fill.
    struct Execution
    {
        QString error;
        BaseUnits amountOut = 0;
        QList<RouteLeg> legs;
        QList<std::shared_ptr<Pool>> newStates;
    };
    [[nodiscard]] static Execution execute(const PoolSet &pools, const RouteCandidate &plan,
                                           qint64 now);
};

// Display helpers: token units as exact decimal text, and a JSON number whose text is that
// decimal when it has at most 15 significant digits (what the seeds' clients compute with).
[[nodiscard]] QJsonValue amountNumber(BaseUnits amount, int decimals);
[[nodiscard]] QJsonValue decimalNumber(const QString &decimal);

} // namespace oee
