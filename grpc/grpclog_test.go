package grpcbank_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/logs"
	grpcbank "github.com/igbank/igbank/grpc"
)

// grpc-go's own records reach slog's default logger at the matching
// level; its INFO chatter only at DEBUG.
func TestLogs(t *testing.T) {
	var out banktest.LogBuffer
	logger, err := logs.New(&out, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	prev := slog.Default()
	slog.SetDefault(logger)
	defer slog.SetDefault(prev)
	l := grpcbank.Logs()
	l.Infof("chatter %d", 1)
	l.Warningf("transport: %s", "closing")
	l.Errorln("failed", 2)
	if l.V(0) {
		t.Error("V(0) is true at level info")
	}
	got := out.String()
	for _, want := range []string{`"level":"WARN","msg":"transport: closing","library":"grpc-go"`, `"level":"ERROR","msg":"failed 2"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "chatter") {
		t.Errorf("INFO chatter logged at level info:\n%s", got)
	}
}
