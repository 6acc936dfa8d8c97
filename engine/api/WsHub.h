#pragma once
#include "domain/Order.h"

#include <QAtomicInteger>
#include <QElapsedTimer>
#include <QHash>
#include <QMultiHash>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>
#include <memory>

namespace oee {

class ReadPool;
struct ApiError;

// WebSocket fan-out, on a thread of its own ("oee-ws"): the HTTP thread that accepts orders
// hands each upgraded socket over and never writes a frame, so watching the engine cannot
// stall it. A subscriber gets a snapshot first (read on the query thread), then live events; events
// that arrive while its snapshot is being read are buffered and those the snapshot already holds
// (by seq) are skipped, so nothing is lost or doubled. A per-order stream is closed normally (1000)
// once it has sent the order's terminal event. Events come only from the event log
// (EventLog::logged: every process's, in eventId order);
// `?since=` replays from the store instead of a snapshot (an eventId on /ws/orders, a seq on an
// order's stream), then continues live, skipping what the replay held.
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

    // On the hub's thread (Engine::spawn).
    void start();
    // From the socket's thread: a connection whose WebSocket handshake is still unread (see
    // GuardedTcpServer) moves to the hub's thread, which answers the handshake and serves it.
    void takeConnection(QTcpSocket *socket);
    // On the hub's thread: a port of its own for streams only (WS_PORT, seed 000). 0: failed.
    quint16 listen(const QHostAddress &address, quint16 port, QString *error);
    void publish(const QList<oee::OrderEvent> &events);

    // From any thread.
    [[nodiscard]] int subscriberCount() const { return m_subscriberCount->loadRelaxed(); }
    // The same count, for a reader that may outlive the hub (the event log's thread).
    [[nodiscard]] std::shared_ptr<const QAtomicInt> subscriberCounter() const
    {
        return m_subscriberCount;
    }
    [[nodiscard]] qint64 droppedCount() const { return m_dropped.loadRelaxed(); }
    // Bytes a subscriber may be behind before it is disconnected (default 8 MiB).
    void setMaxUnsentBytes(qint64 bytes) { m_maxUnsentBytes = bytes; }
    // When set, a stream needs `Authorization: Bearer <key>` or `?token=<key>`.
    void setApiKey(const QString &key) { m_apiKey = key; }

private:
    // A connection whose handshake is due, on the hub's thread.
    void adopt(QTcpSocket *socket);
    void accept(std::unique_ptr<QWebSocket> socket);
    enum class Dialect { Oee, Seed001, Seed004 };
    struct Subscriber
    {
        QString orderId; // empty: all orders
        Dialect dialect = Dialect::Oee;
        bool ready = false;    // snapshot sent
        int snapshotSeq = 0;   // per-order: events up to this seq were in the snapshot
        qint64 replayedTo = 0; // ?since= on all orders: events up to this id were replayed
        QList<OrderEvent> buffered;
        qint64 unsent = 0;         // bytes handed to the socket and not yet written to the kernel
        bool closing = false;      // dropped, or closed after the terminal event: send nothing more
        bool batch = false;        // ?batch=1: one JSON array of events per frame
        QPointer<QTcpSocket> tcp;  // its connection, written to directly (null: WS_PORT's)
        QList<QByteArray> pending; // this round's event messages (framed: see framed()),
        qsizetype pendingBytes = 0; // not yet written
        QString endsWith;           // per-order: the terminal status among them
    };
    // The message of one event in a dialect (UTF-8); `oee` is the event's shared text.
    static QByteArray eventPayload(const OrderEvent &event, Dialect dialect);
    // Whether a subscriber's queued messages are frames (written straight to its connection)
    // or payloads (a batch's array, or sent through QWebSocket).
    static bool framed(const Subscriber &sub) { return sub.tcp && !sub.batch; }
    // Queues an event's message for this round; true if it is the subscriber's first.
    static bool enqueue(Subscriber &sub, const OrderEvent &event, const QByteArray &payload);
    // Writes what the round queued for one subscriber, and ends a per-order stream after its
    // terminal event.
    void flush(QWebSocket *socket);
    // Counts bytes handed to a subscriber's socket; false (and dropped) if it is too far behind.
    bool account(QWebSocket *socket, Subscriber &sub, qint64 bytes);
    bool sendText(QWebSocket *socket, Subscriber &sub, const QByteArray &payload);
    // A batched subscriber's round in one frame: the JSON array of its queued payloads.
    bool sendBatch(QWebSocket *socket, Subscriber &sub, const QList<QByteArray> &payloads,
                   qsizetype bytes);
    bool writeFrames(QWebSocket *socket, Subscriber &sub, const QByteArray &frames,
                     qint64 frameCount);
    static void countSent(qint64 frames, qint64 bytes);
    void refuse(QWebSocket *socket, const ApiError &error, int closeCode);
    static void abortLater(QWebSocket *socket);
    // A client sent an unmasked frame: closed with 1002 (RFC 6455, 5.1).
    void refuseUnmasked(QWebSocket *socket);
    // Closes a client that fell too far behind (1009) and counts it.
    void drop(QWebSocket *socket, qint64 behindBytes);
    // The read pool is full: the client is told to come back (4503).
    void refuseOverloaded(QWebSocket *socket);
    void closeNormally(QWebSocket *socket, Subscriber &sub, const QString &reason);
    void onClientMessage(QWebSocket *socket, const QString &text);
    void remove(QWebSocket *socket);
    // since >= 0: no snapshot message; the events after that seq, then live.
    void snapshotOrder(QWebSocket *socket, const QString &orderId, int since);
    // The logged events after `since`, a page at a time, then live.
    void replayAll(QWebSocket *socket, qint64 since);
    void snapshotAll(QWebSocket *socket);
    void markReady(QWebSocket *socket, int snapshotSeq);
    void deliverOutbox();
    // What Qt writes by itself (the pong to every protocol ping) is not counted by sendText():
    // look at each client's write backlog now and then, and drop the ones too far behind.
    void checkBacklogs();

