package grpcbank

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// exactCodec is gRPC's proto codec, except that a reply is marshalled into
// a buffer of its own size. grpc-go's codec takes the buffer from its pool,
// whose tiers jump from 32 KiB to 1 MiB, and a reply stays in that buffer
// until the peer's flow-control window lets it out: a 60 KB statement page
// held by a closed window pinned 1 MiB (loadtest/hostile, stalled-window).
type exactCodec struct{}

func (exactCodec) Name() string { return "proto" }

func (exactCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("grpcbank: cannot marshal %T: not a proto.Message", v)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (exactCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return encoding.GetCodecV2("proto").Unmarshal(data, v)
}
