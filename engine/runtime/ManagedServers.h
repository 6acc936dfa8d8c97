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

    [[nodiscard]] QString dataDir() const { return m_dataDir; }

private:
    bool prepareDirectories(QString *error);

    QString m_dataDir;
    std::unique_ptr<QProcess> m_redis;
    std::unique_ptr<QProcess> m_postgres;
    uint m_pgUid = 0;
    uint m_pgGid = 0;
    bool m_dropPrivileges = false;
};

} // namespace oee
