#include "api/controllers/Controllers.h"

#include "api/HttpApi.h"
#include "api/Ingest.h"
#include "api/Json.h"
#include "dex/Market.h"
#include "money/Tokens.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QUrlQuery>

namespace oee {

namespace {

ApiError invalid(const QString &field, const QString &message)
{
    return ApiError{ErrorKind::InvalidField, message, field, {}};
}

QJsonObject withNow(QJsonObject state, qint64 now)
{
    state.insert(QStringLiteral("now"), QString::number(now));
    return state;
}

// Jupiter's dex labels → oee venue names.
QString venueOfLabel(const QString &label)
{
    for (const Venue *v : venues())
        if (v->label().compare(label.trimmed(), Qt::CaseInsensitive) == 0 ||
            v->name().compare(label.trimmed(), Qt::CaseInsensitive) == 0)
            return v->name();
    return {};
}

QString labelOf(const QString &venue)
{
    const Venue *v = venueNamed(venue);
    return v ? v->label() : venue;
}

} // namespace

void PoolsController::registerRoutes()
{
    using Method = HttpApi::Method;
    // A token launch (the simulator's): a new token and its first pool, written to Redis on
    // the ingest thread. Same access rules as every write.
    m_api.route(
        QStringLiteral("/api/launches"), Method::Post,
        [this](const QHttpServerRequest &req, QHttpServerResponder &&responder) {
            if (!m_api.admit(req, responder, "to launch tokens"))
                return;
            if (!m_api.ingest()) {
                m_api.respondError(responder, {ErrorKind::NotServing,
                                               QStringLiteral("this process takes no writes"),
                                               {},
                                               {}});
                return;
            }
            const QByteArray mime =
                req.value("Content-Type").split(';').first().trimmed().toLower();
            if (mime != "application/json") {
                m_api.respondError(responder,
                                   {ErrorKind::UnsupportedMediaType,
                                    QStringLiteral("Content-Type must be application/json"),
                                    {},
                                    {}});
                return;
            }
            if (req.body().size() > m_api.config().maxBodyBytes) {
                m_api.respondError(
                    responder,
                    {ErrorKind::PayloadTooLarge, QStringLiteral("request body too large"), {}, {}});
                return;
            }
            QJsonParseError parseError{};
            const QJsonDocument doc = QJsonDocument::fromJson(req.body(), &parseError);
            if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
                m_api.respondError(responder, {ErrorKind::InvalidJson,
                                               QStringLiteral("request body must be a JSON object"),
                                               {},
                                               {}});
                return;
            }
            QJsonObject body = doc.object();
            if (body.contains(QStringLiteral("afterMs"))) {
                m_api.respondError(responder, {ErrorKind::UnknownField,
                                               QStringLiteral("afterMs is for DEX_LAUNCHES only"),
                                               QStringLiteral("afterMs"),
                                               {}});
                return;
            }
            const auto spec = parseLaunchSpec(body);
            if (const auto *e = std::get_if<ApiError>(&spec)) {
                m_api.respondError(responder, *e);
                return;
            }
            const HttpApi::Token token = m_api.park(std::move(responder));
            m_api.ingest()->launch(
                m_api.market(), std::get<LaunchSpec>(spec),
                [api = &m_api, token](const Ingest::LaunchReply &r) {
                    if (r.launched) {
                        QJsonObject out = r.launched->toJson();
                        out.insert(QStringLiteral("success"), true);
                        api->answer(token, 201, QJsonDocument(out).toJson(QJsonDocument::Compact),
                                    {{"Location", "/api/pools/" + r.launched->poolId.toUtf8()}});
                    } else if (r.conflict) {
                        api->answerError(
                            token, {ErrorKind::TokenExists, r.error, QStringLiteral("symbol"), {}});
                    } else if (r.error.startsWith(QLatin1String("Redis"))) {
                        api->answerError(token, {ErrorKind::QueueUnavailable, r.error, {}, {}});
                    } else {
                        api->answerError(token, {ErrorKind::InvalidField, r.error, {}, {}});
                    }
                },
                HttpApi::source(req));
        });

    // Pool state is this process's copy (PoolSync keeps it within POOL_SYNC_MS of Redis); the
    // slot says which state it is. Pure computation on the HTTP thread: no I/O.
    m_api.route(QStringLiteral("/api/pools"), Method::Get,
                [this](const QHttpServerRequest &, QHttpServerResponder &&r) {
                    const qint64 now = Market::now();
                    QList<std::shared_ptr<const Pool>> pools = m_api.market()->pools().values();
                    std::sort(pools.begin(), pools.end(),
                              [](const auto &a, const auto &b) { return a->id < b->id; });
                    QJsonArray list;
                    for (const auto &p : pools)
                        list.append(withNow(p->toJson(), now));
                    m_api.respond(r, 200, QJsonDocument(list).toJson(QJsonDocument::Compact));
                });

