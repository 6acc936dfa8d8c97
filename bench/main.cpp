// oee-bench: drives a running `oee --server` over loopback exactly as external clients do
// (HTTP POSTs on keep-alive connections, WebSocket subscriptions) and reports submission and
// end-to-end latency, throughput, the server's RSS and CPU, and whether anything went missing.
// `--scenario a|b|c|d|e|r` starts its own server with the scenario's settings.
#include "runtime/LocalRedisCluster.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTimer>
#include <QUrl>
#include <QUrlQuery>
#include <QWebSocket>
#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

qint64 nowUs()
{
    static QElapsedTimer t = [] {
        QElapsedTimer e;
        e.start();
        return e;
    }();
    return t.nsecsElapsed() / 1000;
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, size_t(std::ceil(p / 100.0 * double(v.size())) - 1));
    return v[i];
}

// A minimal HTTP/1.1 keep-alive client: one request in flight per connection.
class HttpConnection : public QObject
{
public:
    using Done = std::function<void(int status, const QByteArray &body, qint64 sentUs)>;
    HttpConnection(const QString &host, quint16 port, QObject *parent) : QObject(parent)
    {
        m_socket.setSocketOption(QAbstractSocket::LowDelayOption, 1);
        connect(&m_socket, &QTcpSocket::readyRead, this, [this] { onReadyRead(); });
        connect(&m_socket, &QTcpSocket::disconnected, this, [this] {
            if (m_done) {
                auto done = std::exchange(m_done, {});
                done(0, {}, m_sentUs);
            }
        });
        m_socket.connectToHost(host, port);
        m_socket.waitForConnected(5000);
    }
    [[nodiscard]] bool busy() const { return bool(m_done); }
    void post(const QByteArray &path, const QByteArray &body, Done done)
    {
        m_done = std::move(done);
        m_sentUs = nowUs();
        m_socket.write("POST " + path +
                       " HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                       "Content-Length: " +
                       QByteArray::number(body.size()) + "\r\n\r\n" + body);
    }

private:
    void onReadyRead()
    {
        m_buffer += m_socket.readAll();
        const int headerEnd = m_buffer.indexOf("\r\n\r\n");
        if (headerEnd < 0)
            return;
        const QByteArray head = m_buffer.left(headerEnd).toLower();
        const int cl = head.indexOf("content-length:");
        const int length =
            cl < 0 ? 0 : head.mid(cl + 15, head.indexOf("\r\n", cl) - cl - 15).trimmed().toInt();
        if (m_buffer.size() < headerEnd + 4 + length)
            return;
        const int status = m_buffer.mid(9, 3).toInt();
        const QByteArray body = m_buffer.mid(headerEnd + 4, length);
        m_buffer.remove(0, headerEnd + 4 + length);
        if (auto done = std::exchange(m_done, {}))
            done(status, body, m_sentUs);
    }
    QTcpSocket m_socket;
    QByteArray m_buffer;
    Done m_done;
    qint64 m_sentUs = 0;
};

// WebSocket subscribers as lean as clients can be: one thread, epoll, frames read as bytes
// and their events counted by the eventIds at their ends, so that a thousand of them measure
// the server's fan-out rather than this process's own overhead (QWebSocket decodes every
// message to a QString, and Qt's per-socket notifiers cost more than the read). Every 8th
// frame of each subscriber is read whole: each of its events' delivery latency, from its
// timestamp. A batched stream (?batch=1) carries a JSON array per frame.
class SubscriberSwarm
{
public:
    struct Totals
    {
        qint64 events = 0;
        qint64 frames = 0;
        qint64 gaps = 0;      // a frame whose first eventId does not follow the previous one's
        qint64 malformed = 0; // no eventId, or a sampled frame holding other ids than it says
        std::vector<double> latencyMs; // every event of every 8th frame
    };

    ~SubscriberSwarm() { stop(); }

    bool start(const QString &host, quint16 port, const QByteArray &path, int n)
    {
        m_epoll = epoll_create1(EPOLL_CLOEXEC);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        inet_pton(AF_INET, host.toLatin1().constData(), &addr.sin_addr);
        const QByteArray hello = "GET " + path + " HTTP/1.1\r\nHost: " + host.toUtf8() +
                                 "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                 "Sec-WebSocket-Version: 13\r\n\r\n";
        m_conns.resize(size_t(n));
        for (int i = 0; i < n; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
                ::send(fd, hello.constData(), size_t(hello.size()), MSG_NOSIGNAL) != hello.size()) {
                if (fd >= 0)
                    ::close(fd);
                return false;
            }
            m_conns[size_t(i)].fd = fd;
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u32 = quint32(i);
            epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
        }
        m_thread = std::thread([this] { loop(); });
        return true;
    }

    void stop()
    {
        if (!m_thread.joinable())
            return;
        m_stop = true;
        m_thread.join();
        for (Conn &c : m_conns)
            if (c.fd >= 0)
                ::close(c.fd);
        ::close(m_epoll);
    }

    [[nodiscard]] int ready() const { return m_ready.load(); }
    [[nodiscard]] int closed() const { return m_closed.load(); }
    // Events received so far, all subscribers together (any thread).
    [[nodiscard]] qint64 delivered() const { return m_delivered.load(std::memory_order_relaxed); }
    // Only once stop() has returned.
    [[nodiscard]] const Totals &totals() const { return m_totals; }

