// The producer runs in fork()ed children that leave with _exit(), so a
// ThreadSanitizer report there would not change their exit status: make the
// first report end the process (exit status 66), which fails the test.
#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_options() { return "halt_on_error=1"; }
#endif
