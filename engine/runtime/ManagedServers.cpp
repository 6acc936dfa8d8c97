#include "runtime/ManagedServers.h"

#include "runtime/Logging.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QDir>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QTimer>
#include <QUuid>

#include <grp.h>
#include <hiredis/hiredis.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace oee {

namespace {

QString postgresBinDir()
{
    QDir lib(QStringLiteral("/usr/lib/postgresql"));
    QStringList versions = lib.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    std::sort(versions.begin(), versions.end(),
              [](const QString &a, const QString &b) { return a.toInt() > b.toInt(); });
    for (const QString &v : versions) {
        const QString bin = lib.filePath(v + QStringLiteral("/bin"));
        if (QFileInfo::exists(bin + QStringLiteral("/postgres")))
            return bin;
    }
    return {};
}

bool chownPath(const QString &path, uint uid, uint gid)
{
    return ::chown(QFile::encodeName(path).constData(), uid, gid) == 0;
}

// Every ancestor must be searchable by "others" for the postgres user to reach the data dir.
std::optional<QString> unreachableAncestor(const QString &dir)
{
    QString p = QDir(dir).absolutePath();
    while (!p.isEmpty() && p != QStringLiteral("/")) {
        p = QFileInfo(p).path();
        struct stat st
        {
        };
        if (::stat(QFile::encodeName(p).constData(), &st) == 0 && !(st.st_mode & S_IXOTH))
            return p;
    }
    return std::nullopt;
}

void configureChild(QProcess *process, bool drop, uint uid, uint gid)
{
    process->setChildProcessModifier([drop, uid, gid]() {
        if (drop) {
            ::setgroups(0, nullptr);
            if (::setgid(gid) != 0 || ::setuid(uid) != 0)
                ::_exit(126);
        }
        // After the credential change, which would clear it: die with the engine.
        ::prctl(PR_SET_PDEATHSIG, drop ? SIGINT : SIGTERM);
        if (::getppid() == 1)
            ::_exit(0);
    });
}

bool stopProcess(QProcess *process, int signal, const char *name)
{
    if (!process || process->state() == QProcess::NotRunning)
        return true;
    ::kill(pid_t(process->processId()), signal);
    if (!process->waitForFinished(20000)) {
        qCWarning(lcRuntime, "%s did not stop in time, killing it", name);
        process->kill();
        process->waitForFinished(5000);
        return false;
    }
    return true;
}

// A server of ours that is still shutting down (we were killed a moment ago and it got its
// parent-death signal) must finish before a new one takes its files and socket.
void waitForPreviousInstance(const QString &pidFilePath)
{
    QFile pidFile(pidFilePath);
    const QDeadlineTimer deadline(60000);
    while (pidFile.exists() && !deadline.hasExpired()) {
        if (!pidFile.open(QIODevice::ReadOnly))
            return;
        const qint64 pid = pidFile.readLine().trimmed().toLongLong();
        pidFile.close();
        if (pid <= 0 || ::kill(pid_t(pid), 0) != 0)
            return; // stale
        QThread::msleep(100);
    }
}

} // namespace

ManagedServers::ManagedServers(const QString &dataDir, QObject *parent)
    : QObject(parent), m_dataDir(QDir(dataDir).absolutePath())
{
}

ManagedServers::~ManagedServers()
{
    stop();
}

bool ManagedServers::prepareDirectories(QString *error)
{
    if (!QDir().mkpath(m_dataDir) || !QDir().mkpath(m_dataDir + QStringLiteral("/run"))) {
        *error = QStringLiteral("cannot create data directory %1").arg(m_dataDir);
        return false;
    }
    m_dropPrivileges = ::geteuid() == 0;
    if (m_dropPrivileges) {
        const passwd *pw = ::getpwnam("postgres");
        if (!pw) {
            *error = QStringLiteral("running as root but there is no 'postgres' user to run "
                                    "PostgreSQL as (apt install postgresql creates it)");
            return false;
        }
        m_pgUid = pw->pw_uid;
        m_pgGid = pw->pw_gid;
        if (auto blocked = unreachableAncestor(m_dataDir)) {
            *error = QStringLiteral("the postgres user cannot reach %1 (%2 is not searchable); "
                                    "choose another OEE_DATA_DIR")
                         .arg(m_dataDir, *blocked);
            return false;
        }
        ::chmod(QFile::encodeName(m_dataDir).constData(), 0711);
        const QString run = m_dataDir + QStringLiteral("/run");
        chownPath(run, m_pgUid, m_pgGid);
        ::chmod(QFile::encodeName(run).constData(), 0755);
    }
    return true;
}

