#include "ringtail/reader/storage/store_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/storage/store_names.hpp"

namespace ringtail::reader {
namespace {

std::string trimmed(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.empty()) path.assign(1, '.');
  return path;
}

bool one_component(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos;
}

absl::Status bad_name(std::string_view name) {
  return absl::InvalidArgumentError(absl::StrCat("'", std::string(name), "' is not a file name in a store directory"));
}

// What sits at `name` in `dir_fd`, for a message: " (a symbolic link)", or
// empty when it cannot be told.
std::string what_is_at(int dir_fd, const std::string& name) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return {};
  return absl::StrCat(" (", std::string(file_type_name(st.st_mode)), ")");
}

// Why an entry of this type is not used where `want` was asked for.
std::string refusal(const std::string& shown, mode_t mode, std::string_view want) {
  if (S_ISLNK(mode)) return absl::StrCat(shown, " is a symbolic link: not followed");
  return absl::StrCat(shown, " is ", std::string(file_type_name(mode)), ", not ", std::string(want));
}

// An open that failed on a name that is there but may not be followed or
// is not what was asked for: FailedPrecondition naming it; other errors as
// their errno says.
absl::Status refused(int error, int dir_fd, const std::string& name, const std::string& shown, std::string_view want) {
  if (error == ELOOP || error == ENOTDIR || error == ENXIO) {
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      return absl::FailedPreconditionError(refusal(shown, st.st_mode, want));
    }
  }
  return absl::ErrnoToStatus(error, absl::StrCat("cannot open ", shown));
}

}  // namespace

std::string_view file_type_name(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "of an unknown type";
}

int64_t modified_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string_view file_name_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

absl::StatusOr<StoreDir> StoreDir::open(const std::string& path) {
  const std::string shown = trimmed(path);
  FileDescriptor fd(::open(shown.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOTDIR) return absl::FailedPreconditionError(absl::StrCat(shown, " is not a directory"));
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open directory ", shown));
  }
  return StoreDir(std::move(fd), shown);
}

absl::StatusOr<StoreDir> StoreDir::create(const std::string& path, mode_t mode) {
  const std::string shown = trimmed(path);
  for (size_t i = 1; i <= shown.size(); ++i) {
    if (i != shown.size() && shown[i] != '/') continue;
    const std::string prefix = shown.substr(0, i);
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot create directory ", prefix));
    }
  }
  return open(shown);
}

absl::StatusOr<StoreDir> StoreDir::open_parent(const std::string& path, const std::string& root) {
  const std::string top = root.empty() ? std::string() : trimmed(root);
  const size_t slash = path.rfind('/');
  const std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (!top.empty() && parent.size() > top.size() && parent.compare(0, top.size(), top) == 0 &&
      (parent[top.size()] == '/' || top == "/")) {
    absl::StatusOr<StoreDir> dir = open(top);
    if (!dir.ok()) return dir.status();
    return dir->descend(std::string_view{parent}.substr(top == "/" ? 1 : top.size() + 1));
  }
  if (!top.empty() && parent == top) return open(top);
  return open(parent);
}

std::string StoreDir::path_of(std::string_view name) const {
  if (path_ == "/") return absl::StrCat("/", std::string(name));
  return absl::StrCat(path_, "/", std::string(name));
}

