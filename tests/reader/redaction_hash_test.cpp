// The reader's `hash` rule writes the keyed-hash token as the producer does
// (shm/hmac_token.hpp), also when no token can be made.
#include <gtest/gtest.h>

#include <string>

#include "ringtail/reader/output/redaction.hpp"
#include "ringtail/shm/hmac_token.hpp"

namespace ringtail::reader {
namespace {

TEST(RedactionHash, ShowsTheFirstEightBytesOfTheDigest) {
  const Redactor redactor({}, true,
                          [](std::string_view) { return std::string("\x01\x23\x45\x67\x89\xab\xcd\xef\xff", 9); });
  EXPECT_EQ(redactor.hash_text("\"x\""), "hmac:0123456789abcdef");
  EXPECT_TRUE(is_keyed_hash(redactor.hash_text("\"x\"")));
}

TEST(RedactionHash, ShortOrMissingDigestIsUnavailableAsOnTheProducer) {
  const Redactor short_digest({}, true, [](std::string_view) { return std::string("\x01\x02\x03", 3); });
  EXPECT_EQ(short_digest.hash_text("\"x\""), shm::kHmacUnavailable);
  const Redactor no_function({}, true, nullptr);
  EXPECT_EQ(no_function.hash_text("\"x\""), shm::kHmacUnavailable);
  EXPECT_FALSE(is_keyed_hash(no_function.hash_text("\"x\"")));
}

}  // namespace
}  // namespace ringtail::reader
