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

void refuse(QTcpSocket *socket, int status, const char *reason, const ApiError &error)
{
    const QByteArray body = errorJson(error);
    socket->disconnect(); // QHttpServer must not see this request
    socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason +
                  "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                  QByteArray::number(body.size()) + "\r\n\r\n" + body);
    socket->disconnectFromHost();
    QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
}

// Follows the requests on one connection as their bytes arrive (QHttpServer 6.4 reads all
// that is available each time, so each byte is seen here once): where the head ends, how much
// body is declared and still due.
struct RequestTracker
{
    QByteArray head;         // the head read so far, while in a head
    qint64 bodyRemaining = -1; // -1: in a head

    enum class Verdict { Fine, HeadTooLarge, BodyTooLarge };

    Verdict feed(const QByteArray &data, qint64 maxBody, qint64 *declared)
    {
        qsizetype pos = 0;
        while (pos < data.size()) {
            if (bodyRemaining < 0) {
                const qsizetype before = head.size();
                head += data.mid(pos);
                const qsizetype end = head.indexOf("\r\n\r\n");
                if (end < 0) {
                    if (head.size() > kMaxHeadBytes)
                        return Verdict::HeadTooLarge;
                    return Verdict::Fine;
                }
                const QByteArray lower = head.left(end).toLower();
                *declared = 0;
                const qsizetype cl = lower.indexOf("\ncontent-length:");
                if (cl >= 0) {
                    const qsizetype eol = lower.indexOf('\n', cl + 1);
                    *declared = lower.mid(cl + 16, eol < 0 ? -1 : eol - cl - 16).trimmed().toLongLong();
                }
                if (*declared > maxBody)
                    return Verdict::BodyTooLarge;
                pos += end + 4 - before; // first byte after this head in `data`
                head.clear();
                bodyRemaining = *declared;
            } else {
                const qint64 take = qMin<qint64>(bodyRemaining, data.size() - pos);
                bodyRemaining -= take;
                pos += take;
            }
            if (bodyRemaining == 0)
                bodyRemaining = -1; // complete: the next bytes start a new request
        }
        return Verdict::Fine;
    }

    [[nodiscard]] bool incomplete() const { return bodyRemaining > 0 || !head.isEmpty(); }
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
    connect(socket, &QTcpSocket::readyRead, deadline, [socket, deadline, tracker, maxBody, timeoutMs] {
        if (!socket->isOpen())
            return; // a readyRead queued by QHttpServer after it closed the connection
        qint64 declared = 0;
        switch (tracker->feed(socket->peek(socket->bytesAvailable()), maxBody, &declared)) {
        case RequestTracker::Verdict::HeadTooLarge:
            refuse(socket, 431, "Request Header Fields Too Large",
                   {ErrorKind::HeadersTooLarge,
                    QStringLiteral("request head over %1 bytes").arg(kMaxHeadBytes), {}, {}});
            return;
        case RequestTracker::Verdict::BodyTooLarge:
            refuse(socket, 413, "Payload Too Large",
                   {ErrorKind::PayloadTooLarge,
                    QStringLiteral("declared body of %1 bytes exceeds the limit of %2 bytes")
                        .arg(declared)
                        .arg(maxBody),
                    {}, {}});
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
                QStringLiteral("the request did not arrive completely in time"), {}, {}});
    });
    addPendingConnection(socket);
}

} // namespace oee
