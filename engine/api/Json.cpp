#include "api/Json.h"

#include <QJsonDocument>

namespace oee {

QByteArray compactJson(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray errorJson(const ApiError &e)
{
    QJsonObject body{{QStringLiteral("success"), false},
                     {QStringLiteral("error"), e.errorText()},
                     {QStringLiteral("code"), e.code()},
                     {QStringLiteral("message"), e.message}};
    if (!e.field.isEmpty())
        body.insert(QStringLiteral("field"), e.field);
    return compactJson(body);
}

} // namespace oee