bool ManagedServers::startRedis(QString *url, QString *error)
{
    if (!prepareDirectories(error))
        return false;
    const QString dir = m_dataDir + QStringLiteral("/redis");
    QDir().mkpath(dir);
    const QString socket = m_dataDir + QStringLiteral("/run/redis.sock");
    const QString pidFile = m_dataDir + QStringLiteral("/run/redis.pid");
    waitForPreviousInstance(pidFile);
    QFile::remove(socket);

    m_redis = std::make_unique<QProcess>();
    m_redis->setProgram(QStringLiteral("redis-server"));
    m_redis->setArguments(
        {QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--unixsocket"), socket,
         QStringLiteral("--unixsocketperm"), QStringLiteral("700"), QStringLiteral("--dir"), dir,
         QStringLiteral("--appendonly"), QStringLiteral("yes"), QStringLiteral("--appendfsync"),
         QStringLiteral("everysec"), QStringLiteral("--save"), QString(),
         QStringLiteral("--pidfile"), pidFile, QStringLiteral("--daemonize"),
         QStringLiteral("no")});
    m_redis->setStandardOutputFile(m_dataDir + QStringLiteral("/redis.log"), QIODevice::Append);
    m_redis->setProcessChannelMode(QProcess::MergedChannels);
    configureChild(m_redis.get(), false, 0, 0);
    m_redis->start();
    if (!m_redis->waitForStarted(10000)) {
        *error = QStringLiteral("cannot start redis-server: %1").arg(m_redis->errorString());
        return false;
    }
    const QDeadlineTimer deadline(20000);
    while (!deadline.hasExpired()) {
        if (m_redis->state() == QProcess::NotRunning) {
            *error =
                QStringLiteral("redis-server exited at start-up; see %1/redis.log").arg(m_dataDir);
            return false;
        }
        if (redisContext *c = redisConnectUnix(QFile::encodeName(socket).constData())) {
            bool ok = false;
            if (!c->err) {
                auto *reply = static_cast<redisReply *>(redisCommand(c, "PING"));
                ok = reply && reply->type == REDIS_REPLY_STATUS;
                if (reply)
                    freeReplyObject(reply);
            }
            redisFree(c);
            if (ok) {
                *url = QStringLiteral("unix://") + socket;
                m_redisState.wanted = true;
                m_redisState.startedAtMs = QDateTime::currentMSecsSinceEpoch();
                watch(m_redis.get(), QStringLiteral("redis-server"));
                qCInfo(lcRuntime, "private redis-server ready at %s", qPrintable(socket));
                return true;
            }
        }
        QThread::msleep(20);
    }
    *error = QStringLiteral("redis-server did not answer within 20 s");
    return false;
}

