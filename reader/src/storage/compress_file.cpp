// compress_file(): a finished plain JSONL file as one zstd frame beside it.
// See compress_file.hpp.
#include "ringtail/reader/storage/compress_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/storage/file_io.hpp"

namespace ringtail::reader {
namespace {

// Plain bytes per read(2).
constexpr size_t kCompressInputBytes = size_t{1} << 20;

// The hash table of level 1 (the default), as a log2 of its entries: 2^11
// rather than zstd's 2^13 for large inputs. JSONL lines repeat the last few
// lines' keys and values, which a table that stays in L1 finds as well or
// better, and faster: on 64 MiB of agent_sim's store and of loadgen's, ratio
// 12.98 vs 12.62 and 29.2 vs 25.4, speed +8-14% and +16-24% (bench/README.md,
// "Write-through, a smaller zstd hash table"). Other levels keep zstd's own
// tables.
constexpr int kLevelOneHashLog = 11;

}  // namespace

namespace {

absl::Status check_level(int level, std::string_view plain) {
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
    return absl::InvalidArgumentError(absl::StrCat("zstd level ", level, " is outside ", ZSTD_minCLevel(), " to ",
                                                   ZSTD_maxCLevel(), " (compressing ", std::string(plain), ")"));
  }
  return absl::OkStatus();
}

// Compresses the open regular file `source` (`plain_path` in messages) into
// `zst_name` in `target`, as compress_file() says.
absl::Status compress_into(int source, const std::string& plain_path, const StoreDir& target, std::string_view zst_name,
                           int level) {
  struct stat source_stat;
  if (::fstat(source, &source_stat) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", plain_path));
  }
  (void)::posix_fadvise(source, 0, 0, POSIX_FADV_SEQUENTIAL);

  // An error from here on removes the temporary file (its destructor).
  absl::StatusOr<TemporaryFile> temp = TemporaryFile::create(target, zst_name, 0600);
  if (!temp.ok()) return temp.status();
  if (::fchmod(temp->fd(), source_stat.st_mode & 07777) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot set the permissions of ", temp->path()));
  }

  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (cctx == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot create a zstd context to compress ", plain_path));
  }
  // The checksum lets a reader tell damaged data from lines; the pledged size
  // goes into the frame header and sizes zstd's window for small files.
  std::vector<std::pair<ZSTD_cParameter, int>> parameters = {{ZSTD_c_compressionLevel, level},
                                                             {ZSTD_c_checksumFlag, 1}};
  if (level == 1) parameters.emplace_back(ZSTD_c_hashLog, kLevelOneHashLog);
  for (const auto& [parameter, value] : parameters) {
    if (const size_t result = ZSTD_CCtx_setParameter(cctx.get(), parameter, value); ZSTD_isError(result)) {
      return absl::InternalError(
          absl::StrCat("cannot set up zstd to compress ", plain_path, ": ", ZSTD_getErrorName(result)));
    }
  }
  const uint64_t source_bytes = static_cast<uint64_t>(source_stat.st_size);
  ZSTD_CCtx_setPledgedSrcSize(cctx.get(), source_bytes);

  const size_t output_bytes = ZSTD_CStreamOutSize();
  std::unique_ptr<char[]> input = std::make_unique_for_overwrite<char[]>(kCompressInputBytes);
  std::unique_ptr<char[]> output = std::make_unique_for_overwrite<char[]>(output_bytes);
  uint64_t read_bytes = 0;
  bool ended = false;
  while (!ended) {
    const ssize_t n = read_fully(source, input.get(), kCompressInputBytes);
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", plain_path));
    read_bytes += static_cast<uint64_t>(n);
    ended = static_cast<size_t>(n) < kCompressInputBytes;
    // A file that is still growing is not finished; nor is one cut shorter
    // (drain cut a partial line): compress it again later.
    if (read_bytes > source_bytes || (ended && read_bytes != source_bytes)) {
      return absl::FailedPreconditionError(absl::StrCat(plain_path, " changed size while it was being compressed (",
                                                        source_bytes, " bytes when opened)"));
    }
    ZSTD_inBuffer in{input.get(), static_cast<size_t>(n), 0};
    const ZSTD_EndDirective mode = ended ? ZSTD_e_end : ZSTD_e_continue;
    for (;;) {
      ZSTD_outBuffer out{output.get(), output_bytes, 0};
      const size_t remaining = ZSTD_compressStream2(cctx.get(), &out, &in, mode);
      if (ZSTD_isError(remaining)) {
        return absl::InternalError(absl::StrCat("cannot compress ", plain_path, ": ", ZSTD_getErrorName(remaining)));
      }
      if (absl::Status status = temp->write(std::string_view(output.get(), out.pos)); !status.ok()) return status;
      // e_continue: done once the input is consumed; e_end: once the frame is
      // complete and flushed.
      if (ended ? remaining == 0 : in.pos == in.size) break;
    }
  }

  // Checked again at the end: lines appended after the last read would be
  // missing from the .zst.
  if (::fstat(source, &source_stat) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", plain_path));
  if (static_cast<uint64_t>(source_stat.st_size) != read_bytes) {
    return absl::FailedPreconditionError(
        absl::StrCat(plain_path, " changed size while it was being compressed (", read_bytes, " bytes read)"));
  }
  // The compressed file keeps the time the plain one was last written: when
  // the reader wrote it (retention goes by it).
  const timespec times[2] = {{0, UTIME_OMIT}, source_stat.st_mtim};
  if (::futimens(temp->fd(), times) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot set the modification time of ", temp->path()));
  }
  if (::fsync(temp->fd()) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot fsync ", temp->path()));
  if (absl::Status status = temp->commit(/*replace=*/true); !status.ok()) return status;
  // The rename is durable once the directory is on disk.
  if (absl::Status status = target.sync(); !status.ok()) {
    return absl::Status(status.code(), absl::StrCat(status.message(), " after writing ", target.path_of(zst_name)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status compress_file(const std::string& plain_path, const std::string& zst_path, int level) {
  if (absl::Status status = check_level(level, plain_path); !status.ok()) return status;
  if (plain_path == zst_path) {
    return absl::InvalidArgumentError(absl::StrCat("cannot compress ", plain_path, " onto itself"));
  }
  absl::StatusOr<FileDescriptor> source = open_file_for_reading(plain_path);
  if (!source.ok()) return source.status();
  absl::StatusOr<StoreDir> target = StoreDir::open_parent(zst_path);
  if (!target.ok()) {
    return absl::Status(target.status().code(),
                        absl::StrCat("cannot write ", zst_path, ": ", target.status().message()));
  }
  return compress_into(source->get(), plain_path, *target, file_name_of(zst_path), level);
}

absl::Status compress_file(const StoreDir& dir, std::string_view plain_name, std::string_view zst_name, int level) {
  const std::string plain_path = dir.path_of(plain_name);
  if (absl::Status status = check_level(level, plain_path); !status.ok()) return status;
  if (plain_name == zst_name) {
    return absl::InvalidArgumentError(absl::StrCat("cannot compress ", plain_path, " onto itself"));
  }
  absl::StatusOr<FileDescriptor> source = dir.open_file(plain_name, O_RDONLY);
  if (!source.ok()) return source.status();
  return compress_into(source->get(), plain_path, dir, zst_name, level);
}

}  // namespace ringtail::reader
