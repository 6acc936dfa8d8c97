#pragma once
#include <QByteArray>
#include <QList>
#include <QString>
#include <optional>

struct redisContext;

namespace oee {

struct RedisEndpoint
{
    QString host = QStringLiteral("127.0.0.1");
    int port = 6379;
    QString unixSocket;
    QString password;
    int db = 0;

    // redis://[:password@]host[:port][/db] or unix:///path/to/redis.sock
    static std::optional<RedisEndpoint> fromUrl(const QString &url, QString *error);
};

struct RedisReply
{
    enum Type { Nil, Integer, String, Status, Array, Error, IoError };
    Type type = Nil;
    qint64 integer = 0;
    QByteArray str;
    QList<RedisReply> elements;

    [[nodiscard]] bool ok() const { return type != Error && type != IoError; }
    [[nodiscard]] qint64 toInt() const { return type == Integer ? integer : str.toLongLong(); }
};

// A server-side Lua script, called by SHA and reloaded after a reconnect or NOSCRIPT.
struct RedisScript
{
    QByteArray source;
    QByteArray sha;
    explicit RedisScript(QByteArray lua);
};

// A script from resources/lua/<name>.lua (compiled in), with its `--- @include "<file>"` lines
// replaced by resources/lua/<file>.lua (shared fragments, BullMQ's convention). A missing file
// is a build error caught at the first call: qFatal.
[[nodiscard]] QByteArray luaScript(const char *name);

// One synchronous hiredis connection, owned by exactly one thread. Used only on worker-type
// threads (never on the thread that serves HTTP/WS). Reconnects lazily after an I/O error.
class RedisConnection
{
public:
    explicit RedisConnection(RedisEndpoint endpoint, int timeoutMs = 2000);
    ~RedisConnection();
    RedisConnection(const RedisConnection &) = delete;
    RedisConnection &operator=(const RedisConnection &) = delete;

    RedisReply command(const QList<QByteArray> &args);
    // Sends all commands before reading any reply: one round trip.
    QList<RedisReply> pipeline(const QList<QList<QByteArray>> &commands);
    RedisReply eval(const RedisScript &script, const QList<QByteArray> &args);

    // Pub/sub: the next pushed message; nullopt when none arrived within the timeout.
    std::optional<RedisReply> readPushed();

    [[nodiscard]] bool isConnected() const { return m_ctx != nullptr; }
    [[nodiscard]] QString lastError() const { return m_lastError; }
    void disconnect();

private:
    bool ensureConnected();
    void appendCommand(const QList<QByteArray> &args);
    RedisReply readReply();

    RedisEndpoint m_endpoint;
    int m_timeoutMs;
    redisContext *m_ctx = nullptr;
    QString m_lastError;
    qint64 m_nextConnectAttemptMs = 0;
};

} // namespace oee
