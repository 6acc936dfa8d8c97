#include "api/GuardedTcpServer.h"

#include "api/Json.h"
#include "runtime/Logging.h"

#include <QPointer>
#include <QTcpSocket>
#include <QTimer>
#include <memory>

namespace oee {

namespace {

constexpr qint64 kMaxHeadBytes = 16 * 1024;
constexpr int kMaxHeaderFields = 100;
constexpr qint64 kMaxChunkLine = 1024;
constexpr int kLingerMs = 1000;
constexpr qint64 kMaxLingerBytes = 64LL * 1024 * 1024;

void refuse(QTcpSocket *socket, int status, const char *reason, const ApiError &error)
{
    const QByteArray body = errorJson(error);
    // QHttpServer must not see this request any more, but its other connections stay: the
    // one on destroyed deletes the request object it buffered (disconnecting everything
    // leaked it, with all it had read).
    QObject::disconnect(socket, &QTcpSocket::readyRead, nullptr, nullptr);
    socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason +
                  "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                  QByteArray::number(body.size()) + "\r\n\r\n" + body);
    QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    // Closing with unread input makes the kernel send a reset, which can destroy the answer
    // before the client reads it (a client still sending an oversized body). Linger a moment,
    // reading and discarding (at most a bounded amount), then close.
    auto discarded = std::make_shared<qint64>(socket->bytesAvailable());
    socket->readAll();
    QObject::connect(socket, &QTcpSocket::readyRead, socket, [socket, discarded] {
        *discarded += socket->bytesAvailable();
        socket->readAll();
        if (*discarded > kMaxLingerBytes)
            socket->abort();
    });
    QTimer::singleShot(kLingerMs, socket, [socket] { socket->disconnectFromHost(); });
}

// Follows the requests on one connection as their bytes arrive (QHttpServer 6.4 reads all
// that is available each time, so each byte is seen here once): where each head ends, how
// its body is framed (Content-Length, or chunked: counted chunk by chunk as it arrives), and
// how much of it is still due.
struct RequestTracker
{
    enum class Verdict {
        Fine,
        HeadTooLarge,
        TooManyFields,
        BodyTooLarge,
        BadFraming,
        Upgrade,
        LateUpgrade
    };
    enum class State { Head, Body, ChunkSize, ChunkData, ChunkEnd, Trailer };

    State state = State::Head;
    QByteArray head;      // the head read so far
    QByteArray line;      // a chunk-size or trailer line read so far
    qint64 remaining = 0; // Body, ChunkData, ChunkEnd: bytes still due
    qint64 bodyBytes = 0; // chunked: data bytes so far
    QString problem;      // what was wrong with a refused request
    int heads = 0;        // requests seen on this connection

    Verdict startBody(const QByteArray &headText, qint64 maxBody, qint64 *declared)
    {
        const QList<QByteArray> lines = headText.split('\n');
        if (lines.size() - 1 > kMaxHeaderFields) {
            problem = QStringLiteral("%1 header fields; at most %2")
                          .arg(lines.size() - 1)
                          .arg(kMaxHeaderFields);
            return Verdict::TooManyFields;
        }
        int lengths = 0;
        bool chunked = false, encoded = false, websocket = false;
        *declared = 0;
        ++heads;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray l = lines[i].trimmed().toLower();
            if (l.startsWith("upgrade:")) {
                websocket = l.mid(8).trimmed() == "websocket";
            } else if (l.startsWith("content-length:")) {
                ++lengths;
                bool ok = false;
                *declared = l.mid(15).trimmed().toLongLong(&ok);
                if (!ok || *declared < 0) {
                    problem = QStringLiteral("Content-Length is not a number");
                    return Verdict::BadFraming;
                }
            } else if (l.startsWith("transfer-encoding:")) {
                encoded = true;
                chunked = l.mid(18).trimmed() == "chunked";
            }
        }
        // Ambiguous framing is how requests get smuggled: refuse it (RFC 9112, 6.3).
        if (lengths > 1) {
            problem = QStringLiteral("more than one Content-Length");
            return Verdict::BadFraming;
        }
        if (encoded && lengths) {
            problem = QStringLiteral("both Content-Length and Transfer-Encoding");
            return Verdict::BadFraming;
        }
        if (encoded && !chunked) {
            problem = QStringLiteral("Transfer-Encoding other than chunked");
            return Verdict::BadFraming;
        }
        if (websocket && lines.first().startsWith("GET ") && !encoded && *declared == 0) {
            // The WebSocket hub takes the connection from here (its own thread): only a fresh
            // one, so that no answer to an earlier request is still due on it.
            return heads == 1 ? Verdict::Upgrade : Verdict::LateUpgrade;
        }
        if (chunked) {
            state = State::ChunkSize;
            bodyBytes = 0;
            return Verdict::Fine;
        }
        if (*declared > maxBody)
            return Verdict::BodyTooLarge;
        remaining = *declared;
        state = remaining > 0 ? State::Body : State::Head;
        return Verdict::Fine;
    }

