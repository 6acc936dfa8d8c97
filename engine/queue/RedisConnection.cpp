#include "queue/RedisConnection.h"

#include "runtime/Metrics.h"

#include "runtime/Logging.h"

#include <QCryptographicHash>
#include <QRegularExpression>
#include <QFile>
#include <QDateTime>
#include <QUrl>
#include <hiredis/hiredis.h>
#include <cerrno>
#include <cstring>
#include <vector>

namespace oee {

std::optional<RedisEndpoint> RedisEndpoint::fromUrl(const QString &text, QString *error)
{
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
        *error = QStringLiteral("REDIS_URL must start with redis:// or unix://, got '%1'").arg(text);
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
    QString lua = QString::fromUtf8(read(QStringLiteral(":/oee/lua/%1.lua").arg(QLatin1String(name))));
    for (auto m = include.match(lua); m.hasMatch(); m = include.match(lua))
        lua.replace(m.capturedStart(), m.capturedLength(),
                    QString::fromUtf8(read(QStringLiteral(":/oee/lua/%1.lua").arg(m.captured(1)))).trimmed());
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
    case REDIS_REPLY_NIL: out.type = RedisReply::Nil; break;
    case REDIS_REPLY_INTEGER: out.type = RedisReply::Integer; out.integer = r->integer; break;
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
    default: out.type = RedisReply::Nil; break;
    }
    return out;
}

RedisConnection::RedisConnection(RedisEndpoint endpoint, int timeoutMs)
    : m_endpoint(std::move(endpoint)), m_timeoutMs(timeoutMs)
{
}

RedisConnection::~RedisConnection()
{
    disconnect();
}

void RedisConnection::disconnect()
{
    if (m_ctx) {
        redisFree(m_ctx);
        m_ctx = nullptr;
    }
}

bool RedisConnection::ensureConnected()
{
    if (m_ctx)
        return true;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (now < m_nextConnectAttemptMs)
        return false; // do not hammer a server that is down
    const timeval tv{m_timeoutMs / 1000, (m_timeoutMs % 1000) * 1000};
    redisContext *c = m_endpoint.unixSocket.isEmpty()
                          ? redisConnectWithTimeout(m_endpoint.host.toUtf8().constData(),
                                                    m_endpoint.port, tv)
                          : redisConnectUnixWithTimeout(
                                m_endpoint.unixSocket.toUtf8().constData(), tv);
    if (!c || c->err) {
        m_lastError = c ? QString::fromUtf8(c->errstr) : QStringLiteral("out of memory");
        if (c)
            redisFree(c);
        m_nextConnectAttemptMs = now + 200;
        return false;
    }
    redisSetTimeout(c, tv);
    m_ctx = c;
    if (!m_endpoint.password.isEmpty()) {
        RedisReply r = command({"AUTH", m_endpoint.password.toUtf8()});
        if (!r.ok()) {
            m_lastError = QStringLiteral("AUTH failed: ") + QString::fromUtf8(r.str);
            disconnect();
            return false;
        }
    }
    if (m_endpoint.db != 0) {
        RedisReply r = command({"SELECT", QByteArray::number(m_endpoint.db)});
        if (!r.ok()) {
            m_lastError = QString::fromUtf8(r.str);
            disconnect();
            return false;
        }
    }
    return true;
}

void RedisConnection::appendCommand(const QList<QByteArray> &args)
{
    std::vector<const char *> argv;
    std::vector<size_t> lens;
    argv.reserve(size_t(args.size()));
    lens.reserve(size_t(args.size()));
    for (const QByteArray &a : args) {
        argv.push_back(a.constData());
        lens.push_back(size_t(a.size()));
    }
    redisAppendCommandArgv(m_ctx, int(argv.size()), argv.data(), lens.data());
}

RedisReply RedisConnection::readReply()
{
    void *raw = nullptr;
    if (redisGetReply(m_ctx, &raw) != REDIS_OK) {
        m_lastError = QString::fromUtf8(m_ctx->errstr);
        qCWarning(lcQueue, "redis connection lost: %s", qPrintable(m_lastError));
        disconnect();
        return RedisReply{RedisReply::IoError, 0, m_lastError.toUtf8(), {}};
    }
    auto *reply = static_cast<redisReply *>(raw);
    RedisReply out = convert(reply);
    freeReplyObject(reply);
    return out;
}

std::optional<RedisReply> RedisConnection::readPushed()
{
    if (!m_ctx)
        return std::nullopt;
    void *raw = nullptr;
    if (redisGetReply(m_ctx, &raw) != REDIS_OK) {
        if (m_ctx->err == REDIS_ERR_IO &&
            (errno == EAGAIN || errno == EWOULDBLOCK ||
             std::strstr(m_ctx->errstr, "temporarily unavailable"))) {
            // The read timed out: nothing pushed. hiredis marks the context failed; clear it.
            m_ctx->err = 0;
            m_ctx->errstr[0] = '\0';
            return std::nullopt;
        }
        m_lastError = QString::fromUtf8(m_ctx->errstr);
        disconnect();
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
    QList<RedisReply> replies;
    if (!ensureConnected()) {
        for (qsizetype i = 0; i < commands.size(); ++i)
            replies.append(RedisReply{RedisReply::IoError, 0, m_lastError.toUtf8(), {}});
        return replies;
    }
    metrics::registry().redisRoundTrips.fetch_add(1, std::memory_order_relaxed);
    for (const auto &cmd : commands)
        appendCommand(cmd);
    replies.reserve(commands.size());
    for (qsizetype i = 0; i < commands.size(); ++i) {
        if (!m_ctx) {
            replies.append(RedisReply{RedisReply::IoError, 0, m_lastError.toUtf8(), {}});
            continue;
        }
        replies.append(readReply());
    }
    return replies;
}

RedisReply RedisConnection::eval(const RedisScript &script, const QList<QByteArray> &args)
{
    QList<QByteArray> cmd{"EVALSHA", script.sha, "0"};
    cmd.append(args);
    RedisReply r = command(cmd);
    if (r.type == RedisReply::Error && r.str.startsWith("NOSCRIPT")) {
        cmd[0] = "EVAL";
        cmd[1] = script.source;
        r = command(cmd);
    }
    return r;
}

} // namespace oee
