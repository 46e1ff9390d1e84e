package restbank

import (
	"net/http"

	"github.com/rs/cors"
)

// withCORS answers the CORS requests of browsers on pages of origins
// (rs/cors): a preflight from one of them is answered 204 with the
// methods and request headers the API takes, and every response to one of
// them says which of its headers a page may read. Requests from any other
// origin, and requests without an Origin, pass through without CORS
// headers, so the browser keeps the page from the response.
func withCORS(next http.Handler, origins []string) http.Handler {
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowedHeaders: []string{"Content-Type", "Authorization", headerKey, headerTimeout},
		// Content-Type is readable without being listed; a page needs
		// these to follow a deposit, its replay and a refusal's advice.
		ExposedHeaders: []string{"Location", headerReplayed, "Retry-After"},
		// Browsers cap this (Chromium at 2 hours); it saves a preflight
		// before most calls.
		MaxAge: 7200,
	}).Handler(next)
}
