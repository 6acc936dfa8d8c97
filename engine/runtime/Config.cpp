#include "runtime/Config.h"

#include <QUrl>

#include <QJsonDocument>

#include "domain/OrderRequest.h"

#include <QCommandLineParser>
#include <QDir>
#include <QStandardPaths>
#include <QThread>
#include <functional>
#include <unistd.h>

namespace oee {

namespace {

using Setter = std::function<std::optional<QString>(Config &, const QString &)>;

struct OptionSpec
{
    const char *option;
    const char *env;
    const char *description;
    Setter set;
};

std::optional<QString> parseInt(const QString &v, int min, int max, int *out)
{
    bool ok = false;
    const int n = v.trimmed().toInt(&ok);
    if (!ok || n < min || n > max)
        return QStringLiteral("expected an integer in [%1, %2], got '%3'").arg(min).arg(max).arg(v);
    *out = n;
    return std::nullopt;
}

std::optional<QString> parseDouble(const QString &v, double min, double max, double *out)
{
    bool ok = false;
    const double d = v.trimmed().toDouble(&ok);
    if (!ok || d < min || d > max)
        return QStringLiteral("expected a number in [%1, %2], got '%3'").arg(min).arg(max).arg(v);
    *out = d;
    return std::nullopt;
}

const QList<OptionSpec> &optionSpecs()
{
    static const QList<OptionSpec> specs = {
        {"role", "OEE_ROLE",
         "all (default), api (HTTP/WS only) or worker (executes queued orders only).",
         [](Config &c, const QString &v) -> std::optional<QString> {
             if (v != QLatin1String("all") && v != QLatin1String("api") &&
                 v != QLatin1String("worker"))
                 return QStringLiteral("expected all, api or worker, got '%1'").arg(v);
             c.role = v;
             return std::nullopt;
         }},
        {"host", "HOST", "Address to listen on (default 127.0.0.1).",
         [](Config &c, const QString &v) -> std::optional<QString> {
             c.host = v;
             return std::nullopt;
         }},
        {"ws-port", "WS_PORT",
         "An extra WebSocket-only port serving the same streams (seed 000's clients connect to "
         "ws://host:3001/ws/<id>); default off.",
         [](Config &c, const QString &v) -> std::optional<QString> {
             int p = 0;
             if (auto e = parseInt(v, 1, 65535, &p))
                 return e;
             c.wsPort = quint16(p);
             return std::nullopt;
         }},
        {"port", "PORT", "HTTP/WebSocket port (default 3000; 0 picks a free one).",
         [](Config &c, const QString &v) -> std::optional<QString> {
             int p = 0;
             if (auto e = parseInt(v, 0, 65535, &p))
                 return e;
             c.port = quint16(p);
             return std::nullopt;
         }},
        {"api-key", "API_KEY",
         "Bearer token required to submit orders and open streams (required when HOST is not "
         "a loopback address).",
         [](Config &c, const QString &v) -> std::optional<QString> {
             c.apiKey = v;
             return std::nullopt;
         }},
        {"cors-origins", "CORS_ORIGINS",
         "Origins allowed by CORS: * (default) or a comma-separated list.",
         [](Config &c, const QString &v) -> std::optional<QString> {
             c.corsOrigins = v.trimmed();
             return std::nullopt;
         }},
        {"redis-url", "REDIS_URL",
         "redis://host:port[/db], unix:///path/redis.sock or redis+cluster://h1:p1,h2:p2 (a Redis "
         "Cluster; "
         "any reachable seed nodes) (default: a private redis-server).",
         [](Config &c, const QString &v) -> std::optional<QString> {
             c.redisUrl = v;
             return std::nullopt;
         }},
        {"queue-shards", "QUEUE_SHARDS",
         "Queue shards {oee:0}…{oee:N-1} (default: 1 on one Redis, 8 on a Redis Cluster; "
         "every process must agree).",
         [](Config &c, const QString &v) { return parseInt(v, 1, 1024, &c.queueShards); }},
        {"database-url", "DATABASE_URL",
         "postgres://user:pass@host:port/db[?host=/socket/dir] (default: a private PostgreSQL).",
         [](Config &c, const QString &v) -> std::optional<QString> {
             c.databaseUrl = v;
             return std::nullopt;
         }},
        {"data-dir", "OEE_DATA_DIR", "Where the private Redis and PostgreSQL keep their data.",
         [](Config &c, const QString &v) -> std::optional<QString> {
             c.dataDir = v;
             return std::nullopt;
         }},
        {"concurrency", "MAX_CONCURRENT_ORDERS", "Orders in flight per process (default 10).",
         [](Config &c, const QString &v) { return parseInt(v, 1, 100000, &c.concurrency); }},
        {"worker-threads", "WORKER_THREADS", "Worker threads (default: number of cores).",
         [](Config &c, const QString &v) { return parseInt(v, 0, 256, &c.workerThreads); }},
        {"rate-limit", "MAX_ORDERS_PER_MINUTE",
         "Orders started per rate window across all processes (default 100; 0 = unlimited).",
         [](Config &c, const QString &v) { return parseInt(v, 0, 100000000, &c.ratePerWindow); }},
        {"rate-limit-window-ms", "RATE_LIMIT_WINDOW_MS", "Rate limit window (default 60000).",
         [](Config &c, const QString &v) { return parseInt(v, 10, 86400000, &c.rateWindowMs); }},
        {"max-attempts", "MAX_RETRY_ATTEMPTS", "Execution attempts per order (default 3).",
         [](Config &c, const QString &v) { return parseInt(v, 1, 100, &c.maxAttempts); }},
        {"retry-backoff-ms", "RETRY_BACKOFF_MS",
         "First retry delay; doubles each attempt (default 1000).",
         [](Config &c, const QString &v) { return parseInt(v, 0, 3600000, &c.retryBackoffMs); }},
        {"slippage", "SLIPPAGE_TOLERANCE", "Default slippage tolerance (default 0.01).",
         [](Config &c, const QString &v) -> std::optional<QString> {
             const auto ppm = parseSlippageFraction(v);
             if (const auto *e = std::get_if<QString>(&ppm))
                 return QStringLiteral("'%1' %2 (a fraction with at most 6 decimals, e.g. 0.01)")
                     .arg(v, *e);
             c.defaultSlippagePpm = std::get<quint32>(ppm);
             return std::nullopt;
         }},
        {"lease-ms", "JOB_LEASE_MS", "Job lease; a job whose worker died is retaken after it.",
         [](Config &c, const QString &v) { return parseInt(v, 500, 3600000, &c.leaseMs); }},
        {"staged-sweep-ms", "STAGED_SWEEP_MS",
         "A job staged this long and never published is swept: published if its order row "
         "exists, dropped once its submitter's PostgreSQL session is gone (default 10000).",
         [](Config &c, const QString &v) { return parseInt(v, 100, 3600000, &c.stagedSweepMs); }},
        {"event-log-retention-s", "EVENT_LOG_RETENTION_S",
         "How long the event log keeps what it numbered, for streams that resume with ?since= "
         "(default 604800: a week). Older entries are pruned; a resume from before them is "
         "refused (4410). The orders and their events stay in PostgreSQL regardless.",
         [](Config &c, const QString &v) {
             return parseInt(v, 1, 1000000000, &c.eventLogRetentionS);
         }},
        {"reconcile-ms", "RECONCILE_MS",
         "How often one worker per process looks for unfinished orders whose job Redis lost, "
         "and recreates it (default 10000).",
         [](Config &c, const QString &v) { return parseInt(v, 100, 3600000, &c.reconcileMs); }},
        {"read-threads", "READ_THREADS",
         "Threads serving reads and stream snapshots, each with its own connections (default 2).",
         [](Config &c, const QString &v) { return parseInt(v, 1, 64, &c.readThreads); }},
        {"max-queued-reads", "MAX_QUEUED_READS",
         "Reads that may wait; beyond, a read is answered 503 with Retry-After (default 1000).",
         [](Config &c, const QString &v) { return parseInt(v, 1, 1000000, &c.maxQueuedReads); }},
        {"shutdown-grace-ms", "SHUTDOWN_GRACE_MS",
         "On SIGTERM, how long in-flight orders may take to finish before the rest are handed "
         "back to the queue (default 10000).",
         [](Config &c, const QString &v) { return parseInt(v, 0, 3600000, &c.shutdownGraceMs); }},
        {"request-timeout-ms", "REQUEST_TIMEOUT_MS",
         "An HTTP request that does not arrive completely within this is answered 408 "
         "(default 10000).",
         [](Config &c, const QString &v) { return parseInt(v, 100, 600000, &c.requestTimeoutMs); }},
        {"max-body-bytes", "MAX_BODY_BYTES", "Largest accepted request body (default 16384).",
         [](Config &c, const QString &v) { return parseInt(v, 256, 1 << 24, &c.maxBodyBytes); }},
        {"ws-max-buffer-bytes", "WS_MAX_BUFFER_BYTES",
         "Bytes a WebSocket client may fall behind before it is dropped (default 8 MiB).",
         [](Config &c, const QString &v) {
             return parseInt(v, 4096, 1 << 30, &c.wsMaxBufferBytes);
         }},
        {"log-format", "LOG_FORMAT",
         "text (default) or json: one JSON object per line on stderr (time, level, category, "
         "message, and orderId when the message names an order), for log shippers.",
         [](Config &c, const QString &v) -> std::optional<QString> {
             if (v != QStringLiteral("text") && v != QStringLiteral("json"))
                 return QStringLiteral("'%1' is not text or json").arg(v);
             c.jsonLogs = v == QStringLiteral("json");
             return std::nullopt;
         }},
        {"chaos-crash-after-landings", "OEE_CHAOS_CRASH_AFTER_LANDINGS",
         "Fault injection: kill -9 itself right after the Nth transaction lands, before it is "
         "confirmed (default 0: never).",
         [](Config &c, const QString &v) {
             return parseInt(v, 0, 1000000000, &c.chaosCrashAfterLandings);
         }},
        {"chaos-exit-after-commits", "OEE_CHAOS_EXIT_AFTER_COMMITS",
         "Fault injection: a worker process dies (exit 137) right after its Nth batch of status "
         "changes commits, before it tells anyone (default 0: never).",
         [](Config &c, const QString &v) {
             return parseInt(v, 0, 1000000000, &c.chaosExitAfterCommits);
         }},
        {"screenshot", "OEE_SCREENSHOT",
         "Console: save a PNG of the window to this file after --screenshot-after-ms, then quit.",
         [](Config &c, const QString &v) -> std::optional<QString> {
             c.screenshotPath = v;
             return std::nullopt;
         }},
        {"screenshot-after-ms", "OEE_SCREENSHOT_AFTER_MS",
         "Delay before --screenshot (default 10000).",
         [](Config &c, const QString &v) { return parseInt(v, 0, 3600000, &c.screenshotAfterMs); }},
        {"window-size", "OEE_WINDOW_SIZE",
         "Console: the window's size, WIDTHxHEIGHT (default 1440x900 or the screen).",
         [](Config &c, const QString &v) -> std::optional<QString> {
             const QStringList wh = v.split(QLatin1Char('x'));
             const int w = wh.value(0).toInt(), h = wh.value(1).toInt();
             if (wh.size() != 2 || w < 1280 || h < 800 || w > 7680 || h > 4320)
                 return QStringLiteral(
                     "must be WIDTHxHEIGHT, at least 1280x800 (the console's minimum)");
             c.windowWidth = w;
             c.windowHeight = h;
             return std::nullopt;
         }},
        {"connect", "OEE_CONNECT",
         "Console only: attach to a remote engine (started with --server) at this URL, e.g. "
         "http://host:3000, through its REST and WebSocket API (with --api-key when it has one).",
         [](Config &c, const QString &v) -> std::optional<QString> {
             const QUrl url(v, QUrl::StrictMode);
             if (!url.isValid() ||
                 (url.scheme() != QLatin1String("http") &&
                  url.scheme() != QLatin1String("https")) ||
                 url.host().isEmpty())
                 return QStringLiteral("must be an http(s) URL with a host, e.g. http://host:3000");
             c.connectUrl = v;
             return std::nullopt;
         }},
        {"palette", "OEE_PALETTE", "Console: light, dark or system (default system).",
         [](Config &c, const QString &v) -> std::optional<QString> {
             if (v != QLatin1String("light") && v != QLatin1String("dark") &&
                 v != QLatin1String("system"))
                 return QStringLiteral("must be light, dark or system");
             c.palette = v;
             return std::nullopt;
         }},
        {"dex-quote-latency-ms", "DEX_QUOTE_LATENCY_MS", "Simulated quote latency (default 200).",
         [](Config &c, const QString &v) { return parseInt(v, 0, 600000, &c.dex.quoteLatencyMs); }},
        {"dex-execution-latency-ms", "DEX_EXECUTION_LATENCY_MS",
         "Simulated execution latency, a value or min-max (default 2000-3000).",
         [](Config &c, const QString &v) -> std::optional<QString> {
             const QStringList parts = v.split(QLatin1Char('-'));
             int lo = 0, hi = 0;
             if (parts.size() > 2)
                 return QStringLiteral("expected N or MIN-MAX, got '%1'").arg(v);
             if (auto e = parseInt(parts.first(), 0, 3600000, &lo))
                 return e;
             hi = lo;
             if (parts.size() == 2)
                 if (auto e = parseInt(parts.last(), lo, 3600000, &hi))
                     return e;
             c.dex.executionLatencyMinMs = lo;
             c.dex.executionLatencyMaxMs = hi;
             return std::nullopt;
         }},
        {"dex-failure-rate", "DEX_FAILURE_RATE",
         "Probability that one execution attempt fails at the venue (default 0.02).",
         [](Config &c, const QString &v) { return parseDouble(v, 0, 1, &c.dex.failureRate); }},
        {"dex-fail-attempts", "DEX_FAIL_ATTEMPTS",
         "Chaos: the first N attempts of every order fail at the venue (default 0).",
         [](Config &c, const QString &v) { return parseInt(v, 0, 100, &c.dex.failAttempts); }},
        {"dex-execution-price-shift", "DEX_EXECUTION_PRICE_SHIFT",
         "Chaos: relative price move between quote and execution, e.g. -0.05 (default 0).",
         [](Config &c, const QString &v) -> std::optional<QString> {
             const QString t = v.trimmed();
             const bool negative = t.startsWith(QLatin1Char('-'));
             const auto ppm = parseTokenAmount(negative ? t.mid(1) : t, 6);
             if (t == QLatin1String("0")) {
                 c.dex.executionPriceShiftPpm = 0;
                 return std::nullopt;
             }
             if (const auto *e = std::get_if<QString>(&ppm))
                 return QStringLiteral("'%1' %2 (a fraction, e.g. -0.05)").arg(v, *e);
             const qint64 value = qint64(std::get<BaseUnits>(ppm)) * (negative ? -1 : 1);
             if (value <= -990000 || value > 10000000)
                 return QStringLiteral("'%1' must be in (-0.99, 10]").arg(v);
             c.dex.executionPriceShiftPpm = value;
             return std::nullopt;
         }},
        {"pool-sync-ms", "POOL_SYNC_MS",
         "How often this process reads the pools other processes changed (default 100).",
         [](Config &c, const QString &v) { return parseInt(v, 10, 60000, &c.dex.poolSyncMs); }},
        {"dex-arbitrage-ms", "DEX_ARBITRAGE_MS",
         "How often the arbitrage flow trades the pools toward the reference price (default 250).",
         [](Config &c, const QString &v) { return parseInt(v, 10, 60000, &c.dex.arbitrageMs); }},
        {"dex-launches", "DEX_LAUNCHES",
         "Scheduled token launches, a JSON array of {afterMs, symbol, quoteToken, price, "
         "liquidity, "
         "decimals, mint, venue} (default none).",
         [](Config &c, const QString &v) -> std::optional<QString> {
             QJsonParseError error{};
             const QJsonDocument doc = QJsonDocument::fromJson(v.toUtf8(), &error);
             if (error.error != QJsonParseError::NoError || !doc.isArray())
                 return QStringLiteral("must be a JSON array of launches");
             for (const QJsonValue &l : doc.array())
                 if (!l.isObject() || !l.toObject().value(QStringLiteral("symbol")).isString())
                     return QStringLiteral("each launch must be an object with a symbol");
             c.dex.launches = doc.array();
             return std::nullopt;
         }},
        {"dex-volatility", "DEX_VOLATILITY",
         "Price drift per sqrt(second) of the simulated pools (default 0.0002).",
         [](Config &c, const QString &v) { return parseDouble(v, 0, 1, &c.dex.volatility); }},
    };
    return specs;
}

} // namespace

int Config::effectiveWorkerThreads() const
{
    return workerThreads > 0 ? workerThreads : qMax(1, QThread::idealThreadCount());
}

QString Config::resolvedDataDir() const
{
    if (!dataDir.isEmpty())
        return QDir(dataDir).absolutePath();
    // PostgreSQL runs as the postgres user when we are root; /root is not traversable for it.
    if (::geteuid() == 0)
        return QStringLiteral("/var/lib/oee");
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
           QStringLiteral("/oee");
}

static void addOptions(QCommandLineParser &parser)
{
    parser.addHelpOption();
    parser.addOption(QCommandLineOption(QStringLiteral("server"),
                                        QStringLiteral("Run headless (no console window).")));
    for (const OptionSpec &spec : optionSpecs()) {
        parser.addOption(QCommandLineOption(
            QString::fromLatin1(spec.option),
            QStringLiteral("%1 [env %2]")
                .arg(QString::fromLatin1(spec.description), QString::fromLatin1(spec.env)),
            QStringLiteral("value")));
    }
}

QString Config::helpText()
{
    QCommandLineParser parser;
    addOptions(parser);
    return parser.helpText();
}

std::optional<QString> Config::load(const QStringList &arguments, Config *config, bool *serverMode,
                                    bool *helpShown)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("oee - order execution engine for DEX market orders"));
    addOptions(parser);
    if (!parser.parse(arguments))
        return parser.errorText();
    if (helpShown)
        *helpShown = parser.isSet(QStringLiteral("help"));
    if (serverMode)
        *serverMode = parser.isSet(QStringLiteral("server"));

    Config c = *config;
    for (const OptionSpec &spec : optionSpecs()) {
        const QString name = QString::fromLatin1(spec.option);
        QString value;
        if (parser.isSet(name))
            value = parser.value(name);
        else if (qEnvironmentVariableIsSet(spec.env))
            value = qEnvironmentVariable(spec.env);
        else
            continue;
        if (auto err = spec.set(c, value))
            return QStringLiteral("%1 (%2): %3").arg(name, QString::fromLatin1(spec.env), *err);
    }
    *config = c;
    return std::nullopt;
}

} // namespace oee
