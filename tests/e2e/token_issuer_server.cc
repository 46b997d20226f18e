// The test token issuer (tests/fixtures/token_issuer.h) as a process, for shell e2e tests:
//   token_issuer_server ISSUER SERVICE REPOSITORY=ACTIONS...   (e.g. token/app=pull,push)
// prints the ready-line contract (tests/fixtures/server_process.h) after the paths of the test
// CA and of a localhost certificate and key signed by it:
//   ca: PATH / cert: PATH / key: PATH / listening on http://127.0.0.1:PORT (main) / ready
// and serves until SIGTERM or SIGINT.

#include <csignal>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "tests/fixtures/test_certificates.h"
#include "tests/fixtures/token_issuer.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: token_issuer_server ISSUER SERVICE [REPOSITORY=ACTION,...]...\n";
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the server thread starts

  const auto& certs = portico::testing::TestCertificates::shared();
  portico::testing::TokenIssuer issuer(argv[1], argv[2]);
  for (int i = 3; i < argc; ++i) {
    std::string grant = argv[i];
    size_t eq = grant.find('=');
    if (eq == std::string::npos) continue;
    std::set<std::string> actions;
    std::istringstream list(grant.substr(eq + 1));
    for (std::string action; std::getline(list, action, ',');) actions.insert(action);
    issuer.grant(grant.substr(0, eq), actions);
  }
  std::cout << "ca: " << certs.caCert() << "\ncert: " << certs.serverCert()
            << "\nkey: " << certs.serverKey() << "\nlistening on http://127.0.0.1:" << issuer.port()
            << " (main)\nready" << std::endl;
  int signal = 0;
  sigwait(&signals, &signal);
  std::cout << "token issuer: " << issuer.requests() << " requests" << std::endl;
  return 0;
}
