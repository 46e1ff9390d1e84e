package rawbank

// ALPN is the application protocol the raw-sockets transport negotiates in
// its TLS handshakes, on both sides. A client of another transport offers
// its own and is refused at the handshake (no_application_protocol), so it
// never sends bytes the server cannot read. A client that offers no ALPN
// at all is served.
const ALPN = "igbank-raw/1"
