#include "ringtail/reader/storage/store_checkpoint.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/ingest/byte_fields.hpp"
#include "ringtail/reader/ingest/timestamp.hpp"
#include "ringtail/reader/storage/file_io.hpp"
#include "ringtail/reader/storage/store_names.hpp"
#include "ringtail/shm/errno_text.hpp"

namespace ringtail::reader {
namespace {

constexpr char kMagic[8] = {'R', 'T', 'C', 'K', 'P', 'T', '1', '\n'};
// A segment has at most 4 open files (one per level class); a few more for
// files of earlier dates are tolerated.
constexpr uint32_t kMaxFiles = 64;
constexpr size_t kMaxPathBytes = 1024;
constexpr size_t kMaxCheckpointBytes = size_t{80} << 20;

// "<service>/<date>/<open file name>": three plain components, the last an "-open" file's name.
bool valid_relative_path(std::string_view path) {
  std::vector<std::string_view> parts;
  for (size_t begin = 0;;) {
    const size_t slash = path.find('/', begin);
    parts.push_back(path.substr(begin, slash == std::string_view::npos ? std::string_view::npos : slash - begin));
    if (slash == std::string_view::npos) break;
    begin = slash + 1;
  }
  if (parts.size() != 3) return false;
  // As the sink names them: a safe service name, a date, that service's open file.
  if (parts[0].empty() || safe_service_name(parts[0]) != parts[0]) return false;
  const std::string_view date = parts[1];
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (date[i] < '0' || date[i] > '9') return false;
  }
  const std::optional<StoredFileName> name = parse_stored_file_name(parts[2]);
  return name.has_value() && name->kind == StoredFileName::Kind::kOpen && name->service == parts[0];
}

absl::StatusOr<std::string> read_all(int fd, const std::string& path, size_t limit) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path));
  if (static_cast<uint64_t>(st.st_size) > limit) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", st.st_size, " bytes, more than a checkpoint holds"));
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  const ssize_t n = pread_fully(fd, bytes.data(), bytes.size(), 0);
  if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path));
  bytes.resize(static_cast<size_t>(n));  // shorter: it shrank meanwhile; decode() judges what is there
  return bytes;
}

// Cuts the listed "-open" file back to its listed size if no one holds it.
void apply_file(const StoreDir& root, const StoreCheckpoint::File& file,
                const std::function<void(std::string_view)>& report) {
  const size_t slash = file.relative_path.rfind('/');
  absl::StatusOr<StoreDir> dir = root.descend(file.relative_path.substr(0, slash));
  if (!dir.ok()) return;  // gone (closed and moved on, or removed): nothing to cut
  absl::StatusOr<FileDescriptor> fd = dir->open_file(file.relative_path.substr(slash + 1), O_RDWR);
  if (!fd.ok()) {
    if (!absl::IsNotFound(fd.status()) && report) report(std::string{fd.status().message()});
    return;
  }
  if (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) return;  // a live drain writes it
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return;
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > file.size) {
    if (::ftruncate(fd->get(), static_cast<off_t>(file.size)) != 0 && report) {
      report(absl::StrCat("cannot cut ", dir->path_of(file.relative_path.substr(slash + 1)), " back to ", file.size,
                          " bytes: ", shm::errno_text(errno), " (its last lines may be stored twice)"));
    }
  } else if (size < file.size && report) {
    report(absl::StrCat(dir->path_of(file.relative_path.substr(slash + 1)), " holds ", size, " bytes, less than the ",
                        file.size, " its checkpoint says were written: lines were lost after they were written"));
  }
}

// The pid of the writer of a checkpoint's temporary ("<pid>-<start>.resume.tmp.<pid>.<tid>").
std::optional<pid_t> temporary_writer(std::string_view name) {
  const size_t at = name.find(".resume.tmp.");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = name.substr(at + std::string_view(".resume.tmp.").size());
  pid_t pid = 0;
  size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9' && digits < 9) {
    pid = pid * 10 + (rest[digits] - '0');
    ++digits;
  }
  if (digits == 0 || pid <= 0) return std::nullopt;
  return pid;
}

}  // namespace

std::string checkpoint_file_name(uint32_t pid, uint64_t start_ticks) {
  return absl::StrCat(pid, "-", start_ticks, ".resume");
}

std::string encode(const StoreCheckpoint& checkpoint) {
  std::string out(kMagic, sizeof(kMagic));
  put_u32(out, checkpoint.pid);
  put_u64(out, checkpoint.start_ticks);
  put_u32(out, static_cast<uint32_t>(checkpoint.files.size()));
  for (const StoreCheckpoint::File& file : checkpoint.files) {
    put_bytes(out, file.relative_path);
    put_u64(out, file.size);
  }
  put_bytes(out, checkpoint.resume);
  return out;
}

