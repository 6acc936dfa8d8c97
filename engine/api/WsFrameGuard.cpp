#include "api/WsFrameGuard.h"

#include "runtime/Logging.h"

#include <QTcpSocket>
#include <algorithm>

namespace oee {

bool WsFrameScanner::feed(QByteArrayView bytes)
{
    qsizetype i = 0;
    while (i < bytes.size() && !m_unmasked) {
        const auto b = quint8(bytes[i]);
        switch (m_state) {
        case State::First: // FIN, RSV, opcode: QtWebSockets judges those
            m_state = State::Second;
            ++i;
            break;
        case State::Second:
            if (!(b & 0x80)) {
                m_unmasked = true;
                break;
            }
            m_left = b & 0x7f;
            m_due = m_left == 126 ? 2 : m_left == 127 ? 8 : 0;
            if (m_due)
                m_left = 0;
            m_state = m_due ? State::Length : State::Mask;
            if (!m_due)
                m_due = 4;
            ++i;
            break;
        case State::Length:
            m_left = (m_left << 8) | b;
            if (--m_due == 0) {
                m_state = State::Mask;
                m_due = 4;
            }
            ++i;
            break;
        case State::Mask:
            if (--m_due == 0)
                m_state = m_left ? State::Payload : State::First;
            ++i;
            break;
        case State::Payload: {
            const quint64 n = std::min<quint64>(m_left, quint64(bytes.size() - i));
            skip(n);
            i += qsizetype(n);
            break;
        }
        }
    }
    return !m_unmasked;
}

void WsFrameScanner::skip(quint64 bytes)
{
    Q_ASSERT(bytes <= skippable());
    if (bytes == 0)
        return; // and the state stays: it may be a header's
    m_left -= bytes;
    if (m_left == 0)
        m_state = State::First;
}

WsFrameGuard::WsFrameGuard(QTcpSocket *connection) : QObject(connection), m_connection(connection)
{
    connect(connection, &QTcpSocket::readyRead, this, &WsFrameGuard::beforeQt);
}

void WsFrameGuard::beforeQt()
{
    const qint64 unread = m_connection->bytesAvailable();
    switch (m_phase) {
    case Phase::Off:
        return;
    case Phase::Handshake:
        // Until QWebSocketServer takes the head (all at once), bytes only ever arrive.
        if (unread >= m_lastUnread) {
            m_lastUnread = unread;
            return;
        }
        // The readyRead QWebSocket emits when it takes over a connection with bytes already
        // unread: all of them come after the head.
        m_phase = Phase::Stream;
        m_seen = 0;
        break;
    case Phase::Stream:
        break;
    }
    look(unread);
}

void WsFrameGuard::look(qint64 unread)
{
    if (unread < m_seen) {
        // Something read outside a readyRead: the count cannot be trusted any more.
        qCDebug(lcWs, "frame guard lost count on a connection (%lld unread, %lld seen); off",
                qlonglong(unread), qlonglong(m_seen));
        m_phase = Phase::Off;
        return;
    }
    qint64 fresh = unread - m_seen;
    // Payload is passed over without a copy.
    const auto passed = qint64(std::min<quint64>(quint64(fresh), m_scanner.skippable()));
    m_scanner.skip(quint64(passed));
    fresh -= passed;
    if (fresh > 0) {
        const QByteArray all = m_connection->peek(unread);
        if (!m_scanner.feed(QByteArrayView(all).sliced(m_seen + passed))) {
            m_phase = Phase::Off;
            emit unmaskedFrame();
            return;
        }
    }
    m_seen = unread;
}

bool WsFrameGuard::upgraded()
{
    if (m_scanner.unmasked())
        return false;
    if (m_phase == Phase::Handshake) {
        // No bytes after the head yet.
        m_phase = Phase::Stream;
    }
    // Runs after QWebSocket's slot: what Qt left unread was all seen.
    const auto after = [this] {
        if (m_phase == Phase::Stream)
            m_seen = m_connection->bytesAvailable();
    };
    connect(m_connection, &QTcpSocket::readyRead, this, after);
    after();
    return true;
}

} // namespace oee