absl::StatusOr<StoreDir> StoreDir::subdirectory(std::string_view name) const {
  if (!one_component(name)) return bad_name(name);
  const std::string component(name);
  FileDescriptor fd(::openat(fd_.get(), component.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return refused(errno, fd_.get(), component, path_of(name), "a directory");
  return StoreDir(std::move(fd), path_of(name));
}

absl::StatusOr<StoreDir> StoreDir::make_subdirectory(std::string_view name, mode_t mode) const {
  if (!one_component(name)) return bad_name(name);
  const std::string component(name);
  // mkdirat never follows a link at the name: it fails with EEXIST, and
  // subdirectory() then refuses the link.
  if (::mkdirat(fd_.get(), component.c_str(), mode) != 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot create directory ", path_of(name)));
  }
  return subdirectory(name);
}

absl::StatusOr<StoreDir> StoreDir::descend(std::string_view relative, std::optional<mode_t> create_mode) const {
  std::optional<StoreDir> current;
  const StoreDir* from = this;
  while (!relative.empty()) {
    const size_t slash = relative.find('/');
    const std::string_view component = relative.substr(0, slash);
    relative = slash == std::string_view::npos ? std::string_view() : relative.substr(slash + 1);
    if (component.empty()) continue;
    absl::StatusOr<StoreDir> next =
        create_mode ? from->make_subdirectory(component, *create_mode) : from->subdirectory(component);
    if (!next.ok()) return next.status();
    current.emplace(*std::move(next));
    from = &*current;
  }
  if (current) return *std::move(current);
  // No component: this directory again, as a descriptor of its own.
  FileDescriptor fd(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
  if (fd.get() < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open directory ", path_));
  return StoreDir(std::move(fd), path_);
}

absl::StatusOr<FileDescriptor> StoreDir::open_file(std::string_view name, int flags) const {
  if (!one_component(name)) return bad_name(name);
  const std::string component(name);
  // O_NONBLOCK until fstat has shown a regular file: opening a FIFO for
  // reading would otherwise wait for a writer.
  FileDescriptor fd(::openat(fd_.get(), component.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return refused(errno, fd_.get(), component, path_of(name), "a regular file");
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path_of(name)));
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(refusal(path_of(name), st.st_mode, "a regular file"));
  }
  if ((flags & O_NONBLOCK) == 0) {
    const int status_flags = ::fcntl(fd.get(), F_GETFL);
    if (status_flags < 0 || ::fcntl(fd.get(), F_SETFL, status_flags & ~O_NONBLOCK) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path_of(name)));
    }
  }
  return fd;
}

absl::StatusOr<FileDescriptor> StoreDir::create_file(std::string_view name, int flags, mode_t mode) const {
  if (!one_component(name)) return bad_name(name);
  const std::string component(name);
  FileDescriptor fd(::openat(fd_.get(), component.c_str(), flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (fd.get() < 0) {
    const int error = errno;
    if (error == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat("cannot create ", path_of(name), ": something is there", what_is_at(fd_.get(), component)));
    }
    return absl::ErrnoToStatus(error, absl::StrCat("cannot create ", path_of(name)));
  }
  return fd;
}

absl::StatusOr<struct stat> StoreDir::status(std::string_view name) const {
  if (!one_component(name)) return bad_name(name);
  const std::string component(name);
  struct stat st;
  if (::fstatat(fd_.get(), component.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path_of(name)));
  }
  return st;
}

namespace {

absl::Status rename_failure(int error, const StoreDir& from_dir, std::string_view from, const StoreDir& target,
                            std::string_view to) {
  const std::string what = absl::StrCat("cannot rename ", from_dir.path_of(from), " to ", target.path_of(to));
  if (error == EEXIST) {
    return absl::AlreadyExistsError(
        absl::StrCat(what, ": something is there", what_is_at(target.fd(), std::string(to))));
  }
  return absl::ErrnoToStatus(error, what);
}

}  // namespace

absl::Status StoreDir::rename(std::string_view from, const StoreDir& target, std::string_view to, bool replace) const {
  if (!one_component(from)) return bad_name(from);
  if (!one_component(to)) return bad_name(to);
  const std::string source(from);
  const std::string destination(to);
  const int result = replace
                         ? ::renameat(fd_.get(), source.c_str(), target.fd(), destination.c_str())
                         : ::renameat2(fd_.get(), source.c_str(), target.fd(), destination.c_str(), RENAME_NOREPLACE);
  if (result == 0) return absl::OkStatus();
  return rename_failure(errno, *this, from, target, to);
}

absl::Status StoreDir::move_to(std::string_view name, const StoreDir& target, std::string_view to) const {
  if (!one_component(name)) return bad_name(name);
  if (!one_component(to)) return bad_name(to);
  const std::string source_name(name);
  const std::string destination(to);
  if (::renameat2(fd_.get(), source_name.c_str(), target.fd(), destination.c_str(), RENAME_NOREPLACE) == 0) {
    return absl::OkStatus();
  }
  if (errno != EXDEV) return rename_failure(errno, *this, name, target, to);
  // Another file system: copy, then remove.
  absl::StatusOr<FileDescriptor> source = open_file(name, O_RDONLY);
  if (!source.ok()) return source.status();
  struct stat st;
  if (::fstat(source->get(), &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path_of(name)));
  absl::StatusOr<TemporaryFile> copy = TemporaryFile::create(target, to, 0600);
  if (!copy.ok()) return copy.status();
  if (::fchmod(copy->fd(), st.st_mode & 07777) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot set the permissions of ", copy->path()));
  }
  char chunk[65536];
  for (;;) {
    const ssize_t n = read_fully(source->get(), chunk, sizeof(chunk));
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path_of(name)));
    if (absl::Status status = copy->write(std::string_view(chunk, static_cast<size_t>(n))); !status.ok()) {
      return status;
    }
    if (static_cast<size_t>(n) < sizeof(chunk)) break;  // the end
  }
  const timespec times[2] = {st.st_atim, st.st_mtim};
  if (::futimens(copy->fd(), times) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot set the times of ", copy->path()));
  }
  if (::fsync(copy->fd()) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot fsync ", copy->path()));
  if (absl::Status status = copy->commit(/*replace=*/false); !status.ok()) return status;
  if (absl::Status status = target.sync(); !status.ok()) return status;
  return remove(name);
}

absl::Status StoreDir::remove(std::string_view name) const {
  if (!one_component(name)) return bad_name(name);
  const std::string component(name);
  if (::unlinkat(fd_.get(), component.c_str(), 0) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot remove ", path_of(name)));
  }
  return absl::OkStatus();
}

