#include "Console.h"

#include "Backend.h"
#include "ConsoleController.h"
#include "LifecycleLane.h"

#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQuickWindow>
#include <QtQml>

namespace oee::ui {

Console::Console(Engine *engine) : Console(std::make_unique<LocalBackend>(engine)) {}

Console::Console(std::unique_ptr<Backend> backend)
    : m_backend(std::move(backend)),
      m_controller(std::make_unique<ConsoleController>(m_backend.get())),
      m_qml(std::make_unique<QQmlApplicationEngine>())
{
}

Console::~Console()
{
    m_qml.reset(); // the QML goes before the models it binds to, and they before their source
    m_controller.reset();
}

bool Console::load(QString *error)
{
    qmlRegisterType<LifecycleLane>("Oee", 1, 0, "LifecycleLane");
    m_qml->rootContext()->setContextProperty(QStringLiteral("console"), m_controller.get());
    QStringList warnings;
    const auto collect = QObject::connect(m_qml.get(), &QQmlApplicationEngine::warnings,
                                          m_qml.get(), [&warnings](const QList<QQmlError> &list) {
                                              for (const QQmlError &e : list)
                                                  warnings << e.toString();
                                          });
    m_qml->load(QUrl(QStringLiteral("qrc:/Oee/Main.qml")));
    QObject::disconnect(collect); // `warnings` is local; later ones go to the log as usual
    for (const QString &w : std::as_const(warnings))
        qWarning("console: %s", qPrintable(w));
    if (m_qml->rootObjects().isEmpty()) {
        *error = QStringLiteral("the console did not load: ") + warnings.join(QLatin1Char('\n'));
        return false;
    }
    return true;
}

QPalette Console::darkPalette()
{
    // A whole dark palette, derived as a desktop's dark theme would be (button, window).
    return QPalette(QColor(0x2c, 0x2f, 0x34), QColor(0x20, 0x22, 0x26));
}

QPalette Console::lightPalette()
{
    return QPalette(QColor(0xe6, 0xe8, 0xeb), QColor(0xf3, 0xf4, 0xf6));
}

void Console::applyPalette(const QString &name)
{
    if (name == QLatin1String("dark"))
        QGuiApplication::setPalette(darkPalette());
    else if (name == QLatin1String("light"))
        QGuiApplication::setPalette(lightPalette());
}

QQuickWindow *Console::window() const
{
    return m_qml->rootObjects().isEmpty()
               ? nullptr
               : qobject_cast<QQuickWindow *>(m_qml->rootObjects().first());
}

} // namespace oee::ui
