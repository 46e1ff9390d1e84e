package connectbank

import (
	"net/http"

	connectcors "connectrpc.com/cors"
	"github.com/rs/cors"
)

// withCORS answers the CORS requests of browsers on pages of origins
// (rs/cors, with the header lists connectrpc.com/cors publishes for the
// Connect, gRPC and gRPC-Web protocols): a preflight from one of them is
// answered 204, and every response to one of them lets the page read the
// protocols' headers and trailers (Grpc-Status, Grpc-Message, ...). The
// bearer token's Authorization header is allowed as well. Requests from
// any other origin, and requests without an Origin, pass through without
// CORS headers, so the browser keeps the page from the response.
func withCORS(next http.Handler, origins []string) http.Handler {
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: connectcors.AllowedMethods(),
		AllowedHeaders: append(connectcors.AllowedHeaders(), "Authorization"),
		ExposedHeaders: connectcors.ExposedHeaders(),
		// Browsers cap this (Chromium at 2 hours); it saves a preflight
		// before most calls.
		MaxAge: 7200,
	}).Handler(next)
}
