#pragma once
#include <QTcpServer>

#include <functional>

namespace oee {

// The listening socket under QHttpServer. It looks at each request before QHttpServer does
// (QHttpServer 6.4 buffers any body whole and has no timeouts): a body over the limit is refused
// with 413 before it is read (declared by Content-Length, or counted chunk by chunk as a chunked
// body arrives), a head over 16 KiB or with over 100 fields with 431, ambiguous framing (two
// Content-Lengths, Content-Length with Transfer-Encoding) with 400, and a request that stays
// incomplete (slow or truncated) for longer than the timeout with 408.
class GuardedTcpServer : public QTcpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GuardedTcpServer)
public:
    GuardedTcpServer(qint64 maxBodyBytes, int requestTimeoutMs, QObject *parent = nullptr);

    // Takes a connection whose first request is a WebSocket upgrade (GET with Upgrade:
    // websocket), its head still unread, away from QHttpServer: the handler gets the socket
    // without a parent, on this thread, to move where it will be served. An upgrade later on
    // a connection that carried other requests is refused (400). Without a handler, QHttpServer
    // serves upgrades itself.
    using UpgradeHandler = std::function<void(QTcpSocket *)>;
    void setUpgradeHandler(UpgradeHandler handler) { m_upgrade = std::move(handler); }

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    qint64 m_maxBodyBytes;
    int m_requestTimeoutMs;
    UpgradeHandler m_upgrade;
};

} // namespace oee
