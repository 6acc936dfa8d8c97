#include "api/controllers/Controllers.h"
#include "runtime/Metrics.h"

#include "api/HttpApi.h"
#include "api/Ingest.h"
#include "api/Json.h"
#include "api/QueryService.h"
#include "api/Reads.h"
#include "dex/Market.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QUrlQuery>

namespace oee {

namespace {

// Seed 004 compares `error` with "Not found" for an id that is not an order id; seed 001's
// "Order not found" is for a well-formed id that names no order.
ApiError notAnOrderId(const QString &id)
{
    return {ErrorKind::NotFound,
            QStringLiteral("'%1' is not an order id (a UUID)").arg(id.left(64)),
            QStringLiteral("id"), QStringLiteral("Not found")};
}

ApiError noSuchOrder(const QString &id)
{
    return {ErrorKind::OrderNotFound,
            QStringLiteral("no order with id '%1'").arg(id),
            {},
            QStringLiteral("Order not found")};
}

ApiError databaseDown()
{
    return {ErrorKind::DatabaseUnavailable, QStringLiteral("PostgreSQL is unavailable"), {}, {}};
}

// 409 for an action the order's status forbids: the error body and the status beside it.
QByteArray conflictBody(const ApiError &e, OrderStatus current)
{
    QJsonObject body = QJsonDocument::fromJson(errorJson(e)).object();
    body.insert(QStringLiteral("status"), statusName(current));
    return compactJson(body);
}

ApiError badQuery(const QString &field, const QString &message)
{
    return {ErrorKind::InvalidField, message, field, {}};
}

} // namespace

void OrdersController::registerRoutes()
{
    using Method = HttpApi::Method;

    // --- submit: 200 with a body every seed reads (see README, "Seed clients") -------------
    m_api.route(
        QStringLiteral("/api/orders/execute"), Method::Post,
        [this](const QHttpServerRequest &req, QHttpServerResponder &&responder) {
            if (!m_api.admit(req, responder, "to submit orders"))
                return;
            const Config &config = m_api.config();
            auto parsed = parseOrderRequest(req.body(), req.value("Content-Type"),
                                            config.defaultSlippagePpm, config.maxBodyBytes);
            if (auto *e = std::get_if<ApiError>(&parsed)) {
                m_api.respondError(responder, *e);
                return;
            }
            const QByteArray key = req.value("Idempotency-Key");
            static const QRegularExpression keyPattern(QStringLiteral("^[\\x21-\\x7e]{1,255}$"));
            if (!key.isNull() && !keyPattern.match(QString::fromLatin1(key)).hasMatch()) {
                m_api.respondError(responder,
                                   {ErrorKind::InvalidField,
                                    QStringLiteral("Idempotency-Key must be 1-255 visible "
                                                   "ASCII characters"),
                                    QStringLiteral("Idempotency-Key"),
                                    {}});
                return;
            }
            const HttpApi::Token token =
                m_api.park(std::move(responder), &metrics::registry().submitSeconds);
            m_api.ingest()->submit(
                std::get<OrderRequest>(parsed), QString::fromLatin1(key),
                [api = &m_api, token](const SubmitResult &r) {
                    if (!r.ok) {
                        api->answerError(token, r.error);
                        return;
                    }
                    // Relative stream paths, as seeds 001 (websocketUrl) and 002 (wsUrl) answered.
                    // A replay answers with the original order; its current status is at GET.
                    api->answer(
                        token, 200,
                        compactJson({
                            {QStringLiteral("success"), true},
                            {QStringLiteral("replayed"), r.replayed},
                            {QStringLiteral("orderId"), r.orderId},
                            {QStringLiteral("status"), r.replayed
                                                           ? QJsonValue(QJsonValue::Null)
                                                           : QJsonValue(QStringLiteral("pending"))},
                            {QStringLiteral("message"),
                             QStringLiteral(
                                 "Order accepted. Connect to the WebSocket for live updates.")},
                            {QStringLiteral("wsUrl"), QStringLiteral("/ws/orders/") + r.orderId},
                            {QStringLiteral("websocketUrl"),
                             QStringLiteral("/api/orders/%1/stream").arg(r.orderId)},
                            {QStringLiteral("createdAt"), isoTime(r.createdAt)},
                        }),
                        {{"Location", "/api/orders/" + r.orderId.toLatin1()},
                         {"Idempotent-Replayed", r.replayed ? "true" : "false"}});
                });
        });

    // --- the list: a JSON array (seeds 003 and 004), paged by a Link header --------------
    m_api.route(
        QStringLiteral("/api/orders"), Method::Get,
        [this](const QHttpServerRequest &req, QHttpServerResponder &&responder) {
            const QUrlQuery q = req.query();
            std::optional<OrderStatus> status;
            if (q.hasQueryItem(QStringLiteral("status"))) {
                status = statusFromName(q.queryItemValue(QStringLiteral("status")));
                if (!status) {
                    m_api.respondError(responder,
                                       badQuery(QStringLiteral("status"),
                                                QStringLiteral("status must be one of %1").arg([] {
                                                    QStringList names;
                                                    for (OrderStatus s : allStatuses())
                                                        names << statusName(s);
                                                    return names.join(QStringLiteral(", "));
                                                }())));
                    return;
                }
            }
            int limit = 50;
            if (q.hasQueryItem(QStringLiteral("limit"))) {
                bool ok = false;
                limit = q.queryItemValue(QStringLiteral("limit")).toInt(&ok);
                if (!ok || limit < 1 || limit > 500) {
                    m_api.respondError(
                        responder,
                        badQuery(QStringLiteral("limit"),
                                 QStringLiteral("limit must be an integer in [1, 500]")));
                    return;
                }
            }
            qint64 before = 0;
            if (q.hasQueryItem(QStringLiteral("before"))) {
                bool ok = false;
                before = q.queryItemValue(QStringLiteral("before")).toLongLong(&ok);
                if (!ok || before < 1) {
                    m_api.respondError(
                        responder,
                        badQuery(QStringLiteral("before"),
                                 QStringLiteral(
                                     "before must be a positive integer (the cursor of the next "
                                     "page, from the Link or X-Next-Cursor header)")));
                    return;
                }
            }
            const QString statusParam =
                status ? QStringLiteral("&status=") + statusName(*status) : QString();
            const HttpApi::Token token = m_api.park(std::move(responder));
            m_api.read(token, [api = &m_api, token, status, limit, before,
                               statusParam](OrderStore &store, JobQueue &, RedisConnection &) {
                const reads::OrderPage page = reads::orders(store, status, limit, before);
                if (!page.ok) {
                    api->answerError(token, databaseDown());
                    return;
                }
                QJsonArray list;
                for (const Order &o : page.orders)
                    list.append(o.toJson());
                HttpApi::Headers headers;
                if (page.next) {
                    const QByteArray cursor = QByteArray::number(*page.next);
                    headers.append({"Link", "</api/orders?limit=" + QByteArray::number(limit) +
                                                statusParam.toLatin1() + "&before=" + cursor +
                                                ">; rel=\"next\""});
                    headers.append({"X-Next-Cursor", cursor});
                }
                api->answer(token, 200, QJsonDocument(list).toJson(QJsonDocument::Compact),
                            headers);
            });
        });

    // --- one order: seed 001 reads {success, order}, seeds 003/004 the row's fields -------
    // --- cancel: a pending or open order; 409 with its status once routing has begun ---------
    // A write on one order: the API key, then the id (404 "Not found" if it is not one).
    const auto admitOrder = [this](const QString &arg, const QHttpServerRequest &req,
                                   QHttpServerResponder &responder, const char *what) {
        if (!m_api.admit(req, responder, what))
            return QString();
        const QString id = canonicalOrderId(arg);
        if (id.isEmpty())
            m_api.respondError(responder, notAnOrderId(arg));
        return id;
    };
    const auto cancel = [this, admitOrder](const QString &arg, const QHttpServerRequest &req,
                                           QHttpServerResponder &&responder) {
        const QString id = admitOrder(arg, req, responder, "to cancel orders");
        if (id.isEmpty())
            return;
        const HttpApi::Token token = m_api.park(std::move(responder));
        m_api.ingest()->cancel(id, [api = &m_api, token, id](const Ingest::CancelResult &r) {
            if (!r.ok) {
                api->answerError(token, {ErrorKind::DatabaseUnavailable,
                                         QStringLiteral("PostgreSQL is unavailable: ") + r.error,
                                         {},
                                         {}});
            } else if (r.cancelled) {
                api->answer(token, 200,
                            compactJson({{QStringLiteral("success"), true},
                                         {QStringLiteral("orderId"), id},
                                         {QStringLiteral("status"), QStringLiteral("cancelled")}}));
            } else if (!r.current) {
                api->answerError(
                    token, {ErrorKind::OrderNotFound, QStringLiteral("Order not found"), {}, {}});
            } else {
                const ApiError e{
                    ErrorKind::NotCancellable,
                    QStringLiteral("order is %1: only a pending or open order can be cancelled")
                        .arg(statusName(*r.current)),
                    QStringLiteral("status"),
                    {}};
                api->answer(token, 409, conflictBody(e, *r.current));
            }
        });
    };
    m_api.route(QStringLiteral("/api/orders/<arg>/cancel"), Method::Post, cancel);
    m_api.route(QStringLiteral("/api/orders/<arg>"), Method::Delete, cancel);

    // --- retry: a failed order again, as a new order linked to it (Ingest::retry) ------------
    m_api.route(
        QStringLiteral("/api/orders/<arg>/retry"), Method::Post,
        [this, admitOrder](const QString &arg, const QHttpServerRequest &req,
                           QHttpServerResponder &&responder) {
            const QString id = admitOrder(arg, req, responder, "to retry orders");
            if (id.isEmpty())
                return;
            const HttpApi::Token token = m_api.park(std::move(responder));
            m_api.ingest()->retry(
                id, HttpApi::source(req), [api = &m_api, token, id](const Ingest::RetryResult &r) {
                    if (!r.submit.ok) {
                        if (!r.current) {
                            api->answerError(token, r.submit.error);
                            return;
                        }
                        api->answer(token, 409, conflictBody(r.submit.error, *r.current));
                        return;
                    }
                    api->answer(token, r.submit.replayed ? 200 : 201,
                                compactJson({
                                    {QStringLiteral("success"), true},
                                    {QStringLiteral("replayed"), r.submit.replayed},
                                    {QStringLiteral("orderId"), r.submit.orderId},
                                    {QStringLiteral("retryOf"), id},
                                    {QStringLiteral("status"),
                                     r.submit.replayed ? QJsonValue(QJsonValue::Null)
                                                       : QJsonValue(QStringLiteral("pending"))},
                                    {QStringLiteral("wsUrl"),
                                     QStringLiteral("/ws/orders/") + r.submit.orderId},
                                    {QStringLiteral("createdAt"), isoTime(r.submit.createdAt)},
                                }),
                                {{"Location", "/api/orders/" + r.submit.orderId.toLatin1()}});
                });
        });

    m_api.route(
        QStringLiteral("/api/orders/<arg>/events"), Method::Get,
        [this](const QString &arg, const QHttpServerRequest &, QHttpServerResponder &&responder) {
            withOrder(arg, std::move(responder), true,
                      [](const QString &id, const reads::OrderLookup &found) {
                          QJsonArray list;
                          for (const OrderEvent &e : found.events)
                              list.append(e.toJson());
                          return compactJson(
                              {{QStringLiteral("success"), true},
                               {QStringLiteral("orderId"), id},
                               {QStringLiteral("status"), statusName(found.order.status)},
                               {QStringLiteral("events"), list}});
                      });
        });

    m_api.route(
        QStringLiteral("/api/orders/<arg>"), Method::Get,
        [this](const QString &arg, const QHttpServerRequest &, QHttpServerResponder &&responder) {
            withOrder(arg, std::move(responder), false,
                      [](const QString &, const reads::OrderLookup &found) {
                          QJsonObject body = found.order.toJson();
                          body.insert(QStringLiteral("success"), true);
                          body.insert(QStringLiteral("order"), found.order.toJson());
                          return compactJson(body);
                      });
        });
}

void OrdersController::withOrder(const QString &arg, QHttpServerResponder &&responder,
                                 bool withEvents, Render render)
{
    const QString id = canonicalOrderId(arg);
    if (id.isEmpty()) {
        m_api.respondError(responder, notAnOrderId(arg));
        return;
    }
    const HttpApi::Token token = m_api.park(std::move(responder));
    m_api.read(token, [api = &m_api, token, id, withEvents, render](OrderStore &store, JobQueue &,
                                                                    RedisConnection &) {
        const reads::OrderLookup found = reads::order(store, id, withEvents);
        if (found.result == reads::OrderLookup::Result::Unavailable)
            api->answerError(token, databaseDown());
        else if (found.result == reads::OrderLookup::Result::Missing)
            api->answerError(token, noSuchOrder(id));
        else
            api->answer(token, 200, render(id, found));
    });
}

} // namespace oee
