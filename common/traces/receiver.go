package traces

import (
	"compress/gzip"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Receiver is an OTLP/HTTP trace receiver on loopback that answers every
// export with success and throws the spans away, counting them: a
// collector that costs nearly nothing, so that the cost of tracing can be
// measured, export included, without running one ("loadtest run -otlp
// discard"). It takes binary protobuf, the exporter's default encoding.
type Receiver struct {
	srv      *http.Server
	url      string
	spans    atomic.Int64
	requests atomic.Int64
	done     chan struct{}
}

// maxExport bounds the body of one export; the batch span processor
// sends at most 512 spans at a time.
const maxExport = 64 << 20

// NewReceiver starts a Receiver on a free port of 127.0.0.1.
func NewReceiver() (*Receiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{url: "http://" + l.Addr().String() + tracesPath, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+tracesPath, r.export)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: time.Minute}
	go func() {
		defer close(r.done)
		r.srv.Serve(l)
	}()
	return r, nil
}

func (r *Receiver) export(w http.ResponseWriter, req *http.Request) {
	var in io.Reader = http.MaxBytesReader(w, req.Body, maxExport)
	if req.Header.Get("Content-Encoding") == "gzip" {
		z, err := gzip.NewReader(in)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		in = io.LimitReader(z, maxExport)
	}
	body, err := io.ReadAll(in)
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	n, err := CountSpans(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.spans.Add(int64(n))
	r.requests.Add(1)
	// An empty ExportTraceServiceResponse: full success.
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// URL is the endpoint to export to: http://127.0.0.1:PORT/v1/traces.
func (r *Receiver) URL() string { return r.url }

// Spans is the number of spans received so far.
func (r *Receiver) Spans() int64 { return r.spans.Load() }

// Requests is the number of exports received so far.
func (r *Receiver) Requests() int64 { return r.requests.Load() }

// Close stops the receiver.
func (r *Receiver) Close() error {
	err := r.srv.Close()
	<-r.done
	return err
}

// The field numbers of the OTLP messages CountSpans walks:
// ExportTraceServiceRequest.resource_spans, ResourceSpans.scope_spans,
// ScopeSpans.spans.
const (
	resourceSpansField protowire.Number = 1
	scopeSpansField    protowire.Number = 2
	spansField         protowire.Number = 2
)

var errMalformed = errors.New("malformed OTLP protobuf")

// CountSpans counts the spans of an ExportTraceServiceRequest in binary
// protobuf without decoding them: it walks the three levels of nesting
// down to the spans and skips everything else.
func CountSpans(req []byte) (int, error) {
	n := 0
	err := eachField(req, resourceSpansField, func(rs []byte) error {
		return eachField(rs, scopeSpansField, func(ss []byte) error {
			return eachField(ss, spansField, func([]byte) error { n++; return nil })
		})
	})
	return n, err
}

// eachField calls f with the bytes of every length-delimited field num of
// message b.
func eachField(b []byte, num protowire.Number, f func([]byte) error) error {
	for len(b) > 0 {
		n, typ, k := protowire.ConsumeTag(b)
		if k < 0 {
			return errMalformed
		}
		b = b[k:]
		if n == num && typ == protowire.BytesType {
			v, k := protowire.ConsumeBytes(b)
			if k < 0 {
				return errMalformed
			}
			if err := f(v); err != nil {
				return err
			}
			b = b[k:]
			continue
		}
		k = protowire.ConsumeFieldValue(n, typ, b)
		if k < 0 {
			return errMalformed
		}
		b = b[k:]
	}
	return nil
}
