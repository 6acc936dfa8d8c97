// oee: the order execution engine. `--server` (or no display) runs it headless.
#include "Engine.h"
#include "runtime/Config.h"
#include "runtime/Logging.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <csignal>
#include <cstdio>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

int g_signalFds[2] = {-1, -1};

void onSignal(int)
{
    const char c = 1;
    [[maybe_unused]] const auto n = ::write(g_signalFds[0], &c, 1);
}

} // namespace

int main(int argc, char *argv[])
{
    // Qt's own epoll-less UNIX dispatcher costs less per wake-up than the GLib one.
    qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("oee"));
    QCoreApplication::setApplicationVersion(QStringLiteral("0.1.0"));

    oee::Config config;
    bool serverMode = false;
    bool help = false;
    if (auto error = oee::Config::load(app.arguments(), &config, &serverMode, &help)) {
        std::fprintf(stderr, "oee: %s\n\n%s", qPrintable(*error), qPrintable(oee::Config::helpText()));
        return 2;
    }
    if (help) {
        std::fputs(qPrintable(oee::Config::helpText()), stdout);
        return 0;
    }
    if (!serverMode)
        std::fputs("oee: the operator console is not built yet (issue 5); running headless.\n",
                   stderr);

    // Thousands of WebSocket clients need thousands of descriptors: use what we may.
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }

    // SIGINT/SIGTERM → a clean shutdown on the event loop (self-pipe).
    ::socketpair(AF_UNIX, SOCK_STREAM, 0, g_signalFds);
    QSocketNotifier notifier(g_signalFds[1], QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, &app, [&] {
        char c;
        [[maybe_unused]] const auto n = ::read(g_signalFds[1], &c, 1);
        qCInfo(lcEngine, "signal received, shutting down");
        app.quit();
    });
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    std::signal(SIGPIPE, SIG_IGN);

    oee::Engine engine(config);
    QString error;
    if (!engine.start(&error)) {
        std::fprintf(stderr, "oee: cannot start: %s\n", qPrintable(error));
        engine.stop();
        return 1;
    }
    if (engine.port()) {
        std::printf("oee listening (role %s)\n  REST      %s\n  WebSocket %s (all orders), %s/<orderId>\n",
                    qPrintable(config.role), qPrintable(engine.restUrl()),
                    qPrintable(engine.wsUrl()), qPrintable(engine.wsUrl()));
    } else {
        std::printf("oee worker ready (role worker, serves no HTTP)\n");
    }
    std::printf("  Redis     %s\n  Postgres  %s\n", qPrintable(engine.redisUrl()),
                qPrintable(engine.databaseUrl()));
    std::fflush(stdout);
    const int rc = app.exec();
    engine.stop();
    return rc;
}
