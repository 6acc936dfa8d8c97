#include "LifecycleLane.h"

#include "OrdersModel.h"

#include <QDateTime>
#include <QPainter>

namespace oee::ui {

namespace {
QColor statusColor(OrderStatus s)
{
    switch (s) {
    case OrderStatus::Pending:
        return QColor(0x8a, 0x8f, 0x98);
    case OrderStatus::Routing:
        return QColor(0x3b, 0x82, 0xf6);
    case OrderStatus::Building:
        return QColor(0x8b, 0x5c, 0xf6);
    case OrderStatus::Submitted:
        return QColor(0xf5, 0x9e, 0x0b);
    case OrderStatus::Confirmed:
        return QColor(0x16, 0xa3, 0x4a);
    case OrderStatus::Failed:
        return QColor(0xdc, 0x26, 0x26);
    case OrderStatus::Cancelled:
        return QColor(0x6b, 0x72, 0x80);
    case OrderStatus::Open:
        return QColor(0x06, 0xb6, 0xd4);
    case OrderStatus::Expired:
        return QColor(0xa1, 0x62, 0x07);
    }
    return Qt::gray;
}
} // namespace

LifecycleLane::LifecycleLane(QQuickItem *parent) : QQuickPaintedItem(parent) {}

void LifecycleLane::setModel(OrdersModel *model)
{
    if (m_model == model)
        return;
    if (m_model)
        disconnect(m_model, nullptr, this, nullptr);
    m_model = model;
    if (m_model)
        connect(m_model, &QAbstractItemModel::dataChanged, this,
                [this](const QModelIndex &from, const QModelIndex &to) {
                    const int row = m_model->rowOf(m_orderId);
                    if (row >= from.row() && row <= to.row())
                        update();
                });
    emit modelChanged();
    update();
}

void LifecycleLane::setOrderId(const QString &id)
{
    if (id == m_orderId)
        return;
    m_orderId = id;
    emit orderIdChanged();
    update();
}

void LifecycleLane::setMsPerPixel(double v)
{
    if (v <= 0 || v == m_msPerPixel)
        return;
    m_msPerPixel = v;
    emit msPerPixelChanged();
    update();
}

void LifecycleLane::paint(QPainter *painter)
{
    if (!m_model)
        return;
    const QList<OrderEvent> events = m_model->eventsOf(m_orderId);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const double h = height();
    double x = 0;
    for (qsizetype i = 0; i < events.size() && x < width(); ++i) {
        const OrderEvent &e = events[i];
        if (isTerminal(e.status)) {
            painter->setRenderHint(QPainter::Antialiasing);
            painter->setPen(Qt::NoPen);
            painter->setBrush(statusColor(e.status));
            painter->drawEllipse(QRectF(x, 0, h, h));
            break;
        }
        const qint64 end = i + 1 < events.size() ? events[i + 1].at.toMSecsSinceEpoch() : now;
        const double w = std::max(2.0, double(end - e.at.toMSecsSinceEpoch()) / m_msPerPixel);
        painter->fillRect(QRectF(x, 0, std::min(w, width() - x), h), statusColor(e.status));
        x += w;
    }
}

} // namespace oee::ui
