#pragma once
#include <QJsonArray>
#include <QString>
#include <QStringList>
#include <optional>

namespace oee {

// Everything that shapes the simulated venues. Every latency and failure knob can be zero.
struct DexConfig
{
    int quoteLatencyMs = 200;
    int executionLatencyMinMs = 2000;
    int executionLatencyMaxMs = 3000;
    double failureRate = 0.02;         // probability one execution attempt fails at the venue
    int failAttempts = 0;              // chaos: the first N attempts of every order fail
    qint64 executionPriceShiftPpm = 0; // chaos: the venue returns out·(1 + shift), shift in ppm
    double volatility = 0.0002;        // per sqrt(second), the reference price's random walk
    int poolSyncMs = 100;              // how often this process reads the pools that changed
    int arbitrageMs = 250;             // how often the arbitrage flow trades toward the reference
    quint64 seed = 0;                  // 0: seeded from the clock
    // Scheduled token launches: [{"afterMs": 5000, "symbol": "WIF", "quoteToken": "SOL", …}]
    // (the fields of POST /api/launches), each run once, afterMs after the engine starts.
    QJsonArray launches;
};

struct Config
{
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 3000;
    quint16 wsPort = 0; // a second, WebSocket-only port (seed 000's ws://host:3001/ws/<id>); 0: off
    QString apiKey;     // required for writes and streams when not bound to loopback
    QString corsOrigins = QStringLiteral("*"); // "*", or comma-separated allowed origins
    QString redisUrl;                          // empty: a private redis-server under dataDir
    QString databaseUrl;                       // empty: a private PostgreSQL cluster under dataDir
    QString dataDir;

    int concurrency = 10;    // orders in flight per process, not threads
    int workerThreads = 0;   // 0: the number of cores
    int ratePerWindow = 100; // 0: unlimited
    int rateWindowMs = 60000;
    int maxAttempts = 3;
    int retryBackoffMs = 1000;          // attempt n waits backoff * 2^(n-1)
    int restingReloadMs = 60000;        // the RestingBook compares its index with PostgreSQL
    int eventLogRetentionS = 604800;    // the event log keeps this long (resume with ?since=)
    quint32 defaultSlippagePpm = 10000; // 1 %, exact (parts per million)
    int leaseMs = 30000;
    int stagedSweepMs = 10000;   // a job staged this long without being published is swept
    int reconcileMs = 10000;     // how often unfinished orders are checked for a job in Redis
    int readThreads = 2;         // query threads (each its own PostgreSQL and Redis connection)
    int maxQueuedReads = 1000;   // reads waiting beyond this are answered 503 with Retry-After
    int shutdownGraceMs = 10000; // SIGTERM: in-flight orders may finish within this
    int maxBodyBytes = 16 * 1024;
    int requestTimeoutMs = 10000;           // an incomplete HTTP request is dropped after this
    int wsMaxBufferBytes = 8 * 1024 * 1024; // a WebSocket client further behind is dropped
    bool jsonLogs = false;                  // --log-format json
    int chaosCrashAfterLandings = 0; // fault injection: SIGKILL itself right after the Nth landing
    int chaosExitAfterCommits = 0;   // fault injection: die between the Nth commit and its publish
    // all: API and workers; api: HTTP/WS, accepts and streams, executes nothing; worker:
    // executes queued orders, serves nothing. Several processes share Redis and PostgreSQL.
    QString role = QStringLiteral("all");
    bool runWorkers = true; // false: accept and queue orders, execute none
    QString queuePrefix = QStringLiteral("oee:");
    int queueShards = 0;    // 0: 1 on a single Redis, 8 on a Redis Cluster
    QString screenshotPath; // console: save a screenshot here after screenshotAfterMs, then quit
    int screenshotAfterMs = 10000;
    int windowWidth = 0; // console: 0 = its default
    int windowHeight = 0;
    QString palette = QStringLiteral("system"); // console: light, dark, system
    QString connectUrl; // console: a remote engine's base URL (no engine in this process)
    DexConfig dex;

    [[nodiscard]] int effectiveWorkerThreads() const;
    [[nodiscard]] QString resolvedDataDir() const;

    // Fills a Config from defaults, then environment variables, then command-line options.
    // Returns an error message (and leaves *config untouched) when a value does not parse.
    static std::optional<QString> load(const QStringList &arguments, Config *config,
                                       bool *serverMode, bool *helpShown);
    static QString helpText();
};

} // namespace oee
