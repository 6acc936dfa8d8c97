#pragma once
#include "domain/ApiError.h"
#include "queue/RedisKeys.h"

#include <QDateTime>
#include <QJsonObject>
#include <QMutex>
#include <QObject>
#include <QStringList>
#include <atomic>
#include <optional>

namespace oee {

class Market;
class RedisConnection;

// What the operator has switched: intake paused (new orders answered 503 `paused`, orders in
// flight finish), venues out of routing, the simulator's volatility. The live state is a Redis
// hash (`<prefix>control`) that every process reads with its pools (PoolSync, every
// DEX_POOL_SYNC_MS) and the acting process applies at once; the record of who did what is
// PostgreSQL's operator_actions.
struct ControlState
{
    bool paused = false;
    QString pausedReason;
    QDateTime pausedAt;
    QStringList disabledVenues; // sorted
    QString volatility;         // exact decimal text as set; empty: DEX_VOLATILITY as configured

    bool operator==(const ControlState &o) const = default;
};

// One operator action, as audited (operator_actions) and as GET /api/control/actions lists it.
struct OperatorAction
{
    qint64 id = 0;
    QDateTime at;
    QString action; // pause, resume, venue, volatility, kill, cancel, retry, launch
    QString target; // the venue or order it names; empty for the intake
    QJsonObject detail;
    QString source; // "console", or "rest <peer address>"
    [[nodiscard]] QJsonObject toJson() const;
};

// A change the operator asks for (Ingest::control carries it out).
struct ControlAction
{
    enum class Kind { Pause, Resume, Venue, Volatility, Kill };
    Kind kind = Kind::Pause;
    QString reason;      // pause, kill
    QString venue;       // venue
    bool enabled = true; // venue: back in routing (true) or out (false)
    QString volatility;  // volatility, exact decimal text
    QString source;
    [[nodiscard]] QString name() const;
};

// What an action came to.
struct ControlReply
{
    bool ok = false;
    ApiError error;        // when not ok
    QStringList cancelled; // kill: the resting orders it cancelled
    qint64 auditId = 0;
};

// Body parsing for the REST actions; an ApiError names the field at fault.
[[nodiscard]] std::optional<ApiError> parseControlBody(const QByteArray &body,
                                                       ControlAction *action);

// This process's copy of the state. Thread-safe; `changed` is emitted on the thread that
// applied the change (connect queued).
class Controls : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Controls)
public:
    Controls(Market *market, double configuredVolatility, QObject *parent = nullptr);

    [[nodiscard]] bool paused() const { return m_paused.load(std::memory_order_relaxed); }
    [[nodiscard]] ControlState state() const;
    // Takes `s` as the state (and hands the venue and volatility parts to the market).
    void apply(const ControlState &s);
    // The state as GET /api/control answers it.
    [[nodiscard]] QJsonObject toJson() const;

    [[nodiscard]] static QByteArray key(const QByteArray &prefix) { return rkeys::control(prefix); }
    // HGETALL of the hash; nullopt if Redis did not answer.
    [[nodiscard]] static std::optional<ControlState> read(RedisConnection &redis,
                                                          const QByteArray &prefix);
    // The hash fields an action sets, and the state it makes from `s`.
    [[nodiscard]] static QList<std::pair<QByteArray, QByteArray>> fieldsFor(const ControlAction &a,
                                                                            const QDateTime &now);
    [[nodiscard]] static QList<QByteArray> venueNames();

signals:
    void changed();

private:
    Market *m_market;
    double m_configuredVolatility;
    mutable QMutex m_mutex;
    ControlState m_state;
    std::atomic<bool> m_paused{false};
};

} // namespace oee
