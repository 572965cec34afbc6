// reader/output/hash_key.hpp: where the hash redaction's key comes from (a
// file, the store directory, or chance) and the HMAC-SHA256 made with it.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "ringtail/reader/output/hash_key.hpp"
#include "ringtail/reader/output/redaction.hpp"

namespace ringtail::reader {
namespace {

// A temporary directory, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ringtail-hash-key-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

 private:
  std::string path_;
};

std::string hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

TEST(HashKey, RandomKeysAreFullLengthAndDiffer) {
  const absl::StatusOr<std::string> a = random_hash_key();
  const absl::StatusOr<std::string> b = random_hash_key();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), kHashKeyBytes);
  EXPECT_EQ(b->size(), kHashKeyBytes);
  EXPECT_NE(*a, *b);
}

TEST(HashKey, AKeyFileIsTakenByteForByte) {
  TempDir dir;
  const std::string bytes("line one\n\0binary\xff", 17);
  const absl::StatusOr<std::string> key = read_hash_key_file(dir.write("key", bytes));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, bytes);
}

TEST(HashKey, AMissingOrEmptyKeyFileIsRefused) {
  TempDir dir;
  const std::string missing = dir.path() + "/missing";
  absl::StatusOr<std::string> key = read_hash_key_file(missing);
  EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(key.status().message(), "cannot read the hash key " + missing);
  const std::string empty = dir.write("empty", "");
  key = read_hash_key_file(empty);
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(key.status().message(), "the hash key " + empty + " is empty");
}

TEST(HashKey, TheStoreKeyIsMadeOnceAndKept) {
  TempDir dir;
  const std::string store = dir.path() + "/store/sub";  // made on first use
  const absl::StatusOr<std::string> first = store_hash_key(store);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), kHashKeyBytes);
  const std::string path = store + "/" + std::string(kStoreHashKeyName);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "a secret: the owner's only";
  const absl::StatusOr<std::string> again = store_hash_key(store);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *first) << "hashes stay comparable across runs";
}

TEST(HashKey, TheStoreKeyIsNeverReadThroughALink) {
  TempDir dir;
  const std::string elsewhere = dir.write("elsewhere", "attacker-chosen key");
  const std::string store = dir.path() + "/store";
  ASSERT_TRUE(std::filesystem::create_directory(store));
  std::filesystem::create_symlink(elsewhere, store + "/" + std::string(kStoreHashKeyName));
  const absl::StatusOr<std::string> key = store_hash_key(store);
  EXPECT_FALSE(key.ok());
  EXPECT_NE(key.status().message().find("cannot read the hash key"), std::string::npos) << key.status();
}

TEST(HashKey, AnEmptyStoreKeyIsRefused) {
  TempDir dir;
  const std::string store = dir.path() + "/store";
  ASSERT_TRUE(std::filesystem::create_directory(store));
  dir.write("store/" + std::string(kStoreHashKeyName), "");
  const absl::StatusOr<std::string> key = store_hash_key(store);
  EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(key.status().message(), "the hash key " + store + "/" + std::string(kStoreHashKeyName) + " is empty");
}

TEST(HashKey, HmacSha256MatchesRfc4231) {
  // RFC 4231, test case 2.
  const Redactor::KeyedHash hmac = hmac_sha256("Jefe");
  EXPECT_EQ(hex(hmac("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // As the redactor writes it: the first 16 hex digits.
  const Redactor redactor({}, false, hmac_sha256("Jefe"));
  EXPECT_EQ(redactor.hash_text("what do ya want for nothing?"), "hmac:5bdcc146bf60754e");
  EXPECT_NE(hex(hmac_sha256("other")("what do ya want for nothing?")), hex(hmac("what do ya want for nothing?")));
}

}  // namespace
}  // namespace ringtail::reader
