#include "store/Database.h"

#include "runtime/Logging.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QUrl>
#include <QUrlQuery>

namespace oee {

std::optional<PgEndpoint> PgEndpoint::fromUrl(const QString &text, QString *error)
{
    const QUrl url(text);
    if (url.scheme() != QStringLiteral("postgres") &&
        url.scheme() != QStringLiteral("postgresql")) {
        *error = QStringLiteral("DATABASE_URL must start with postgres://, got '%1'").arg(text);
        return std::nullopt;
    }
    PgEndpoint ep;
    ep.host = url.host().isEmpty() ? ep.host : url.host();
    ep.port = url.port(5432);
    ep.user = url.userName();
    ep.password = url.password();
    const QString db = url.path().mid(1);
    if (!db.isEmpty())
        ep.database = db;
    const QUrlQuery q(url);
    if (q.hasQueryItem(QStringLiteral("host")))
        ep.host = q.queryItemValue(QStringLiteral("host"), QUrl::FullyDecoded);
    return ep;
}

QSqlDatabase Database::open(const QString &connectionName, const PgEndpoint &ep, Plans plans)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connectionName);
    db.setHostName(ep.host);
    db.setPort(ep.port);
    db.setUserName(ep.user);
    db.setPassword(ep.password);
    db.setDatabaseName(ep.database);
    // pg_stat_activity names the engine's thread behind each session ("oee-ingest",
    // "oee-worker-0", "oee-log", …): which one is busy is then one query away.
    QString app = QThread::currentThread()->objectName();
    if (app.isEmpty())
        app = connectionName;
    app.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9_.-]")), QStringLiteral("_"));
    QString options = QStringLiteral("connect_timeout=3;application_name=") + app.left(63);
    // A setting of the session (libpq's `options`), so a reconnect has it too.
    if (plans == Plans::Generic)
        options += QStringLiteral(";options=-cplan_cache_mode=force_generic_plan");
    db.setConnectOptions(options);
    // NUMERIC as text, never through a lossy double.
    db.setNumericalPrecisionPolicy(QSql::HighPrecision);
    ensureOpen(db);
    return db;
}

bool Database::ensureOpen(QSqlDatabase &db)
{
    if (db.isOpen())
        return true;
    if (!db.open()) {
        qCWarning(lcStore, "cannot connect to PostgreSQL: %s", qPrintable(db.lastError().text()));
        return false;
    }
    return true;
}

void Database::remove(const QString &connectionName)
{
    {
        QSqlDatabase db = QSqlDatabase::database(connectionName, false);
        if (db.isValid())
            db.close();
    }
    QSqlDatabase::removeDatabase(connectionName);
}

namespace {

// The migrations: numbered files under resources/sql/ (NNN_name.sql), compiled in
// (qt_add_resources, Qt Core only), applied in order. Append-only: a released migration is
// never edited, a change is a new file.
struct Migration
{
    int version;
    QString name;
    QByteArray sql;
};

QList<Migration> migrations()
{
    static const QList<Migration> all = [] {
        QList<Migration> out;
        const QDir dir(QStringLiteral(":/oee/sql"));
        const QStringList files = dir.entryList({QStringLiteral("*.sql")}, QDir::Files, QDir::Name);
        for (const QString &file : files) {
            QFile f(dir.filePath(file));
            bool ok = false;
            const int version = file.section(QLatin1Char('_'), 0, 0).toInt(&ok);
            if (!ok || !f.open(QIODevice::ReadOnly))
                qFatal("migration %s: not NNN_name.sql or unreadable", qPrintable(file));
            out.append({version, file, f.readAll()});
        }
        for (qsizetype i = 0; i < out.size(); ++i)
            if (out[i].version != int(i) + 1)
                qFatal("migrations must be numbered 1, 2, 3 … without gaps (%s)",
                       qPrintable(out[i].name));
        return out;
    }();
    return all;
}

} // namespace

bool Database::migrate(QSqlDatabase &db, QString *error)
{
    if (!ensureOpen(db)) {
        *error = db.lastError().text();
        return false;
    }
    QSqlQuery q(db);
    auto fail = [&](const QString &what) {
        *error = what + QStringLiteral(": ") + q.lastError().text();
        db.rollback();
        return false;
    };
    if (!db.transaction())
        return fail(QStringLiteral("begin"));
    q.exec(QStringLiteral("SET LOCAL client_min_messages = warning"));
    if (!q.exec(QStringLiteral("SELECT pg_advisory_xact_lock(7406051)")))
        return fail(QStringLiteral("advisory lock"));
    if (!q.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS schema_migrations ("
                               "version INT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL "
                               "DEFAULT now())")))
        return fail(QStringLiteral("schema_migrations"));
    if (!q.exec(QStringLiteral("SELECT coalesce(max(version), 0) FROM schema_migrations")) ||
        !q.next())
        return fail(QStringLiteral("read version"));
    const int current = q.value(0).toInt();
    for (const Migration &m : migrations()) {
        if (m.version <= current)
            continue;
        if (!q.exec(QString::fromUtf8(m.sql)))
            return fail(QStringLiteral("migration %1").arg(m.version));
        q.prepare(QStringLiteral("INSERT INTO schema_migrations (version) VALUES (?)"));
        q.addBindValue(m.version);
        if (!q.exec())
            return fail(QStringLiteral("record migration %1").arg(m.version));
        qCInfo(lcStore, "applied migration %d", m.version);
    }
    if (!db.commit())
        return fail(QStringLiteral("commit"));
    return true;
}

QString pgArray(const QStringList &values, const QList<bool> &nulls)
{
    QString out;
    out.reserve(values.size() * 40 + 2);
    out += QLatin1Char('{');
    for (qsizetype i = 0; i < values.size(); ++i) {
        if (i)
            out += QLatin1Char(',');
        if (i < nulls.size() && nulls[i]) {
            out += QStringLiteral("NULL");
            continue;
        }
        out += QLatin1Char('"');
        for (QChar c : values[i]) {
            if (c == QLatin1Char('"') || c == QLatin1Char('\\'))
                out += QLatin1Char('\\');
            out += c;
        }
        out += QLatin1Char('"');
    }
    out += QLatin1Char('}');
    return out;
}

} // namespace oee
