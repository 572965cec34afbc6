// StoreDir: a directory of a storage tree (store_names.hpp) held open, and the
// file operations the store makes on the names in it. Every open, create,
// rename, remove and stat of the store (data files, "-open" files, indexes,
// temporaries, archive copies, the hash key) goes through here.
//
// Why: `ringtail drain` and `ringtail retain` run as root over a directory
// that others may be able to write into (a group-writable store, a service
// account that owns it). Whatever they plant there (a symbolic link at the
// name the drain will adopt, at a temporary's name, at an archive target;
// a FIFO with a data file's name) must make the operation fail and be
// reported, never turn it against a file outside the store. So:
//   * a name is always one path component, resolved relative to the
//     directory's descriptor (openat, renameat, unlinkat, fstatat), never
//     through a symbolic link: files are opened with O_NOFOLLOW, stat is
//     fstatat(AT_SYMLINK_NOFOLLOW), a link is removed or replaced as a link;
//   * subdirectories are opened one component at a time with O_DIRECTORY |
//     O_NOFOLLOW, so a symlinked "<service>" or "<date>" is refused, not
//     entered;
//   * an opened file must be a regular file (fstat), checked before anything
//     is read or written; it is opened O_NONBLOCK until then, so a FIFO
//     cannot hang a reader;
//   * new files are created with O_CREAT | O_EXCL: anything already at the
//     name (a file, a link) makes the creation fail;
//   * temporaries have a name of their own ("<final>.tmp.<pid>.<tid>",
//     created O_EXCL), are renamed into place, and are removed on failure;
//   * every descriptor is O_CLOEXEC.
// The one path resolved as the operating system resolves it is the top
// directory the operator named (drain --out, retain DIR, --archive DIR) or,
// for the functions that take a path, the directory that holds the file:
// those are the caller's choice.
//
// walk_store() lists a tree the same way: directories entered without
// following links, and only regular files handed on; symbolic links and
// other entries that are not regular files are reported and left alone.
//
// Threading: a StoreDir is an open descriptor; its const members may run on
// several threads at once. A TemporaryFile belongs to one thread.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/storage/file_io.hpp"

namespace ringtail::reader {

// "a symbolic link", "a directory", "a FIFO", ...: what a stat mode is, for messages.
std::string_view file_type_name(mode_t mode);

// A stat's modification time, ns since the Unix epoch.
int64_t modified_ns(const struct stat& st);

// The last component of a path ("a/b/c.jsonl" -> "c.jsonl").
std::string_view file_name_of(std::string_view path);

class StoreDir {
 public:
  // The directory `path`, as the operating system resolves it (the caller
  // named it). NotFound if it does not exist, FailedPrecondition if it is not
  // a directory.
  static absl::StatusOr<StoreDir> open(const std::string& path);
  // mkdir -p `path` (each missing component with `mode`), then open().
  static absl::StatusOr<StoreDir> create(const std::string& path, mode_t mode);
  // The directory that holds the file `path` (its name there is
  // file_name_of(path)). When `path` lies below `root` ("<root>/svc/date/f"),
  // root is opened with open() and every component below it as by
  // subdirectory(); otherwise the parent is opened with open().
  static absl::StatusOr<StoreDir> open_parent(const std::string& path, const std::string& root = {});

  StoreDir(StoreDir&&) noexcept = default;
  StoreDir& operator=(StoreDir&&) noexcept = default;
  StoreDir(const StoreDir&) = delete;
  StoreDir& operator=(const StoreDir&) = delete;

  int fd() const { return fd_.get(); }
  // The directory's path, for messages and for the paths handed to callers.
  const std::string& path() const { return path_; }
  std::string path_of(std::string_view name) const;

  // The subdirectory `name` (one component), never through a link:
  // FailedPrecondition for a symbolic link or anything not a directory.
  absl::StatusOr<StoreDir> subdirectory(std::string_view name) const;
  // The same, created first (with `mode`) if it is missing.
  absl::StatusOr<StoreDir> make_subdirectory(std::string_view name, mode_t mode) const;
  // Down `relative` ("svc/2026-11-30"), a component at a time as by
  // subdirectory() (make_subdirectory() with a create_mode).
  absl::StatusOr<StoreDir> descend(std::string_view relative, std::optional<mode_t> create_mode = std::nullopt) const;