private:
    struct Conn
    {
        int fd = -1;
        bool upgraded = false;
        bool snapshot = false;
        bool closed = false;
        std::string buffer;
        qint64 lastEventId = 0; // of the last frame
        quint64 frames = 0;
    };

    void loop()
    {
        std::vector<char> chunk(1 << 18);
        epoll_event events[256];
        while (!m_stop) {
            const int n = epoll_wait(m_epoll, events, 256, 100);
            for (int i = 0; i < n; ++i) {
                Conn &c = m_conns[events[i].data.u32];
                const ssize_t got = ::recv(c.fd, chunk.data(), chunk.size(), 0);
                if (got <= 0) {
                    if (got == 0 || (errno != EAGAIN && errno != EINTR))
                        close(c);
                    continue;
                }
                // Parsed where it was read; only an incomplete frame's bytes are kept.
                if (c.buffer.empty()) {
                    const std::string_view data(chunk.data(), size_t(got));
                    const size_t used = parse(c, data);
                    c.buffer.assign(data.substr(used));
                } else {
                    c.buffer.append(chunk.data(), size_t(got));
                    const size_t used = parse(c, c.buffer);
                    c.buffer.erase(0, used);
                }
            }
        }
    }

    void close(Conn &c)
    {
        if (c.closed)
            return;
        c.closed = true;
        ++m_closed;
        epoll_ctl(m_epoll, EPOLL_CTL_DEL, c.fd, nullptr);
    }

    // The bytes of whole frames (and of the upgrade answer) in b, handled.
    size_t parse(Conn &c, std::string_view b)
    {
        size_t pos = 0;
        if (!c.upgraded) {
            const size_t end = b.find("\r\n\r\n");
            if (end == std::string_view::npos)
                return 0;
            c.upgraded = true;
            pos = end + 4;
        }
        const auto *u = reinterpret_cast<const unsigned char *>(b.data());
        while (b.size() - pos >= 2) {
            const int opcode = u[pos] & 0x0f;
            quint64 len = u[pos + 1] & 0x7f;
            size_t header = 2;
            if (len == 126) {
                if (b.size() - pos < 4)
                    break;
                len = (quint64(u[pos + 2]) << 8) | u[pos + 3];
                header = 4;
            } else if (len == 127) {
                if (b.size() - pos < 10)
                    break;
                len = 0;
                for (int i = 0; i < 8; ++i)
                    len = (len << 8) | u[pos + 2 + i];
                header = 10;
            }
            if (b.size() - pos - header < len)
                break;
            if (opcode == 1)
                onText(c, std::string_view(b.data() + pos + header, size_t(len)));
            else if (opcode == 8)
                close(c);
            pos += header + size_t(len);
        }
        return pos;
    }

    void onText(Conn &c, std::string_view text)
    {
        if (!c.snapshot) {
            c.snapshot = text.find("\"type\":\"snapshot\"") != std::string_view::npos;
            m_ready += c.snapshot;
            return;
        }
        ++m_totals.frames;
        // The stream of all orders carries every logged event once, in eventId order, and
        // each event object starts with its eventId: a frame (one event, or a batch's array)
        // holds the ids from its first event's to its last's. Only those two are read, so
        // that this process reads frames at a fraction of the server's cost of writing them.
        static constexpr std::string_view kId = "{\"eventId\":";
        const size_t firstAt = text.find(kId);
        const size_t lastAt = text.rfind(kId);
        if (firstAt == std::string_view::npos) {
            ++m_totals.malformed;
            return;
        }
        const qint64 first = number(text, firstAt + kId.size());
        const qint64 last = number(text, lastAt + kId.size());
        if (first <= 0 || last < first) {
            ++m_totals.malformed;
            return;
        }
        if (c.lastEventId != 0 && first != c.lastEventId + 1)
            ++m_totals.gaps; // a hole or a repeat between two frames
        c.lastEventId = last;
        const qint64 count = last - first + 1;
        m_totals.events += count;
        m_delivered.fetch_add(count, std::memory_order_relaxed);
        // Every 8th frame of each subscriber is read whole: the delivery latency of each of
        // its events, and whether it holds exactly the ids its ends say.
        if ((c.frames++ & 7) == 0 && sampleFrame(text) != count)
            ++m_totals.malformed;
    }

    static qint64 number(std::string_view text, size_t at)
    {
        qint64 v = 0;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9')
            v = v * 10 + (text[at++] - '0');
        return v;
    }

    // The events of a frame, each one's delay since its timestamp recorded; returns how many.
    qint64 sampleFrame(std::string_view text)
    {
        static constexpr std::string_view kStatus = "\"type\":\"status\"";
        static constexpr std::string_view kStamp = "\"timestamp\":\"";
        static const std::boyer_moore_horspool_searcher statusSearch(kStatus.begin(),
                                                                     kStatus.end());
        const auto find = [&](size_t from) {
            const auto hit = std::search(text.begin() + qsizetype(from), text.end(), statusSearch);
            return hit == text.end() ? std::string_view::npos : size_t(hit - text.begin());
        };
        const qint64 now = QDateTime::currentMSecsSinceEpoch() % 86400000LL;
        qint64 found = 0;
        size_t at = 0, previous = 0;
        while ((at = find(at)) != std::string_view::npos) {
            ++found;
            const size_t marker = at;
            at += kStatus.size();
            // This event's timestamp: between the previous event's marker and this one's, or
            // after this one (the key order of the event object decides).
            size_t t = text.rfind(kStamp, marker);
            if (t == std::string_view::npos || t < previous)
                t = text.find(kStamp, at);
            previous = marker;
            if (t == std::string_view::npos || t + kStamp.size() + 23 > text.size())
                continue;
            // "…THH:MM:SS.mmmZ": milliseconds of the day, against now (same host clock).
            const char *ts = text.data() + t + kStamp.size() + 11;
            const auto num = [ts](int from, int digits) {
                qint64 v = 0;
                for (int i = 0; i < digits; ++i)
                    v = v * 10 + (ts[from + i] - '0');
                return v;
            };
            const qint64 sent =
                num(0, 2) * 3600000LL + num(3, 2) * 60000LL + num(6, 2) * 1000LL + num(9, 3);
            m_totals.latencyMs.push_back(double((now - sent + 86400000LL) % 86400000LL));
        }
        return found;
    }

    int m_epoll = -1;
    std::vector<Conn> m_conns;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_ready{0};
    std::atomic<int> m_closed{0};
    std::atomic<qint64> m_delivered{0};
    Totals m_totals;
};

struct ProcSample
{
    qint64 rssKb = 0;
    double cpuSeconds = 0;
};

ProcSample sampleProcess(qint64 pid)
{
    ProcSample s;
    if (pid <= 0)
        return s;
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (status.open(QIODevice::ReadOnly)) {
        for (const QByteArray &line : status.readAll().split('\n'))
            if (line.startsWith("VmRSS:"))
                s.rssKb = line.mid(6).trimmed().split(' ').first().toLongLong();
    }
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (stat.open(QIODevice::ReadOnly)) {
        const QByteArray text = stat.readAll();
        const QList<QByteArray> f = text.mid(text.lastIndexOf(')') + 2).split(' ');
        if (f.size() > 13)
            s.cpuSeconds =
                double(f[11].toLongLong() + f[12].toLongLong()) / double(sysconf(_SC_CLK_TCK));
    }
    return s;
}

struct Settings
{
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 3000;
    int connections = 32;
    double durationS = 20;
    double rate = 0;      // offered orders/s; 0: as fast as the connections go (closed loop)
    int subscribers = 0;  // extra all-orders WebSocket subscribers (delivery latency)
    bool batched = false; // they ask for batched frames (?batch=1)
    qint64 serverPid = 0;
    QString databaseUrl;
    int drainTimeoutS = 180;
};

class Bench : public QObject
{
public:
    explicit Bench(Settings s) : m_s(std::move(s)) {}

