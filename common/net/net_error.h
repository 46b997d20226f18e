#pragma once
// Errors of the network layer (addresses, sockets, TLS contexts).

namespace portico::net {

enum class NetErrc {
  InvalidAddress,  // text is not "host:port", "[v6]:port", ":port" or "unix:/path"
  Resolve,         // the host name did not resolve
  Socket,          // socket/bind/listen failed
  AddressInUse,    // another socket (of this or any program) holds the address to listen on
  Tls,             // a TLS context could not be built (files, versions, ciphers)
  Thread,          // a worker thread could not be started
};

}  // namespace portico::net