  // Opens the regular file `name` with `flags` (plus O_NOFOLLOW, O_CLOEXEC).
  // NotFound if it does not exist; FailedPrecondition, naming what it is,
  // for a symbolic link or anything else that is not a regular file.
  absl::StatusOr<FileDescriptor> open_file(std::string_view name, int flags) const;
  // Creates the file `name` (O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC plus
  // `flags`, with `mode`): AlreadyExists, naming what is there, if anything
  // is (a file, a symbolic link, ...).
  absl::StatusOr<FileDescriptor> create_file(std::string_view name, int flags, mode_t mode) const;
  // fstatat(AT_SYMLINK_NOFOLLOW): a link is described, not followed. NotFound
  // if there is nothing.
  absl::StatusOr<struct stat> status(std::string_view name) const;
  // Renames `from` to `to` in `target` (renameat): a link at either name is
  // moved or replaced as a link. With replace false, never over an existing
  // name (renameat2 RENAME_NOREPLACE): AlreadyExists.
  absl::Status rename(std::string_view from, const StoreDir& target, std::string_view to, bool replace) const;
  // Moves `name` to `to` in `target`, never over an existing name
  // (AlreadyExists): a rename, or across file systems a copy (a
  // TemporaryFile with the source's permissions and times, fsync'ed, renamed
  // into place without replacing) and then the removal of `name`. The source
  // must be a regular file to be copied.
  absl::Status move_to(std::string_view name, const StoreDir& target, std::string_view to) const;
  // unlinkat: a link is removed, never its target. NotFound if missing.
  absl::Status remove(std::string_view name) const;
  // fsync of the directory (makes renames and creations durable).
  absl::Status sync() const;

  struct Entry {
    std::string name;
    struct stat st;  // as fstatat(AT_SYMLINK_NOFOLLOW) saw it
  };
  // Every entry but "." and "..", sorted by name.
  absl::StatusOr<std::vector<Entry>> entries() const;

 private:
  StoreDir(FileDescriptor fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

  FileDescriptor fd_;
  std::string path_;
};

// The regular file `path` opened for reading as StoreDir::open_file opens
// it (never through a link), in the directory that holds it (open_parent).
absl::StatusOr<FileDescriptor> open_file_for_reading(const std::string& path);

// The name of the calling thread's temporary for `final_name` in a store
// directory: "<final_name>.tmp.<pid>.<tid>". A thread writes one temporary
// at a time, so the name is unique among writers; being known in advance,
// something planted there makes the write fail (O_EXCL), never go through.
std::string temporary_name(std::string_view final_name);
// Whether `name` is a temporary of a store file ("<stored name>.tmp" or
// "<stored name>.tmp.<anything>"), ours or an older version's.
bool is_temporary_name(std::string_view name);

// A temporary file beside the file it will become (temporary_name()),
// created O_EXCL. The destructor removes it unless commit() renamed it.
class TemporaryFile {
 public:
  // `dir` must outlive the TemporaryFile.
  static absl::StatusOr<TemporaryFile> create(const StoreDir& dir, std::string_view final_name, mode_t mode);

  TemporaryFile(TemporaryFile&& other) noexcept;
  TemporaryFile& operator=(TemporaryFile&&) = delete;
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile();

  int fd() const { return fd_.get(); }
  // The temporary's path, for messages.
  std::string path() const { return dir_->path_of(name_); }
  // Writes all of `bytes` (write_all, file_io.hpp).
  absl::Status write(std::string_view bytes);
  // Closes it (reporting delayed write errors) and renames it to the final
  // name; with replace false, never over an existing name. On error the
  // temporary is removed.
  absl::Status commit(bool replace);

 private:
  TemporaryFile(const StoreDir& dir, std::string name, std::string final_name, FileDescriptor fd)
      : dir_(&dir), name_(std::move(name)), final_name_(std::move(final_name)), fd_(std::move(fd)) {}

  const StoreDir* dir_;
  std::string name_;
  std::string final_name_;
  FileDescriptor fd_;
  bool done_ = false;  // renamed, or removed
};

// Replaces the file `name` in `dir` by one holding `bytes`, atomically: a
// TemporaryFile with `mode`, written, fdatasync'ed when `sync`, renamed over
// `name` (a link there is replaced, not followed). A reader sees the old
// file or the new one, never part of either; a crash leaves at most a
// temporary (is_temporary_name()). Errors name the file.
absl::Status replace_file(const StoreDir& dir, std::string_view name, std::string_view bytes, mode_t mode, bool sync);

// Lists the tree under `root` without following anything: calls
// visit(directory, files) for `root` and for every directory below it
// (depth first, by name; at most kMaxStoreDepth levels down), with that
// directory's regular files. Symbolic links (to files or directories) and
// entries that are neither regular files nor directories are passed to
// `report` ("<path>: a symbolic link, not followed") and left out. Stops at
// the first error: a directory that cannot be listed, or one `visit`
// returns.
inline constexpr int kMaxStoreDepth = 8;
absl::Status walk_store(
    const StoreDir& root,
    const std::function<absl::Status(const StoreDir& dir, std::vector<StoreDir::Entry>& files)>& visit,
    const std::function<void(std::string_view)>& report);

}  // namespace ringtail::reader
