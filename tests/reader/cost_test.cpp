// Decimal: the exact money arithmetic of the cost report.
#include "ringtail/reader/query/cost.hpp"

#include <gtest/gtest.h>

namespace ringtail::reader {
namespace {

std::string exact(std::string_view text) {
  const std::optional<Decimal> d = Decimal::parse(text);
  return d ? d->exact() : "none";
}

TEST(Decimal, ParsesJsonNumbersExactly) {
  EXPECT_EQ(exact("0"), "0");
  EXPECT_EQ(exact("-0"), "0");
  EXPECT_EQ(exact("10.5"), "10.5");
  EXPECT_EQ(exact("0.015394999999999999"), "0.015394999999999999");
  EXPECT_EQ(exact("1e-05"), "0.00001");
  EXPECT_EQ(exact("1.5E+3"), "1500");
  EXPECT_EQ(exact("-2.25e-2"), "-0.0225");
  EXPECT_EQ(exact("123456789012345678"), "123456789012345678");
  // Past 18 fractional digits: half to even.
  EXPECT_EQ(exact("0.0000000000000000015"), "0.000000000000000002");
  EXPECT_EQ(exact("0.0000000000000000025"), "0.000000000000000002");
  EXPECT_EQ(exact("0.00000000000000000251"), "0.000000000000000003");
  EXPECT_EQ(exact("1e-40"), "0");
  for (const char* bad : {"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "0x10", "1 ", "NaN", "1e400", "1e25"}) {
    EXPECT_EQ(exact(bad), "none") << bad;
  }
}

TEST(Decimal, SumsWithoutDriftAndRoundsOnlyToPrint) {
  Decimal sum;
  for (int i = 0; i < 1000; ++i) sum += *Decimal::parse("0.1");
  EXPECT_EQ(sum.exact(), "100");  // 0.1 + ... in binary floating point gives 99.9999999999986
  EXPECT_EQ(sum.to_string(2), "100.00");
  EXPECT_EQ(Decimal::parse("1234567.005")->to_string(2, true), "1,234,567.01");  // half away from zero
  EXPECT_EQ(Decimal::parse("-0.005")->to_string(2), "-0.01");
  EXPECT_EQ(Decimal::parse("999")->to_string(0, true), "999");
  EXPECT_EQ(Decimal::parse("1000")->to_string(0, true), "1,000");
  EXPECT_EQ(Decimal::parse("10.5")->divided_by(3).exact(), "3.5");
  EXPECT_EQ(Decimal::parse("1")->divided_by(3).exact(), "0.333333333333333333");
  EXPECT_EQ(Decimal::parse("2")->divided_by(3).exact(), "0.666666666666666667");
  EXPECT_EQ(Decimal::parse("2")->divided_by(0).exact(), "0");
}

}  // namespace
}  // namespace ringtail::reader