    QJsonObject run()
    {
        m_idle = sampleProcess(m_s.serverPid);
        // The all-orders stream tells when each order ends.
        m_events = std::make_unique<QWebSocket>();
        connect(m_events.get(), &QWebSocket::textMessageReceived, this,
                [this](const QString &m) { onEvent(m); });
        m_events->open(QUrl(QStringLiteral("ws://%1:%2/ws/orders").arg(m_s.host).arg(m_s.port)));
        waitFor([this] { return m_snapshotSeen; }, 10000);
        // The subscribers read on a thread of their own: reading hundreds of MB/s must not
        // delay this thread's HTTP client (and so the submission latency it measures).
        if (m_s.subscribers > 0) {
            const QByteArray path = m_s.batched ? "/ws/orders?batch=1" : "/ws/orders";
            if (!m_swarm.start(m_s.host, m_s.port, path, m_s.subscribers))
                std::fprintf(stderr, "could not connect %d subscribers\n", m_s.subscribers);
            waitFor([&] { return m_swarm.ready() + m_swarm.closed() >= m_s.subscribers; }, 60000);
        }

        for (int i = 0; i < m_s.connections; ++i)
            m_conns.append(new HttpConnection(m_s.host, m_s.port, this));

        m_startUs = nowUs();
        m_endSubmitUs = m_startUs + qint64(m_s.durationS * 1e6);
        QTimer sampler;
        connect(&sampler, &QTimer::timeout, this, [this] {
            const ProcSample p = sampleProcess(m_s.serverPid);
            m_peakRssKb = std::max(m_peakRssKb, p.rssKb);
        });
        sampler.start(250);
        QTimer pacer;
        if (m_s.rate > 0) {
            connect(&pacer, &QTimer::timeout, this, [this] { pace(); });
            pacer.start(1);
        } else {
            for (HttpConnection *c : m_conns)
                sendNext(c);
        }
        waitFor([this] { return nowUs() >= m_endSubmitUs && m_inFlightPosts == 0; },
                int(m_s.durationS * 1000) + 60000);
        pacer.stop();
        const qint64 submitDoneUs = nowUs();
        // Drain: every accepted order must reach a terminal status.
        waitFor([this] { return m_terminal.size() >= m_accepted.size(); },
                m_s.drainTimeoutS * 1000);
        const qint64 drainedUs = nowUs();
        sampler.stop();
        const ProcSample after = sampleProcess(m_s.serverPid);
        m_peakRssKb = std::max(m_peakRssKb, after.rssKb);
        // Fan-out stragglers: what is still on its way is late, not lost (its delay counts in
        // the delivery percentiles); lost is what has not come 10 s after the last order ended.
        if (m_s.subscribers > 0) {
            const qint64 expected = m_eventsSeen * m_s.subscribers;
            waitFor([&] { return m_swarm.delivered() >= expected; }, 10000);
        }
        const int subscribersDropped = m_swarm.closed();
        m_swarm.stop();
        const SubscriberSwarm::Totals &fanout = m_swarm.totals();

        std::vector<double> e2e;
        int confirmed = 0, failed = 0;
        qint64 lastTerminalUs = m_startUs;
        for (auto it = m_terminal.cbegin(); it != m_terminal.cend(); ++it) {
            (it->second ? confirmed : failed)++;
            lastTerminalUs = std::max(lastTerminalUs, it->first);
            if (m_accepted.contains(it.key()))
                e2e.push_back(double(it->first - m_accepted.value(it.key())) / 1000.0);
        }
        int missing = 0;
        for (auto it = m_accepted.cbegin(); it != m_accepted.cend(); ++it)
            missing += !m_terminal.contains(it.key());

        const double submitSeconds = double(submitDoneUs - m_startUs) / 1e6;
        const double completeSeconds = double(lastTerminalUs - m_startUs) / 1e6;
        QJsonObject r{
            {QStringLiteral("offeredRate"), m_s.rate},
            {QStringLiteral("connections"), m_s.connections},
            {QStringLiteral("durationS"), m_s.durationS},
            {QStringLiteral("submitted"), double(m_accepted.size())},
            {QStringLiteral("rejected"), double(m_rejected)},
            {QStringLiteral("submissionsPerS"), double(m_accepted.size()) / submitSeconds},
            {QStringLiteral("submitP50Ms"), percentile(m_submitMs, 50)},
            {QStringLiteral("submitP99Ms"), percentile(m_submitMs, 99)},
            {QStringLiteral("submitMaxMs"), percentile(m_submitMs, 100)},
            {QStringLiteral("e2eP50Ms"), percentile(e2e, 50)},
            {QStringLiteral("e2eP99Ms"), percentile(e2e, 99)},
            {QStringLiteral("completedPerS"), double(m_terminal.size()) / completeSeconds},
            {QStringLiteral("confirmed"), confirmed},
            {QStringLiteral("failed"), failed},
            {QStringLiteral("missing"), missing},
            {QStringLiteral("drainS"), double(drainedUs - submitDoneUs) / 1e6},
            {QStringLiteral("serverRssIdleMb"), double(m_idle.rssKb) / 1024.0},
            {QStringLiteral("serverRssPeakMb"), double(m_peakRssKb) / 1024.0},
            {QStringLiteral("serverCpuS"), after.cpuSeconds - m_idle.cpuSeconds},
        };
        if (m_s.subscribers > 0) {
            const double expected = double(m_eventsSeen) * m_s.subscribers;
            r.insert(QStringLiteral("subscribers"), m_s.subscribers);
            r.insert(QStringLiteral("subscribersDropped"), subscribersDropped);
            r.insert(QStringLiteral("fanoutEvents"), double(fanout.events));
            r.insert(QStringLiteral("fanoutFrames"), double(fanout.frames));
            r.insert(QStringLiteral("fanoutExpected"), expected);
            r.insert(QStringLiteral("fanoutLost"), expected - double(fanout.events));
            r.insert(QStringLiteral("fanoutGaps"), double(fanout.gaps));
            r.insert(QStringLiteral("fanoutMalformed"), double(fanout.malformed));
            r.insert(QStringLiteral("deliveryP50Ms"), percentile(fanout.latencyMs, 50));
            r.insert(QStringLiteral("deliveryP99Ms"), percentile(fanout.latencyMs, 99));
        }
        if (!m_s.databaseUrl.isEmpty())
            r.insert(QStringLiteral("postgres"), verifyPostgres());
        return r;
    }

private:
    void waitFor(const std::function<bool()> &done, int timeoutMs)
    {
        // Sleep in the event loop until something happens; the tick re-checks the condition.
        const qint64 deadline = nowUs() + qint64(timeoutMs) * 1000;
        QTimer tick;
        tick.start(20);
        while (!done() && nowUs() < deadline)
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    }

