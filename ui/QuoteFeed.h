#pragma once
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QVariantList>

class QAbstractSeries;
class QXYSeries;

namespace oee {
class Market;
struct RoutePlan;
} // namespace oee

namespace oee::ui {

// Live Raydium and Meteora prices for one pair and amount, sampled from the market four times a
// second and appended to chart series from C++ (a bounded window, no JavaScript arrays).
class QuoteFeed : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString tokenIn READ tokenIn NOTIFY pairChanged)
    Q_PROPERTY(QString tokenOut READ tokenOut NOTIFY pairChanged)
    Q_PROPERTY(double amount READ amount WRITE setAmount NOTIFY amountChanged)
    Q_PROPERTY(double raydiumPrice READ raydiumPrice NOTIFY updated)
    Q_PROPERTY(double meteoraPrice READ meteoraPrice NOTIFY updated)
    Q_PROPERTY(double spreadBps READ spreadBps NOTIFY updated)
    Q_PROPERTY(QString chosenVenue READ chosenVenue NOTIFY updated)
    Q_PROPERTY(double raydiumFee READ raydiumFee NOTIFY updated)
    Q_PROPERTY(double meteoraFee READ meteoraFee NOTIFY updated)
    Q_PROPERTY(double raydiumImpact READ raydiumImpact NOTIFY updated)
    Q_PROPERTY(double meteoraImpact READ meteoraImpact NOTIFY updated)
    Q_PROPERTY(double minPrice READ minPrice NOTIFY updated)
    Q_PROPERTY(double maxPrice READ maxPrice NOTIFY updated)
    Q_PROPERTY(double windowStart READ windowStart NOTIFY updated)
    Q_PROPERTY(double windowEnd READ windowEnd NOTIFY updated)
    Q_PROPERTY(int points READ points NOTIFY updated)
    // The router's plan for this pair and amount (legs, split shares, exact output).
    Q_PROPERTY(QString planText READ planText NOTIFY updated)
    // The pools of the pair (or of the plan's legs): {id, venue, kind, summary, bins: [{h,
    // active}]} — a DLMM's liquidity around its active bin, a CPMM's reserves; live.
    Q_PROPERTY(QVariantList pools READ pools NOTIFY updated)
public:
    explicit QuoteFeed(Market *market, QObject *parent = nullptr);

    Q_INVOKABLE void setPair(const QString &tokenIn, const QString &tokenOut);
    // The chart's two LineSeries (Raydium, Meteora), from QML once the ChartView exists.
    Q_INVOKABLE void attach(QAbstractSeries *raydium, QAbstractSeries *meteora);

    [[nodiscard]] QString planText() const { return m_planText; }
    [[nodiscard]] QVariantList pools() const { return m_pools; }
    [[nodiscard]] QString tokenIn() const { return m_tokenIn; }
    [[nodiscard]] QString tokenOut() const { return m_tokenOut; }
    [[nodiscard]] double amount() const { return m_amount; }
    void setAmount(double amount);
    [[nodiscard]] double raydiumPrice() const { return m_raydium; }
    [[nodiscard]] double meteoraPrice() const { return m_meteora; }
    [[nodiscard]] double spreadBps() const;
    [[nodiscard]] QString chosenVenue() const { return m_chosen; }
    [[nodiscard]] double raydiumFee() const { return m_raydiumFee; }
    [[nodiscard]] double meteoraFee() const { return m_meteoraFee; }
    [[nodiscard]] double raydiumImpact() const { return m_raydiumImpact; }
    [[nodiscard]] double meteoraImpact() const { return m_meteoraImpact; }
    [[nodiscard]] double minPrice() const { return m_min; }
    [[nodiscard]] double maxPrice() const { return m_max; }
    [[nodiscard]] double windowStart() const { return m_windowStart; }
    [[nodiscard]] double windowEnd() const { return m_windowEnd; }
    [[nodiscard]] int points() const;

signals:
    void pairChanged();
    void amountChanged();
    void updated();

private:
    void describePlan(const RoutePlan &plan);
    void sample();

    Market *m_market;
    QString m_tokenIn = QStringLiteral("SOL");
    QString m_tokenOut = QStringLiteral("USDC");
    double m_amount = 1;
    QString m_planText;
    QVariantList m_pools;
    double m_raydium = 0, m_meteora = 0, m_raydiumFee = 0, m_meteoraFee = 0;
    double m_raydiumImpact = 0, m_meteoraImpact = 0, m_min = 0, m_max = 1;
    double m_windowStart = 0, m_windowEnd = 1;
    QString m_chosen;
    QPointer<QXYSeries> m_raydiumSeries;
    QPointer<QXYSeries> m_meteoraSeries;
    QTimer m_timer{this};
};

} // namespace oee::ui
