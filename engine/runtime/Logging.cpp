#include "runtime/Logging.h"

Q_LOGGING_CATEGORY(lcEngine, "oee.engine", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "oee.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcWs, "oee.ws", QtInfoMsg)
Q_LOGGING_CATEGORY(lcQueue, "oee.queue", QtInfoMsg)
Q_LOGGING_CATEGORY(lcDex, "oee.dex", QtInfoMsg)
Q_LOGGING_CATEGORY(lcStore, "oee.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcRuntime, "oee.runtime", QtInfoMsg)

#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <cstdio>

namespace oee {

QByteArray logRecordJson(QtMsgType type, const char *category, const QString &message,
                         const QDateTime &at)
{
    static const char *const kLevels[] = {"debug", "warning", "critical", "fatal", "info"};
    QJsonObject o{{QStringLiteral("time"), at.toUTC().toString(Qt::ISODateWithMs)},
                  {QStringLiteral("level"), QLatin1String(kLevels[qBound(0, int(type), 4)])},
                  {QStringLiteral("category"), QLatin1String(category ? category : "default")},
                  {QStringLiteral("message"), message}};
    static const QRegularExpression uuid(QStringLiteral(
        "\\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\b"));
    if (const QRegularExpressionMatch m = uuid.match(message); m.hasMatch())
        o.insert(QStringLiteral("orderId"), m.captured(0).toLower());
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

void installJsonLogging()
{
    qInstallMessageHandler(
        [](QtMsgType type, const QMessageLogContext &context, const QString &message) {
            const QByteArray line =
                logRecordJson(type, context.category, message, QDateTime::currentDateTimeUtc());
            std::fwrite(line.constData(), 1, size_t(line.size()),
                        stderr); // one call: lines never interleave
            std::fflush(stderr);
            if (type == QtFatalMsg)
                std::abort();
        });
}

} // namespace oee
