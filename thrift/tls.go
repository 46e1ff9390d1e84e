package thriftbank

// ALPN returns the application protocol that the Thrift transport in
// protocol p negotiates in its TLS handshakes, on both sides:
// "igbank-thrift-binary/1" or "igbank-thrift-compact/1". A client of
// another transport, or of the other protocol, offers its own and is
// refused at the handshake (no_application_protocol), so it never sends
// bytes the server cannot read. A client that offers no ALPN at all (a
// Thrift client in another language, say) is served.
func (p Protocol) ALPN() string { return "igbank-thrift-" + p.String() + "/1" }
