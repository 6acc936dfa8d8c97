#include "api/controllers/Controllers.h"

#include <QFile>

#include "api/HttpApi.h"
#include "api/Json.h"
#include "api/QueryService.h"
#include "api/Reads.h"
#include "api/WsHub.h"
#include "execution/RestingBook.h"
#include "runtime/Metrics.h"

#include <QCoreApplication>
#include <QMetaEnum>

namespace oee {

namespace {

// GET / — what a browser (seed 001's users open the dashboard at /) sees: what this server is,
// its health, and where the API and the streams are. Self-contained: no external assets.
const char kRootPage[] = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>oee — order execution engine</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:880px;margin:2em auto;padding:0 1em;color:#1d2330;background:#fafbfc}
h1{font-size:1.5em;margin-bottom:.2em}code{background:#eef0f4;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:4px 8px;border-bottom:1px solid #e3e6eb;vertical-align:top}
#health{font-weight:600}.up{color:#1a7f37}.down{color:#c62828}
@media (prefers-color-scheme:dark){body{background:#15181d;color:#dde2ea}code{background:#262b33}td,th{border-color:#2c323b}a{color:#7cb7ff}}
</style></head><body>
<h1>oee — order execution engine</h1>
<p>Market orders for Solana DEX pairs, routed between simulated Raydium and Meteora pools, queued in Redis, recorded in PostgreSQL.
Version %VERSION%. Health: <span id="health">checking…</span></p>
<h2>REST</h2>
<table>
<tr><td><code>POST /api/orders/execute</code></td><td>submit <code>{"tokenIn":"SOL","tokenOut":"USDC","amount":1.5,"slippage":0.01}</code></td></tr>
<tr><td><a href="/api/orders"><code>GET /api/orders</code></a></td><td>recent orders, newest first (paged by the <code>Link</code> header)</td></tr>
<tr><td><code>GET /api/orders/&lt;id&gt;</code></td><td>one order; <code>/api/orders/&lt;id&gt;/events</code> its history</td></tr>
<tr><td><a href="/api/quotes?tokenIn=SOL&amp;tokenOut=USDC&amp;amount=1"><code>GET /api/quotes</code></a></td><td>both venues' prices now</td></tr>
<tr><td><a href="/api/metrics"><code>GET /api/metrics</code></a></td><td>queue and orders by status</td></tr>
<tr><td><a href="/metrics"><code>GET /metrics</code></a></td><td>Prometheus text format</td></tr>
<tr><td><a href="/health"><code>GET /health</code></a></td><td>200, or 503 naming what is down</td></tr>
</table>
<h2>WebSocket streams</h2>
<table>
<tr><td><code>/ws/orders/&lt;id&gt;</code></td><td>one order: a snapshot, each status change, closed after the last</td></tr>
<tr><td><code>/ws/orders</code></td><td>every order</td></tr>
<tr><td><code>/api/orders/&lt;id&gt;/stream</code>, <code>/api/orders/stream/all</code>, <code>/api/orders/ws?orderId=&lt;id&gt;</code></td><td>the same streams in the dialects of the systems oee replaces</td></tr>
</table>
<script>
fetch('/health').then(r=>r.json().then(j=>[r.ok,j])).then(([ok,j])=>{const h=document.getElementById('health');
h.textContent=ok?'healthy (Redis '+j.redis+', PostgreSQL '+j.postgres+')':'unhealthy: '+(j.error||'');h.className=ok?'up':'down';})
.catch(e=>{const h=document.getElementById('health');h.textContent='unreachable';h.className='down';});
</script>
</body></html>
)html";

} // namespace

void SystemController::registerPreflight()
{
    m_api.routeAnyPath(HttpApi::Method::Options, [this](const QUrl &, const QHttpServerRequest &,
                                                        QHttpServerResponder &&r) {
        const QByteArray origin = m_api.corsOrigin();
        if (origin.isEmpty()) {
            r.write(QHttpServerResponder::StatusCode::NoContent);
            return;
        }
        r.write({{"Access-Control-Allow-Origin", origin},
                 {"Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS"},
                 {"Access-Control-Allow-Headers", "Content-Type, Authorization, Idempotency-Key"},
                 {"Access-Control-Max-Age", "600"},
                 {"Vary", "Origin"}},
                QHttpServerResponder::StatusCode::NoContent);
    });
}

void SystemController::registerRoutes()
{
    using Method = HttpApi::Method;

    m_api.route(QStringLiteral("/"), Method::Get,
                [this](const QHttpServerRequest &, QHttpServerResponder &&r) {
                    QByteArray page(kRootPage);
                    page.replace("%VERSION%", QCoreApplication::applicationVersion().toUtf8());
                    m_api.respond(r, 200, page, {{"Content-Type", "text/html; charset=utf-8"}});
                });

    // The contract: OpenAPI 3.1 (resources/openapi.json), linted and replayed by tst_api.
    m_api.route(QStringLiteral("/api/openapi.json"), Method::Get,
                [this](const QHttpServerRequest &, QHttpServerResponder &&r) {
                    static const QByteArray document = [] {
                        QFile f(QStringLiteral(":/oee/openapi.json"));
                        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
                    }();
                    m_api.respond(r, 200, document);
                });

    // Seed 004's readiness probe; its test compares the whole body.
    m_api.route(QStringLiteral("/api/test"), Method::Get,
                [this](const QHttpServerRequest &, QHttpServerResponder &&r) {
                    m_api.respond(r, 200, R"({"msg":"Server working!"})");
                });

    m_api.route(QStringLiteral("/health"), Method::Get,
                [this](const QHttpServerRequest &, QHttpServerResponder &&responder) {
                    const HttpApi::Token token = m_api.park(std::move(responder));
                    // Its own thread and connections: never behind the reads.
                    m_api.health()->post([api = &m_api, token](OrderStore &store, JobQueue &,
                                                               RedisConnection &redis) {
                        const reads::Health h = reads::health(store, redis);
                        api->answer(token, h.healthy() ? 200 : 503, compactJson(h.toJson()));
                    });
                });

    m_api.route(
        QStringLiteral("/api/metrics"), Method::Get,
        [this](const QHttpServerRequest &, QHttpServerResponder &&responder) {
            const HttpApi::Token token = m_api.park(std::move(responder));
            const Config &cfg = m_api.config();
            const QJsonObject limits{{QStringLiteral("concurrency"), cfg.concurrency},
                                     {QStringLiteral("ratePerWindow"), cfg.ratePerWindow},
                                     {QStringLiteral("rateWindowMs"), cfg.rateWindowMs},
                                     {QStringLiteral("maxAttempts"), cfg.maxAttempts}};
            const int subscribers = m_api.hub()->subscriberCount();
            const qint64 dropped = m_api.hub()->droppedCount();
            QJsonObject resting;
            if (const RestingBook *book = m_api.restingBook()) {
                const RestingBook::Stats s = book->stats();
                resting = QJsonObject{{QStringLiteral("open"), double(s.resting)},
                                      {QStringLiteral("awaitingLaunch"), double(s.awaitingLaunch)},
                                      {QStringLiteral("withExpiry"), double(s.withExpiry)},
                                      {QStringLiteral("triggered"), double(s.triggered)},
                                      {QStringLiteral("pricedCandidates"), double(s.candidates)},
                                      {QStringLiteral("evaluations"), double(s.evaluations)},
                                      {QStringLiteral("expired"), double(s.expired)}};
            }
            m_api.read(token, [api = &m_api, token, limits, subscribers, dropped,
                               resting](OrderStore &store, JobQueue &queue, RedisConnection &) {
                const reads::Metrics m = reads::metrics(store, queue);
                QJsonObject body = m.toJson();
                if (!resting.isEmpty())
                    body.insert(QStringLiteral("restingBook"), resting);
                body.insert(QStringLiteral("limits"), limits);
                body.insert(QStringLiteral("webSocketSubscribers"), subscribers);
                body.insert(QStringLiteral("webSocketDropped"), double(dropped));
                api->answer(token, m.ok() ? 200 : 503, compactJson(body));
            });
        });

    // Prometheus: this process's counters and histograms, the queue and the orders by status.
    m_api.route(QStringLiteral("/metrics"), Method::Get,
                [this](const QHttpServerRequest &, QHttpServerResponder &&responder) {
                    const HttpApi::Token token = m_api.park(std::move(responder));
                    metrics::Gauges gauges;
                    gauges.wsClients = m_api.hub()->subscriberCount();
                    if (const RestingBook *book = m_api.restingBook())
                        gauges.restingOpen = book->stats().resting;
                    m_api.read(token, [api = &m_api, token, gauges](OrderStore &store,
                                                                    JobQueue &queue,
                                                                    RedisConnection &) mutable {
                        const reads::Metrics m = reads::metrics(store, queue);
                        gauges.queueOk = m.queue.ok;
                        gauges.waiting = m.queue.waiting;
                        gauges.active = m.queue.active;
                        gauges.delayed = m.queue.delayed;
                        gauges.stalled = m.queue.stalled;
                        if (m.byStatus) {
                            for (OrderStatus s : allStatuses())
                                gauges.ordersByStatus.append(
                                    {statusName(s), m.byStatus->value(statusName(s))});
                        }
                        api->answer(token, 200, metrics::render(gauges),
                                    {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}});
                    });
                });

    // Everything else. A catch-all route rather than QHttpServer's missing handler, so that
    // a WebSocket upgrade to an unknown path is answered once, by the WsHub (see HttpApi).
    const auto notFound = [this](const QUrl &, const QHttpServerRequest &req,
                                 QHttpServerResponder &&r) {
        const char *method =
            QMetaEnum::fromType<QHttpServerRequest::Method>().valueToKey(int(req.method()));
        m_api.respondError(
            r, {ErrorKind::NotFound,
                QStringLiteral("no route for %1 %2")
                    .arg(QString::fromLatin1(method).toUpper(), req.url().path().left(200)),
                {},
                QStringLiteral("Not found")});
    };
    m_api.routeAnyPath(Method::Get | Method::Post | Method::Put | Method::Delete | Method::Patch,
                       notFound);
}

} // namespace oee