    QByteArray nextOrder()
    {
        static const char *pairs[][2] = {
            {"SOL", "USDC"}, {"USDC", "SOL"}, {"SOL", "USDT"}, {"JUP", "USDC"}, {"BONK", "SOL"}};
        const auto &p = pairs[m_sent % 5];
        const double amount = 0.5 + double(m_sent % 17) * 0.25;
        return QByteArray("{\"orderType\":\"market\",\"tokenIn\":\"") + p[0] +
               "\",\"tokenOut\":\"" + p[1] + "\",\"amount\":" + QByteArray::number(amount) +
               ",\"slippage\":0.05}";
    }

    void sendNext(HttpConnection *c)
    {
        if (nowUs() >= m_endSubmitUs)
            return;
        ++m_inFlightPosts;
        ++m_sent;
        c->post("/api/orders/execute", nextOrder(),
                [this, c](int status, const QByteArray &body, qint64 sentUs) {
                    --m_inFlightPosts;
                    const qint64 now = nowUs();
                    m_submitMs.push_back(double(now - sentUs) / 1000.0);
                    if (status == 200) {
                        const int i = body.indexOf("\"orderId\":\"");
                        m_accepted.insert(QString::fromLatin1(body.mid(i + 11, 36)), sentUs);
                    } else {
                        ++m_rejected;
                    }
                    if (m_s.rate <= 0)
                        sendNext(c);
                });
    }

    void pace()
    {
        const double elapsed = double(nowUs() - m_startUs) / 1e6;
        const qint64 due = qint64(elapsed * m_s.rate);
        while (m_sent < due && nowUs() < m_endSubmitUs) {
            HttpConnection *free = nullptr;
            for (HttpConnection *c : m_conns)
                if (!c->busy()) {
                    free = c;
                    break;
                }
            if (!free)
                break; // all connections busy: the offered rate is not reached (reported)
            sendNext(free);
        }
    }

    void onEvent(const QString &text)
    {
        const QJsonObject m = QJsonDocument::fromJson(text.toUtf8()).object();
        if (m.value(QStringLiteral("type")).toString() == QStringLiteral("snapshot")) {
            m_snapshotSeen = true;
            return;
        }
        ++m_eventsSeen;
        const QString s = m.value(QStringLiteral("status")).toString();
        if (s == QStringLiteral("confirmed") || s == QStringLiteral("failed"))
            m_terminal.insert(m.value(QStringLiteral("orderId")).toString(),
                              {nowUs(), s == QStringLiteral("confirmed")});
    }

    QJsonObject verifyPostgres()
    {
        const QUrl url(m_s.databaseUrl);
        QSqlDatabase::removeDatabase(QStringLiteral("bench")); // a previous run's
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), QStringLiteral("bench"));
        db.setHostName(
            QUrlQuery(url).hasQueryItem(QStringLiteral("host"))
                ? QUrlQuery(url).queryItemValue(QStringLiteral("host"), QUrl::FullyDecoded)
                : url.host());
        db.setPort(url.port(5432));
        db.setUserName(url.userName());
        db.setPassword(url.password());
        db.setDatabaseName(url.path().mid(1));
        QJsonObject out;
        if (!db.open()) {
            out.insert(QStringLiteral("error"), db.lastError().text());
            return out;
        }
        QSqlQuery q(db);
        // Every accepted order is terminal in PostgreSQL and has one event row per status change.
        q.exec(QStringLiteral("SELECT count(*) FILTER (WHERE status IN ('confirmed','failed')), "
                              "count(*) FILTER (WHERE last_seq <> (SELECT count(*) FROM "
                              "order_events e WHERE e.order_id = o.id)) "
                              "FROM orders o"));
        if (q.next()) {
            out.insert(QStringLiteral("terminalOrders"), q.value(0).toDouble());
            out.insert(QStringLiteral("ordersWithEventGaps"), q.value(1).toDouble());
        }
        q.exec(QStringLiteral("SELECT count(*) FROM order_events"));
        if (q.next())
            out.insert(QStringLiteral("eventRows"), q.value(0).toDouble());
        return out;
    }

    Settings m_s;
    ProcSample m_idle;
    qint64 m_peakRssKb = 0;
    std::unique_ptr<QWebSocket> m_events;
    SubscriberSwarm m_swarm;
    QList<HttpConnection *> m_conns;
    bool m_snapshotSeen = false;
    qint64 m_startUs = 0;
    qint64 m_endSubmitUs = 0;
    qint64 m_sent = 0;
    int m_inFlightPosts = 0;
    int m_rejected = 0;
    qint64 m_eventsSeen = 0;
    std::vector<double> m_submitMs;
    QHash<QString, qint64> m_accepted;                  // orderId → POST sent (µs)
    QHash<QString, std::pair<qint64, bool>> m_terminal; // orderId → (terminal seen, confirmed)
};

// Scenario (e): `clients` clients, each doing what the seeds' clients do — POST an order, open
// its own stream (/ws/orders/<id>), read until the terminal event, close. Every lifecycle must
// complete and be whole (the snapshot's events and the live ones together are seq 1..n, once
// each, ending terminal). Reports POST → terminal latency and the streams opened per second.
class LifecycleScenario : public QObject
{
public:
    LifecycleScenario(Settings s, int clients) : m_s(std::move(s)), m_clients(clients) {}

    QJsonObject run()
    {
        for (int i = 0; i < m_s.connections; ++i)
            m_conns.append(new HttpConnection(m_s.host, m_s.port, this));
        m_startUs = nowUs();
        for (HttpConnection *c : std::as_const(m_conns))
            post(c);
        waitUntilDone(m_s.drainTimeoutS * 1000);
        const double seconds = double(nowUs() - m_startUs) / 1e6;
        QJsonObject r{{QStringLiteral("clients"), m_clients},
                      {QStringLiteral("submitted"), m_submitted},
                      {QStringLiteral("rejected"), m_rejected},
                      {QStringLiteral("streamsOpened"), m_opened},
                      {QStringLiteral("completed"), m_completed},
                      {QStringLiteral("whole"), m_whole},
                      {QStringLiteral("broken"), m_broken},
                      {QStringLiteral("missing"), m_clients - m_completed},
                      {QStringLiteral("durationS"), seconds},
                      {QStringLiteral("streamsPerS"), double(m_opened) / seconds},
                      {QStringLiteral("postToTerminalP50Ms"), percentile(m_e2eMs, 50)},
                      {QStringLiteral("postToTerminalP99Ms"), percentile(m_e2eMs, 99)},
                      {QStringLiteral("postToTerminalMaxMs"), percentile(m_e2eMs, 100)}};
        return r;
    }

private:
    void waitUntilDone(int timeoutMs)
    {
        const qint64 deadline = nowUs() + qint64(timeoutMs) * 1000;
        QTimer tick;
        tick.start(20);
        while (m_completed + m_broken + m_rejected < m_clients && nowUs() < deadline)
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    }