    static constexpr int kCoalesceAbove = 64; // subscribers
    static constexpr int kCoalesceMs = 5;
    static constexpr int kLongRoundsAbove = 256; // subscribers
    static constexpr int kLongRoundMs = 15;
    static constexpr qint64 kMaxTotalUnsentBytes = 256LL * 1024 * 1024;
    static constexpr int kReplayPage = 2000;               // events read per replay round
    static constexpr qsizetype kMaxBuffered = 100000;      // live events held for one not yet ready
    static constexpr qint64 kMaxIncomingBytes = 64 * 1024; // a client only ever sends pings
    static constexpr int kCloseHandshakeMs = 5000;
    static constexpr int kHandshakeMs = 10000; // QWebSocketServer's own default

    ReadPool *m_reads;
    QHash<QWebSocket *, Subscriber> m_subscribers;
    QMultiHash<QString, QWebSocket *> m_byOrder;
    QSet<QWebSocket *> m_allOrders;
    QList<OrderEvent> m_outbox;
    qint64 m_maxUnsentBytes = 8 * 1024 * 1024;
    qint64 m_totalUnsent = 0; // over all subscribers
    qint64 m_lastEventId = 0; // the last event id fanned out
    // The last batch built: subscribers queued the very same payloads (shared buffers, held
    // here, so the same addresses mean the same bytes) get the same array and frame.
    QList<QByteArray> m_batchParts;
    QByteArray m_batchArray, m_batchFrame;
    QAtomicInteger<qint64> m_dropped = 0;
    std::shared_ptr<QAtomicInt> m_subscriberCount = std::make_shared<QAtomicInt>(0);
    QString m_apiKey;
    QWebSocketServer *m_upgrader = nullptr;    // handshakes
    QList<QPointer<QTcpSocket>> m_handshaking; // taken connections not yet upgraded
    int m_batchSubscribers = 0;
    QTimer m_fanoutTimer{this};
    QElapsedTimer m_roundStarted; // the last delivery round's start
    QTimer m_backlogTimer{this};
};

} // namespace oee
