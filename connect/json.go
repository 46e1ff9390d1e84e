package connectbank

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// strictJSON is the handler's JSON codec: protojson, as connect-go's
// default, but reading requests by the workspace's JSON rule, the same as
// rest-json's (docs/architecture.md, "JSON bodies"): an unknown member is
// refused (connect-go's default discards it), and an integer field holds a
// JSON integer or a string of one, nothing else (protojson alone also takes
// 1e2, 100.0 and "1e2"). Connect answers a codec error invalid_argument.
// Responses are written as connect-go writes them. Only the handler uses
// it: a client must keep reading a newer server's added fields.
type strictJSON struct{ name string }

func (c strictJSON) Name() string { return c.name }

func (strictJSON) IsBinary() bool { return false }

func (strictJSON) Marshal(m any) ([]byte, error) {
	pm, ok := m.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%T is not a proto.Message", m)
	}
	return protojson.Marshal(pm)
}

func (strictJSON) Unmarshal(b []byte, m any) error {
	pm, ok := m.(proto.Message)
	if !ok {
		return fmt.Errorf("%T is not a proto.Message", m)
	}
	if err := checkIntegers(b, pm.ProtoReflect().Descriptor()); err != nil {
		return err
	}
	return protojson.Unmarshal(b, pm) // DiscardUnknown false: unknown members are errors
}

// jsonInteger is the one form of an integer: optional minus, no leading
// zero, no fraction, no exponent (JSON's own grammar for an integer).
var jsonInteger = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// checkIntegers checks the integer members of the JSON object b, a message
// of type md, against the rule; protojson then checks the rest (syntax,
// names, types, ranges). The requests of this service are flat, so nested
// objects are left to protojson.
func checkIntegers(b []byte, md protoreflect.MessageDescriptor) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil // not an object: protojson says why
	}
	fields := md.Fields()
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil
		}
		name, _ := t.(string)
		fd := fields.ByJSONName(name)
		if fd == nil {
			fd = fields.ByTextName(name)
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil
		}
		if fd == nil || !isInteger(fd) || fd.IsList() || fd.IsMap() {
			continue
		}
		lit := []byte(v)
		if len(lit) >= 2 && lit[0] == '"' {
			lit = lit[1 : len(lit)-1] // as written: an integer has nothing to escape
		}
		if !jsonInteger.Match(lit) {
			return fmt.Errorf("%s: %s is not an integer (a JSON integer or a string of one, no fraction or exponent)", name, v)
		}
	}
	return nil
}

func isInteger(fd protoreflect.FieldDescriptor) bool {
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return true
	}
	return false
}