    void post(HttpConnection *c)
    {
        if (m_sent >= m_clients)
            return;
        ++m_sent;
        const QByteArray body =
            "{\"orderType\":\"market\",\"tokenIn\":\"SOL\",\"tokenOut\":\"USDC\","
            "\"amount\":0.5,\"slippage\":0.05}";
        c->post("/api/orders/execute", body,
                [this, c](int status, const QByteArray &reply, qint64 sentUs) {
                    if (status == 200) {
                        ++m_submitted;
                        const int i = reply.indexOf("\"orderId\":\"");
                        follow(QString::fromLatin1(reply.mid(i + 11, 36)), sentUs);
                    } else {
                        ++m_rejected;
                    }
                    post(c);
                });
    }

    void follow(const QString &id, qint64 sentUs)
    {
        auto *ws = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
        auto seqs = std::make_shared<QList<int>>();
        auto ended = std::make_shared<bool>(false);
        connect(ws, &QWebSocket::connected, this, [this] { ++m_opened; });
        connect(ws, &QWebSocket::textMessageReceived, this, [=, this](const QString &text) {
            const QJsonObject m = QJsonDocument::fromJson(text.toUtf8()).object();
            QString last;
            if (m.value(QStringLiteral("type")).toString() == QStringLiteral("snapshot")) {
                for (const QJsonValue &e : m.value(QStringLiteral("events")).toArray()) {
                    seqs->append(e.toObject().value(QStringLiteral("seq")).toInt());
                    last = e.toObject().value(QStringLiteral("status")).toString();
                }
            } else if (m.value(QStringLiteral("type")).toString() == QStringLiteral("status")) {
                seqs->append(m.value(QStringLiteral("seq")).toInt());
                last = m.value(QStringLiteral("status")).toString();
            }
            if (*ended || (last != QStringLiteral("confirmed") && last != QStringLiteral("failed")))
                return;
            *ended = true;
            ++m_completed;
            m_e2eMs.push_back(double(nowUs() - sentUs) / 1000.0);
            bool whole = true;
            for (qsizetype i = 0; i < seqs->size(); ++i)
                whole = whole && seqs->at(i) == int(i) + 1;
            m_whole += whole;
            ws->close();
        });
        connect(ws, &QWebSocket::disconnected, this, [=, this] {
            if (!*ended) {
                *ended = true;
                ++m_broken;
            }
            ws->deleteLater();
        });
        ws->open(
            QUrl(QStringLiteral("ws://%1:%2/ws/orders/%3").arg(m_s.host).arg(m_s.port).arg(id)));
    }

    Settings m_s;
    int m_clients;
    QList<HttpConnection *> m_conns;
    qint64 m_startUs = 0;
    int m_sent = 0, m_submitted = 0, m_rejected = 0, m_opened = 0, m_completed = 0, m_whole = 0,
        m_broken = 0;
    std::vector<double> m_e2eMs;
};

// Base units as exact decimal text in token units.
QByteArray units(quint64 raw, int decimals)
{
    QByteArray d = QByteArray::number(raw);
    while (d.size() <= decimals)
        d.prepend('0');
    QByteArray out = d.left(d.size() - decimals);
    QByteArray frac = d.mid(d.size() - decimals);
    while (frac.endsWith('0'))
        frac.chop(1);
    return frac.isEmpty() ? out : out + '.' + frac;
}

// Scenario (r): resting limit orders. Market orders flow for a while without resting orders
// and again with `resting` of them in the book (far from the price, on the pairs the flow
// trades); then `crossers` limit orders just above the price are crossed by one large buy and
// the time from that pool change to each order's `routing` is read back from PostgreSQL.
class RestingScenario : public QObject
{
public:
    RestingScenario(Settings s, int resting, int crossers)
        : m_s(std::move(s)), m_resting(resting), m_crossers(crossers)
    {
    }

    QJsonObject run()
    {
        QJsonObject out;
        Settings flow = m_s;
        {
            Bench before(flow);
            out.insert(QStringLiteral("marketFlowWithout"), summary(before.run()));
        }
        for (int i = 0; i < m_s.connections; ++i)
            m_conns.append(new HttpConnection(m_s.host, m_s.port, this));
        const quint64 solUsdc = quote("SOL", "USDC", "1");
        const quint64 usdcSol = quote("USDC", "SOL", "10");
        if (!solUsdc || !usdcSol) {
            out.insert(QStringLiteral("error"), QStringLiteral("no quote"));
            return out;
        }
        const qint64 rssBefore = sampleProcess(m_s.serverPid).rssKb;
        // Far from the price: sells of SOL 10 %–60 % above it, buys 10 %–60 % below.
        QList<QByteArray> bodies;
        bodies.reserve(m_resting);
        for (int i = 0; i < m_resting; ++i) {
            const quint64 step = 1100 + quint64(i % 5000); // 1.1 … 1.6
            if (i % 2 == 0)
                bodies << "{\"orderType\":\"limit\",\"tokenIn\":\"SOL\",\"tokenOut\":\"USDC\","
                          "\"amount\":\"1\",\"minAmountOut\":\"" +
                              units(solUsdc * step / 1000, 6) + "\"}";
            else
                bodies << "{\"orderType\":\"limit\",\"tokenIn\":\"USDC\",\"tokenOut\":\"SOL\","
                          "\"amount\":\"10\",\"minAmountOut\":\"" +
                              units(usdcSol * step / 1000, 9) + "\"}";
        }
        const qint64 placeStart = nowUs();
        const int placed = submitAll(bodies);
        waitOpen(placed, 600);
        const double placeS = double(nowUs() - placeStart) / 1e6;
        const qint64 rssResting = sampleProcess(m_s.serverPid).rssKb;
        out.insert(QStringLiteral("restingPlaced"), placed);
        out.insert(QStringLiteral("restingOpen"), double(openCount()));
        out.insert(QStringLiteral("restingPlaceS"), placeS);
        out.insert(QStringLiteral("serverRssBeforeRestingMb"), double(rssBefore) / 1024.0);
        out.insert(QStringLiteral("serverRssRestingMb"), double(rssResting) / 1024.0);
        // The burst of 100,000 inserts sets autovacuum off on orders and order_events, which
        // would take a core from the flow for a while: what is measured below is the steady
        // state with that many orders resting, so vacuum first (and report how long it took).
        const qint64 vacuumStart = nowUs();
        QSqlQuery(db()).exec(QStringLiteral("VACUUM (ANALYZE) orders, order_events"));
        out.insert(QStringLiteral("vacuumAfterPlacingS"), double(nowUs() - vacuumStart) / 1e6);
        {
            Bench with(flow);
            out.insert(QStringLiteral("marketFlowWith"), summary(with.run()));
        }
        out.insert(QStringLiteral("restingStillOpen"), double(openCount()));

        // The crossing: limits 0.2 % above the price now, then one large buy of SOL.
        const quint64 tenth = quote("SOL", "USDC", "0.1");
        QList<QByteArray> crossers;
        for (int i = 0; i < m_crossers; ++i)
            crossers << "{\"orderType\":\"limit\",\"tokenIn\":\"SOL\",\"tokenOut\":\"USDC\","
                        "\"amount\":\"0.1\",\"minAmountOut\":\"" +
                            units(tenth * 1002 / 1000, 6) + "\"}";
        const qint64 openBefore = openCount();
        QStringList crosserIds;
        submitAll(crossers, &crosserIds);
        waitOpen(int(openBefore) + m_crossers, 120);
        submitAll({"{\"tokenIn\":\"USDC\",\"tokenOut\":\"SOL\",\"amount\":\"4000000\",\"slippage\":"
                   "0.5}"});
        const qint64 deadline = nowUs() + 60'000'000;
        QJsonObject trigger;
        while (nowUs() < deadline) {
            pause(200);
            trigger = triggerLatency(crosserIds);
            if (trigger.value(QStringLiteral("routed")).toInt() >= m_crossers)
                break;
        }
        out.insert(QStringLiteral("trigger"), trigger);

        // One by one: 100 limit orders 0.2 %, 0.25 %, 0.3 % … above the price, crossed by a
        // sequence of small buys, each waiting for the last: a crossing fires one or two orders,
        // as a market moving by itself does.
        const quint64 tenthNow = quote("SOL", "USDC", "0.1");
        QList<QByteArray> ladder;
        for (int i = 0; i < 100; ++i)
            ladder << "{\"orderType\":\"limit\",\"tokenIn\":\"SOL\",\"tokenOut\":\"USDC\","
                      "\"amount\":\"0.1\",\"minAmountOut\":\"" +
                          units(tenthNow * (10020 + 5 * quint64(i)) / 10000, 6) + "\"}";
        const qint64 openNow = openCount();
        QStringList ladderIds;
        submitAll(ladder, &ladderIds);
        waitOpen(int(openNow) + 100, 120);
        QJsonObject oneByOne;
        for (int step = 0; step < 400; ++step) {
            submitAll({"{\"tokenIn\":\"USDC\",\"tokenOut\":\"SOL\",\"amount\":\"150000\","
                       "\"slippage\":0.5}"});
            pause(60);
            oneByOne = triggerLatency(ladderIds);
            if (oneByOne.value(QStringLiteral("routed")).toInt() >= 100)
                break;
        }
        out.insert(QStringLiteral("triggerOneByOne"), oneByOne);
        return out;
    }

private:
    static QJsonObject summary(const QJsonObject &r)
    {
        QJsonObject o;
        for (const char *k : {"completedPerS", "submitP50Ms", "submitP99Ms", "e2eP99Ms", "missing",
                              "serverRssPeakMb"})
            o.insert(QLatin1String(k), r.value(QLatin1String(k)));
        return o;
    }