    m_api.route(
        QStringLiteral("/api/pools/<arg>/quote"), Method::Get,
        [this](const QString &id, const QHttpServerRequest &req, QHttpServerResponder &&r) {
            const auto pool = m_api.market()->pool(id);
            if (!pool) {
                m_api.respondError(r, ApiError{ErrorKind::PoolNotFound,
                                               QStringLiteral("no pool '%1'").arg(id.left(64)),
                                               {},
                                               {}});
                return;
            }
            const QUrlQuery q = req.query();
            const Token *input =
                TokenRegistry::instance().find(q.queryItemValue(QStringLiteral("inputMint")));
            if (!input || !pool->trades(input->mint)) {
                m_api.respondError(
                    r,
                    invalid(QStringLiteral("inputMint"),
                            QStringLiteral("inputMint must be one of the pool's mints: %1")
                                .arg(pool->mints()[0] + QStringLiteral(", ") + pool->mints()[1])));
                return;
            }
            const auto amount = parseBaseUnits(q.queryItemValue(QStringLiteral("amount")));
            if (const auto *e = std::get_if<QString>(&amount)) {
                m_api.respondError(
                    r, invalid(QStringLiteral("amount"), QStringLiteral("amount ") + *e));
                return;
            }
            const qint64 now = Market::now();
            const SwapResult result = pool->quote(input->mint, std::get<BaseUnits>(amount), now);
            const QJsonObject body = result.toJson(pool->slot, now);
            if (!result.ok()) {
                ApiError e{ErrorKind::NoRoute, result.error(), QStringLiteral("amount"), {}};
                m_api.respondError(r, e);
                return;
            }
            m_api.respond(r, 200, compactJson(body));
        });

    m_api.route(QStringLiteral("/api/pools/<arg>"), Method::Get,
                [this](const QString &id, const QHttpServerRequest &, QHttpServerResponder &&r) {
                    const auto pool = m_api.market()->pool(id);
                    if (!pool) {
                        m_api.respondError(r,
                                           ApiError{ErrorKind::PoolNotFound,
                                                    QStringLiteral("no pool '%1'").arg(id.left(64)),
                                                    {},
                                                    {}});
                        return;
                    }
                    m_api.respond(r, 200, compactJson(withNow(pool->toJson(), Market::now())));
                });

