#pragma once
#include <QList>
#include <QSqlDatabase>
#include <QString>
#include <QStringList>
#include <optional>

namespace oee {

struct PgEndpoint
{
    QString host = QStringLiteral("localhost"); // a path: the unix socket directory
    int port = 5432;
    QString user;
    QString password;
    QString database = QStringLiteral("oee");

    // postgres[ql]://user[:password]@host[:port]/db[?host=/socket/dir]
    static std::optional<PgEndpoint> fromUrl(const QString &url, QString *error);
};

// Qt SQL connections are per thread: each thread opens its own, by a unique name.
class Database
{
public:
    // How the session plans prepared statements. Generic: one plan per statement, made at its
    // first run; for the batch writers (ingest, workers, event log, resting book). Left to
    // PostgreSQL, the workers' claim, keyed by an array of a few ids, was planned again on
    // every run (its custom plans look cheaper than the generic one, which assumes 100 ids),
    // and with small batches planning cost as much as executing. OrderStore prepares the
    // statements again as the tables grow (replanIfGrown), so the plans follow the data.
    // Default leaves the choice to PostgreSQL (the reads, whose filters are optional).
    enum class Plans { Default, Generic };
    static QSqlDatabase open(const QString &connectionName, const PgEndpoint &endpoint,
                             Plans plans = Plans::Default);
    // Opens (or reopens after a failure) the connection; false when the server is unreachable.
    static bool ensureOpen(QSqlDatabase &db);
    // Applies pending versioned migrations under an advisory lock (safe with several processes).
    static bool migrate(QSqlDatabase &db, QString *error);
    static void remove(const QString &connectionName);
};

// PostgreSQL array literal for unnest()-based batch statements: {"a","b",NULL}.
QString pgArray(const QStringList &values, const QList<bool> &nulls = {});

} // namespace oee