    void pause(int ms)
    {
        const qint64 until = nowUs() + qint64(ms) * 1000;
        QTimer tick;
        tick.start(10);
        while (nowUs() < until)
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    }

    quint64 quote(const char *in, const char *out, const char *amount)
    {
        QTcpSocket sock;
        sock.connectToHost(m_s.host, m_s.port);
        if (!sock.waitForConnected(5000))
            return 0;
        sock.write(QByteArray("GET /api/quotes?tokenIn=") + in + "&tokenOut=" + out +
                   "&amount=" + amount + " HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n");
        QByteArray all;
        while (sock.waitForReadyRead(5000))
            all += sock.readAll();
        const QJsonObject o =
            QJsonDocument::fromJson(all.mid(all.indexOf("\r\n\r\n") + 4)).object();
        return o.value(QStringLiteral("plan"))
            .toObject()
            .value(QStringLiteral("amountOutRaw"))
            .toString()
            .toULongLong();
    }

    // Posts every body; returns how many were accepted, their ids in *ids if given.
    int submitAll(const QList<QByteArray> &bodies, QStringList *ids = nullptr)
    {
        int next = 0, done = 0, accepted = 0;
        std::function<void(HttpConnection *)> send = [&](HttpConnection *c) {
            if (next >= bodies.size())
                return;
            c->post("/api/orders/execute", bodies[next++],
                    [&, c](int status, const QByteArray &body, qint64) {
                        ++done;
                        accepted += status == 200;
                        if (status == 200 && ids) {
                            const int i = body.indexOf("\"orderId\":\"");
                            ids->append(QString::fromLatin1(body.mid(i + 11, 36)));
                        }
                        send(c);
                    });
        };
        for (HttpConnection *c : m_conns)
            send(c);
        QTimer tick;
        tick.start(20);
        while (done < bodies.size())
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
        return accepted;
    }

    QSqlDatabase db()
    {
        QSqlDatabase d = QSqlDatabase::database(QStringLiteral("resting"), false);
        if (d.isValid())
            return d;
        const QUrl url(m_s.databaseUrl);
        d = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), QStringLiteral("resting"));
        d.setHostName(
            QUrlQuery(url).hasQueryItem(QStringLiteral("host"))
                ? QUrlQuery(url).queryItemValue(QStringLiteral("host"), QUrl::FullyDecoded)
                : url.host());
        d.setPort(url.port(5432));
        d.setUserName(url.userName());
        d.setDatabaseName(url.path().mid(1));
        d.open();
        return d;
    }

    qint64 openCount()
    {
        QSqlQuery q(db());
        q.exec(QStringLiteral("SELECT count(*) FROM orders WHERE status = 'open'"));
        return q.next() ? q.value(0).toLongLong() : -1;
    }

    void waitOpen(int n, int timeoutS)
    {
        const qint64 deadline = nowUs() + qint64(timeoutS) * 1'000'000;
        while (openCount() < n && nowUs() < deadline)
            pause(250);
    }

    // From each triggered order's pool change (trigger.poolChangedAt, stamped when the book
    // heard of it) and firing, to its routing event (the worker's clock, the same host). Reads
    // the given orders' events by key: a scan of order_events while the orders are being
    // routed would take a core from the server and measure the bench.
    QJsonObject triggerLatency(const QStringList &ids)
    {
        QSqlQuery q(db());
        q.prepare(QStringLiteral("SELECT extract(epoch FROM (e.created_at - "
                                 "(e.data->'trigger'->>'poolChangedAt')::timestamptz)) * 1000, "
                                 "extract(epoch FROM (e.created_at - "
                                 "(e.data->'trigger'->>'firedAt')::timestamptz)) * 1000 "
                                 "FROM order_events e WHERE e.order_id = ANY(?::uuid[]) AND "
                                 "e.status = 'routing' AND e.data->'trigger' IS NOT NULL"));
        q.addBindValue(QStringLiteral("{") + ids.join(QLatin1Char(',')) + QStringLiteral("}"));
        q.exec();
        std::vector<double> fromChange, fromFire;
        while (q.next()) {
            fromChange.push_back(q.value(0).toDouble());
            fromFire.push_back(q.value(1).toDouble());
        }
        return QJsonObject{
            {QStringLiteral("routed"), double(fromChange.size())},
            {QStringLiteral("poolChangeToRoutingP50Ms"), percentile(fromChange, 50)},
            {QStringLiteral("poolChangeToRoutingP99Ms"), percentile(fromChange, 99)},
            {QStringLiteral("poolChangeToRoutingMaxMs"), percentile(fromChange, 100)},
            {QStringLiteral("firedToRoutingP99Ms"), percentile(fromFire, 99)}};
    }

    Settings m_s;
    int m_resting;
    int m_crossers;
    QList<HttpConnection *> m_conns;
};

