#include "api/Json.h"

#include <QJsonDocument>

namespace oee {

QByteArray compactJson(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray errorJson(const ApiError &e)
{
    QJsonObject err{{QStringLiteral("code"), e.code}, {QStringLiteral("message"), e.message}};
    if (!e.field.isEmpty())
        err.insert(QStringLiteral("field"), e.field);
    return compactJson({{QStringLiteral("success"), false}, {QStringLiteral("error"), err}});
}

} // namespace oee
