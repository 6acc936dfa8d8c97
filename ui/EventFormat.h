#pragma once
#include "domain/Order.h"

#include <QVariantList>

namespace oee::ui {

// One step of an order's history as the console shows it: a headline, its facts (label, value,
// copyable), and for a routing step every candidate route side by side. Display only: amounts
// are the exact base units formatted with the token's decimals; realised slippage and impact
// are display figures (nothing is decided by them).
struct FormattedEvent
{
    QString headline;
    QVariantList facts;  // {label, value, copy: bool}
    QVariantList routes; // {venue, type, pools, out, fees, impact, share, chosen: bool, error}
};

// `events` are the order's events in seq order (the context: tokens, the quote of an attempt);
// formats events[index].
[[nodiscard]] FormattedEvent formatEvent(const QList<oee::OrderEvent> &events, int index);

// Exact amount text with thousands grouped: 1234567.5 → "1,234,567.5".
[[nodiscard]] QString groupedAmount(const QString &exact);
// Base units of `symbol`, formatted with its decimals and grouped, with the symbol.
[[nodiscard]] QString tokenAmount(const QString &raw, const QString &symbol);

} // namespace oee::ui
