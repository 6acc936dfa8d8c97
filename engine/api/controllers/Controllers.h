#pragma once
// The REST controllers, one per scope (qBittorrent's webui/api/*controller layout): each
// registers its routes on the HttpApi, parses a request, hands the work to the Ingest or to a
// typed read on the query thread (api/Reads.h), and serialises the answer. Errors are ApiError
// values; HttpApi maps them to status codes in one place (domain/ApiError.cpp).
#include <QByteArray>
#include <QString>
#include <functional>

class QHttpServerResponder;

namespace oee {

class HttpApi;
namespace reads {
struct OrderLookup;
}

// POST /api/orders/execute, GET /api/orders, /api/orders/<id>, /api/orders/<id>/events
class OrdersController
{
public:
    explicit OrdersController(HttpApi &api) : m_api(api) {}
    void registerRoutes();

private:
    using Render = std::function<QByteArray(const QString &id, const reads::OrderLookup &)>;
    // One order's read: the id checked at the edge (404 "Not found" if it is not one), the
    // lookup on the read pool, 404 "Order not found" / 503, or 200 with what `render` makes.
    void withOrder(const QString &arg, QHttpServerResponder &&responder, bool withEvents,
                   Render render);

    HttpApi &m_api;
};

// The WebSocket stream paths: a plain GET gets 426; an upgrade goes to the WsHub.
class StreamsController
{
public:
    explicit StreamsController(HttpApi &api) : m_api(api) {}
    void registerRoutes();

private:
    HttpApi &m_api;
};

// GET /api/quotes
class QuotesController
{
public:
    explicit QuotesController(HttpApi &api) : m_api(api) {}
    void registerRoutes();

private:
    HttpApi &m_api;
};

// GET /api/pools, /api/pools/<id>, /api/pools/<id>/quote, and Jupiter's GET /quote
class PoolsController
{
public:
    explicit PoolsController(HttpApi &api) : m_api(api) {}
    void registerRoutes();

private:
    HttpApi &m_api;
};

// The operator's switches: GET /api/control, POST /api/control/{pause,resume,kill,simulator},
// POST /api/control/venues/<name>, GET /api/control/actions (the audit trail).
class ControlController
{
public:
    explicit ControlController(HttpApi &api) : m_api(api) {}
    void registerRoutes();

private:
    HttpApi &m_api;
};

// GET /, /health, /api/metrics, /api/test; CORS preflight; 404 for everything else.
class SystemController
{
public:
    explicit SystemController(HttpApi &api) : m_api(api) {}
    void registerPreflight();
    void registerRoutes();

private:
    HttpApi &m_api;
};

} // namespace oee
