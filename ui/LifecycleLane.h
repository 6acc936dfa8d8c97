#pragma once
#include <QPointer>
#include <QQuickPaintedItem>

namespace oee::ui {

class OrdersModel;

// One order's lane in the lifecycle view, painted in C++ straight from the model's events:
// a segment per status, its length the time spent in it (the open one growing), coloured by
// status. No per-update JavaScript arrays.
class LifecycleLane : public QQuickPaintedItem
{
    Q_OBJECT
    Q_PROPERTY(oee::ui::OrdersModel *orders READ model WRITE setModel NOTIFY modelChanged)
    Q_PROPERTY(QString orderId READ orderId WRITE setOrderId NOTIFY orderIdChanged)
    Q_PROPERTY(double msPerPixel READ msPerPixel WRITE setMsPerPixel NOTIFY msPerPixelChanged)
public:
    explicit LifecycleLane(QQuickItem *parent = nullptr);
    void paint(QPainter *painter) override;

    [[nodiscard]] OrdersModel *model() const { return m_model; }
    void setModel(OrdersModel *model);
    [[nodiscard]] QString orderId() const { return m_orderId; }
    void setOrderId(const QString &id);
    [[nodiscard]] double msPerPixel() const { return m_msPerPixel; }
    void setMsPerPixel(double v);

signals:
    void modelChanged();
    void orderIdChanged();
    void msPerPixelChanged();

private:
    QPointer<OrdersModel> m_model;
    QString m_orderId;
    double m_msPerPixel = 10;
};

} // namespace oee::ui