absl::StatusOr<StoreCheckpoint> decode_store_checkpoint(std::string_view bytes) {
  auto invalid = [](const std::string& what) { return absl::InvalidArgumentError(absl::StrCat("checkpoint: ", what)); };
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return invalid("no RTCKPT1 magic");
  }
  ByteReader in(bytes.substr(sizeof(kMagic)));
  StoreCheckpoint checkpoint;
  checkpoint.pid = in.u32();
  checkpoint.start_ticks = in.u64();
  const uint32_t files = in.u32();
  if (in.failed()) return invalid("truncated");
  if (files > kMaxFiles) return invalid(absl::StrCat(files, " files"));
  for (uint32_t i = 0; i < files; ++i) {
    StoreCheckpoint::File file;
    file.relative_path = std::string(in.bytes(kMaxPathBytes));
    file.size = in.u64();
    if (in.failed()) return invalid("truncated file list");
    if (!valid_relative_path(file.relative_path)) return invalid("a path that is not an open file of the store");
    checkpoint.files.push_back(std::move(file));
  }
  checkpoint.resume = std::string(in.bytes(kMaxCheckpointBytes));
  if (in.failed()) return invalid("truncated resume point");
  if (!in.done()) return invalid("bytes left over");
  return checkpoint;
}

absl::Status write_checkpoint(const StoreDir& directory, const StoreCheckpoint& checkpoint, mode_t file_mode,
                              bool fsync) {
  const std::string name = checkpoint_file_name(checkpoint.pid, checkpoint.start_ticks);
  return replace_file(directory, name, encode(checkpoint), file_mode, fsync);
}

absl::StatusOr<std::optional<StoreCheckpoint>> read_checkpoint(const std::string& store_root, uint32_t pid,
                                                               uint64_t start_ticks) {
  absl::StatusOr<StoreDir> root = StoreDir::open(store_root);
  if (absl::IsNotFound(root.status())) return std::nullopt;
  if (!root.ok()) return root.status();
  absl::StatusOr<StoreDir> dir = root->subdirectory(kCheckpointDirectory);
  if (absl::IsNotFound(dir.status())) return std::nullopt;
  if (!dir.ok()) return dir.status();
  const std::string name = checkpoint_file_name(pid, start_ticks);
  absl::StatusOr<FileDescriptor> fd = dir->open_file(name, O_RDONLY);
  if (absl::IsNotFound(fd.status())) return std::nullopt;
  if (!fd.ok()) return fd.status();
  absl::StatusOr<std::string> bytes = read_all(fd->get(), dir->path_of(name), kMaxCheckpointBytes);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<StoreCheckpoint> checkpoint = decode_store_checkpoint(*bytes);
  if (!checkpoint.ok()) return checkpoint.status();
  if (checkpoint->pid != pid || checkpoint->start_ticks != start_ticks) {
    return absl::InvalidArgumentError(absl::StrCat(dir->path_of(name), " names another process"));
  }
  return std::optional<StoreCheckpoint>(std::move(*checkpoint));
}

void apply_checkpoints(const StoreDir& root, const std::function<void(std::string_view)>& report) {
  absl::StatusOr<StoreDir> dir = root.subdirectory(kCheckpointDirectory);
  if (!dir.ok()) {
    if (!absl::IsNotFound(dir.status()) && report) report(std::string{dir.status().message()});
    return;
  }
  absl::StatusOr<std::vector<StoreDir::Entry>> entries = dir->entries();
  if (!entries.ok()) {
    if (report) report(std::string{entries.status().message()});
    return;
  }
  const int64_t stale_before =
      realtime_now_ns() - std::chrono::duration_cast<std::chrono::nanoseconds>(kStaleCheckpointAge).count();
  for (const StoreDir::Entry& entry : *entries) {
    if (const std::optional<pid_t> writer = temporary_writer(entry.name)) {
      // A write in progress, or one a kill cut short (never renamed): that
      // one goes once its writer is gone.
      if (::kill(*writer, 0) != 0 && errno == ESRCH) (void)dir->remove(entry.name);
      continue;
    }
    if (!entry.name.ends_with(".resume")) continue;
    if (!S_ISREG(entry.st.st_mode)) {
      if (report)
        report(absl::StrCat(dir->path_of(entry.name), ": ", std::string(file_type_name(entry.st.st_mode)),
                            ", left alone"));
      continue;
    }
    absl::StatusOr<FileDescriptor> fd = dir->open_file(entry.name, O_RDONLY);
    if (!fd.ok()) continue;
    absl::StatusOr<std::string> bytes = read_all(fd->get(), dir->path_of(entry.name), kMaxCheckpointBytes);
    absl::StatusOr<StoreCheckpoint> checkpoint =
        bytes.ok() ? decode_store_checkpoint(*bytes) : absl::StatusOr<StoreCheckpoint>(bytes.status());
    if (!checkpoint.ok()) {
      if (report) report(absl::StrCat(dir->path_of(entry.name), ": ", checkpoint.status().message(), ", ignored"));
      continue;
    }
    for (const StoreCheckpoint::File& file : checkpoint->files) apply_file(root, file, report);
    if (modified_ns(entry.st) < stale_before) (void)dir->remove(entry.name);
  }
}

}  // namespace ringtail::reader