absl::Status StoreDir::sync() const {
  if (::fsync(fd_.get()) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot fsync ", path_));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StoreDir::Entry>> StoreDir::entries() const {
  // fdopendir takes the descriptor over: give it a duplicate of its own.
  const int listing = ::openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot list ", path_));
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(listing), &::closedir);
  if (!dir) {
    const int error = errno;
    ::close(listing);
    return absl::ErrnoToStatus(error, absl::StrCat("cannot list ", path_));
  }
  std::vector<Entry> found;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot list ", path_));
      break;
    }
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    Entry e;
    e.name = std::string(name);
    if (::fstatat(fd_.get(), entry->d_name, &e.st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed since it was listed
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path_of(name)));
    }
    found.push_back(std::move(e));
  }
  std::sort(found.begin(), found.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return found;
}

absl::StatusOr<FileDescriptor> open_file_for_reading(const std::string& path) {
  absl::StatusOr<StoreDir> dir = StoreDir::open_parent(path);
  if (!dir.ok()) return dir.status();
  return dir->open_file(file_name_of(path), O_RDONLY);
}

std::string temporary_name(std::string_view final_name) {
  return absl::StrCat(std::string(final_name), ".tmp.", ::getpid(), ".", ::gettid());
}

bool is_temporary_name(std::string_view name) {
  for (size_t at = name.find(".tmp"); at != std::string_view::npos; at = name.find(".tmp", at + 1)) {
    const std::string_view after = name.substr(at + 4);
    if ((after.empty() || after.front() == '.') && parse_stored_file_name(name.substr(0, at)).has_value()) return true;
  }
  return false;
}

absl::StatusOr<TemporaryFile> TemporaryFile::create(const StoreDir& dir, std::string_view final_name, mode_t mode) {
  std::string name = temporary_name(final_name);
  absl::StatusOr<FileDescriptor> fd = dir.create_file(name, O_WRONLY, mode);
  if (!fd.ok()) return fd.status();
  return TemporaryFile(dir, std::move(name), std::string(final_name), *std::move(fd));
}

TemporaryFile::TemporaryFile(TemporaryFile&& other) noexcept
    : dir_(other.dir_),
      name_(std::move(other.name_)),
      final_name_(std::move(other.final_name_)),
      fd_(std::move(other.fd_)),
      done_(std::exchange(other.done_, true)) {}

TemporaryFile::~TemporaryFile() {
  if (done_) return;
  fd_.close();
  (void)dir_->remove(name_);
}

absl::Status TemporaryFile::write(std::string_view bytes) { return write_all(fd_.get(), bytes, path()); }

absl::Status TemporaryFile::commit(bool replace) {
  absl::Status status;
  if (fd_.close() != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", path()));
  } else {
    status = dir_->rename(name_, *dir_, final_name_, replace);
  }
  if (!status.ok()) (void)dir_->remove(name_);
  done_ = true;
  return status;
}

absl::Status replace_file(const StoreDir& dir, std::string_view name, std::string_view bytes, mode_t mode, bool sync) {
  absl::StatusOr<TemporaryFile> temporary = TemporaryFile::create(dir, name, mode);
  if (!temporary.ok()) return temporary.status();
  if (absl::Status status = temporary->write(bytes); !status.ok()) return status;
  if (sync && ::fdatasync(temporary->fd()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot fdatasync ", temporary->path()));
  }
  return temporary->commit(/*replace=*/true);
}

namespace {

absl::Status walk_from(const StoreDir& dir, int depth,
                       const std::function<absl::Status(const StoreDir&, std::vector<StoreDir::Entry>&)>& visit,
                       const std::function<void(std::string_view)>& report) {
  absl::StatusOr<std::vector<StoreDir::Entry>> entries = dir.entries();
  if (!entries.ok()) return entries.status();
  std::vector<StoreDir::Entry> files;
  std::vector<std::string> subdirectories;
  for (StoreDir::Entry& entry : *entries) {
    if (S_ISREG(entry.st.st_mode)) {
      files.push_back(std::move(entry));
    } else if (S_ISDIR(entry.st.st_mode)) {
      subdirectories.push_back(std::move(entry.name));
    } else if (report) {
      report(absl::StrCat(refusal(dir.path_of(entry.name), entry.st.st_mode, "a regular file or directory"),
                          S_ISLNK(entry.st.st_mode) ? "" : ": left alone"));
    }
  }
  if (absl::Status status = visit(dir, files); !status.ok()) return status;
  for (const std::string& name : subdirectories) {
    if (depth >= kMaxStoreDepth) {
      if (report) report(absl::StrCat(dir.path_of(name), ": deeper than a store goes, not listed"));
      continue;
    }
    absl::StatusOr<StoreDir> sub = dir.subdirectory(name);
    if (!sub.ok()) {
      // Replaced by something else since it was listed: not entered.
      if (sub.status().code() == absl::StatusCode::kFailedPrecondition ||
          sub.status().code() == absl::StatusCode::kNotFound) {
        if (report) report(std::string{sub.status().message()});
        continue;
      }
      return sub.status();
    }
    if (absl::Status status = walk_from(*sub, depth + 1, visit, report); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status walk_store(
    const StoreDir& root,
    const std::function<absl::Status(const StoreDir& dir, std::vector<StoreDir::Entry>& files)>& visit,
    const std::function<void(std::string_view)>& report) {
  return walk_from(root, 0, visit, report);
}

}  // namespace ringtail::reader
