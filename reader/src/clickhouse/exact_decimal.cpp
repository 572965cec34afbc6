#include "clickhouse/exact_decimal.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace ringtail::reader::internal {
namespace {

constexpr uint32_t kLimbBase = 1000000000;  // nine decimal digits per limb

// A natural number in base 1e9, least significant limb first.
class BigNatural {
 public:
  explicit BigNatural(unsigned __int128 value) {
    do {
      limbs_.push_back(static_cast<uint32_t>(value % kLimbBase));
      value /= kLimbBase;
    } while (value != 0);
  }

  void multiply(uint32_t factor) {
    uint64_t carry = 0;
    for (uint32_t& limb : limbs_) {
      const uint64_t product = uint64_t{limb} * factor + carry;
      limb = static_cast<uint32_t>(product % kLimbBase);
      carry = product / kLimbBase;
    }
    while (carry != 0) {
      limbs_.push_back(static_cast<uint32_t>(carry % kLimbBase));
      carry /= kLimbBase;
    }
  }

  std::string digits() const {
    std::string out = std::to_string(limbs_.back());
    for (size_t i = limbs_.size() - 1; i-- > 0;) {
      const std::string limb = std::to_string(limbs_[i]);
      out.append(9 - limb.size(), '0');
      out += limb;
    }
    return out;
  }

 private:
  std::vector<uint32_t> limbs_;
};

// sign x digits x 10^shift, normalized.
ExactDecimal normalized(int sign, std::string digits, int64_t shift) {
  ExactDecimal out;
  const size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return out;  // zero
  digits.erase(0, first);
  const size_t last = digits.find_last_not_of('0');
  shift += static_cast<int64_t>(digits.size() - last - 1);
  digits.erase(last + 1);
  out.sign = sign;
  out.exponent = static_cast<int64_t>(digits.size()) + shift;
  out.digits = std::move(digits);
  return out;
}

}  // namespace

ExactDecimal exact_decimal(__int128 value) {
  const bool negative = value < 0;
  // The magnitude of INT128_MIN fits the unsigned type.
  const unsigned __int128 magnitude = negative
                                          ? static_cast<unsigned __int128>(0) - static_cast<unsigned __int128>(value)
                                          : static_cast<unsigned __int128>(value);
  return normalized(negative ? -1 : 1, BigNatural(magnitude).digits(), 0);
}

ExactDecimal exact_decimal(long double value) {
  if (value == 0 || !std::isfinite(value)) return {};
  const bool negative = value < 0;
  int exponent = 0;
  // |value| = fraction x 2^exponent, fraction in [0.5, 1): 64 bits of it
  // are an integer (a long double's significand has 64 bits).
  const long double fraction = std::frexp(negative ? -value : value, &exponent);
  auto significand = static_cast<uint64_t>(std::ldexp(fraction, 64));
  exponent -= 64;
  BigNatural natural(significand);
  int64_t shift = 0;
  if (exponent >= 0) {
    for (int i = 0; i < exponent; ++i) natural.multiply(2);
  } else {
    // m x 2^-k = m x 5^k x 10^-k.
    for (int i = 0; i < -exponent; ++i) natural.multiply(5);
    shift = exponent;
  }
  return normalized(negative ? -1 : 1, natural.digits(), shift);
}

std::string number_order_key(const ExactDecimal& value) {
  if (value.sign == 0) return "2";
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
  std::string out(1, value.sign > 0 ? '3' : '1');
  out += std::to_string(value.sign > 0 ? 500000 + value.exponent : 500000 - value.exponent);
  if (value.sign > 0) return out + value.digits;
  for (const char digit : value.digits) out.push_back(static_cast<char>('9' - (digit - '0')));
  out.push_back('~');
  return out;
}

}  // namespace ringtail::reader::internal
