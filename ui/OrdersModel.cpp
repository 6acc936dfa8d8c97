#include "OrdersModel.h"
#include "EventFormat.h"

#include <QJsonDocument>

namespace oee::ui {

namespace {

constexpr int kLiveLanes = 40; // rows whose open phase is refreshed every second
}

OrdersModel::OrdersModel(int capacity, QObject *parent)
    : QAbstractListModel(parent), m_capacity(capacity)
{
    connect(&m_tick, &QTimer::timeout, this, &OrdersModel::refreshOpenRows);
    m_tick.start(1000);
}

int OrdersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QHash<int, QByteArray> OrdersModel::roleNames() const
{
    return {{OrderIdRole, "orderId"},
            {StatusRole, "status"},
            {PairRole, "pair"},
            {AmountRole, "amount"},
            {VenueRole, "venue"},
            {AmountOutRole, "amountOut"},
            {ExecutedPriceRole, "executedPrice"},
            {SignatureRole, "signature"},
            {ErrorRole, "error"},
            {AttemptRole, "attempt"},
            {CreatedRole, "created"},
            {LatencyMsRole, "latencyMs"},
            {TerminalRole, "terminal"},
            {OrderTypeRole, "orderType"},
            {TermsRole, "terms"}};
}

int OrdersModel::rowOf(const QString &orderId) const
{
    for (int i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].id == orderId)
            return i;
    return -1;
}

QList<double> OrdersModel::openLimitPrices(const QString &tokenIn, const QString &tokenOut) const
{
    QList<double> out;
    for (const Row &r : m_rows)
        if (r.status == OrderStatus::Open && !r.limitPrice.isEmpty() && r.tokenIn == tokenIn &&
            r.tokenOut == tokenOut)
            out << r.limitPrice.toDouble();
    return out;
}

QList<OrderEvent> OrdersModel::eventsOf(const QString &orderId) const
{
    const int row = rowOf(orderId);
    return row < 0 ? QList<OrderEvent>{} : m_rows[row].events;
}

QVariant OrdersModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Row &r = m_rows[index.row()];
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    switch (role) {
    case OrderIdRole:
        return r.id;
    case StatusRole:
        return statusName(r.status);
    case PairRole:
        return r.tokenIn + QStringLiteral(" → ") + r.tokenOut;
    case OrderTypeRole:
        return r.orderType;
    case TermsRole:
        return r.terms;
    case AmountRole:
        return r.amount;
    case VenueRole:
        return r.venue;
    case AmountOutRole:
        return r.amountOut;
    case ExecutedPriceRole:
        return r.executedPrice;
    case SignatureRole:
        return r.signature;
    case ErrorRole:
        return r.error;
    case AttemptRole:
        return r.attempt;
    case CreatedRole:
        return r.created.toLocalTime().toString(QStringLiteral("hh:mm:ss.zzz"));
    case TerminalRole:
        return isTerminal(r.status);
    case LatencyMsRole: {
        const qint64 end = isTerminal(r.status) && !r.events.isEmpty()
                               ? r.events.last().at.toMSecsSinceEpoch()
                               : now;
        return double(end - r.created.toMSecsSinceEpoch());
    }
    }
    return {};
}

// An order type's terms in a few words, for the tables.
static QString termsText(const OrderRequest &r)
{
    QStringList parts;
    if (!r.limitPrice.isEmpty())
        parts << QStringLiteral("limit ") + r.limitPrice;
    else if (r.limitMinOut)
        parts << QStringLiteral("min out %1 raw").arg(r.limitMinOut);
    if (!r.maxPrice.isEmpty())
        parts << QStringLiteral("max ") + r.maxPrice;
    if (r.expiresAt.isValid())
        parts << QStringLiteral("until ") +
                     r.expiresAt.toLocalTime().toString(QStringLiteral("HH:mm:ss"));
    return parts.join(QStringLiteral(" · "));
}

void OrdersModel::applyEvents(const QList<OrderEvent> &events)
{
    for (const OrderEvent &e : events) {
        int row = rowOf(e.orderId);
        if (row < 0) {
            // Only an order's first event opens a row: a later one belongs to an order that
            // aged out of the window (or predates the console) and is not brought back half-known.
            if (e.seq != 1)
                continue;
            Row r;
            r.id = e.orderId;
            r.created = e.at;
            const EventData first = e.typed();
            if (const auto *submitted = std::get_if<SubmittedOrder>(&first)) {
                const OrderRequest &q = submitted->request;
                r.tokenIn = q.tokenIn;
                r.tokenOut = q.tokenOut;
                r.amount = q.amountText();
                r.orderType = q.orderType;
                r.terms = termsText(q);
                r.limitPrice = q.limitPrice;
            }
            beginInsertRows({}, 0, 0);
            m_rows.prepend(r);
            endInsertRows();
            if (m_rows.size() > m_capacity) {
                beginRemoveRows({}, int(m_rows.size()) - 1, int(m_rows.size()) - 1);
                m_rows.removeLast();
                endRemoveRows();
            }
            emit countChanged();
            row = 0;
        }
        Row &r = m_rows[row];
        if (!r.events.isEmpty() && r.events.last().seq >= e.seq)
            continue; // already have it
        r.events.append(e);
        r.status = e.status;
        // The typed facts of the step, whatever its kind.
        const EventFacts f = e.facts();
        if (!f.venue.isEmpty())
            r.venue = f.venue;
        if (!f.signature.isEmpty())
            r.signature = f.signature;
        if (f.attempt)
            r.attempt = *f.attempt;
        if (!f.error.isEmpty())
            r.error = f.error;
        if (e.status == OrderStatus::Confirmed) {
            r.amountOut = f.amountOut;
            r.executedPrice = f.executedPrice;
            r.error.clear();
        }
        const QModelIndex idx = index(row);
        emit dataChanged(idx, idx);
        if (isTerminal(e.status))
            emit orderFinished(r.id, e.status == OrderStatus::Confirmed,
                               e.at.toMSecsSinceEpoch() - r.created.toMSecsSinceEpoch());
    }
}