    Verdict feed(const QByteArray &data, qint64 maxBody, qint64 *declared)
    {
        qsizetype pos = 0;
        while (pos < data.size()) {
            switch (state) {
            case State::Head: {
                const qsizetype before = head.size();
                head += data.mid(pos);
                const qsizetype end = head.indexOf("\r\n\r\n");
                // However the head is segmented: its length up to its end counts.
                if ((end < 0 ? head.size() : end) > kMaxHeadBytes)
                    return Verdict::HeadTooLarge;
                if (end < 0)
                    return Verdict::Fine;
                pos += end + 4 - before; // first byte after this head in `data`
                const QByteArray text = head.left(end);
                head.clear();
                if (const Verdict v = startBody(text, maxBody, declared); v != Verdict::Fine)
                    return v; // an upgrade: what follows is the WebSocket's
                break;
            }
            case State::Body:
            case State::ChunkData:
            case State::ChunkEnd: {
                const qint64 take = qMin<qint64>(remaining, data.size() - pos);
                remaining -= take;
                pos += take;
                if (remaining == 0) {
                    if (state == State::ChunkData) {
                        state = State::ChunkEnd; // the CRLF after the chunk's data
                        remaining = 2;
                    } else {
                        state = state == State::ChunkEnd ? State::ChunkSize : State::Head;
                    }
                }
                break;
            }
            case State::ChunkSize:
            case State::Trailer: {
                const qsizetype eol = data.indexOf('\n', pos);
                line += data.mid(pos, eol < 0 ? -1 : eol - pos);
                if (line.size() > kMaxChunkLine) {
                    problem = QStringLiteral("a chunk-size or trailer line over %1 bytes")
                                  .arg(kMaxChunkLine);
                    return Verdict::BadFraming;
                }
                if (eol < 0)
                    return Verdict::Fine;
                pos = eol + 1;
                const QByteArray l = std::exchange(line, {}).trimmed();
                if (state == State::Trailer) {
                    if (l.isEmpty())
                        state = State::Head; // end of the chunked request
                    break;
                }
                bool ok = false;
                const qint64 size = l.split(';').first().trimmed().toLongLong(&ok, 16);
                if (!ok || size < 0) {
                    problem = QStringLiteral("a malformed chunk size");
                    return Verdict::BadFraming;
                }
                if (size == 0) {
                    state = State::Trailer;
                    break;
                }
                bodyBytes += size;
                *declared = bodyBytes;
                if (bodyBytes > maxBody)
                    return Verdict::BodyTooLarge; // before the rest of it is read
                remaining = size;
                state = State::ChunkData;
                break;
            }
            }
        }
        return Verdict::Fine;
    }

    [[nodiscard]] bool incomplete() const { return state != State::Head || !head.isEmpty(); }
};

} // namespace

GuardedTcpServer::GuardedTcpServer(qint64 maxBodyBytes, int requestTimeoutMs, QObject *parent)
    : QTcpServer(parent), m_maxBodyBytes(maxBodyBytes), m_requestTimeoutMs(requestTimeoutMs)
{
}

