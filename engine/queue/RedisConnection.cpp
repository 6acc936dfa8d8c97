#include "queue/RedisConnection.h"

#include "runtime/Metrics.h"

#include "runtime/Logging.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDeadlineTimer>
#include <QFile>
#include <QRegularExpression>
#include <QThread>
#include <QUrl>
#include <cerrno>
#include <cstring>
#include <hiredis/hiredis.h>
#include <vector>

namespace oee {

static std::optional<RedisEndpoint> clusterFromUrl(const QString &text, QString *error)
{
    // redis+cluster://[:password@]h1:p1,h2:p2 — QUrl takes one host only.
    RedisEndpoint ep;
    QString rest = text.mid(int(qstrlen("redis+cluster://")));
    if (rest.endsWith(QLatin1Char('/')))
        rest.chop(1);
    if (const qsizetype at = rest.lastIndexOf(QLatin1Char('@')); at >= 0) {
        const QString user = rest.left(at);
        ep.password =
            QUrl::fromPercentEncoding(user.mid(user.indexOf(QLatin1Char(':')) + 1).toUtf8());
        rest = rest.mid(at + 1);
    }
    if (rest.contains(QLatin1Char('/'))) {
        *error =
            QStringLiteral("REDIS_URL: a Redis Cluster has only database 0, got '%1'").arg(text);
        return std::nullopt;
    }
    for (const QString &seed : rest.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const qsizetype colon = seed.lastIndexOf(QLatin1Char(':'));
        bool ok = colon > 0;
        const int port = ok ? seed.mid(colon + 1).toInt(&ok) : 0;
        if (!ok || port <= 0 || port > 65535) {
            *error = QStringLiteral("REDIS_URL: cluster seed '%1' is not host:port").arg(seed);
            return std::nullopt;
        }
        ep.clusterSeeds.append({seed.left(colon), port});
    }
    if (ep.clusterSeeds.isEmpty()) {
        *error = QStringLiteral("REDIS_URL redis+cluster:// needs at least one host:port");
        return std::nullopt;
    }
    ep.host = ep.clusterSeeds.first().first;
    ep.port = ep.clusterSeeds.first().second;
    return ep;
}

std::optional<RedisEndpoint> RedisEndpoint::fromUrl(const QString &text, QString *error)
{
    if (text.startsWith(QLatin1String("redis+cluster://")))
        return clusterFromUrl(text, error);
    const QUrl url(text);
    RedisEndpoint ep;
    if (url.scheme() == QStringLiteral("unix")) {
        ep.unixSocket = url.path();
        if (ep.unixSocket.isEmpty()) {
            *error = QStringLiteral("REDIS_URL unix:// needs a socket path");
            return std::nullopt;
        }
        return ep;
    }
    if (url.scheme() != QStringLiteral("redis")) {
        *error = QStringLiteral(
                     "REDIS_URL must start with redis://, redis+cluster:// or unix://, got '%1'")
                     .arg(text);
        return std::nullopt;
    }
    ep.host = url.host().isEmpty() ? ep.host : url.host();
    ep.port = url.port(6379);
    ep.password = url.password();
    const QString path = url.path().mid(1);
    if (!path.isEmpty()) {
        bool ok = false;
        ep.db = path.toInt(&ok);
        if (!ok) {
            *error = QStringLiteral("REDIS_URL database must be a number, got '%1'").arg(path);
            return std::nullopt;
        }
    }
    return ep;
}

int redisKeySlot(const QByteArray &key)
{
    // Redis Cluster's key hash: CRC16 (XMODEM) of the text between the first '{' and the next
    // '}' when that is not empty, else of the whole key; modulo 16384.
    QByteArrayView hashed(key);
    if (const qsizetype open = key.indexOf('{'); open >= 0) {
        const qsizetype close = key.indexOf('}', open + 1);
        if (close > open + 1)
            hashed = QByteArrayView(key.constData() + open + 1, close - open - 1);
    }
    quint16 crc = 0;
    for (const char c : hashed) {
        crc ^= quint16(quint8(c)) << 8;
        for (int i = 0; i < 8; ++i)
            crc = (crc & 0x8000) ? quint16((crc << 1) ^ 0x1021) : quint16(crc << 1);
    }
    return crc & 16383;
}

QByteArray luaScript(const char *name)
{
    const auto read = [](const QString &path) {
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            qFatal("Lua script %s is not compiled in", qPrintable(path));
        return f.readAll();
    };
    static const QRegularExpression include(QStringLiteral("^--- @include \"([a-z_/]+)\"$"),
                                            QRegularExpression::MultilineOption);
    QString lua =
        QString::fromUtf8(read(QStringLiteral(":/oee/lua/%1.lua").arg(QLatin1String(name))));
    for (auto m = include.match(lua); m.hasMatch(); m = include.match(lua))
        lua.replace(m.capturedStart(), m.capturedLength(),
                    QString::fromUtf8(read(QStringLiteral(":/oee/lua/%1.lua").arg(m.captured(1))))
                        .trimmed());
    return lua.toUtf8();
}

RedisScript::RedisScript(QByteArray lua)
    : source(std::move(lua)),
      sha(QCryptographicHash::hash(source, QCryptographicHash::Sha1).toHex())
{
}

static RedisReply convert(const redisReply *r)
{
    RedisReply out;
    if (!r)
        return RedisReply{RedisReply::IoError, 0, "no reply", {}};
    switch (r->type) {
    case REDIS_REPLY_NIL:
        out.type = RedisReply::Nil;
        break;
    case REDIS_REPLY_INTEGER:
        out.type = RedisReply::Integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_STRING:
        out.type = RedisReply::String;
        out.str = QByteArray(r->str, int(r->len));
        break;
    case REDIS_REPLY_STATUS:
        out.type = RedisReply::Status;
        out.str = QByteArray(r->str, int(r->len));
        break;
    case REDIS_REPLY_ERROR:
        out.type = RedisReply::Error;
        out.str = QByteArray(r->str, int(r->len));
        break;
    case REDIS_REPLY_ARRAY:
        out.type = RedisReply::Array;
        out.elements.reserve(int(r->elements));
        for (size_t i = 0; i < r->elements; ++i)
            out.elements.append(convert(r->element[i]));
        break;
    default:
        out.type = RedisReply::Nil;
        break;
    }
    return out;
}

RedisConnection::RedisConnection(RedisEndpoint endpoint, int timeoutMs)
    : m_endpoint(std::move(endpoint)), m_timeoutMs(timeoutMs)
{
    if (m_endpoint.isCluster()) {
        for (const auto &[host, port] : std::as_const(m_endpoint.clusterSeeds))
            nodeIndex(host, port);
    } else {
        // A unix socket: the node is named by its path (port 0), for the logs.
        if (m_endpoint.unixSocket.isEmpty())
            m_nodes.push_back(Node{m_endpoint.host, m_endpoint.port, nullptr, 0});
        else
            m_nodes.push_back(Node{m_endpoint.unixSocket, 0, nullptr, 0});
    }
}

RedisConnection::~RedisConnection()
{
    disconnect();
}

void RedisConnection::disconnect()
{
    for (Node &n : m_nodes)
        drop(n);
    m_pubsubNode = -1;
}

bool RedisConnection::isConnected() const
{
    for (const Node &n : m_nodes)
        if (n.ctx)
            return true;
    return false;
}

void RedisConnection::drop(Node &node)
{
    if (node.ctx) {
        redisFree(node.ctx);
        node.ctx = nullptr;
    }
}

int RedisConnection::nodeIndex(const QString &host, int port)
{
    for (size_t i = 0; i < m_nodes.size(); ++i)
        if (m_nodes[i].port == port && m_nodes[i].host == host)
            return int(i);
    m_nodes.push_back(Node{host, port, nullptr, 0});
    return int(m_nodes.size() - 1);
}

bool RedisConnection::ensureConnected(Node &node)
{
    if (node.ctx)
        return true;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (now < node.nextConnectAttemptMs)
        return false; // do not hammer a server that is down
    const timeval tv{m_timeoutMs / 1000, (m_timeoutMs % 1000) * 1000};
    redisContext *c =
        m_endpoint.unixSocket.isEmpty()
            ? redisConnectWithTimeout(node.host.toUtf8().constData(), node.port, tv)
            : redisConnectUnixWithTimeout(m_endpoint.unixSocket.toUtf8().constData(), tv);
    if (!c || c->err) {
        m_lastError = c ? QString::fromUtf8(c->errstr) : QStringLiteral("out of memory");
        if (c)
            redisFree(c);
        node.nextConnectAttemptMs = now + 200;
        return false;
    }
    redisSetTimeout(c, tv);
    node.ctx = c;
    const auto handshake = [&](const QList<QByteArray> &cmd) {
        appendCommand(node, cmd);
        const RedisReply r = readReply(node);
        if (!r.ok()) {
            m_lastError = QString::fromUtf8(cmd.first()) + QStringLiteral(" failed: ") +
                          QString::fromUtf8(r.str);
            drop(node);
        }
        return r.ok();
    };
    if (!m_endpoint.password.isEmpty() && !handshake({"AUTH", m_endpoint.password.toUtf8()}))
        return false;
    if (m_endpoint.db != 0 && !handshake({"SELECT", QByteArray::number(m_endpoint.db)}))
        return false;
    return true;
}

void RedisConnection::appendCommand(Node &node, const QList<QByteArray> &args)
{
    std::vector<const char *> argv;
    std::vector<size_t> lens;
    argv.reserve(size_t(args.size()));
    lens.reserve(size_t(args.size()));
    for (const QByteArray &a : args) {
        argv.push_back(a.constData());
        lens.push_back(size_t(a.size()));
    }
    redisAppendCommandArgv(node.ctx, int(argv.size()), argv.data(), lens.data());
}

RedisReply RedisConnection::readReply(Node &node)
{
    void *raw = nullptr;
    if (redisGetReply(node.ctx, &raw) != REDIS_OK) {
        m_lastError = QString::fromUtf8(node.ctx->errstr);
        qCWarning(lcQueue, "redis connection to %s lost: %s",
                  qPrintable(node.port ? QStringLiteral("%1:%2").arg(node.host).arg(node.port)
                                       : node.host),
                  qPrintable(m_lastError));
        drop(node);
        return RedisReply{RedisReply::IoError, 0, m_lastError.toUtf8(), {}};
    }
    auto *reply = static_cast<redisReply *>(raw);
    RedisReply out = convert(reply);
    freeReplyObject(reply);
    return out;
}

int RedisConnection::anyNode()
{
    for (size_t i = 0; i < m_nodes.size(); ++i)
        if (m_nodes[i].ctx)
            return int(i);
    for (size_t i = 0; i < m_nodes.size(); ++i)
        if (ensureConnected(m_nodes[i]))
            return int(i);
    return 0;
}

void RedisConnection::refreshIfStale()
{
    if (m_mapStale && QDateTime::currentMSecsSinceEpoch() - m_mapReadAtMs >= kStaleMapRetryMs)
        refreshSlots();
}

bool RedisConnection::refreshSlots()
{
    m_mapReadAtMs = QDateTime::currentMSecsSinceEpoch();
    // CLUSTER SLOTS: [[first, last, [host, port, id], replicas…], …]; masters only.
    for (size_t tries = 0; tries < m_nodes.size(); ++tries) {
        const int asked = anyNode();
        Node &node = m_nodes[size_t(asked)];
        if (!ensureConnected(node))
            return false;
        appendCommand(node, {"CLUSTER", "SLOTS"});
        const RedisReply r = readReply(node);
        if (r.type != RedisReply::Array) {
            if (r.type == RedisReply::Error)
                m_lastError = QString::fromUtf8(r.str);
            drop(node);
            node.nextConnectAttemptMs = QDateTime::currentMSecsSinceEpoch() + 200;
            continue;
        }
        const QString askedHost = node.host;
        m_slots.assign(16384, -1);
        for (const RedisReply &range : r.elements) {
            if (range.elements.size() < 3 || range.elements[2].elements.size() < 2)
                continue;
            QString host = QString::fromUtf8(range.elements[2].elements[0].str);
            if (host.isEmpty() || host == QLatin1String("?"))
                host = askedHost;
            const int index = nodeIndex(host, int(range.elements[2].elements[1].toInt()));
            const qint64 first = qBound(qint64(0), range.elements[0].toInt(), qint64(16383));
            const qint64 last = qBound(qint64(0), range.elements[1].toInt(), qint64(16383));
            for (qint64 slot = first; slot <= last; ++slot)
                m_slots[size_t(slot)] = qint16(index);
        }
        m_mapStale = false;
        return true;
    }
    return false;
}

static std::optional<QByteArray> keyOf(const QList<QByteArray> &command)
{
    if (command.size() < 2)
        return std::nullopt;
    const QByteArray name = command.first().toUpper();
    if (name == "EVALSHA" || name == "EVAL") {
        if (command.size() > 3 && command[2].toInt() > 0)
            return command[3];
        return std::nullopt;
    }
    if (name == "PUBLISH" || name == "SUBSCRIBE" || name == "UNSUBSCRIBE" || name == "PING" ||
        name == "TIME" || name == "INFO" || name == "CLUSTER" || name == "FLUSHALL" ||
        name == "SCRIPT" || name == "CONFIG")
        return std::nullopt;
    return command[1];
}

int RedisConnection::nodeFor(const QList<QByteArray> &command)
{
    if (!m_endpoint.isCluster())
        return 0;
    const auto key = keyOf(command);
    if (!key)
        return anyNode();
    refreshIfStale();
    if (m_slots.empty() && !refreshSlots())
        return anyNode();
    const int node = m_slots[size_t(redisKeySlot(*key))];
    return node >= 0 ? node : anyNode();
}

QList<RedisReply> RedisConnection::send(const QList<QList<QByteArray>> &commands,
                                        const QList<int> &nodes)
{
    QList<RedisReply> replies(commands.size());
    std::vector<bool> sent(size_t(commands.size()), false);
    for (qsizetype i = 0; i < commands.size(); ++i) {
        Node &node = m_nodes[size_t(nodes[i])];
        if (ensureConnected(node)) {
            appendCommand(node, commands[i]);
            sent[size_t(i)] = true;
        }
    }
    // Every node has its requests before any reply is read: the masters work in parallel.
    // hiredis writes what it buffered on the first read.
    for (qsizetype i = 0; i < commands.size(); ++i) {
        Node &node = m_nodes[size_t(nodes[i])];
        if (!sent[size_t(i)] || !node.ctx)
            replies[i] = RedisReply{RedisReply::IoError, 0, m_lastError.toUtf8(), {}};
        else
            replies[i] = readReply(node);
        if (replies[i].type == RedisReply::IoError && m_endpoint.isCluster())
            m_mapStale = true; // the node may be gone for good: see refreshIfStale()
    }
    return replies;
}

static bool isRedirection(const RedisReply &r)
{
    return r.type == RedisReply::Error &&
           (r.str.startsWith("MOVED ") || r.str.startsWith("ASK ") ||
            r.str.startsWith("TRYAGAIN") || r.str.startsWith("CLUSTERDOWN"));
}

RedisReply RedisConnection::redirect(const QList<QByteArray> &command, RedisReply reply)
{
    // MOVED/ASK/TRYAGAIN/CLUSTERDOWN mean the command did not run, so sending it again is
    // safe. A slot's migration (a reshard) lasts as long as its keys take to move: for up to
    // 10 s, TRYAGAIN is retried backing off from 2 ms to 50 ms, and a MOVED that another node
    // contradicts (its map not yet updated by gossip) from 1 ms.
    const QDeadlineTimer deadline(10000);
    int backoffMs = 2;
    const auto pause = [&backoffMs] {
        QThread::msleep(ulong(backoffMs));
        backoffMs = qMin(50, backoffMs * 2);
    };
    const auto nodeNamed = [this](const QByteArray &addr) {
        const qsizetype colon = addr.lastIndexOf(':');
        return nodeIndex(QString::fromUtf8(addr.left(colon)), addr.mid(colon + 1).toInt());
    };
    for (int moves = 0; isRedirection(reply) && !deadline.hasExpired();) {
        const QList<QByteArray> words = reply.str.split(' ');
        if (reply.str.startsWith("MOVED ") && words.size() >= 3) {
            // The slot has a new owner for good: the map is read again (other slots moved too)
            // and the node that answered MOVED is believed for this slot (it may know before
            // the node the map came from).
            metrics::registry().redisRedirections.fetch_add(1, std::memory_order_relaxed);
            if (++moves > 1)
                pause();
            const int target = nodeNamed(words[2]);
            refreshSlots();
            if (m_slots.empty())
                m_slots.assign(16384, -1);
            m_slots[size_t(words[1].toInt() & 16383)] = qint16(target);
            reply = send({command}, {target}).first();
        } else if (reply.str.startsWith("ASK ") && words.size() >= 3) {
            // This one command, on the node the slot is moving to, announced by ASKING.
            metrics::registry().redisRedirections.fetch_add(1, std::memory_order_relaxed);
            const int target = nodeNamed(words[2]);
            reply = send({{"ASKING"}, command}, {target, target}).last();
        } else {
            pause();
            if (reply.str.startsWith("CLUSTERDOWN"))
                refreshSlots();
            reply = send({command}, {nodeFor(command)}).first();
        }
    }
    return reply;
}

std::optional<RedisReply> RedisConnection::readPushed()
{
    if (m_pubsubNode < 0 || size_t(m_pubsubNode) >= m_nodes.size() ||
        !m_nodes[size_t(m_pubsubNode)].ctx)
        return std::nullopt;
    Node &node = m_nodes[size_t(m_pubsubNode)];
    void *raw = nullptr;
    if (redisGetReply(node.ctx, &raw) != REDIS_OK) {
        if (node.ctx->err == REDIS_ERR_IO &&
            (errno == EAGAIN || errno == EWOULDBLOCK ||
             std::strstr(node.ctx->errstr, "temporarily unavailable"))) {
            // The read timed out: nothing pushed. hiredis marks the context failed; clear it.
            node.ctx->err = 0;
            node.ctx->errstr[0] = '\0';
            return std::nullopt;
        }
        m_lastError = QString::fromUtf8(node.ctx->errstr);
        drop(node);
        return std::nullopt;
    }
    auto *reply = static_cast<redisReply *>(raw);
    RedisReply out = convert(reply);
    freeReplyObject(reply);
    return out;
}

RedisReply RedisConnection::command(const QList<QByteArray> &args)
{
    const QList<RedisReply> replies = pipeline({args});
    return replies.first();
}

QList<RedisReply> RedisConnection::pipeline(const QList<QList<QByteArray>> &commands)
{
    metrics::registry().redisRoundTrips.fetch_add(1, std::memory_order_relaxed);
    QList<int> nodes;
    nodes.reserve(commands.size());
    for (const auto &cmd : commands)
        nodes.append(nodeFor(cmd));
    QList<RedisReply> replies = send(commands, nodes);
    for (qsizetype i = 0; i < commands.size(); ++i) {
        const QByteArray &name = commands[i].first();
        if ((name == "SUBSCRIBE" || name == "subscribe") && replies[i].ok())
            m_pubsubNode = nodes[i];
    }
    if (!m_endpoint.isCluster())
        return replies;
    for (qsizetype i = 0; i < commands.size(); ++i) {
        if (isRedirection(replies[i]))
            replies[i] = redirect(commands[i], replies[i]);
        else if (replies[i].type == RedisReply::IoError)
            m_slots.clear(); // a master failed or moved: read the map again before the next command
    }
    return replies;
}

QList<RedisReply> RedisConnection::onEveryMaster(const QList<QByteArray> &args)
{
    if (!m_endpoint.isCluster())
        return {command(args)};
    refreshIfStale();
    if (m_slots.empty())
        refreshSlots();
    QList<int> masters;
    for (const qint16 n : m_slots)
        if (n >= 0 && !masters.contains(n))
            masters.append(n);
    QList<QList<QByteArray>> commands(masters.size(), args);
    return send(commands, masters);
}

QList<QByteArray> RedisConnection::evalCommand(const RedisScript &script,
                                               const QList<QByteArray> &keys,
                                               const QList<QByteArray> &args)
{
    QList<QByteArray> cmd{"EVALSHA", script.sha, QByteArray::number(keys.size())};
    cmd.reserve(3 + keys.size() + args.size());
    cmd.append(keys);
    cmd.append(args);
    return cmd;
}

RedisReply RedisConnection::eval(const RedisScript &script, const QList<QByteArray> &keys,
                                 const QList<QByteArray> &args)
{
    QList<QByteArray> cmd = evalCommand(script, keys, args);
    RedisReply r = command(cmd);
    if (r.type == RedisReply::Error && r.str.startsWith("NOSCRIPT")) {
        cmd[0] = "EVAL";
        cmd[1] = script.source;
        r = command(cmd);
    }
    return r;
}

} // namespace oee
