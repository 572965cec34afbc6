#include "ringtail/reader/output/hash_key.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/storage/file_io.hpp"
#include "ringtail/reader/storage/store_dir.hpp"
#include "ringtail/shm/errno_text.hpp"

namespace ringtail::reader {
absl::StatusOr<std::string> random_hash_key() {
  std::string key(kHashKeyBytes, '\0');
  size_t done = 0;
  while (done < key.size()) {
    const ssize_t n = ::getrandom(key.data() + done, key.size() - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      return absl::InternalError(absl::StrCat("cannot get random bytes for the hash key: ", shm::errno_text(error)));
    }
    done += static_cast<size_t>(n);
  }
  return key;
}

absl::StatusOr<std::string> read_hash_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read the hash key ", path));
  std::string key(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>{});
  if (key.empty()) return absl::InvalidArgumentError(absl::StrCat("the hash key ", path, " is empty"));
  return key;
}

absl::StatusOr<std::string> store_hash_key(const std::string& directory) {
  absl::StatusOr<StoreDir> dir = StoreDir::create(directory, 0750);
  if (!dir.ok()) return dir.status();
  const std::string path = dir->path_of(kStoreHashKeyName);
  // Exclusively: of two drains starting at once, one makes the key, the other reads it.
  absl::StatusOr<FileDescriptor> created = dir->create_file(kStoreHashKeyName, O_WRONLY, 0600);
  if (created.ok()) {
    absl::StatusOr<std::string> key = random_hash_key();
    if (!key.ok()) return key.status();  // the empty file left behind is refused by the next run
    const bool written = write_all(created->get(), *key, path).ok();
    if (created->close() != 0 || !written) {
      return absl::InternalError(absl::StrCat("cannot write the hash key ", path));
    }
    return key;
  }
  if (created.status().code() != absl::StatusCode::kAlreadyExists) {
    return absl::Status(created.status().code(),
                        absl::StrCat("cannot create the hash key: ", created.status().message()));
  }
  absl::StatusOr<FileDescriptor> existing = dir->open_file(kStoreHashKeyName, O_RDONLY);
  if (!existing.ok()) {
    return absl::Status(existing.status().code(),
                        absl::StrCat("cannot read the hash key: ", existing.status().message()));
  }
  absl::StatusOr<std::string> read = read_to_end(existing->get(), path);
  if (!read.ok()) {
    return absl::Status(read.status().code(), absl::StrCat("cannot read the hash key: ", read.status().message()));
  }
  std::string key = *std::move(read);
  if (key.empty()) return absl::FailedPreconditionError(absl::StrCat("the hash key ", path, " is empty"));
  return key;
}

Redactor::KeyedHash hmac_sha256(std::string key) {
  return [key = std::move(key)](std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    ::HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
           text.size(), digest, &length);
    return std::string(reinterpret_cast<const char*>(digest), length);
  };
}

}  // namespace ringtail::reader
