#include "api/controllers/Controllers.h"

#include "api/HttpApi.h"
#include "api/Ingest.h"
#include "api/Json.h"
#include "api/QueryService.h"
#include "dex/Venue.h"
#include "runtime/Controls.h"
#include "store/OrderStore.h"

#include <QJsonArray>
#include <QUrlQuery>

namespace oee {

void ControlController::registerRoutes()
{
    using Method = HttpApi::Method;

    m_api.route(QStringLiteral("/api/control"), Method::Get,
                [this](const QHttpServerRequest &, QHttpServerResponder &&r) {
                    m_api.respond(r, 200, compactJson(m_api.controls()->toJson()));
                });

    // Each action: the API key's rule for writes, the body checked, the Ingest carries it out
    // (Redis, then the audit row), and the state after it is the answer.
    const auto act = [this](ControlAction action, const QHttpServerRequest &req,
                            QHttpServerResponder &&responder) {
        if (!m_api.admit(req, responder, "for operator actions"))
            return;
        if (const auto error = parseControlBody(req.body(), &action)) {
            m_api.respondError(responder, *error);
            return;
        }
        if (action.reason.isEmpty() && action.kind == ControlAction::Kind::Pause)
            action.reason = QStringLiteral("paused by the operator");
        if (action.reason.isEmpty() && action.kind == ControlAction::Kind::Kill)
            action.reason = QStringLiteral("kill switch");
        action.source = HttpApi::source(req);
        const HttpApi::Token token = m_api.park(std::move(responder));
        const bool kill = action.kind == ControlAction::Kind::Kill;
        m_api.ingest()->control(action, [api = &m_api, token, kill](const ControlReply &r) {
            if (!r.ok) {
                api->answerError(token, r.error);
                return;
            }
            QJsonObject body = api->controls()->toJson();
            body.insert(QStringLiteral("actionId"), double(r.auditId));
            if (kill)
                body.insert(QStringLiteral("cancelled"), QJsonArray::fromStringList(r.cancelled));
            api->answer(token, 200, compactJson(body));
        });
    };
    const auto simple = [act](ControlAction::Kind kind) {
        return [act, kind](const QHttpServerRequest &req, QHttpServerResponder &&r) {
            ControlAction a;
            a.kind = kind;
            act(a, req, std::move(r));
        };
    };
    m_api.route(QStringLiteral("/api/control/pause"), Method::Post,
                simple(ControlAction::Kind::Pause));
    m_api.route(QStringLiteral("/api/control/resume"), Method::Post,
                simple(ControlAction::Kind::Resume));
    m_api.route(QStringLiteral("/api/control/kill"), Method::Post,
                simple(ControlAction::Kind::Kill));
    m_api.route(QStringLiteral("/api/control/simulator"), Method::Post,
                simple(ControlAction::Kind::Volatility));
    m_api.route(
        QStringLiteral("/api/control/venues/<arg>"), Method::Post,
        [this, act](const QString &name, const QHttpServerRequest &req, QHttpServerResponder &&r) {
            if (!venueNamed(name)) {
                QStringList names;
                for (const Venue *v : venues())
                    names << v->name();
                m_api.respondError(r, {ErrorKind::NotFound,
                                       QStringLiteral("no venue named '%1' (venues: %2)")
                                           .arg(name.left(64), names.join(QStringLiteral(", "))),
                                       QStringLiteral("venue"),
                                       {}});
                return;
            }
            ControlAction a;
            a.kind = ControlAction::Kind::Venue;
            a.venue = name;
            act(a, req, std::move(r));
        });

    // The audit trail, newest first: ?limit= (1-500, default 50), ?before=<id> to page.
    m_api.route(QStringLiteral("/api/control/actions"), Method::Get,
                [this](const QHttpServerRequest &req, QHttpServerResponder &&responder) {
                    const QUrlQuery query = req.query();
                    int limit = 50;
                    qint64 before = 0;
                    if (query.hasQueryItem(QStringLiteral("limit"))) {
                        bool ok = false;
                        limit = query.queryItemValue(QStringLiteral("limit")).toInt(&ok);
                        if (!ok || limit < 1 || limit > 500) {
                            m_api.respondError(
                                responder,
                                {ErrorKind::InvalidField,
                                 QStringLiteral("limit must be an integer from 1 to 500"),
                                 QStringLiteral("limit"),
                                 {}});
                            return;
                        }
                    }
                    if (query.hasQueryItem(QStringLiteral("before"))) {
                        bool ok = false;
                        before = query.queryItemValue(QStringLiteral("before")).toLongLong(&ok);
                        if (!ok || before < 1) {
                            m_api.respondError(
                                responder,
                                {ErrorKind::InvalidField,
                                 QStringLiteral("before must be an action id (a positive integer)"),
                                 QStringLiteral("before"),
                                 {}});
                            return;
                        }
                    }
                    const HttpApi::Token token = m_api.park(std::move(responder));
                    m_api.read(token, [api = &m_api, token, limit,
                                       before](OrderStore &store, JobQueue &, RedisConnection &) {
                        const auto actions = store.recentActions(limit, before);
                        if (!actions) {
                            api->answerError(token, {ErrorKind::DatabaseUnavailable,
                                                     QStringLiteral("PostgreSQL is unavailable"),
                                                     {},
                                                     {}});
                            return;
                        }
                        QJsonArray list;
                        for (const OperatorAction &a : *actions)
                            list.append(a.toJson());
                        api->answer(token, 200,
                                    compactJson({{QStringLiteral("success"), true},
                                                 {QStringLiteral("actions"), list}}));
                    });
                });
}

} // namespace oee
