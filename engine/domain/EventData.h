#pragma once
#include "domain/OrderRequest.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <optional>
#include <variant>

namespace oee {

enum class OrderStatus;

// What each status change says, as a typed struct per kind of event; eventDataJson() is its one
// JSON encoding (the `data` of a stream message and of an order_events row), and
// eventDataFromJson() reads it back (events from PostgreSQL or from another process).

// pending, seq 1: the order as submitted (also the job's payload).
struct SubmittedOrder
{
    OrderRequest request;
};

// pending again: an attempt failed and the next one waits.
struct RetryScheduled
{
    int attempt = 0;
    QString venue;
    QString error;
    qint64 retryInMs = 0;
};

// Why a resting order was brought back (the RestingBook's record).
struct TriggerInfo
{
    QString reason; // "price" or "launch"
    QDateTime poolChangedAt;
    QDateTime firedAt;
};

// routing: every candidate route, best first (RoutePlan::toEventJson), and the trigger.
struct RoutingPlan
{
    int attempt = 0;
    QString venue;
    QJsonObject plan;
    std::optional<TriggerInfo> trigger;
};

// building: the transaction's floor.
struct TransactionBuilt
{
    int attempt = 0;
    QString venue;
    QString route; // direct, twoHop, split
    BaseUnits expectedOut = 0;
    QString expectedOutText; // exact, in token units
    BaseUnits minOut = 0;
    QString minOutText;
    QString slippage; // the tolerance, exact
};

// submitted: the signed transaction.
struct TransactionSubmitted
{
    int attempt = 0;
    QString venue;
    QString signature;
};

// confirmed: the fill.
struct FillReport
{
    int attempt = 0;
    QString venue;
    QString signature;
    BaseUnits amountIn = 0;
    QString amountInText; // exact, in token units
    BaseUnits amountOut = 0;
    QString amountOutText; // exact, in token units
    QString executedPrice; // exact to 12 decimals, rounded down
    QJsonArray legs;
    bool alreadyLanded = false;
};

// failed.
struct FailureReport
{
    int attempt = 0;
    int attempts = 0; // 0: not stated
    QString venue;
    QString error;
};

// open: resting, with its terms; waitingFor, or the attempt that missed.
struct RestingOrderData
{
    OrderRequest request;
    QString waitingFor;
    int attempt = 0; // > 0: an attempt missed
    QString venue;
    QString error;
};

// cancelled.
struct CancelReport
{
    QString reason;
};

// expired.
struct ExpiryReport
{
    int attempt = 0;
    QDateTime expiresAt;
};

using EventData = std::variant<std::monostate, SubmittedOrder, RetryScheduled, RoutingPlan,
                               TransactionBuilt, TransactionSubmitted, FillReport, FailureReport,
                               RestingOrderData, CancelReport, ExpiryReport>;

[[nodiscard]] QJsonObject eventDataJson(const EventData &data);
[[nodiscard]] EventData eventDataFromJson(OrderStatus status, const QJsonObject &json);

// The facts the orders row and the stream messages' top level carry, whatever the kind.
struct EventFacts
{
    std::optional<int> attempt;
    QString venue;
    QString signature;
    QString executedPrice;
    QString amountOut;
    QString error;
};
[[nodiscard]] EventFacts factsOf(const EventData &data);

} // namespace oee
