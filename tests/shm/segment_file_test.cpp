// shm::SegmentFile: create, open, reserve and remove a file in /dev/shm.
#include "ringtail/shm/segment_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>

namespace ringtail::shm {
namespace {

// A name no other test (or process) uses; removed again when it goes out of scope.
class TestName {
 public:
  TestName() {
    static std::atomic<int> counter{0};
    name_ = "ringtail_shm_test." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    ::shm_unlink(name_.c_str());
  }
  ~TestName() { ::shm_unlink(name_.c_str()); }
  const std::string& str() const { return name_; }
  std::string path() const { return "/dev/shm/" + name_; }

 private:
  std::string name_;
};

struct stat stat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
  return st;
}

class UmaskScope {
 public:
  explicit UmaskScope(mode_t mask) : old_(::umask(mask)) {}
  ~UmaskScope() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(SegmentFileTest, CreateMakesASparseFileWithTheExactMode) {
  TestName name;
  constexpr uint64_t kBytes = 1 << 20;
  absl::StatusOr<SegmentFile> file = SegmentFile::create(name.str(), kBytes, 0600);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(file->valid());
  EXPECT_EQ(file->name(), name.str());
  EXPECT_EQ(file->size(), kBytes);
  ASSERT_NE(file->data(), nullptr);

  const struct stat st = stat_of(name.path());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600U);
  EXPECT_EQ(st.st_uid, ::getuid());
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), kBytes);
  EXPECT_EQ(st.st_blocks, 0) << "created sparse: nothing allocated before reserve()";
}

TEST(SegmentFileTest, ModeIsNotChangedByTheUmask) {
  TestName wide, narrow;
  {
    UmaskScope mask(0077);  // would strip the group bits
    absl::StatusOr<SegmentFile> file = SegmentFile::create(wide.str(), 4096, 0640);
    ASSERT_TRUE(file.ok()) << file.status();
  }
  EXPECT_EQ(stat_of(wide.path()).st_mode & 07777, 0640U);
  {
    UmaskScope mask(0);  // would leave the default 0644/0666 of an open
    absl::StatusOr<SegmentFile> file = SegmentFile::create(narrow.str(), 4096, 0600);
    ASSERT_TRUE(file.ok()) << file.status();
  }
  EXPECT_EQ(stat_of(narrow.path()).st_mode & 07777, 0600U);
}

TEST(SegmentFileTest, CreateFailsIfTheNameExistsAndLeavesTheFileAlone) {
  TestName name;
  absl::StatusOr<SegmentFile> first = SegmentFile::create(name.str(), 8192, 0600);
  ASSERT_TRUE(first.ok()) << first.status();
  std::memcpy(first->data(), "keep me", 8);

  absl::StatusOr<SegmentFile> second = SegmentFile::create(name.str(), 4096, 0600);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists) << second.status();
  EXPECT_NE(std::string(second.status().message()).find(name.str()), std::string::npos) << second.status();

  // The existing segment survives the failed create, contents and size.
  EXPECT_EQ(static_cast<uint64_t>(stat_of(name.path()).st_size), 8192U);
  absl::StatusOr<SegmentFile> again = SegmentFile::open(name.str(), SegmentFile::Access::kReadOnly);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(std::memcmp(again->data(), "keep me", 8), 0);
}

TEST(SegmentFileTest, OpenMapsTheSameMemory) {
  TestName name;
  absl::StatusOr<SegmentFile> writer = SegmentFile::create(name.str(), 3 * 4096, 0600);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE(writer->reserve(0, 3 * 4096).ok());

  absl::StatusOr<SegmentFile> reader = SegmentFile::open(name.str(), SegmentFile::Access::kReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(reader->size(), 3U * 4096);
  absl::StatusOr<SegmentFile> other = SegmentFile::open(name.str(), SegmentFile::Access::kReadWrite);
  ASSERT_TRUE(other.ok()) << other.status();

  auto* word = reinterpret_cast<std::atomic<uint64_t>*>(writer->data() + 2 * 4096 + 64);
  word->store(0x1122334455667788ULL);
  EXPECT_EQ(reinterpret_cast<const std::atomic<uint64_t>*>(reader->data() + 2 * 4096 + 64)->load(),
            0x1122334455667788ULL);
  // And the other way: the read-write opener writes, the creator sees it.
  reinterpret_cast<std::atomic<uint32_t>*>(other->data() + 100)->store(77);
  EXPECT_EQ(reinterpret_cast<std::atomic<uint32_t>*>(writer->data() + 100)->load(), 77U);
}

TEST(SegmentFileTest, OpenErrors) {
  TestName missing;
  absl::StatusOr<SegmentFile> file = SegmentFile::open(missing.str(), SegmentFile::Access::kReadOnly);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound) << file.status();
  EXPECT_NE(std::string(file.status().message()).find(missing.str()), std::string::npos) << file.status();

  // An empty file (a producer that died between shm_open and ftruncate).
  TestName empty;
  const int fd = ::shm_open(empty.str().c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  file = SegmentFile::open(empty.str(), SegmentFile::Access::kReadOnly);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss) << file.status();
}

