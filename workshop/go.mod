module github.com/igbank/igbank/workshop

go 1.26.0

require (
	github.com/igbank/igbank/common v0.0.0-00010101000000-000000000000
	github.com/igbank/igbank/raw-sockets v0.0.0-00010101000000-000000000000
	github.com/sony/gobreaker/v2 v2.4.0
)

require (
	github.com/HdrHistogram/hdrhistogram-go v1.4.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	go.opentelemetry.io/otel v1.47.0 // indirect
	go.opentelemetry.io/otel/trace v1.47.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

// The sibling modules of this repository are not published: they are
// required at the placeholder version and replaced by their folders.
// Replacements apply only in the main module, so every sibling in the
// module graph is listed here, also those imported only indirectly.
replace (
	github.com/igbank/igbank/common => ../common
	github.com/igbank/igbank/raw-sockets => ../raw-sockets
)
