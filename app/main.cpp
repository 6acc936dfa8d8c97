// oee: the order execution engine. `--server` (or no display) runs it headless.
#include "Engine.h"
#include "runtime/Config.h"
#include "runtime/Logging.h"

#include <QCoreApplication>
#ifdef OEE_WITH_CONSOLE
#include "Console.h"
#include "RemoteBackend.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QQuickWindow>
#include <QTimer>
#endif
#include <QSocketNotifier>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
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
    // Qt's own UNIX event dispatcher costs less per wake-up than the GLib one.
    qputenv("QT_NO_GLIB", "1");
    bool wantsServer = false;
    for (int i = 1; i < argc; ++i)
        wantsServer = wantsServer || std::strcmp(argv[i], "--server") == 0 ||
                      std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0;
    const bool hasDisplay = qEnvironmentVariableIsSet("DISPLAY") ||
                            qEnvironmentVariableIsSet("WAYLAND_DISPLAY") ||
                            qEnvironmentVariableIsSet("QT_QPA_PLATFORM");
#ifdef OEE_WITH_CONSOLE
    const bool console = !wantsServer && hasDisplay;
    // ChartView needs QApplication (QGraphicsScene), not just QGuiApplication.
    std::unique_ptr<QCoreApplication> appHolder =
        console ? std::make_unique<QApplication>(argc, argv)
                : std::make_unique<QCoreApplication>(argc, argv);
#else
    const bool console = false;
    std::unique_ptr<QCoreApplication> appHolder = std::make_unique<QCoreApplication>(argc, argv);
#endif
    QCoreApplication &app = *appHolder;
    QCoreApplication::setApplicationName(QStringLiteral("oee"));
    QCoreApplication::setApplicationVersion(QStringLiteral("0.1.0"));

    oee::Config config;
    bool serverMode = false;
    bool help = false;
    if (auto error = oee::Config::load(app.arguments(), &config, &serverMode, &help)) {
        std::fprintf(stderr, "oee: %s\n\n%s", qPrintable(*error),
                     qPrintable(oee::Config::helpText()));
        return 2;
    }
    if (help) {
        std::fputs(qPrintable(oee::Config::helpText()), stdout);
        return 0;
    }
    if (config.jsonLogs)
        oee::installJsonLogging();
    if (!serverMode && !console)
        std::fputs(hasDisplay ? "oee: built without the console; running headless.\n"
                              : "oee: no display; running headless (--server).\n",
                   stderr);

#ifdef OEE_WITH_CONSOLE
    if (!config.connectUrl.isEmpty()) {
        // The console alone, attached to an engine elsewhere (its REST and WebSocket API).
        if (!console) {
            std::fputs(
                "oee: --connect opens the console, which needs a display (and no --server)\n",
                stderr);
            return 2;
        }
        oee::ui::Console::applyPalette(config.palette);
        oee::ui::Console remote(
            std::make_unique<oee::ui::RemoteBackend>(QUrl(config.connectUrl), config.apiKey));
        QString loadError;
        if (!remote.load(&loadError)) {
            std::fprintf(stderr, "oee: %s\n", qPrintable(loadError));
            return 1;
        }
        if (config.windowWidth > 0)
            remote.window()->resize(config.windowWidth, config.windowHeight);
        std::printf("oee console attached to %s\n", qPrintable(config.connectUrl));
        std::fflush(stdout);
        QObject::connect(qGuiApp, &QGuiApplication::lastWindowClosed, &app,
                         &QCoreApplication::quit);
        if (!config.screenshotPath.isEmpty())
            QTimer::singleShot(config.screenshotAfterMs, &app, [&] {
                const bool saved = remote.window()->grabWindow().save(config.screenshotPath);
                std::fprintf(stderr, "oee: screenshot %s %s\n", qPrintable(config.screenshotPath),
                             saved ? "saved" : "FAILED");
                app.quit();
            });
        return app.exec();
    }
#else
    if (!config.connectUrl.isEmpty()) {
        std::fputs("oee: built without the console; --connect needs it\n", stderr);
        return 2;
    }
#endif

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
        std::printf(
            "oee listening (role %s)\n  REST      %s\n  WebSocket %s (all orders), %s/<orderId>\n",
            qPrintable(config.role), qPrintable(engine.restUrl()), qPrintable(engine.wsUrl()),
            qPrintable(engine.wsUrl()));
    } else {
        std::printf("oee worker ready (role worker, serves no HTTP)\n");
    }
    std::printf("  Redis     %s\n  Postgres  %s\n", qPrintable(engine.redisUrl()),
                qPrintable(engine.databaseUrl()));
    std::fflush(stdout);
#ifdef OEE_WITH_CONSOLE
    std::unique_ptr<oee::ui::Console> ui;
    if (console) {
        oee::ui::Console::applyPalette(config.palette);
        ui = std::make_unique<oee::ui::Console>(&engine);
        if (!ui->load(&error)) {
            std::fprintf(stderr, "oee: %s\n", qPrintable(error));
            engine.stop();
            return 1;
        }
        if (config.windowWidth > 0)
            ui->window()->resize(config.windowWidth, config.windowHeight);
        QObject::connect(qGuiApp, &QGuiApplication::lastWindowClosed, &app,
                         &QCoreApplication::quit);
        if (!config.screenshotPath.isEmpty()) {
            // With a screenshot, also measure whether the GUI thread ever froze: the worst
            // lateness of a 16 ms timer and the longest gap between rendered frames.
            auto *tick = new QTimer(&app);
            tick->setTimerType(Qt::PreciseTimer);
            auto clock = std::make_shared<QElapsedTimer>();
            auto worstLateMs = std::make_shared<qint64>(0);
            clock->start();
            QObject::connect(tick, &QTimer::timeout, &app, [clock, worstLateMs] {
                *worstLateMs = std::max(*worstLateMs, clock->restart() - 16);
            });
            tick->start(16);
            auto frames = std::make_shared<qint64>(0);
            auto frameClock = std::make_shared<QElapsedTimer>();
            auto worstGapMs = std::make_shared<qint64>(0);
            QObject::connect(ui->window(), &QQuickWindow::frameSwapped, &app,
                             [frames, frameClock, worstGapMs] {
                                 if (frameClock->isValid())
                                     *worstGapMs = std::max(*worstGapMs, frameClock->restart());
                                 else
                                     frameClock->start();
                                 ++*frames;
                             });
            QObject::connect(&app, &QCoreApplication::aboutToQuit, &app, [=] {
                std::fprintf(stderr,
                             "oee: gui %lld frames, longest gap between frames %lld ms, "
                             "worst event-loop lateness %lld ms\n",
                             qlonglong(*frames), qlonglong(*worstGapMs), qlonglong(*worstLateMs));
            });
            QTimer::singleShot(config.screenshotAfterMs, &app, [&] {
                const bool saved =
                    ui->window() && ui->window()->grabWindow().save(config.screenshotPath);
                std::fprintf(stderr, "oee: screenshot %s %s\n", qPrintable(config.screenshotPath),
                             saved ? "saved" : "FAILED");
                app.quit();
            });
        }
    }
#endif
    const int rc = app.exec();
#ifdef OEE_WITH_CONSOLE
    ui.reset();
#endif
    engine.stop();
    return rc;
}
