#pragma once
#include <QProcess>
#include <QString>
#include <QStringList>
#include <memory>
#include <vector>

namespace oee {

// A real Redis Cluster of N masters on loopback, for the tests and the benchmark: N
// `redis-server --cluster-enabled yes` on free ports under one directory, joined with
// `redis-cli --cluster create`, with or without replicas. The servers die with this process.
class LocalRedisCluster
{
public:
    explicit LocalRedisCluster(QString dir);
    ~LocalRedisCluster();
    LocalRedisCluster(const LocalRedisCluster &) = delete;
    LocalRedisCluster &operator=(const LocalRedisCluster &) = delete;

    // Blocks until every node reports cluster_state:ok. `replicas` per master; a node that
    // does not answer for `nodeTimeoutMs` is failing (its replica takes over).
    bool start(int masters, QString *error, int replicas = 0, int nodeTimeoutMs = 5000);
    void stop();
    // redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…
    [[nodiscard]] QString url() const;
    [[nodiscard]] QList<int> ports() const;
    // Moves `slotCount` hash slots from one master to another (`redis-cli --cluster reshard`),
    // keys and all, while clients keep using the cluster. Blocks until it is done.
    bool reshard(int fromNode, int toNode, int slotCount, QString *error);
    // The node (index into ports()) serving a hash slot, -1 if unknown; and the slots it serves
    // below that one (how many a reshard must move from it to move this slot too).
    int nodeServing(int slot, int *slotsBefore = nullptr);
    // Runs redis-cli against one node; its standard output.
    QByteArray cli(int node, const QStringList &arguments);
    // kill -9 of one node.
    void kill(int node);
    // Blocks until a replica serves every slot the dead node served and the cluster is ok.
    bool waitForFailover(int deadNode, QString *error);

private:
    bool waitHealthy(QString *error);

    QString m_dir;
    std::vector<std::unique_ptr<QProcess>> m_nodes;
    QList<int> m_ports;
};

} // namespace oee
