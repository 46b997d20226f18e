// echo_server: a test binary on the HTTP engine (HttpServer), used by the engine_* integration
// tests and the engine benchmarks.
//
//   echo_server --listen 127.0.0.1:0 [--listen ...] [--tls CERT KEY] [--tls-cert CERT KEY]
//               [--client-ca FILE --client-auth none|optional|required] [--workers N]
//               [--header-timeout-ms N] [--idle-timeout-ms N] [--body-timeout-ms N]
//               [--max-body BYTES] [--max-header-bytes N] [--max-headers N] [--file PATH]
//
// Routes:
//   GET /bytes/N     N bytes ('a'..'z' repeating) streamed with backpressure; with
//                    ?announce=1 it logs "streaming N bytes" first
//   GET /file        the file given with --file, by sendFile (Content-Length; ?offset=&length=
//                    for a part); GET /file-chunked the same without Content-Length
//   GET /info        connection facts (listener, tls version, sni, peer) as text
//   ANY /no-read     answers 200 at once without reading the request body
//   ANY other        with a body: the body echoed back streaming (Content-Length kept when
//                    declared, else chunked), pausing the request body while output is
//                    blocked; without a body: "<METHOD> <target>\n"
// Prints the ready-line contract (http::logListening) and stops on SIGINT/SIGTERM.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <event2/buffer.h>
#include <spdlog/spdlog.h>

#include "common/http/http_server.h"
#include "common/net/signals.h"
#include "common/net/tls_context.h"
#include "common/net/worker.h"

using namespace portico;
using namespace portico::http;

namespace {

// Streams the request body back as the response body.
class EchoExchange final : public ExchangeObserver, public BodySink {
 public:
  explicit EchoExchange(ServerExchange& exchange) : exchange_(exchange) {}

  // http::BodySink
  void onBodyData(evbuffer& data) override {
    startResponse();
    exchange_.sendBody(data);
    if (exchange_.outputBlocked()) exchange_.requestBody().pause();
  }
  void onBodyEnd() override {
    startResponse();
    exchange_.finish();
  }
  void onBodyError(const Error& /*error*/) override {}

  // http::ExchangeObserver
  void onWriteDrained() override { exchange_.requestBody().resume(); }

 private:
  void startResponse() {
    if (exchange_.headSent()) return;
    ResponseHead head;
    head.headers.add("Content-Type", "application/octet-stream");
    if (auto length = exchange_.requestBody().declaredLength()) {
      head.headers.add("Content-Length", std::to_string(*length));
    }
    exchange_.sendHead(std::move(head));
  }

  ServerExchange& exchange_;
};

// Generates N bytes, producing only while the output is not blocked.
class BytesExchange final : public ExchangeObserver {
 public:
  BytesExchange(ServerExchange& exchange, uint64_t total) : exchange_(exchange), remaining_(total) {
    std::string pattern(64 * 1024, 'a');
    for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<char>('a' + i % 26);
    pattern_ = std::move(pattern);
  }

  void start() {
    ResponseHead head;
    head.headers.add("Content-Type", "application/octet-stream");
    head.headers.add("Content-Length", std::to_string(remaining_));
    exchange_.sendHead(std::move(head));
    produce();
  }

  void onWriteDrained() override { produce(); }

 private:
  void produce() {
    while (remaining_ > 0 && !exchange_.outputBlocked()) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, pattern_.size()));
      exchange_.sendBody(std::string_view(pattern_.data(), n));
      remaining_ -= n;
    }
    if (remaining_ == 0) exchange_.finish();
  }

  ServerExchange& exchange_;
  uint64_t remaining_;
  std::string pattern_;
};

class EchoHandler final : public RequestHandler {
 public:
  explicit EchoHandler(std::string file) : file_(std::move(file)) {}

  void onRequest(ServerExchange& exchange) override {
    const RequestHead& request = exchange.request();
    if (request.path == "/file" || request.path == "/file-chunked") {
      serveFile(exchange, request.path == "/file");
      return;
    }
    if (request.path.starts_with("/bytes/")) {
      uint64_t total = 0;
      std::string_view digits = std::string_view(request.path).substr(7);
      std::from_chars(digits.data(), digits.data() + digits.size(), total);
      auto bytes = std::make_unique<BytesExchange>(exchange, total);
      BytesExchange& raw = *bytes;
      exchange.attach(std::move(bytes));
      // Tests synchronise on this line (e.g. to signal the server mid-response).
      if (request.queryParam("announce")) spdlog::info("streaming {} bytes", total);
      raw.start();
      return;
    }
    if (request.path == "/info") {
      const ConnectionInfo& info = exchange.connection();
      std::string body = "listener=" + info.listener + "\ntls=" + (info.tls ? "1" : "0") +
                         "\ntls_version=" + info.tls_version + "\nsni=" + info.sni +
                         "\npeer=" + info.peer_address + "\n";
      exchange.respond(200, {}, body);
      return;
    }
    if (request.path == "/no-read") {
      exchange.respond(200, {}, "not read\n");
      return;
    }
    if (exchange.requestBody().empty()) {
      exchange.respond(200, {}, request.method + " " + request.target + "\n");
      return;
    }
    auto echo = std::make_unique<EchoExchange>(exchange);
    EchoExchange& raw = *echo;
    exchange.attach(std::move(echo));
    exchange.requestBody().setSink(&raw);
  }

