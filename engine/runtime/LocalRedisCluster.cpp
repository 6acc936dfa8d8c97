#include "runtime/LocalRedisCluster.h"

#include "queue/RedisConnection.h"
#include "runtime/Logging.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QTcpServer>
#include <QThread>
#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

namespace oee {

namespace {

int freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

} // namespace

LocalRedisCluster::LocalRedisCluster(QString dir) : m_dir(std::move(dir)) {}

LocalRedisCluster::~LocalRedisCluster()
{
    stop();
}

void LocalRedisCluster::stop()
{
    for (auto &p : m_nodes) {
        if (p->state() != QProcess::NotRunning) {
            p->terminate();
            if (!p->waitForFinished(10000))
                p->kill();
            p->waitForFinished(5000);
        }
    }
    m_nodes.clear();
}

QByteArray LocalRedisCluster::cli(int node, const QStringList &arguments)
{
    QProcess p;
    p.setProgram(QStringLiteral("redis-cli"));
    p.setArguments(QStringList{QStringLiteral("-p"), QString::number(m_ports.value(node))} +
                   arguments);
    p.start();
    p.waitForFinished(120000);
    return p.readAllStandardOutput();
}

bool LocalRedisCluster::start(int masters, QString *error, int replicas, int nodeTimeoutMs)
{
    QDir().mkpath(m_dir);
    const int nodes = masters * (1 + replicas);
    for (int i = 0; i < nodes; ++i) {
        // A free port is only free until someone else takes it (tests run in parallel): a node
        // that cannot bind exits, and is started again on another port. It is ours once the
        // server on its port reports our process id.
        bool up = false;
        for (int attempt = 0; attempt < 10 && !up; ++attempt) {
            // A port's cluster bus is port + 10000: both must be free.
            int port = 0;
            for (int tries = 0; tries < 50 && port == 0; ++tries) {
                const int p = freePort();
                if (p > 0 && p + 10000 < 65536 && !m_ports.contains(p)) {
                    QTcpServer bus;
                    if (bus.listen(QHostAddress::LocalHost, quint16(p + 10000)))
                        port = p;
                }
            }
            if (port == 0) {
                *error = QStringLiteral("no free port pair for a cluster node");
                return false;
            }
            const QString dir = QStringLiteral("%1/node-%2").arg(m_dir).arg(port);
            QDir().mkpath(dir);
            auto p = std::make_unique<QProcess>();
            p->setProgram(QStringLiteral("redis-server"));
            p->setArguments(
                {QStringLiteral("--port"), QString::number(port), QStringLiteral("--bind"),
                 QStringLiteral("127.0.0.1"), QStringLiteral("--cluster-enabled"),
                 QStringLiteral("yes"), QStringLiteral("--cluster-config-file"),
                 dir + QStringLiteral("/nodes.conf"), QStringLiteral("--cluster-node-timeout"),
                 QString::number(nodeTimeoutMs),
                 // A replica is promoted however long ago it last heard from its master (by
                 // default, one whose master had been quiet for a while would refuse).
                 QStringLiteral("--cluster-replica-validity-factor"), QStringLiteral("0"),
                 QStringLiteral("--dir"), dir, QStringLiteral("--appendonly"),
                 QStringLiteral("yes"), QStringLiteral("--save"), QString(),
                 QStringLiteral("--daemonize"), QStringLiteral("no")});
            p->setStandardOutputFile(dir + QStringLiteral("/redis.log"));
            p->setChildProcessModifier([] {
                ::prctl(PR_SET_PDEATHSIG, SIGTERM); // dies with the test or the benchmark
                if (::getppid() == 1)
                    ::_exit(0);
            });
            p->start();
            if (!p->waitForStarted(10000)) {
                *error = QStringLiteral("cannot start redis-server: ") + p->errorString();
                return false;
            }
            const QByteArray ours = "process_id:" + QByteArray::number(p->processId());
            m_nodes.push_back(std::move(p));
            m_ports.append(port);
            const QDeadlineTimer deadline(20000);
            while (!deadline.hasExpired() && m_nodes.back()->state() != QProcess::NotRunning) {
                if (cli(i, {QStringLiteral("INFO"), QStringLiteral("server")}).contains(ours)) {
                    up = true;
                    break;
                }
                QThread::msleep(20);
            }
            if (!up) {
                m_nodes.back()->kill();
                m_nodes.back()->waitForFinished(5000);
                m_nodes.pop_back();
                m_ports.removeLast();
            }
        }
        if (!up) {
            *error = QStringLiteral("cluster node %1 did not start (see %2/node-*/redis.log)")
                         .arg(i)
                         .arg(m_dir);
            return false;
        }
    }
    QStringList create{QStringLiteral("--cluster"), QStringLiteral("create")};
    for (const int port : std::as_const(m_ports))
        create << QStringLiteral("127.0.0.1:%1").arg(port);
    create << QStringLiteral("--cluster-replicas") << QString::number(replicas)
           << QStringLiteral("--cluster-yes");
    QProcess p;
    p.setProgram(QStringLiteral("redis-cli"));
    p.setArguments(create);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start();
    if (!p.waitForFinished(120000) || p.exitCode() != 0) {
        *error = QStringLiteral("redis-cli --cluster create failed: ") +
                 QString::fromUtf8(p.readAll().right(2000));
        return false;
    }
    return waitHealthy(error);
}

bool LocalRedisCluster::waitHealthy(QString *error)
{
    const QDeadlineTimer deadline(60000);
    for (int i = 0; i < m_ports.size(); ++i) {
        while (!cli(i, {QStringLiteral("CLUSTER"), QStringLiteral("INFO")})
                    .contains("cluster_state:ok")) {
            if (deadline.hasExpired()) {
                *error = QStringLiteral("the cluster did not reach cluster_state:ok");
                return false;
            }
            QThread::msleep(50);
        }
    }
    // Every node must also agree on where every slot is (redis-cli checks the config).
    QProcess check;
    check.setProgram(QStringLiteral("redis-cli"));
    check.setArguments({QStringLiteral("--cluster"), QStringLiteral("check"),
                        QStringLiteral("127.0.0.1:%1").arg(m_ports.first())});
    while (true) {
        check.start();
        check.waitForFinished(60000);
        const QByteArray out = check.readAllStandardOutput();
        if (out.contains("[OK] All nodes agree about slots configuration.") &&
            out.contains("[OK] All 16384 slots covered."))
            return true;
        if (deadline.hasExpired()) {
            *error = QStringLiteral("the cluster's nodes do not agree on the slots: ") +
                     QString::fromUtf8(out.right(2000));
            return false;
        }
        QThread::msleep(100);
    }
}

void LocalRedisCluster::kill(int node)
{
    QProcess *p = m_nodes[size_t(node)].get();
    p->kill();
    p->waitForFinished(10000);
}

bool LocalRedisCluster::waitForFailover(int deadNode, QString *error)
{
    const int dead = m_ports.value(deadNode);
    const QDeadlineTimer deadline(60000);
    for (int asked = 0; !deadline.hasExpired(); asked = (asked + 1) % int(m_ports.size())) {
        if (asked == deadNode)
            continue;
        RedisEndpoint node;
        node.port = m_ports.value(asked);
        RedisConnection redis(node);
        bool served = redis.command({"CLUSTER", "INFO"}).str.contains("cluster_state:ok");
        const RedisReply r = redis.command({"CLUSTER", "SLOTS"});
        qint64 covered = 0;
        for (const RedisReply &range : r.elements) {
            if (range.elements.size() < 3)
                continue;
            served = served && range.elements[2].elements.value(1).toInt() != dead;
            covered += range.elements[1].toInt() - range.elements[0].toInt() + 1;
        }
        if (served && covered == 16384)
            return true;
        QThread::msleep(50);
    }
    *error = QStringLiteral("no replica took over from node %1 (port %2): %3")
                 .arg(deadNode)
                 .arg(dead)
                 .arg(QString::fromUtf8(cli((deadNode + 1) % int(m_ports.size()),
                                            {QStringLiteral("CLUSTER"), QStringLiteral("NODES")})));
    return false;
}

int LocalRedisCluster::nodeServing(int slot, int *slotsBefore)
{
    RedisEndpoint node;
    node.port = m_ports.value(0);
    RedisConnection redis(node);
    const RedisReply r = redis.command({"CLUSTER", "SLOTS"});
    int owner = -1;
    for (const RedisReply &range : r.elements) {
        if (range.elements.size() >= 3 && range.elements[0].toInt() <= slot &&
            slot <= range.elements[1].toInt())
            owner = int(m_ports.indexOf(int(range.elements[2].elements.value(1).toInt())));
    }
    if (slotsBefore) {
        *slotsBefore = 0;
        for (const RedisReply &range : r.elements) {
            if (range.elements.size() < 3 ||
                m_ports.indexOf(int(range.elements[2].elements.value(1).toInt())) != owner)
                continue;
            const qint64 first = range.elements[0].toInt(), last = range.elements[1].toInt();
            if (first < slot)
                *slotsBefore += int(qMin<qint64>(last, slot - 1) - first + 1);
        }
    }
    return owner;
}

QString LocalRedisCluster::url() const
{
    QStringList seeds;
    for (const int port : m_ports)
        seeds << QStringLiteral("127.0.0.1:%1").arg(port);
    return QStringLiteral("redis+cluster://") + seeds.join(QLatin1Char(','));
}

QList<int> LocalRedisCluster::ports() const
{
    return m_ports;
}

bool LocalRedisCluster::reshard(int fromNode, int toNode, int slotCount, QString *error)
{
    const QByteArray from =
        cli(fromNode, {QStringLiteral("CLUSTER"), QStringLiteral("MYID")}).trimmed();
    const QByteArray to =
        cli(toNode, {QStringLiteral("CLUSTER"), QStringLiteral("MYID")}).trimmed();
    QProcess p;
    p.setProgram(QStringLiteral("redis-cli"));
    p.setArguments({QStringLiteral("--cluster"), QStringLiteral("reshard"),
                    QStringLiteral("127.0.0.1:%1").arg(m_ports.value(fromNode)),
                    QStringLiteral("--cluster-from"), QString::fromUtf8(from),
                    QStringLiteral("--cluster-to"), QString::fromUtf8(to),
                    QStringLiteral("--cluster-slots"), QString::number(slotCount),
                    QStringLiteral("--cluster-yes")});
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start();
    if (!p.waitForFinished(300000) || p.exitCode() != 0) {
        *error = QStringLiteral("redis-cli --cluster reshard failed: ") +
                 QString::fromUtf8(p.readAll().right(2000));
        return false;
    }
    return waitHealthy(error);
}

} // namespace oee
