// The keyed-hash token format both sides write (shm/hmac_token.hpp).
#include "ringtail/shm/hmac_token.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ringtail::shm {
namespace {

TEST(HmacToken, WritesThePrefixAndTheFirstEightBytesInLowercaseHex) {
  const unsigned char digest[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xff, 0xee};
  std::string out(kHmacTokenChars + 1, '#');
  const char* end = write_hmac_token(out.data(), digest);
  EXPECT_EQ(end, out.data() + kHmacTokenChars);
  EXPECT_EQ(out, "hmac:0123456789abcdef#");  // the digest's later bytes are not shown
  EXPECT_EQ(kHmacTokenChars, 21u);
}

TEST(HmacToken, RecognisesExactlyWhatIsWritten) {
  const unsigned char digest[kHmacTokenDigestBytes] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33};
  char out[kHmacTokenChars];
  write_hmac_token(out, digest);
  EXPECT_TRUE(is_hmac_token(std::string_view(out, sizeof(out))));
  EXPECT_TRUE(is_hmac_token("hmac:0123456789abcdef"));
  EXPECT_FALSE(is_hmac_token("hmac:0123456789ABCDEF"));   // upper case is not written
  EXPECT_FALSE(is_hmac_token("hmac:0123456789abcde"));    // short
  EXPECT_FALSE(is_hmac_token("hmac:0123456789abcdef0"));  // long
  EXPECT_FALSE(is_hmac_token("HMAC:0123456789abcdef"));
  EXPECT_FALSE(is_hmac_token("hmac:0123456789abcdeg"));
  EXPECT_FALSE(is_hmac_token(kHmacUnavailable));
  EXPECT_FALSE(is_hmac_token(""));
}

}  // namespace
}  // namespace ringtail::shm
