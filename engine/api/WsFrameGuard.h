#pragma once
#include <QByteArrayView>
#include <QObject>

class QTcpSocket;

namespace oee {

// Follows the frame boundaries of what a WebSocket client sends (RFC 6455, 5.2), one byte
// after another, and tells whether a frame is unmasked: a client MUST mask every frame and a
// server MUST close the connection when one is not (5.1), with 1002. QtWebSockets 6.4 accepts
// unmasked frames and has no hook before its own parser, hence this.
class WsFrameScanner
{
public:
    // The next bytes of the stream after the handshake, in order, each once. False once a
    // frame was unmasked (and from then on).
    bool feed(QByteArrayView bytes);
    // How many of the next bytes are payload of the current frame: they can be passed over
    // (skip()) without being looked at.
    [[nodiscard]] quint64 skippable() const { return m_state == State::Payload ? m_left : 0; }
    void skip(quint64 bytes);
    [[nodiscard]] bool unmasked() const { return m_unmasked; }

private:
    enum class State { First, Second, Length, Mask, Payload };
    State m_state = State::First;
    int m_due = 0;      // bytes of the extended length or the mask still to come
    quint64 m_left = 0; // payload length, then what remains of it
    bool m_unmasked = false;
};

// Watches one client connection for unmasked frames, ahead of QtWebSockets. Installed on the
// connection before QWebSocketServer sees it, so that its slot runs first on every readyRead
// and looks (peek) at the bytes Qt is about to read; told by upgraded() when QWebSocket has
// taken the connection, it also connects a slot that runs after Qt's, which notes how much Qt
// left unread: the bytes after those are new the next time. The handshake head is passed over:
// the first time fewer bytes are unread than before, QWebSocketServer has removed the head (it
// only ever reads whole heads), and the stream starts there.
// If the count ever goes wrong (something read outside a readyRead), it stops watching rather
// than risk closing a client that did nothing wrong.
class WsFrameGuard : public QObject
{
    Q_OBJECT
public:
    // A child of the connection.
    explicit WsFrameGuard(QTcpSocket *connection);
    // Once QWebSocket has connected to the connection (after the upgrade). False if the client
    // already sent an unmasked frame.
    bool upgraded();

signals:
    // Once, on the first unmasked frame.
    void unmaskedFrame();

private:
    void beforeQt();
    void look(qint64 unread);

    QTcpSocket *m_connection;
    WsFrameScanner m_scanner;
    enum class Phase { Handshake, Stream, Off } m_phase = Phase::Handshake;
    qint64 m_lastUnread = 0; // during the handshake: unread bytes seen last time
    qint64 m_seen = 0;       // unread bytes already fed to the scanner
};

} // namespace oee
