// The producer's keyed hash (breakglass tokens): the published key, the
// value's JSON text, HMAC-SHA256 and its "hmac:" text. See keyed_hash.hpp.
#include "keyed_hash.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "absl/strings/str_cat.h"
#include "ringtail/agent.hpp"
#include "ringtail/shm/errno_text.hpp"
#include "ringtail/shm/hmac_token.hpp"
#include "ringtail/shm/json_escape.hpp"

namespace ringtail::detail {
namespace {

struct HashKey {
  std::string bytes;
};

// Never freed (see keyed_hash.hpp); null until the first init().
constinit std::atomic<const HashKey*> g_hash_key{nullptr};

// Writes `bytes` as a quoted JSON string, each byte below 0x80 escaped by
// the rule the reader writes strings by (shm/json_escape.hpp), everything
// else as it is. For valid UTF-8 this is
// the reader's text byte for byte, so the hashes agree. The reader replaces
// ill-formed UTF-8 by U+FFFD; here its bytes are hashed raw instead, so two
// different invalid tokens never hash equal (their hashes then differ from
// the reader's hash of the same bytes). At most 6 * size + 2 bytes.
char* write_json_text(char* out, std::string_view bytes) noexcept {
  *out++ = '"';
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80 && shm::json_needs_escape(c)) {
      out = shm::write_json_escape(out, c);
    } else {
      *out++ = ch;
    }
  }
  *out++ = '"';
  return out;
}

bool random_key(std::string* key) {
  key->assign(kRandomHashKeyBytes, '\0');
  size_t done = 0;
  while (done < key->size()) {
    // Blocking (flags 0) only until the kernel's pool is first ready: a
    // secret key must not come from a fallback.
    const ssize_t n = ::getrandom(key->data() + done, key->size() - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// HMAC hashes a key longer than a block (64 bytes) down first; this only
// keeps a mistaken file (RINGTAIL_HASH_KEY_FILE) from becoming a huge key.
constexpr size_t kMaxHashKeyBytes = 1 << 20;

// Tokens whose JSON text fits are hashed from the stack.
constexpr size_t kStackTextBytes = 1024;

}  // namespace

absl::Status install_hash_key(std::string_view key) {
  // Relaxed: the caller holds the runtime's lock, which orders installs.
  const HashKey* current = g_hash_key.load(std::memory_order_relaxed);
  if (current != nullptr && (key.empty() || current->bytes == key)) return absl::OkStatus();
  if (key.size() > kMaxHashKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("hash_key has ", key.size(), " bytes, more than the ", kMaxHashKeyBytes, " accepted"));
  }
  auto next = std::make_unique<HashKey>();
  if (!key.empty()) {
    next->bytes = std::string(key);
  } else if (!random_key(&next->bytes)) {
    return absl::InternalError(
        absl::StrCat("cannot get random bytes for the hash key (set Options::hash_key or RINGTAIL_HASH_KEY_FILE): ",
                     shm::errno_text(errno)));
  }
  // release: publishes the key's bytes to threads that acquire-load the pointer.
  g_hash_key.store(next.release(), std::memory_order_release);
  return absl::OkStatus();
}

std::string_view token_hash(std::string_view token, char (&out)[kTokenHashChars]) noexcept {
  // acquire: pairs with install_hash_key's release, so the key's bytes are visible.
  const HashKey* key = g_hash_key.load(std::memory_order_acquire);
  if (key == nullptr || token.size() > (SIZE_MAX - 2) / 6) return shm::kHmacUnavailable;
  const size_t bound = 6 * token.size() + 2;
  char stack_text[kStackTextBytes];
  std::unique_ptr<char[]> heap_text;
  char* text = stack_text;
  if (bound > sizeof(stack_text)) {
    heap_text.reset(new (std::nothrow) char[bound]);
    if (heap_text == nullptr) return shm::kHmacUnavailable;
    text = heap_text.get();
  }
  const size_t text_size = static_cast<size_t>(write_json_text(text, token) - text);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (::HMAC(EVP_sha256(), key->bytes.data(), static_cast<int>(key->bytes.size()),
             reinterpret_cast<const unsigned char*>(text), text_size, digest, &digest_size) == nullptr ||
      digest_size < shm::kHmacTokenDigestBytes) {
    return shm::kHmacUnavailable;
  }
  shm::write_hmac_token(out, digest);
  return std::string_view(out, kTokenHashChars);
}

}  // namespace ringtail::detail