// /dev/shm is writable by everyone: what sits under a segment's name may be
// a trap. Opening never blocks, never follows a link, maps only a file.
TEST(SegmentFileTest, OpenRefusesWhatIsNotARegularFileWithoutBlocking) {
  TestName fifo;
  ASSERT_EQ(::mkfifo(fifo.path().c_str(), 0666), 0) << std::strerror(errno);
  absl::StatusOr<SegmentFile> file = SegmentFile::open(fifo.str(), SegmentFile::Access::kReadOnly);
  ASSERT_FALSE(file.ok()) << "a FIFO was mapped";
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument) << file.status();

  TestName target;
  absl::StatusOr<SegmentFile> real = SegmentFile::create(target.str(), 4096, 0600);
  ASSERT_TRUE(real.ok()) << real.status();
  TestName link;
  ASSERT_EQ(::symlink(target.path().c_str(), link.path().c_str()), 0) << std::strerror(errno);
  file = SegmentFile::open(link.str(), SegmentFile::Access::kReadOnly);
  EXPECT_FALSE(file.ok()) << "a symlink was followed";

  TestName directory;
  ASSERT_EQ(::mkdir(directory.path().c_str(), 0700), 0);
  file = SegmentFile::open(directory.str(), SegmentFile::Access::kReadOnly);
  EXPECT_FALSE(file.ok());
  ::rmdir(directory.path().c_str());
}

TEST(SegmentFileTest, OwnerIsWhatTheKernelRecorded) {
  TestName name;
  absl::StatusOr<SegmentFile> created = SegmentFile::create(name.str(), 4096, 0600);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->owner_uid(), ::geteuid());
  absl::StatusOr<SegmentFile> opened = SegmentFile::open(name.str(), SegmentFile::Access::kReadOnly);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->owner_uid(), stat_of(name.path()).st_uid);
}

TEST(SegmentFileTest, ReserveAllocatesInRangeAndRejectsOutOfRange) {
  TestName name;
  constexpr uint64_t kBytes = 64 * 4096;
  absl::StatusOr<SegmentFile> file = SegmentFile::create(name.str(), kBytes, 0600);
  ASSERT_TRUE(file.ok()) << file.status();

  ASSERT_TRUE(file->reserve(4096, 8 * 4096).ok());
  const struct stat st = stat_of(name.path());
  EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, 8U * 4096) << "reserve allocated nothing";
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, kBytes) << "reserve allocated more than asked";

  // Unaligned ranges and the very end are fine.
  EXPECT_TRUE(file->reserve(100, 10).ok());
  EXPECT_TRUE(file->reserve(kBytes - 8, 8).ok());
  EXPECT_TRUE(file->reserve(0, kBytes).ok());
  std::memset(file->data(), 0x5A, kBytes);  // every reserved byte is writable

  const std::pair<uint64_t, uint64_t> outside[] = {
      {kBytes, 1},     {kBytes + 1, 0}, {0, kBytes + 1}, {kBytes - 8, 16},
      {UINT64_MAX, 1}, {8, UINT64_MAX}, {UINT64_MAX, 0},
  };
  for (const auto& [offset, bytes] : outside) {
    const absl::Status s = file->reserve(offset, bytes);
    EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << "reserve(" << offset << ", " << bytes << "): " << s;
  }
}

TEST(SegmentFileTest, RemoveUnlinksButTheMappingStaysValid) {
  TestName name;
  absl::StatusOr<SegmentFile> file = SegmentFile::create(name.str(), 4096, 0600);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE(file->reserve(0, 4096).ok());

  EXPECT_TRUE(SegmentFile::remove(name.str()));
  EXPECT_NE(::access(name.path().c_str(), F_OK), 0) << "still in /dev/shm after remove";
  EXPECT_FALSE(SegmentFile::remove(name.str())) << "removed twice";
  EXPECT_FALSE(SegmentFile::open(name.str(), SegmentFile::Access::kReadOnly).ok());

  std::memcpy(file->data() + 4000, "still mapped", 13);
  EXPECT_EQ(std::memcmp(file->data() + 4000, "still mapped", 13), 0);

  // The name is free again.
  absl::StatusOr<SegmentFile> again = SegmentFile::create(name.str(), 4096, 0600);
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST(SegmentFileTest, MovedFromFileIsInvalid) {
  TestName name;
  absl::StatusOr<SegmentFile> file = SegmentFile::create(name.str(), 4096, 0600);
  ASSERT_TRUE(file.ok()) << file.status();
  SegmentFile moved = std::move(*file);
  EXPECT_TRUE(moved.valid());
  EXPECT_EQ(moved.size(), 4096U);
  EXPECT_FALSE(SegmentFile().valid());
}

}  // namespace
}  // namespace ringtail::shm
