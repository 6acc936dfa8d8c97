#pragma once
#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <optional>
#include <vector>

struct redisContext;

namespace oee {

struct RedisEndpoint
{
    QString host = QStringLiteral("127.0.0.1");
    int port = 6379;
    QString unixSocket;
    QString password;
    int db = 0;
    // A Redis Cluster: the seed nodes (host, port) the slot map is first asked of.
    QList<QPair<QString, int>> clusterSeeds;

    [[nodiscard]] bool isCluster() const { return !clusterSeeds.isEmpty(); }

    // redis://[:password@]host[:port][/db], unix:///path/to/redis.sock or
    // redis+cluster://[:password@]host1:port1,host2:port2 (any reachable seed nodes)
    static std::optional<RedisEndpoint> fromUrl(const QString &url, QString *error);
};

// The cluster slot of a key (CRC16 of its hash tag, or of the whole key), 0…16383.
[[nodiscard]] int redisKeySlot(const QByteArray &key);

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
//
// On a Redis Cluster it is one connection per master: every command goes to the master of its
// key's slot (from CLUSTER SLOTS), a pipeline is split by master and sent to all of them before
// any reply is read, and MOVED (the slot map is read again), ASK (ASKING, then the command, on
// the importing node) and TRYAGAIN (a multi-key command during a slot's migration: retried
// with a short backoff) are followed here, so callers see a single Redis. A command's key is
// its first argument; a script's its first KEYS entry; a command without one (PING, TIME,
// PUBLISH — the cluster bus carries it to every node — SUBSCRIBE) goes to any one node.
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
    // EVALSHA (EVAL after NOSCRIPT) with its keys declared: on a cluster, all of them must
    // share one hash tag (the script runs on that slot's master).
    RedisReply eval(const RedisScript &script, const QList<QByteArray> &keys,
                    const QList<QByteArray> &args);
    // The EVALSHA command, for pipelining with others (a NOSCRIPT reply is the caller's to
    // handle, e.g. by calling eval()).
    [[nodiscard]] static QList<QByteArray> evalCommand(const RedisScript &script,
                                                       const QList<QByteArray> &keys,
                                                       const QList<QByteArray> &args);
    // Runs one command on every master (FLUSHALL for tests, INFO); one reply per master.
    QList<RedisReply> onEveryMaster(const QList<QByteArray> &args);

    // Pub/sub: the next pushed message; nullopt when none arrived within the timeout.
    std::optional<RedisReply> readPushed();

    [[nodiscard]] bool isConnected() const;
    [[nodiscard]] bool isCluster() const { return m_endpoint.isCluster(); }
    [[nodiscard]] QString lastError() const { return m_lastError; }
    void disconnect();

private:
    struct Node
    {
        QString host;
        int port = 0;
        redisContext *ctx = nullptr;
        qint64 nextConnectAttemptMs = 0;
    };

    bool ensureConnected(Node &node);
    void appendCommand(Node &node, const QList<QByteArray> &args);
    RedisReply readReply(Node &node);
    void drop(Node &node);
    int nodeIndex(const QString &host, int port);
    int anyNode();
    int nodeFor(const QList<QByteArray> &command);
    // Reads the map again if a node could not be reached (see m_mapStale).
    void refreshIfStale();
    bool refreshSlots();
    // Sends the commands (to their nodes) and reads every reply, without following redirections.
    QList<RedisReply> send(const QList<QList<QByteArray>> &commands, const QList<int> &nodes);
    // Follows MOVED / ASK / TRYAGAIN for one command until it gets a real answer.
    RedisReply redirect(const QList<QByteArray> &command, RedisReply reply);

    RedisEndpoint m_endpoint;
    int m_timeoutMs;
    std::vector<Node> m_nodes;   // one (the server) or, on a cluster, every master known
    std::vector<qint16> m_slots; // cluster: the node index serving each slot, -1 unknown
    // Cluster: a node could not be reached, so the map may name a master that is gone (a
    // failover promotes one of its replicas, at another address): read again before the next
    // command, at most every kStaleMapRetryMs while it stays so.
    bool m_mapStale = false;
    qint64 m_mapReadAtMs = 0;
    static constexpr qint64 kStaleMapRetryMs = 100;
    int m_pubsubNode = -1; // the node this connection subscribed on
    QString m_lastError;
};

} // namespace oee