bool ManagedServers::startPostgres(QString *url, QString *error)
{
    if (!prepareDirectories(error))
        return false;
    const QString bin = postgresBinDir();
    if (bin.isEmpty()) {
        *error = QStringLiteral("PostgreSQL server binaries not found under /usr/lib/postgresql");
        return false;
    }
    const QString pgdata = m_dataDir + QStringLiteral("/postgres");
    const QString run = m_dataDir + QStringLiteral("/run");

    if (!QFileInfo::exists(pgdata + QStringLiteral("/PG_VERSION"))) {
        QDir(pgdata).removeRecursively();
        QDir().mkpath(pgdata);
        if (m_dropPrivileges)
            chownPath(pgdata, m_pgUid, m_pgGid);
        ::chmod(QFile::encodeName(pgdata).constData(), 0700);
        QProcess initdb;
        initdb.setProgram(bin + QStringLiteral("/initdb"));
        initdb.setArguments({QStringLiteral("-D"), pgdata, QStringLiteral("-U"),
                             QStringLiteral("oee"), QStringLiteral("--auth=trust"),
                             QStringLiteral("-E"), QStringLiteral("UTF8"),
                             QStringLiteral("--locale=C")});
        initdb.setWorkingDirectory(QStringLiteral("/"));
        initdb.setProcessChannelMode(QProcess::MergedChannels);
        configureChild(&initdb, m_dropPrivileges, m_pgUid, m_pgGid);
        initdb.start();
        if (!initdb.waitForFinished(120000) || initdb.exitCode() != 0) {
            *error =
                QStringLiteral("initdb failed: %1").arg(QString::fromLocal8Bit(initdb.readAll()));
            return false;
        }
        qCInfo(lcRuntime, "initialised a private PostgreSQL cluster in %s", qPrintable(pgdata));
    }

    waitForPreviousInstance(pgdata + QStringLiteral("/postmaster.pid"));

    m_postgres = std::make_unique<QProcess>();
    m_postgres->setProgram(bin + QStringLiteral("/postgres"));
    m_postgres->setArguments(
        {QStringLiteral("-D"), pgdata, QStringLiteral("-k"), run, QStringLiteral("-c"),
         QStringLiteral("listen_addresses="), QStringLiteral("-c"), QStringLiteral("port=5432"),
         QStringLiteral("-c"), QStringLiteral("max_connections=200"), QStringLiteral("-c"),
         QStringLiteral("shared_buffers=32MB"), QStringLiteral("-c"), QStringLiteral("fsync=on"),
         QStringLiteral("-c"), QStringLiteral("synchronous_commit=on")});
    m_postgres->setWorkingDirectory(QStringLiteral("/"));
    m_postgres->setStandardOutputFile(m_dataDir + QStringLiteral("/postgres.log"),
                                      QIODevice::Append);
    m_postgres->setProcessChannelMode(QProcess::MergedChannels);
    configureChild(m_postgres.get(), m_dropPrivileges, m_pgUid, m_pgGid);
    m_postgres->start();
    if (!m_postgres->waitForStarted(10000)) {
        *error = QStringLiteral("cannot start postgres: %1").arg(m_postgres->errorString());
        return false;
    }

    const QString probeName = QStringLiteral("oee-probe-") + QUuid::createUuid().toString();
    bool ready = false;
    QString lastError;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), probeName);
        db.setHostName(run);
        db.setPort(5432);
        db.setUserName(QStringLiteral("oee"));
        db.setDatabaseName(QStringLiteral("postgres"));
        const QDeadlineTimer deadline(60000);
        while (!deadline.hasExpired() && m_postgres->state() != QProcess::NotRunning) {
            if (db.open()) {
                QSqlQuery q(db);
                q.exec(QStringLiteral("SELECT 1 FROM pg_database WHERE datname = 'oee'"));
                if (!q.next() && !q.exec(QStringLiteral("CREATE DATABASE oee"))) {
                    lastError = q.lastError().text();
                    break;
                }
                ready = true;
                break;
            }
            lastError = db.lastError().text();
            QThread::msleep(50);
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(probeName);
    if (!ready) {
        *error = QStringLiteral("PostgreSQL did not become ready (%1); see %2/postgres.log")
                     .arg(lastError, m_dataDir);
        return false;
    }
    *url = QStringLiteral("postgres://oee@localhost:5432/oee?host=") + run;
    m_postgresState.wanted = true;
    m_postgresState.startedAtMs = QDateTime::currentMSecsSinceEpoch();
    watch(m_postgres.get(), QStringLiteral("postgres"));
    qCInfo(lcRuntime, "private PostgreSQL ready at %s", qPrintable(run));
    return true;
}

void ManagedServers::stopRedis()
{
    m_redisState.wanted = false;
    stopProcess(m_redis.get(), SIGTERM, "redis-server");
}

void ManagedServers::stopPostgres()
{
    m_postgresState.wanted = false;
    stopProcess(m_postgres.get(), SIGINT, "postgres"); // SIGINT: fast shutdown
}

void ManagedServers::supervise()
{
    m_supervise = true;
}

void ManagedServers::watch(QProcess *process, const QString &name)
{
    connect(
        process, &QProcess::finished, this, [this, process, name](int code, QProcess::ExitStatus) {
            Supervision &state =
                name == QStringLiteral("postgres") ? m_postgresState : m_redisState;
            if (!m_supervise || !state.wanted)
                return;
            if (QDateTime::currentMSecsSinceEpoch() - state.startedAtMs > 60000)
                state.backoffMs = 250; // it had been up a while: not a crash loop
            qCWarning(lcRuntime,
                      "private %s (pid %lld) exited unexpectedly (code %d); restarting in %d ms",
                      qPrintable(name), qlonglong(process->processId()), code, state.backoffMs);
            // Later, not here: the QProcess emitting this signal is replaced by the restart.
            QTimer::singleShot(state.backoffMs, this, [this, name] { restart(name); });
            state.backoffMs = qMin(10000, state.backoffMs * 2);
        });
}

void ManagedServers::restart(const QString &name)
{
    const bool isPostgres = name == QStringLiteral("postgres");
    Supervision &state = isPostgres ? m_postgresState : m_redisState;
    if (!m_supervise || !state.wanted)
        return;
    QString url, error;
    const bool ok = isPostgres ? startPostgres(&url, &error) : startRedis(&url, &error);
    if (ok) {
        qCWarning(lcRuntime, "private %s restarted", qPrintable(name));
        emit restarted(name);
        return;
    }
    qCWarning(lcRuntime, "restarting the private %s failed (%s); again in %d ms", qPrintable(name),
              qPrintable(error), state.backoffMs);
    QTimer::singleShot(state.backoffMs, this, [this, name] { restart(name); });
    state.backoffMs = qMin(10000, state.backoffMs * 2);
}

void ManagedServers::stop()
{
    stopRedis();
    stopPostgres();
}

} // namespace oee
