package restbank

import (
	_ "embed"
	"net/http"
	"strconv"
)

// OpenAPI is the OpenAPI 3.1 description of the API, as served at
// /openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

var (
	hdrOpenAPIType = []string{"application/json"}
	openAPILength  = []string{strconv.Itoa(len(OpenAPI))}
)

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = hdrOpenAPIType
	h["Content-Length"] = openAPILength
	w.Write(OpenAPI)
}
