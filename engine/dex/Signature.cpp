#include "dex/Signature.h"

#include <QCryptographicHash>
#include <vector>

namespace oee {

QString base58Encode(const QByteArray &bytes)
{
    static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    int zeros = 0;
    while (zeros < bytes.size() && bytes[zeros] == 0)
        ++zeros;
    std::vector<unsigned char> digits; // base58 digits, little-endian
    for (int i = zeros; i < bytes.size(); ++i) {
        int carry = static_cast<unsigned char>(bytes[i]);
        for (unsigned char &d : digits) {
            carry += d << 8;
            d = static_cast<unsigned char>(carry % 58);
            carry /= 58;
        }
        while (carry > 0) {
            digits.push_back(static_cast<unsigned char>(carry % 58));
            carry /= 58;
        }
    }
    QString out(zeros, QLatin1Char('1'));
    for (auto it = digits.rbegin(); it != digits.rend(); ++it)
        out.append(QLatin1Char(alphabet[*it]));
    return out;
}

QString transactionSignature(const QString &orderId, int attempt)
{
    const QByteArray seed = orderId.toUtf8() + ':' + QByteArray::number(attempt);
    return base58Encode(QCryptographicHash::hash(seed, QCryptographicHash::Sha512));
}

} // namespace oee
