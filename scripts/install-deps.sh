#!/usr/bin/env bash
# Installs the Debian 12 packages ringtail builds, tests and benchmarks with.
# Idempotent: packages already present are skipped, and apt-get runs only when
# something is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git python3
  libconcurrentqueue-dev  # moodycamel::ConcurrentQueue (reader pipelines, bench comparison)
  libabsl-dev             # Abseil: Status, strings, time, containers
  libgtest-dev libgmock-dev
  libbenchmark-dev
  libspdlog-dev           # benchmark comparison only
  libcli11-dev            # CLI11: argument parsing of the tools and examples
  libsimdjson-dev         # simdjson: queries parse JSONL; tests parse every line the reader writes
  libzstd-dev zstd        # compressed JSONL files (zstd -dc reads them)
  libre2-dev              # regular expressions of --where key~regex
  libssl-dev              # HMAC-SHA256 of redaction's keyed hash (OpenSSL libcrypto)
  libcpp-httplib-dev      # cpp-httplib: the HTTP sink of drain --sink http(s)://
  jq                      # tests and benchmarks compare query answers with jq
  clang-format            # the format check of CI
  clang-tidy              # the lint stage of CI (scripts/tidy.sh)
  clang libclang-rt-14-dev  # the libFuzzer test (tests/fuzz; skipped without them)
  rsyslog                 # the syslog sink's test runs its own rsyslogd in the foreground (never the service)
  protobuf-compiler python3-protobuf  # the OTLP sink's test decodes every request with the official .proto files
  prometheus              # drain --listen's test runs its own Prometheus in the foreground (never the service) and scrapes the drain
  clickhouse-server clickhouse-client  # the ClickHouse sink's and --engine's tests run their own server in the foreground (never the service)
  libsqlite3-dev sqlite3  # export --format sqlite (libsqlite3); its test reads the file with the sqlite3 command
  chromium fonts-dejavu-core  # report --html's test renders the report in headless Chromium (and takes its screenshot)
  tmux                    # `ringtail top`'s test drives the live view in a real terminal (a tmux pane on a private socket)
  pybind11-dev python3-dev  # the Python producer module (python/)
  python3-pytest python3-pytest-asyncio python3-structlog  # its tests (pytest), asyncio and structlog support
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