void GuardedTcpServer::incomingConnection(qintptr descriptor)
{
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        return;
    }
    auto *deadline = new QTimer(socket);
    deadline->setSingleShot(true);
    const qint64 maxBody = m_maxBodyBytes;
    const int timeoutMs = m_requestTimeoutMs;
    auto tracker = std::make_shared<RequestTracker>();
    // Connected before QHttpServer's own slot, so it runs first on every read.
    const UpgradeHandler upgrade = m_upgrade;
    connect(socket, &QTcpSocket::readyRead, deadline,
            [socket, deadline, tracker, maxBody, timeoutMs, upgrade] {
                if (!socket->isOpen())
                    return; // a readyRead queued by QHttpServer after it closed the connection
                qint64 declared = 0;
                switch (tracker->feed(socket->peek(socket->bytesAvailable()), maxBody, &declared)) {
                case RequestTracker::Verdict::HeadTooLarge:
                    refuse(socket, 431, "Request Header Fields Too Large",
                           {ErrorKind::HeadersTooLarge,
                            QStringLiteral("request head over %1 bytes").arg(kMaxHeadBytes),
                            {},
                            {}});
                    return;
                case RequestTracker::Verdict::TooManyFields:
                    refuse(socket, 431, "Request Header Fields Too Large",
                           {ErrorKind::HeadersTooLarge, tracker->problem, {}, {}});
                    return;
                case RequestTracker::Verdict::BadFraming:
                    refuse(socket, 400, "Bad Request",
                           {ErrorKind::MalformedRequest,
                            QStringLiteral("the request's framing is invalid: ") + tracker->problem,
                            {},
                            {}});
                    return;
                case RequestTracker::Verdict::BodyTooLarge:
                    refuse(socket, 413, "Payload Too Large",
                           {ErrorKind::PayloadTooLarge,
                            QStringLiteral("body of %1 bytes or more exceeds the limit of %2 bytes")
                                .arg(declared)
                                .arg(maxBody),
                            {},
                            {}});
                    return;
                case RequestTracker::Verdict::Upgrade:
                    if (!upgrade)
                        break; // QHttpServer hands it to its own QWebSocketServer
                    // QHttpServer must not read it any more; its connection on destroyed stays (it
                    // deletes the request object QHttpServer allocated). The socket changes thread
                    // once this signal has returned.
                    QObject::disconnect(socket, &QTcpSocket::readyRead, nullptr, nullptr);
                    QObject::disconnect(socket, &QTcpSocket::disconnected, nullptr, nullptr);
                    deadline->stop();
                    QMetaObject::invokeMethod(
                        socket->parent(),
                        [socket, deadline, upgrade] {
                            delete deadline;
                            if (socket->state() != QAbstractSocket::ConnectedState) {
                                socket->deleteLater();
                                return;
                            }
                            socket->setParent(nullptr);
                            upgrade(socket);
                        },
                        Qt::QueuedConnection);
                    return;
                case RequestTracker::Verdict::LateUpgrade:
                    refuse(socket, 400, "Bad Request",
                           {ErrorKind::MalformedRequest,
                            QStringLiteral(
                                "a WebSocket upgrade must be the first request on its connection"),
                            {},
                            {}});
                    return;
                case RequestTracker::Verdict::Fine:
                    break;
                }
                // An incomplete request must complete within the timeout.
                if (!tracker->incomplete())
                    deadline->stop();
                else if (!deadline->isActive())
                    deadline->start(timeoutMs);
            });
    connect(deadline, &QTimer::timeout, socket, [socket, tracker] {
        if (!tracker->incomplete() || socket->state() != QAbstractSocket::ConnectedState)
            return;
        qCInfo(lcHttp, "closing a connection whose request did not complete in time");
        refuse(socket, 408, "Request Timeout",
               {ErrorKind::RequestTimeout,
                QStringLiteral("the request did not arrive completely in time"),
                {},
                {}});
    });
    addPendingConnection(socket);
}

} // namespace oee