void printTable(const QString &title, const QJsonObject &r)
{
    std::printf("\n%s\n", qPrintable(title));
    for (auto it = r.begin(); it != r.end(); ++it) {
        if (it->isObject()) {
            const QJsonObject o = it->toObject();
            for (auto j = o.begin(); j != o.end(); ++j)
                std::printf("  %-24s %s\n", qPrintable(it.key() + QLatin1Char('.') + j.key()),
                            qPrintable(j->isDouble() ? QString::number(j->toDouble(), 'f', 2)
                                                     : j->toString()));
        } else {
            std::printf("  %-24s %s\n", qPrintable(it.key()),
                        qPrintable(it->isDouble() ? QString::number(it->toDouble(), 'f', 2)
                                                  : it->toString()));
        }
    }
}

} // namespace

int main(int argc, char *argv[])
{
    // Qt's own epoll-less UNIX dispatcher costs less per wake-up than the GLib one.
    qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral("oee-bench: load and measure a running oee --server"));
    p.addHelpOption();
    const QCommandLineOption scenario(
        QStringLiteral("scenario"),
        QStringLiteral("a|b|c|d|e|r: start a server with that scenario's settings and run it."),
        QStringLiteral("name"));
    const QCommandLineOption url(
        QStringLiteral("url"), QStringLiteral("A running server (default http://127.0.0.1:3000)."),
        QStringLiteral("url"));
    const QCommandLineOption conns(QStringLiteral("connections"),
                                   QStringLiteral("Keep-alive HTTP connections (default 32)."),
                                   QStringLiteral("n"));
    const QCommandLineOption duration(QStringLiteral("duration"),
                                      QStringLiteral("Seconds of submissions (default 20)."),
                                      QStringLiteral("s"));
    const QCommandLineOption rate(
        QStringLiteral("rate"),
        QStringLiteral("Offered orders/s (default 0: as fast as possible)."), QStringLiteral("r"));
    const QCommandLineOption subs(QStringLiteral("subscribers"),
                                  QStringLiteral("Extra all-orders WebSocket subscribers."),
                                  QStringLiteral("n"));
    const QCommandLineOption clientsOption(QStringLiteral("clients"),
                                           QStringLiteral("Scenario e: clients (default 2000)."),
                                           QStringLiteral("n"));
    const QCommandLineOption batch(
        QStringLiteral("batch"),
        QStringLiteral("The subscribers ask for batched frames (?batch=1)."));
    const QCommandLineOption pid(QStringLiteral("server-pid"),
                                 QStringLiteral("PID of the server, for RSS and CPU."),
                                 QStringLiteral("pid"));
    const QCommandLineOption db(
        QStringLiteral("database-url"),
        QStringLiteral("The server's PostgreSQL, to verify every status change is there."),
        QStringLiteral("url"));
    const QCommandLineOption binary(QStringLiteral("oee"),
                                    QStringLiteral("The oee binary for --scenario."),
                                    QStringLiteral("path"));
    const QCommandLineOption json(QStringLiteral("json"),
                                  QStringLiteral("Write the result as JSON to this file."),
                                  QStringLiteral("file"));
    const QCommandLineOption resting(
        QStringLiteral("resting"),
        QStringLiteral("Scenario r: resting limit orders (default 100000)."), QStringLiteral("n"));
    const QCommandLineOption redisCluster(
        QStringLiteral("redis-cluster"),
        QStringLiteral("With --scenario: the server's Redis is a real Redis Cluster of n masters "
                       "on loopback (QUEUE_SHARDS from the environment, default 8)."),
        QStringLiteral("n"));
    for (const auto &o : {scenario, url, conns, duration, rate, subs, batch, clientsOption, pid, db,
                          binary, json, resting, redisCluster})
        p.addOption(o);
    p.process(app);

    Settings s;
    if (p.isSet(url)) {
        const QUrl u(p.value(url));
        s.host = u.host();
        s.port = quint16(u.port(3000));
    }
    s.connections = p.isSet(conns) ? p.value(conns).toInt() : s.connections;
    s.durationS = p.isSet(duration) ? p.value(duration).toDouble() : s.durationS;
    s.rate = p.isSet(rate) ? p.value(rate).toDouble() : s.rate;
    s.subscribers = p.isSet(subs) ? p.value(subs).toInt() : s.subscribers;
    s.batched = p.isSet(batch);
    s.serverPid = p.value(pid).toLongLong();
    s.databaseUrl = p.value(db);

    std::unique_ptr<QProcess> server;
    std::unique_ptr<oee::LocalRedisCluster> cluster;
    QByteArray serverErrors; // the last of the server's stderr, shown when something is wrong
    QTemporaryDir dataDir;
    QString title = QStringLiteral("oee-bench against %1:%2").arg(s.host).arg(s.port);
    if (p.isSet(scenario)) {
        const QString name = p.value(scenario);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("REDIS_URL"));
        env.remove(QStringLiteral("DATABASE_URL"));
        env.insert(QStringLiteral("OEE_DATA_DIR"), dataDir.path());
        env.insert(QStringLiteral("MAX_ORDERS_PER_MINUTE"), QStringLiteral("0"));
        env.insert(QStringLiteral("DEX_FAILURE_RATE"), QStringLiteral("0"));
        env.insert(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("oee.*.info=false"));
        env.insert(QStringLiteral("MAX_CONCURRENT_ORDERS"), QStringLiteral("2000"));
        if (p.isSet(redisCluster)) {
            cluster = std::make_unique<oee::LocalRedisCluster>(dataDir.path() +
                                                               QStringLiteral("/cluster"));
            QString error;
            if (!cluster->start(p.value(redisCluster).toInt(), &error)) {
                std::fprintf(stderr, "cannot start the Redis Cluster: %s\n", qPrintable(error));
                return 1;
            }
            env.insert(QStringLiteral("REDIS_URL"), cluster->url());
        }
        if (name == QLatin1String("r")) {
            // No arbitrage flow: a crossing stays crossed (the flow would pull the pools back
            // toward the reference within 250 ms, racing the orders it is measuring). The market
            // flow moves SOL/USDC by a few percent at most; the resting orders are 10 %+ away.
            env.insert(QStringLiteral("DEX_VOLATILITY"), QStringLiteral("0"));
        }
        if (name == QLatin1String("a") || name == QLatin1String("c") ||
            name == QLatin1String("d") || name == QLatin1String("e") ||
            name == QLatin1String("r")) {
            env.insert(QStringLiteral("DEX_QUOTE_LATENCY_MS"), QStringLiteral("0"));
            env.insert(QStringLiteral("DEX_EXECUTION_LATENCY_MS"), QStringLiteral("0"));
        }
        if (name == QLatin1String("b") && !p.isSet(rate))
            s.rate = 800;
        if (name == QLatin1String("c") && !p.isSet(subs))
            s.subscribers = 1000;
        if (name == QLatin1String("c") && !p.isSet(rate))
            s.rate = 200;
        if (name == QLatin1String("d") && !p.isSet(rate))
            s.rate = 1000;
        title = QStringLiteral("scenario (%1)%2")
                    .arg(name, cluster ? QStringLiteral(" on a %1-master Redis Cluster")
                                             .arg(cluster->ports().size())
                                       : QString());
        server = std::make_unique<QProcess>();
        server->setProcessEnvironment(env);
        server->setProgram(p.isSet(binary) ? p.value(binary) : QStringLiteral(OEE_DEFAULT_BINARY));
        server->setArguments(
            {QStringLiteral("--server"), QStringLiteral("--port"), QStringLiteral("0")});
        server->start();
        if (!server->waitForStarted(10000)) {
            std::fprintf(stderr, "cannot start %s\n", qPrintable(server->program()));
            return 1;
        }
        QByteArray out;
        static const QRegularExpression rest(QStringLiteral("REST\\s+http://([^:]+):(\\d+)/api"));
        static const QRegularExpression pg(QStringLiteral("Postgres\\s+(\\S+)"));
        while (server->state() == QProcess::Running &&
               !pg.match(QString::fromUtf8(out)).hasMatch()) {
            server->waitForReadyRead(1000);
            out += server->readAllStandardOutput();
        }
        const auto m = rest.match(QString::fromUtf8(out));
        if (!m.hasMatch()) {
            std::fprintf(stderr, "server did not start: %s %s\n", out.constData(),
                         server->readAllStandardError().constData());
            return 1;
        }
        s.host = m.captured(1);
        s.port = quint16(m.captured(2).toUInt());
        s.serverPid = server->processId();
        s.databaseUrl = pg.match(QString::fromUtf8(out)).captured(1);
        // Keep draining the server's output: a full pipe would block its logging threads.
        QObject::connect(server.get(), &QProcess::readyReadStandardOutput, server.get(),
                         [&] { server->readAllStandardOutput(); });
        QObject::connect(server.get(), &QProcess::readyReadStandardError, server.get(), [&] {
            serverErrors += server->readAllStandardError();
            if (serverErrors.size() > 65536)
                serverErrors = serverErrors.right(32768);
        });
    }

    QJsonObject result;
    if (p.value(scenario) == QLatin1String("r")) {
        if (!p.isSet(duration))
            s.durationS = 10;
        RestingScenario r(s, p.isSet(resting) ? p.value(resting).toInt() : 100000, 200);
        result = r.run();
    } else if (p.value(scenario) == QLatin1String("e")) {
        LifecycleScenario e(s, p.isSet(clientsOption) ? p.value(clientsOption).toInt() : 2000);
        result = e.run();
    } else if (p.value(scenario) == QLatin1String("c")) {
        // The same offered flow without subscribers, then with them, on the same server.
        Settings quiet = s;
        quiet.subscribers = 0;
        const QJsonObject baseline = Bench(quiet).run();
        result = Bench(s).run();
        result.insert(QStringLiteral("baseline"), baseline);
        result.insert(QStringLiteral("submitP99VsBaseline"),
                      result.value(QStringLiteral("submitP99Ms")).toDouble() /
                          qMax(0.001, baseline.value(QStringLiteral("submitP99Ms")).toDouble()));
    } else {
        Bench bench(s);
        result = bench.run();
    }
    printTable(title, result);
    if (p.isSet(json)) {
        QFile f(p.value(json));
        if (f.open(QIODevice::WriteOnly))
            f.write(QJsonDocument(result).toJson());
    }
    if (server) {
        ::kill(pid_t(server->processId()), SIGTERM);
        server->waitForFinished(60000);
    }
    bool ok = result.value(QStringLiteral("missing")).toInt() == 0 &&
              result.value(QStringLiteral("postgres"))
                      .toObject()
                      .value(QStringLiteral("ordersWithEventGaps"))
                      .toInt() == 0;
    if (result.value(QStringLiteral("subscribers")).toInt() > 0) {
        // Every subscriber got every event once, in order (one that was dropped for falling
        // behind stops receiving: what it missed is lost, not a gap, and it is reported).
        ok = ok && result.value(QStringLiteral("fanoutGaps")).toInt() == 0 &&
             result.value(QStringLiteral("fanoutMalformed")).toInt() == 0 &&
             (result.value(QStringLiteral("subscribersDropped")).toInt() > 0 ||
              result.value(QStringLiteral("fanoutLost")).toDouble() == 0);
    }
    if (p.value(scenario) == QLatin1String("r")) {
        // Nothing lost, every resting order resting, every crossed one routed.
        const auto flowOk = [&](const char *k) {
            return result.value(QLatin1String(k))
                       .toObject()
                       .value(QStringLiteral("missing"))
                       .toInt() == 0;
        };
        ok = flowOk("marketFlowWithout") && flowOk("marketFlowWith") &&
             result.value(QStringLiteral("restingStillOpen")).toInt() ==
                 result.value(QStringLiteral("restingPlaced")).toInt() &&
             result.value(QStringLiteral("trigger"))
                     .toObject()
                     .value(QStringLiteral("routed"))
                     .toInt() == 200 &&
             result.value(QStringLiteral("triggerOneByOne"))
                     .toObject()
                     .value(QStringLiteral("routed"))
                     .toInt() >= 100;
    }
    if (p.value(scenario) == QLatin1String("e")) // every lifecycle complete and whole
        ok = ok && result.value(QStringLiteral("whole")).toInt() ==
                       result.value(QStringLiteral("clients")).toInt();
    if (!ok && !serverErrors.isEmpty())
        std::fprintf(stderr, "\nserver stderr (last lines):\n%s\n",
                     serverErrors.right(8192).constData());
    return ok ? 0 : 3;
}
