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
    static QSqlDatabase open(const QString &connectionName, const PgEndpoint &endpoint);
    // Opens (or reopens after a failure) the connection; false when the server is unreachable.
    static bool ensureOpen(QSqlDatabase &db);
    // Applies pending versioned migrations under an advisory lock (safe with several processes).
    static bool migrate(QSqlDatabase &db, QString *error);
    static void remove(const QString &connectionName);
};

// PostgreSQL array literal for unnest()-based batch statements: {"a","b",NULL}.
QString pgArray(const QStringList &values, const QList<bool> &nulls = {});

} // namespace oee
