#pragma once
#include "domain/ApiError.h"
#include "domain/OrderRequest.h"

#include <QJsonObject>
#include <QList>
#include <QStringList>
#include <optional>

namespace oee {

struct RoutePlan;

// What an order type decided about an order, on the route priced for it now.
struct Decision
{
    enum Kind { Execute, Rest, Fail };
    Kind kind = Execute;
    BaseUnits floor = 0; // Execute: the transaction's minAmountOut
    QString why;         // Rest: what it waits for; Fail: the error of the attempt
};

// An order type: a strategy the execution core calls. The core owns the lifecycle (claim,
// route, build, submit, land, retry, rest, expire); a type says when an order may execute and
// at what floor, and whether a missed attempt rests again. Adding a type is a new file with a
// subclass and one line in orderTypes() (OrderType.cpp).
class OrderType
{
public:
    virtual ~OrderType() = default;
    [[nodiscard]] virtual QString name() const = 0;
    // Request fields this type accepts beyond the common ones (tokenIn, amount, slippage, …).
    [[nodiscard]] virtual QStringList fields() const { return {}; }
    // Validates and reads its fields into `r` (tokens, amount and slippage are already read).
    [[nodiscard]] virtual std::optional<ApiError> parse(const QJsonObject &body,
                                                        OrderRequest &r) const;
    // tokenOut may name a token that does not trade yet (a sniper's).
    [[nodiscard]] virtual bool acceptsUnknownTokenOut() const { return false; }
    // On the route priced now: execute (and the floor), rest in `open`, or fail this attempt.
    [[nodiscard]] virtual Decision decide(const OrderRequest &r, const RoutePlan &plan) const = 0;
    // An attempt that missed (the price moved past the floor, the venue refused it): rest
    // again in `open` (true), or retry with backoff and then fail, as a market order does.
    [[nodiscard]] virtual bool restsOnMiss() const { return false; }
    // The least output at which a resting order may execute, as far as it is known without a
    // route (the RestingBook's index key); nullopt: it waits for its token to launch.
    [[nodiscard]] virtual std::optional<BaseUnits> restingFloor(const OrderRequest &r) const;
};

[[nodiscard]] const QList<const OrderType *> &orderTypes();
[[nodiscard]] const OrderType *orderTypeNamed(const QString &name);
[[nodiscard]] QStringList orderTypeNames();

// expiresAt (ISO-8601 with an offset or Z) or ttlSeconds: shared by the types that rest.
[[nodiscard]] std::optional<ApiError> parseExpiry(const QJsonObject &body, OrderRequest &r);

} // namespace oee
