#pragma once
#include "domain/ApiError.h"

#include <QByteArray>
#include <QJsonObject>

namespace oee {

[[nodiscard]] QByteArray compactJson(const QJsonObject &o);
// {"success":false,"error":"<short text>","code":"…","message":"…","field":"…"}: `error` is a
// string, as the seeds' clients read it; `code` and `field` are for programs.
[[nodiscard]] QByteArray errorJson(const ApiError &e);

} // namespace oee
