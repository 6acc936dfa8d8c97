#include "VenueStats.h"

#include "dex/Venue.h"
#include "domain/EventData.h"
#include "money/Tokens.h"

#include <QLocale>
#include <algorithm>
#include <cmath>

namespace oee::ui {

namespace {

constexpr qsizetype kKeep = 500;
constexpr qsizetype kSeen = 5000;
// Realised slippage buckets, in bps against the quote (negative: less than quoted).
constexpr double kEdges[] = {-100, -25, -5, -0.5, 0.5, 5};

template <typename T> void keep(QList<T> &list, T value)
{
    list.append(value);
    if (list.size() > kKeep)
        list.removeFirst();
}

template <typename T> QString percentiles(QList<T> values, const char *unit, int decimals)
{
    if (values.isEmpty())
        return QStringLiteral("—");
    std::sort(values.begin(), values.end());
    const double scale = std::pow(10.0, decimals);
    const auto at = [&](double q) {
        const double v =
            std::round(double(values[qsizetype(q * double(values.size() - 1))]) * scale) / scale;
        return v == 0 ? 0.0 : v; // never "-0.0"
    };
    return QStringLiteral("p50 %1 · p95 %2 %3")
        .arg(at(0.5), 0, 'f', decimals)
        .arg(at(0.95), 0, 'f', decimals)
        .arg(QLatin1String(unit));
}

double usdOf(const QString &symbol, quint64 units)
{
    const Token *t = TokenRegistry::instance().find(symbol);
    if (!t)
        return 0;
    double scale = 1;
    for (int i = 0; i < t->decimals; ++i)
        scale *= 10;
    return double(units) / scale * t->usd.toDouble(); // display only
}

} // namespace

VenueStats::VenueStats(QObject *parent) : QAbstractListModel(parent)
{
    for (const oee::Venue *v : venues()) {
        Venue row;
        row.name = v->name();
        row.buckets = QList<int>(std::size(kEdges) + 1, 0);
        m_venues << row;
    }
}

int VenueStats::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_venues.size());
}

QHash<int, QByteArray> VenueStats::roleNames() const
{
    return {{NameRole, "name"},
            {RoutesWonRole, "routesWon"},
            {FillsRole, "fills"},
            {VolumeRole, "volume"},
            {FailuresRole, "failures"},
            {SlippageRole, "slippage"},
            {SlippageBucketsRole, "slippageBuckets"},
            {QuoteLatencyRole, "quoteLatency"},
            {ExecLatencyRole, "execLatency"},
            {RoutingRole, "routing"}};
}

QVariant VenueStats::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_venues.size())
        return {};
    const Venue &v = m_venues[index.row()];
    switch (role) {
    case NameRole:
        return v.name;
    case RoutesWonRole:
        return v.routesWon;
    case FillsRole:
        return v.fills;
    case VolumeRole:
        return QLocale(QLocale::English).toString(v.volumeUsd, 'f', 0) + QStringLiteral(" USD");
    case FailuresRole:
        return v.failures;
    case SlippageRole:
        return percentiles(v.slippageBps, "bps", 1);
    case SlippageBucketsRole: {
        QVariantList out;
        for (int n : v.buckets)
            out << n;
        return out;
    }
    case QuoteLatencyRole:
        return percentiles(v.quoteMs, "ms", 0);
    case ExecLatencyRole:
        return percentiles(v.execMs, "ms", 0);
    case RoutingRole:
        return v.routing;
    }
    return {};
}

QStringList VenueStats::bucketLabels() const
{
    return {QStringLiteral("<-100"), QStringLiteral("-100…-25"), QStringLiteral("-25…-5"),
            QStringLiteral("-5…-½"), QStringLiteral("±½"),       QStringLiteral("½…5"),
            QStringLiteral(">5")};
}

int VenueStats::maxBucket() const
{
    int m = 0;
    for (const Venue &v : m_venues)
        for (int n : v.buckets)
            m = std::max(m, n);
    return m;
}

