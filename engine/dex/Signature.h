#pragma once
#include <QByteArray>
#include <QString>

namespace oee {

[[nodiscard]] QString base58Encode(const QByteArray &bytes);

// A Solana-style transaction signature (64 bytes, base58). Deterministic in (order, attempt):
// a resubmitted attempt carries the same signature, so the chain can recognise a duplicate.
[[nodiscard]] QString transactionSignature(const QString &orderId, int attempt);

} // namespace oee