void OrdersModel::seed(const QList<Order> &orders)
{
    // Orders from before the console started (their events are fetched when selected).
    for (auto it = orders.crbegin(); it != orders.crend(); ++it) {
        if (rowOf(it->id) >= 0)
            continue;
        Row r;
        r.id = it->id;
        r.status = it->status;
        r.tokenIn = it->tokenIn;
        r.tokenOut = it->tokenOut;
        r.amount = it->amount;
        r.venue = it->dex;
        r.signature = it->txSignature;
        r.error = it->error;
        r.attempt = it->attempts;
        r.amountOut = it->amountOut;
        r.executedPrice = it->executedPrice;
        r.created = it->createdAt;
        r.orderType = it->orderType;
        OrderRequest terms; // the row's terms, read as the request carries them
        readTerms(it->terms, terms);
        r.terms = termsText(terms);
        r.limitPrice = terms.limitPrice;
        const int at =
            int(std::lower_bound(m_rows.cbegin(), m_rows.cend(), r.created,
                                 [](const Row &x, const QDateTime &t) { return x.created > t; }) -
                m_rows.cbegin());
        beginInsertRows({}, at, at);
        m_rows.insert(at, r);
        endInsertRows();
    }
    emit countChanged();
}

void OrdersModel::refreshOpenRows()
{
    const int n = qMin(int(m_rows.size()), kLiveLanes);
    for (int i = 0; i < n; ++i)
        if (!isTerminal(m_rows[i].status))
            emit dataChanged(index(i), index(i), {LatencyMsRole}); // open lanes grow
}

void OrderFilter::setStatus(const QString &status)
{
    if (status == m_status)
        return;
    m_status = status;
    invalidateFilter();
    emit statusChanged();
}

QString OrderFilter::orderIdAt(int row) const
{
    return data(index(row, 0), OrdersModel::OrderIdRole).toString();
}

bool OrderFilter::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (m_status.isEmpty())
        return true;
    return sourceModel()
               ->index(sourceRow, 0, sourceParent)
               .data(OrdersModel::StatusRole)
               .toString() == m_status;
}

int EventsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_events.size());
}

QHash<int, QByteArray> EventsModel::roleNames() const
{
    return {{SeqRole, "seq"},         {StatusRole, "status"},     {TimeRole, "time"},
            {DetailsRole, "details"}, {HeadlineRole, "headline"}, {FactsRole, "facts"},
            {RoutesRole, "routes"}};
}

QVariant EventsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_events.size())
        return {};
    const OrderEvent &e = m_events[index.row()];
    switch (role) {
    case SeqRole:
        return e.seq;
    case StatusRole:
        return statusName(e.status);
    case TimeRole:
        return e.at.toLocalTime().toString(QStringLiteral("hh:mm:ss.zzz"));
    case DetailsRole:
        // The step in a sentence (a trigger, a cancel, an expiry read as such), then its data.
        return describeEvent(e) + QLatin1Char('\n') +
               QString::fromUtf8(QJsonDocument(e.data).toJson(QJsonDocument::Indented));
    case HeadlineRole:
        return formatEvent(m_events, index.row()).headline;
    case FactsRole:
        return formatEvent(m_events, index.row()).facts;
    case RoutesRole:
        return formatEvent(m_events, index.row()).routes;
    }
    return {};
}

QString EventsModel::status() const
{
    return m_events.isEmpty() ? QString() : statusName(m_events.last().status);
}

QString EventsModel::signature() const
{
    for (qsizetype i = m_events.size() - 1; i >= 0; --i) {
        const QString s = m_events[i].facts().signature;
        if (!s.isEmpty())
            return s;
    }
    return {};
}

void EventsModel::show(const QString &orderId, const QList<OrderEvent> &events)
{
    beginResetModel();
    m_orderId = orderId;
    m_events = events;
    endResetModel();
    emit orderIdChanged();
    emit progressed();
}

void EventsModel::append(const QList<OrderEvent> &events)
{
    for (const OrderEvent &e : events) {
        if (e.orderId != m_orderId || (!m_events.isEmpty() && m_events.last().seq >= e.seq))
            continue;
        beginInsertRows({}, int(m_events.size()), int(m_events.size()));
        m_events.append(e);
        endInsertRows();
        emit progressed();
    }
}

} // namespace oee::ui
