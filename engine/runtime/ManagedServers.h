#pragma once
#include <QObject>
#include <QProcess>
#include <QString>
#include <memory>

namespace oee {

// Private redis-server and PostgreSQL instances under one data directory, started when no
// REDIS_URL / DATABASE_URL is given. They listen on unix sockets only, die with this process
// (PR_SET_PDEATHSIG) and are stopped cleanly by stop(). PostgreSQL runs as the `postgres`
// user when this process is root, since it refuses to run as root.
class ManagedServers : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ManagedServers)
public:
    explicit ManagedServers(const QString &dataDir, QObject *parent = nullptr);
    ~ManagedServers() override;

    // Both block until the server answers (start-up only, never on a serving thread).
    bool startRedis(QString *url, QString *error);
    bool startPostgres(QString *url, QString *error);

    void stopRedis();
    void stopPostgres();
    void stop();

    // From now on, a server that exits without being asked to (killed, crashed) is started
    // again, with a backoff (250 ms doubling to 10 s, back to 250 ms once it has stayed up a
    // minute). Its clients reconnect by themselves. Call on the thread that owns this object;
    // its event loop runs the restarts.
    void supervise();

    [[nodiscard]] QString dataDir() const { return m_dataDir; }

signals:
    void restarted(const QString &server);

private:
    bool prepareDirectories(QString *error);
    void watch(QProcess *process, const QString &name);
    void restart(const QString &name);

    struct Supervision
    {
        bool wanted = false; // started, and not asked to stop
        int backoffMs = 250;
        qint64 startedAtMs = 0;
    };
    bool m_supervise = false;
    Supervision m_redisState;
    Supervision m_postgresState;

    QString m_dataDir;
    std::unique_ptr<QProcess> m_redis;
    std::unique_ptr<QProcess> m_postgres;
    uint m_pgUid = 0;
    uint m_pgGid = 0;
    bool m_dropPrivileges = false;
};

} // namespace oee
