#pragma once
#include <QPalette>
#include <QString>
#include <memory>

class QQmlApplicationEngine;
class QQuickWindow;

namespace oee {
class Engine;
}

namespace oee::ui {

class Backend;
class ConsoleController;

// Loads the console (qrc:/Oee/Main.qml) over a running engine. Needs a QApplication: QML's
// ChartView uses the Widgets-based graphics scene.
class Console
{
public:
    // Over the engine in this process.
    explicit Console(Engine *engine);
    // Over any backend (a remote engine: RemoteBackend).
    explicit Console(std::unique_ptr<Backend> backend);
    ~Console();
    bool load(QString *error);
    // "light" or "dark" sets the application's palette (before load); "system" leaves it.
    static void applyPalette(const QString &name);
    // The palettes the console is checked under (tst_console's geometry test, screenshots).
    [[nodiscard]] static QPalette darkPalette();
    [[nodiscard]] static QPalette lightPalette();
    [[nodiscard]] QQuickWindow *window() const;
    [[nodiscard]] ConsoleController *controller() const { return m_controller.get(); }

private:
    std::unique_ptr<Backend> m_backend;
    std::unique_ptr<ConsoleController> m_controller;
    std::unique_ptr<QQmlApplicationEngine> m_qml;
};

} // namespace oee::ui