    // Jupiter's v6 quote API (the response shape @jup-ag/api reads), on the same router.
    m_api.route(
        QStringLiteral("/quote"), Method::Get,
        [this](const QHttpServerRequest &req, QHttpServerResponder &&r) {
            QElapsedTimer timer;
            timer.start();
            const QUrlQuery q = req.query();
            const TokenRegistry &tokens = TokenRegistry::instance();
            const Token *in = tokens.find(q.queryItemValue(QStringLiteral("inputMint")));
            const Token *out = tokens.find(q.queryItemValue(QStringLiteral("outputMint")));
            if (!in) {
                m_api.respondError(r, ApiError{ErrorKind::UnknownToken,
                                               QStringLiteral("inputMint: unknown token"),
                                               QStringLiteral("inputMint"),
                                               {}});
                return;
            }
            if (!out || out == in) {
                m_api.respondError(
                    r, ApiError{ErrorKind::UnknownToken,
                                QStringLiteral("outputMint: unknown token, or the input token"),
                                QStringLiteral("outputMint"),
                                {}});
                return;
            }
            const auto amount = parseBaseUnits(q.queryItemValue(QStringLiteral("amount")));
            if (const auto *e = std::get_if<QString>(&amount)) {
                m_api.respondError(
                    r, invalid(QStringLiteral("amount"), QStringLiteral("amount ") + *e));
                return;
            }
            int slippageBps = 50;
            if (q.hasQueryItem(QStringLiteral("slippageBps"))) {
                bool ok = false;
                slippageBps = q.queryItemValue(QStringLiteral("slippageBps")).toInt(&ok);
                if (!ok || slippageBps < 0 || slippageBps > 10000) {
                    m_api.respondError(
                        r, invalid(QStringLiteral("slippageBps"),
                                   QStringLiteral("slippageBps must be an integer in [0, 10000]")));
                    return;
                }
            }
            const QString mode = q.queryItemValue(QStringLiteral("swapMode"));
            if (!mode.isEmpty() && mode != QLatin1String("ExactIn")) {
                m_api.respondError(r,
                                   invalid(QStringLiteral("swapMode"),
                                           QStringLiteral("only swapMode=ExactIn is supported")));
                return;
            }
            // dexes: only these venues; excludeDexes: not these (Jupiter's labels or oee's names).
            QStringList excluded = m_api.market()->disabledVenues();
            const auto labels = [&](const char *key) {
                QStringList names;
                for (const QString &part :
                     q.queryItemValue(QString::fromLatin1(key), QUrl::FullyDecoded)
                         .split(QLatin1Char(','), Qt::SkipEmptyParts)) {
                    const QString v = venueOfLabel(part);
                    if (v.isEmpty())
                        return std::optional<QStringList>();
                    names << v;
                }
                return std::optional<QStringList>(names);
            };
            const auto only = labels("dexes");
            const auto without = labels("excludeDexes");
            if (!only || !without) {
                m_api.respondError(
                    r,
                    invalid(only ? QStringLiteral("excludeDexes") : QStringLiteral("dexes"),
                            QStringLiteral("unknown dex label; known: Raydium CP, Meteora DLMM")));
                return;
            }
            if (!only->isEmpty())
                for (const Venue *v : venues())
                    if (!only->contains(v->name()))
                        excluded << v->name();
            excluded << *without;
            const bool directOnly =
                q.queryItemValue(QStringLiteral("onlyDirectRoutes")) == QLatin1String("true");
            const PoolSet pools = m_api.market()->pools();
            RoutePlan plan = Router::route(pools, *in, *out, std::get<BaseUnits>(amount),
                                           Market::now(), excluded);
            if (directOnly) {
                const auto it = std::find_if(
                    plan.candidates.cbegin(), plan.candidates.cend(),
                    [](const RouteCandidate &c) { return c.type != RouteCandidate::Type::TwoHop; });
                if (it == plan.candidates.cend())
                    plan.best.error = QStringLiteral("no direct route");
                else
                    plan.best = *it;
            }
            if (!plan.ok()) {
                m_api.respondError(
                    r, ApiError{ErrorKind::NoRoute, plan.error(), QStringLiteral("amount"), {}});
                return;
            }
            const BaseUnits outAmount = plan.best.amountOut;
            const BaseUnits threshold =
                BaseUnits(u128(outAmount) * u128(10000 - slippageBps) / 10000);
            quint64 contextSlot = 0;
            QJsonArray routePlan;
            for (const RouteLeg &leg : plan.best.legs) {
                contextSlot = qMax(contextSlot, leg.slot);
                const int bps =
                    plan.best.type == RouteCandidate::Type::Split ? leg.shareBps : 10000;
                routePlan.append(QJsonObject{
                    {QStringLiteral("swapInfo"),
                     QJsonObject{
                         {QStringLiteral("ammKey"), leg.poolId},
                         {QStringLiteral("label"), labelOf(leg.venue)},
                         {QStringLiteral("inputMint"), leg.input->mint},
                         {QStringLiteral("outputMint"), leg.output->mint},
                         {QStringLiteral("inAmount"), QString::number(leg.result.inAmount)},
                         {QStringLiteral("outAmount"), QString::number(leg.result.outAmount)},
                         {QStringLiteral("feeAmount"), QString::number(leg.result.fee)},
                         {QStringLiteral("feeMint"), leg.input->mint}}},
                    {QStringLiteral("percent"), bps / 100},
                    {QStringLiteral("bps"), bps}});
            }
            // Price impact: how far the fill is from the same amount at each leg's spot price, net
            // of fees. A display figure (Jupiter sends it as a decimal string).
            double spotOut = double(std::get<BaseUnits>(amount));
            for (const RouteLeg &leg : plan.best.legs) {
                const auto pool = pools.value(leg.poolId);
                const double share =
                    plan.best.type == RouteCandidate::Type::Split ? leg.shareBps / 10000.0 : 1.0;
                const double feeFree =
                    leg.result.inAmount ? 1.0 - double(leg.result.fee) / double(leg.result.inAmount)
                                        : 1.0;
                const double spot =
                    double(pool->spotPriceQ64(leg.input->mint)) / 18446744073709551616.0;
                if (plan.best.type == RouteCandidate::Type::Split) {
                    if (&leg == &plan.best.legs.first())
                        spotOut = 0;
                    spotOut += double(std::get<BaseUnits>(amount)) * share * feeFree * spot;
                } else {
                    spotOut *= feeFree * spot;
                }
            }
            const double impact = spotOut > 0 ? qMax(0.0, 1.0 - double(outAmount) / spotOut) : 0.0;
            const QJsonObject body{
                {QStringLiteral("inputMint"), in->mint},
                {QStringLiteral("inAmount"), QString::number(std::get<BaseUnits>(amount))},
                {QStringLiteral("outputMint"), out->mint},
                {QStringLiteral("outAmount"), QString::number(outAmount)},
                {QStringLiteral("otherAmountThreshold"), QString::number(threshold)},
                {QStringLiteral("swapMode"), QStringLiteral("ExactIn")},
                {QStringLiteral("slippageBps"), slippageBps},
                {QStringLiteral("platformFee"), QJsonValue::Null},
                {QStringLiteral("priceImpactPct"), QString::number(impact, 'f', 8)},
                {QStringLiteral("routePlan"), routePlan},
                {QStringLiteral("contextSlot"), qint64(contextSlot)},
                {QStringLiteral("timeTaken"), double(timer.nsecsElapsed()) / 1e9}};
            m_api.respond(r, 200, compactJson(body));
        });
}

} // namespace oee
