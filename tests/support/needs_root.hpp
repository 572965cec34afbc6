// Tests that need root (mounting, chown, switching uids): without it they
// skip on a developer's machine, but fail under CI (the CI environment
// variable set), which runs them as root and must not skip them silently.
#pragma once

#include <unistd.h>

#include <cstdlib>

#include <gtest/gtest.h>

// In a test body or a fixture's SetUp(); `what` says why root is needed.
#define RINGTAIL_SKIP_OR_FAIL_WITHOUT_ROOT(what)                                         \
  do {                                                                                   \
    if (::geteuid() != 0) {                                                              \
      if (std::getenv("CI") != nullptr) FAIL() << "CI runs as root: this test " << what; \
      GTEST_SKIP() << "needs root: this test " << what;                                  \
    }                                                                                    \
  } while (false)
