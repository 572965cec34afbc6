// The syslog sink against a real receiver: the test starts rsyslogd (Debian's
// rsyslog) in the foreground with its own configuration and work directory,
// listening on free loopback ports with imudp and imtcp, and writing what
// each input receives as one JSON object per message (its RFC 5424 parts as
// rsyslog parsed them). A forked producer logs hostile strings (quotes,
// backslashes, ']', '=', control characters with NUL, invalid UTF-8,
// non-ASCII text, a value near the string limit) under hostile keys and a
// hostile message; the real `ringtail drain --once` stores them and sends
// them to both inputs. Checked, for each transport:
//
//   - every stored line arrives exactly once, as the message's MSG;
//   - rsyslog parsed the header: PRI (facility local0, severity from the
//     level), APP-NAME the service, PROCID the pid, MSGID the message made
//     printable;
//   - every field of the line is in the structured data, under its key made
//     an SD-NAME, and its value parses back (syslog_text.hpp, written from
//     RFC 5424) to the stored value exactly: a string's text, else its JSON.
//
// rsyslogd missing is a failure, not a skip (scripts/install-deps.sh
// installs it). No wall-clock assertions: waits have deadlines only.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "eventually.hpp"
#include "loopback.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/sinks/event_batch.hpp"
#include "ringtail/ringtail.hpp"
#include "shaped_text.hpp"
#include "stored_files.hpp"
#include "subprocess.hpp"
#include "syslog_text.hpp"

