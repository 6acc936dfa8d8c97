#pragma once
#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcEngine)
Q_DECLARE_LOGGING_CATEGORY(lcHttp)
Q_DECLARE_LOGGING_CATEGORY(lcWs)
Q_DECLARE_LOGGING_CATEGORY(lcQueue)
Q_DECLARE_LOGGING_CATEGORY(lcDex)
Q_DECLARE_LOGGING_CATEGORY(lcStore)
Q_DECLARE_LOGGING_CATEGORY(lcRuntime)

#include <QByteArray>
#include <QDateTime>

namespace oee {
// --log-format json: one JSON object per line on stderr, for log shippers —
// {"time","level","category","message"} and "orderId" when the message names an order.
[[nodiscard]] QByteArray logRecordJson(QtMsgType type, const char *category, const QString &message,
                                       const QDateTime &at);
void installJsonLogging();
} // namespace oee