 private:
  void serveFile(ServerExchange& exchange, bool with_length) {
    int fd = open(file_.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
      if (fd >= 0) close(fd);
      exchange.respond(404, {}, "no file\n");
      return;
    }
    const RequestHead& request = exchange.request();
    uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t offset = 0;
    uint64_t length = size;
    if (auto text = request.queryParam("offset")) offset = std::min(size, toNumber(*text));
    length = size - offset;
    if (auto text = request.queryParam("length")) length = std::min(length, toNumber(*text));
    ResponseHead head;
    if (with_length) head.headers.add("Content-Length", std::to_string(length));
    exchange.sendHead(std::move(head));
    exchange.sendFile(fd, offset, length);
    exchange.finish();
  }

  static uint64_t toNumber(const std::string& text) {
    uint64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
  }

  std::string file_;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "echo_server: " << problem << "\n";
  std::exit(2);
}

uint64_t number(const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) usage("not a number: " + text);
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  net::blockSignals();
  std::vector<std::string> listen;
  std::string file;
  net::TlsServerOptions tls;
  ServerOptions options;
  options.workers = 2;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    auto next = [&]() -> const std::string& {
      if (i + 1 >= args.size()) usage(args[i] + " needs a value");
      return args[++i];
    };
    const std::string& arg = args[i];
    if (arg == "--listen") {
      listen.push_back(next());
    } else if (arg == "--tls" || arg == "--tls-cert") {
      net::CertificateFiles files;
      files.certificate = next();
      files.key = next();
      tls.certificates.push_back(files);
    } else if (arg == "--tls-min") {
      tls.min_version = next();
    } else if (arg == "--client-ca") {
      tls.client_ca = next();
    } else if (arg == "--client-auth") {
      std::string mode = next();
      tls.client_auth = mode == "required"   ? net::ClientAuth::Required
                        : mode == "optional" ? net::ClientAuth::Optional
                                             : net::ClientAuth::None;
    } else if (arg == "--file") {
      file = next();
    } else if (arg == "--workers") {
      options.workers = number(next());
    } else if (arg == "--header-timeout-ms") {
      options.limits.header_timeout = std::chrono::milliseconds(number(next()));
    } else if (arg == "--idle-timeout-ms") {
      options.limits.idle_timeout = std::chrono::milliseconds(number(next()));
    } else if (arg == "--body-timeout-ms") {
      options.limits.body_timeout = std::chrono::milliseconds(number(next()));
    } else if (arg == "--max-body") {
      options.limits.body_bytes = number(next());
    } else if (arg == "--max-header-bytes") {
      options.limits.header_bytes = number(next());
    } else if (arg == "--max-headers") {
      options.limits.header_count = static_cast<uint32_t>(number(next()));
    } else {
      usage("unknown argument " + arg);
    }
  }
  if (listen.empty()) listen.push_back("127.0.0.1:0");

  std::shared_ptr<net::TlsServerContext> context;
  if (!tls.certificates.empty()) {
    auto created = net::TlsServerContext::create(tls);
    if (!created) {
      spdlog::error("{}", created.error().message());
      return 1;
    }
    context = std::move(*created);
  }
  for (size_t i = 0; i < listen.size(); ++i) {
    options.listeners.push_back({"echo" + std::to_string(i), listen[i], context});
  }
  options.handler_factory = [file](net::Worker&) { return std::make_unique<EchoHandler>(file); };

  auto server = HttpServer::start(std::move(options));
  if (!server) {
    spdlog::error("{}", server.error().message());
    return 1;
  }
  logListening(**server);
  for (;;) {
    int signal = net::waitForSignal();
    if (signal == SIGHUP) {
      if (context) {
        if (auto reloaded = context->reload(); !reloaded) {
          spdlog::error("reload failed: {}", reloaded.error().message());
        } else {
          spdlog::info("certificates reloaded");
        }
      }
      continue;
    }
    break;
  }
  spdlog::info("stopping");
  (*server)->stop(std::chrono::milliseconds(2000));
  spdlog::info("stopped");
  return 0;
}