namespace ringtail::reader {
namespace {

using ringtail::kv;
using ringtail::test::ProducerChild;
using testing::parse_sd_element;
using testing::SdParams;

// Five of each hostile value. UDP drops what overflows the receiver's socket
// buffer: rsyslogd asks for 4 MiB (as root), and even the default 208 KiB
// holds all of them sent at once.
constexpr int kEvents = 60;

std::string rsyslogd_path() {
  for (const char* path : {"/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/bin/rsyslogd"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

void send_udp(uint16_t port, std::string_view message) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const sockaddr_in address = ringtail::test::loopback_address(port);
  ::sendto(fd, message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  ::close(fd);
}

std::vector<std::string> file_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A header field or key as the sink must write it: bytes outside 33-126
// (and, for an SD-NAME, '=', ']' and '"') as '_', cut to `limit` bytes.
std::string printable(std::string_view text, size_t limit, bool sd_name) {
  if (text.empty()) return sd_name ? "_" : "-";
  std::string out;
  for (const char c : text.substr(0, limit)) {
    const auto byte = static_cast<unsigned char>(c);
    const bool ok = byte >= 33 && byte <= 126 && !(sd_name && (c == '=' || c == ']' || c == '"'));
    out.push_back(ok ? c : '_');
  }
  return out;
}

// rsyslogd in the foreground on two free ports; stopped (SIGTERM) and its
// directory removed at the end.
class Rsyslog {
 public:
  explicit Rsyslog(const std::filesystem::path& dir) : dir_(dir) {}
  ~Rsyslog() {
    if (daemon_) {
      daemon_->signal(SIGTERM);
      daemon_->wait(20000);
    }
  }

  // Starts it and waits until both inputs take messages.
  bool start(std::string* error) {
    const std::string path = rsyslogd_path();
    if (path.empty()) {
      *error = "rsyslogd is not installed: run scripts/install-deps.sh (Debian package rsyslog)";
      return false;
    }
    udp_port_ = ringtail::test::free_loopback_port(SOCK_DGRAM);
    tcp_port_ = ringtail::test::free_loopback_port(SOCK_STREAM);
    std::ofstream conf(dir_ / "rsyslog.conf");
    conf << "global(workDirectory=\"" << dir_.string() << "\" maxMessageSize=\"256k\")\n"
         << "module(load=\"imudp\")\nmodule(load=\"imtcp\")\n"
         << "template(name=\"parts\" type=\"list\" option.jsonf=\"on\") {\n"
         << "  property(outname=\"pri\" name=\"pri\" format=\"jsonf\")\n"
         << "  property(outname=\"app\" name=\"app-name\" format=\"jsonf\")\n"
         << "  property(outname=\"procid\" name=\"procid\" format=\"jsonf\")\n"
         << "  property(outname=\"msgid\" name=\"msgid\" format=\"jsonf\")\n"
         << "  property(outname=\"sd\" name=\"structured-data\" format=\"jsonf\")\n"
         << "  property(outname=\"msg\" name=\"msg\" format=\"jsonf\")\n}\n";
    for (const char* input : {"udp", "tcp"}) {
      conf << "ruleset(name=\"" << input << "\") { action(type=\"omfile\" file=\"" << (dir_ / input).string()
           << ".jsonl\" template=\"parts\") }\n";
    }
    conf << "input(type=\"imudp\" address=\"127.0.0.1\" port=\"" << udp_port_
         << "\" ruleset=\"udp\" rcvbufSize=\"4m\")\n"
         << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << tcp_port_ << "\" ruleset=\"tcp\")\n";
    conf.close();
    daemon_.emplace(path, std::vector<std::string>{"-n", "-f", (dir_ / "rsyslog.conf").string(), "-i",
                                                   (dir_ / "rsyslogd.pid").string()});
    if (!ringtail::test::eventually([&] { return ringtail::test::tcp_accepts(tcp_port_); })) {
      *error = "rsyslogd does not listen on TCP port " + std::to_string(tcp_port_) + ": " + daemon_->err();
      return false;
    }
    // UDP: probes until one is written (they are told apart by APP-NAME).
    const bool udp_up = ringtail::test::eventually([&] {
      send_udp(udp_port_, "<134>1 - - probe - - - probe");
      return !file_lines(dir_ / "udp.jsonl").empty();
    });
    if (!udp_up) *error = "rsyslogd writes nothing received on UDP port " + std::to_string(udp_port_);
    return udp_up;
  }

  uint16_t udp_port() const { return udp_port_; }
  uint16_t tcp_port() const { return tcp_port_; }
  // What `input` ("udp", "tcp") received, without the probes.
  std::vector<std::string> received(const char* input) const {
    std::vector<std::string> out;
    for (std::string& line : file_lines(dir_ / (std::string(input) + ".jsonl"))) {
      if (line.find(R"("app":"probe")") == std::string::npos) out.push_back(std::move(line));
    }
    return out;
  }

 private:
  std::filesystem::path dir_;
  uint16_t udp_port_ = 0;
  uint16_t tcp_port_ = 0;
  std::optional<ringtail::test::Subprocess> daemon_;
};

// The hostile values, one per event in turn.
std::vector<std::string> hostile_values() {
  return {"plain",
          "q\"uote",
          "back\\slash\\u0041",
          "]bracket] [open=",
          std::string("nul\0mid", 7),
          "nl\ncr\rtab\tdel\x7f\x01\x1f",
          "bad \xFF\xFE utf8 \xC0\xAF",
          "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 text",
          "=\"]\\",
          "",
          std::string(3000, 'x') + "]\"",
          "ringtail@32473 k=\"v\"] injected"};
}

#define RSYSLOG_HOSTILE_MESSAGE "tool [call] \"x\" = \xC3\xA9"

int log_events() {
  const std::vector<std::string> values = hostile_values();
  int lost = 0;
  for (int i = 0; i < kEvents; ++i) {
    const std::string& value = values[static_cast<size_t>(i) % values.size()];
    if (i % 3 == 0) {
      lost += !RINGTAIL_WARN(RSYSLOG_HOSTILE_MESSAGE, kv("i", i), kv("we=ird ]\"key", std::string_view(value)),
                             kv("ok", i % 2 == 0), kv("ratio", 0.25 * i));
    } else {
      lost += !RINGTAIL_INFO("tool.call", kv("i", i), kv("value", std::string_view(value)), kv("n", -i));
    }
  }
  return lost;
}

// The text of a JSON string literal (escaped, without its quotes), decoded by simdjson.
std::string decoded(std::string_view escaped) {
  const std::string literal = "\"" + std::string(escaped) + "\"";
  simdjson::dom::parser parser;
  std::string_view text;
  if (parser.parse(literal).get_string().get(text) != simdjson::SUCCESS) ADD_FAILURE() << "not JSON: " << literal;
  return std::string(text);
}

// What the structured data must hold for a stored line: tid and seq, then
// each field after them under its key made an SD-NAME, with a string's text
// or another value's JSON text as written.
SdParams expected_params(const std::string& line, std::string* message) {
  SegmentIdentity segment;
  const EventBatch batch = testing::batch_of(segment, line + "\n");
  SdParams params;
  if (batch.lines.size() != 1) {
    ADD_FAILURE() << "not one line: " << line;
    return params;
  }
  const LineShape& shape = batch.lines[0];
  *message = decoded(batch.message(shape));
  params.emplace_back("tid", std::to_string(shape.tid));
  params.emplace_back("seq", std::to_string(shape.seq));
  for (uint32_t i = 0; i < shape.field_count; ++i) {
    const FieldSpan& field = batch.fields[shape.first_field + i];
    const std::string_view value = batch.value(shape, field);
    const bool text = value.size() >= 2 && value.front() == '"';
    params.emplace_back(printable(decoded(batch.key(shape, field)), 32, true),
                        text ? decoded(value.substr(1, value.size() - 2)) : std::string(value));
  }
  return params;
}

TEST(SyslogRsyslog, EveryEventArrivesOnceOverUdpAndTcpAndItsFieldsParseBack) {
  char templ[] = "/tmp/ringtail-rsyslog-XXXXXX";
  ASSERT_NE(::mkdtemp(templ), nullptr);
  const std::filesystem::path dir = templ;
  {
    Rsyslog rsyslog(dir);
    std::string error;
    ASSERT_TRUE(rsyslog.start(&error)) << error;

    ringtail::Options options;
    options.service = "syslog-hostile \x01svc";
    ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) { return log_events(); });
    ASSERT_TRUE(child.ok()) << child.error();
    ASSERT_EQ(child.join(), 0) << "the producer lost events";

    const std::string store = (dir / "store").string();
    ringtail::test::Tool drain({"drain", "--once", "--pid", std::to_string(child.pid()), "--out", store, "--sink",
                                "syslog+udp://127.0.0.1:" + std::to_string(rsyslog.udp_port()), "--sink",
                                "syslog+tcp://127.0.0.1:" + std::to_string(rsyslog.tcp_port())});
    ASSERT_EQ(drain.wait(), 0) << drain.err();
    EXPECT_NE(drain.out().find(": " + std::to_string(kEvents) + " lines sent"), std::string::npos) << drain.out();

    std::vector<std::string> stored;
    for (const std::string& text : ringtail::test::read_stored_texts(store)) {
      std::istringstream in(text);
      for (std::string line; std::getline(in, line);) stored.push_back(line);
    }
    ASSERT_EQ(stored.size(), static_cast<size_t>(kEvents));

    for (const char* input : {"udp", "tcp"}) {
      SCOPED_TRACE(input);
      (void)ringtail::test::eventually([&] { return rsyslog.received(input).size() >= stored.size(); });
      const std::vector<std::string> received = rsyslog.received(input);
      // By MSG: each stored line exactly once.
      std::map<std::string, std::string> by_msg;
      simdjson::dom::parser parser;
      for (const std::string& json : received) {
        simdjson::dom::element parts;
        ASSERT_EQ(parser.parse(json).get(parts), simdjson::SUCCESS) << json;
        const std::string msg(parts["msg"].get_string().value_unsafe());
        ASSERT_TRUE(by_msg.emplace(msg, json).second) << "received twice: " << msg;
      }
      for (const std::string& line : stored) {
        const auto it = by_msg.find(line);
        EXPECT_NE(it, by_msg.end()) << "never received: " << line.substr(0, 300);
        if (it == by_msg.end()) continue;
        simdjson::dom::element parts;
        ASSERT_EQ(parser.parse(it->second).get(parts), simdjson::SUCCESS);
        std::string message;
        const SdParams want = expected_params(line, &message);
        const int severity = line.find(R"("level":"WARN")") != std::string::npos ? 4 : 6;
        EXPECT_EQ(std::string(parts["pri"].get_string().value_unsafe()), std::to_string(16 * 8 + severity));
        EXPECT_EQ(parts["app"].get_string().value_unsafe(), printable(options.service, 48, false));
        EXPECT_EQ(parts["procid"].get_string().value_unsafe(), std::to_string(child.pid()));
        EXPECT_EQ(parts["msgid"].get_string().value_unsafe(), printable(message, 32, false));
        std::string id;
        SdParams got;
        std::string sd_error;
        ASSERT_TRUE(parse_sd_element(parts["sd"].get_string().value_unsafe(), &id, &got, &sd_error))
            << sd_error << ": " << parts["sd"];
        EXPECT_EQ(id, "ringtail@32473");
        ASSERT_EQ(got, want) << line;
      }
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringtail::reader