int VenueStats::bucketOf(double bps)
{
    int i = 0;
    while (i < int(std::size(kEdges)) && bps >= kEdges[i])
        ++i;
    return i;
}

VenueStats::Venue &VenueStats::venue(const QString &name)
{
    for (Venue &v : m_venues)
        if (v.name == name)
            return v;
    Venue row;
    row.name = name;
    row.buckets = QList<int>(std::size(kEdges) + 1, 0);
    beginInsertRows({}, int(m_venues.size()), int(m_venues.size()));
    m_venues << row;
    endInsertRows();
    return m_venues.last();
}

void VenueStats::setDisabled(const QStringList &disabled)
{
    for (qsizetype i = 0; i < m_venues.size(); ++i) {
        const bool routing = !disabled.contains(m_venues[i].name);
        if (m_venues[i].routing != routing) {
            m_venues[i].routing = routing;
            emit dataChanged(index(int(i)), index(int(i)), {RoutingRole});
        }
    }
}

void VenueStats::applyEvents(const QList<OrderEvent> &events)
{
    if (events.isEmpty())
        return;
    for (const OrderEvent &e : events) {
        auto it = m_seen.find(e.orderId);
        if (it == m_seen.end()) {
            it = m_seen.insert(e.orderId, {});
            m_seenOrder << e.orderId;
            if (m_seenOrder.size() > kSeen)
                m_seen.remove(m_seenOrder.takeFirst());
        }
        Seen &seen = *it;
        const qint64 at = e.at.toMSecsSinceEpoch();
        const EventData data = e.typed();
        if (const auto *d = std::get_if<SubmittedOrder>(&data)) {
            seen.tokenIn = d->request.tokenIn;
            seen.tokenOut = d->request.tokenOut;
        } else if (const auto *d = std::get_if<RoutingPlan>(&data)) {
            Venue &v = venue(d->venue);
            ++v.routesWon;
            if (seen.lastAtMs)
                keep(v.quoteMs, at - seen.lastAtMs);
            seen.quoted.insert(
                d->attempt,
                d->plan.value(QStringLiteral("expectedAmountOutRaw")).toString().toULongLong());
        } else if (std::get_if<TransactionSubmitted>(&data)) {
            seen.submittedAtMs = at;
        } else if (const auto *d = std::get_if<FillReport>(&data)) {
            Venue &v = venue(d->venue);
            ++v.fills;
            v.volumeUsd += usdOf(seen.tokenIn, d->amountIn);
            if (seen.submittedAtMs)
                keep(v.execMs, at - seen.submittedAtMs);
            const quint64 q = seen.quoted.value(d->attempt);
            if (q > 0) {
                const double bps = (double(d->amountOut) - double(q)) / double(q) * 10000.0;
                keep(v.slippageBps, bps);
                ++v.buckets[bucketOf(bps)];
            }
        } else if (const auto *d = std::get_if<RetryScheduled>(&data)) {
            if (!d->venue.isEmpty())
                ++venue(d->venue).failures;
        } else if (const auto *d = std::get_if<FailureReport>(&data)) {
            if (!d->venue.isEmpty())
                ++venue(d->venue).failures;
        } else if (const auto *d = std::get_if<RestingOrderData>(&data);
                   d && d->attempt > 0 && !d->venue.isEmpty()) {
            ++venue(d->venue).failures;
        }
        seen.lastAtMs = at;
    }
    emit dataChanged(index(0), index(int(m_venues.size()) - 1));
    emit changed();
}

int VenueStats::routesWon(const QString &name) const
{
    for (const Venue &v : m_venues)
        if (v.name == name)
            return v.routesWon;
    return 0;
}

int VenueStats::fills(const QString &name) const
{
    for (const Venue &v : m_venues)
        if (v.name == name)
            return v.fills;
    return 0;
}

int VenueStats::failures(const QString &name) const
{
    for (const Venue &v : m_venues)
        if (v.name == name)
            return v.failures;
    return 0;
}

} // namespace oee::ui
