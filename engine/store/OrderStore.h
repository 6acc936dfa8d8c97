#pragma once
#include "domain/Order.h"
#include "domain/OrderRequest.h"

#include <QHash>
#include <QMap>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <memory>
#include <optional>
#include <unordered_map>

namespace oee {

struct NewOrder
{
    QString id;
    OrderRequest request;
    QDateTime createdAt;
    QString idempotencyKey; // empty: none
};

// Where an order stands, as a worker that claims its job needs to know: to skip it if it has
// ended, or to resume a submitted transaction instead of executing a new one.
struct OrderCursor
{
    OrderStatus status;
    int lastSeq = 0;
    int attempts = 0;
    QString signature;   // the submitted transaction, if any
    QString venue;
    double minAmountOut = 0; // of the submitted transaction (from its building event)
};

// Every statement the engine runs against PostgreSQL. All values are bound parameters; batch
// writes pass PostgreSQL arrays to unnest(), so N orders cost one statement, not N.
class OrderStore
{
public:
    explicit OrderStore(QSqlDatabase db) : m_db(std::move(db)) {}

    [[nodiscard]] QSqlDatabase &database() { return m_db; }
    [[nodiscard]] QString lastError() const { return m_lastError; }

    // Orders rows (status pending, seq 1) and their pending events: one statement. An order
    // whose idempotency key is already taken (by another process, a moment ago) is skipped.
    // Returns the ids inserted; nullopt on failure.
    std::optional<QSet<QString>> insertOrders(const QList<NewOrder> &orders,
                                              const QList<OrderEvent> &pendingEvents);
    // Idempotency key → (order id, created at) of the orders that hold these keys.
    std::optional<QHash<QString, std::pair<QString, QDateTime>>> ordersByKey(const QStringList &keys);
    // Event rows, and each order's row brought to its latest event: one statement, atomic on
    // its own (no transaction needed), one round trip whatever the batch size.
    bool appendEvents(const QList<OrderEvent> &events);

    std::optional<QHash<QString, OrderCursor>> cursors(const QStringList &ids);
    std::optional<std::optional<Order>> order(const QString &id);
    std::optional<QList<Order>> orders(std::optional<OrderStatus> status, int limit,
                                       qint64 beforeOrderNo);
    std::optional<QList<OrderEvent>> events(const QString &orderId);
    std::optional<QMap<QString, qint64>> countsByStatus();
    bool ping();

private:
    bool fail(const QSqlQuery &q, const char *what);
    // A server-side prepared statement, prepared once per connection and reused.
    QSqlQuery *statement(const QString &sql);
    void resetConnection();

    std::unordered_map<QString, std::unique_ptr<QSqlQuery>> m_statements;

    QSqlDatabase m_db;
    QString m_lastError;
};

[[nodiscard]] QString numericText(double v);

} // namespace oee
