#pragma once
#include "domain/Order.h"

#include <QHash>
#include <QMultiHash>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <QWebSocket>
#include <memory>

namespace oee {

class ReadPool;
struct ApiError;

// WebSocket fan-out on the HTTP thread. A subscriber gets a snapshot first (read on the query
// thread), then live events; events that arrive while its snapshot is being read are buffered
// and those the snapshot already holds (by seq) are skipped, so nothing is lost or doubled.
// A per-order stream is closed normally (1000) once it has sent the order's terminal event.
//
// The path a client connects to picks its dialect (README, "Seed clients"):
//   /ws/orders, /ws/orders/<id>, /ws/<id>   oee: snapshot, then {"type":"status",…}
//   /api/orders/stream/all, /api/orders/<id>/stream
//                                           seed 001: {"type":"connected"} first, then the
//                                           snapshot, then {"type":"status_update",…}
//   /api/orders/ws?orderId=<id>             seed 004: snapshot, events; an order that has
//                                           already ended gets {"error":"Order already processed"}
// Every stream answers {"type":"ping"} with {"type":"pong","timestamp":…}.
class WsHub : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WsHub)
public:
    explicit WsHub(ReadPool *reads, QObject *parent = nullptr);
    ~WsHub() override;

    void accept(std::unique_ptr<QWebSocket> socket);
    void publish(const QList<oee::OrderEvent> &events);

    [[nodiscard]] int subscriberCount() const { return int(m_subscribers.size()); }
    [[nodiscard]] qint64 droppedCount() const { return m_dropped; }
    // Bytes a subscriber may be behind before it is disconnected (default 8 MiB).
    void setMaxUnsentBytes(qint64 bytes) { m_maxUnsentBytes = bytes; }
    // When set, a stream needs `Authorization: Bearer <key>` or `?token=<key>`.
    void setApiKey(const QString &key) { m_apiKey = key; }

private:
    enum class Dialect { Oee, Seed001, Seed004 };
    struct Subscriber
    {
        QString orderId;      // empty: all orders
        Dialect dialect = Dialect::Oee;
        bool ready = false;   // snapshot sent
        int snapshotSeq = 0;  // per-order: events up to this seq were in the snapshot
        QList<OrderEvent> buffered;
        qint64 unsent = 0;    // bytes handed to the socket and not yet written to the kernel
        bool closing = false; // dropped, or closed after the terminal event: send nothing more
    };
    // The message of one event in a dialect; `oee` is the event's shared text.
    static QString eventText(const OrderEvent &event, Dialect dialect);
    void deliver(QWebSocket *socket, Subscriber &sub, const OrderEvent &event, const QString &text);
    bool sendText(QWebSocket *socket, Subscriber &sub, const QString &text);
    void refuse(QWebSocket *socket, const ApiError &error, int closeCode);
    static void abortLater(QWebSocket *socket);
    // Closes a client that fell too far behind (1009) and counts it.
    void drop(QWebSocket *socket, qint64 behindBytes);
    // The read pool is full: the client is told to come back (4503).
    void refuseOverloaded(QWebSocket *socket);
    void closeNormally(QWebSocket *socket, Subscriber &sub, const QString &reason);
    void onClientMessage(QWebSocket *socket, const QString &text);
    void remove(QWebSocket *socket);
    void snapshotOrder(QWebSocket *socket, const QString &orderId);
    void snapshotAll(QWebSocket *socket);
    void markReady(QWebSocket *socket, int snapshotSeq);
    void deliverOutbox();
    // What Qt writes by itself (the pong to every protocol ping) is not counted by sendText():
    // look at each client's write backlog now and then, and drop the ones too far behind.
    void checkBacklogs();

    static constexpr int kCoalesceAbove = 64; // subscribers
    static constexpr int kCoalesceMs = 5;
    static constexpr qint64 kMaxTotalUnsentBytes = 256LL * 1024 * 1024;
    static constexpr qsizetype kSeqMemory = 200000; // orders whose last delivered seq is kept
    static constexpr qint64 kMaxIncomingBytes = 64 * 1024; // a client only ever sends pings
    static constexpr int kCloseHandshakeMs = 5000;

    ReadPool *m_reads;
    QHash<QWebSocket *, Subscriber> m_subscribers;
    QMultiHash<QString, QWebSocket *> m_byOrder;
    QSet<QWebSocket *> m_allOrders;
    QList<OrderEvent> m_outbox;
    qint64 m_maxUnsentBytes = 8 * 1024 * 1024;
    qint64 m_totalUnsent = 0; // over all subscribers
    QHash<QString, int> m_lastSeq;
    qint64 m_dropped = 0;
    QString m_apiKey;
    QTimer m_fanoutTimer{this};
    QTimer m_backlogTimer{this};
};

} // namespace oee
