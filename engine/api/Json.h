#pragma once
#include "domain/OrderRequest.h"

#include <QByteArray>
#include <QJsonObject>

namespace oee {

[[nodiscard]] QByteArray compactJson(const QJsonObject &o);
// {"success":false,"error":{"code","message","field"}}
[[nodiscard]] QByteArray errorJson(const ApiError &e);

} // namespace oee
