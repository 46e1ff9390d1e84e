package grpcbank

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"google.golang.org/grpc/grpclog"

	"github.com/igbank/igbank/common/logs"
)

// Logs returns a grpclog.LoggerV2 that writes what grpc-go itself logs
// (connection errors, transport failures, its INFO chatter) to
// slog.Default() at the time of each record: INFO as DEBUG, WARNING as
// WARN, ERROR and FATAL as ERROR. Set it once, first thing in main,
// with grpclog.SetLoggerV2: it is process-wide and grpc-go does not
// guard it.
func Logs() grpclog.LoggerV2 { return slogGRPC{} }

type slogGRPC struct{}

func (slogGRPC) log(level slog.Level, msg string) {
	slog.Default().Log(context.Background(), level, msg, logs.Library, "grpc-go")
}

func (l slogGRPC) Info(args ...any)   { l.log(slog.LevelDebug, fmt.Sprint(args...)) }
func (l slogGRPC) Infoln(args ...any) { l.log(slog.LevelDebug, sprintln(args)) }
func (l slogGRPC) Infof(format string, args ...any) {
	l.log(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (l slogGRPC) Warning(args ...any)   { l.log(slog.LevelWarn, fmt.Sprint(args...)) }
func (l slogGRPC) Warningln(args ...any) { l.log(slog.LevelWarn, sprintln(args)) }
func (l slogGRPC) Warningf(format string, args ...any) {
	l.log(slog.LevelWarn, fmt.Sprintf(format, args...))
}
func (l slogGRPC) Error(args ...any)   { l.log(slog.LevelError, fmt.Sprint(args...)) }
func (l slogGRPC) Errorln(args ...any) { l.log(slog.LevelError, sprintln(args)) }
func (l slogGRPC) Errorf(format string, args ...any) {
	l.log(slog.LevelError, fmt.Sprintf(format, args...))
}
func (l slogGRPC) Fatal(args ...any)   { l.log(slog.LevelError, fmt.Sprint(args...)); os.Exit(1) }
func (l slogGRPC) Fatalln(args ...any) { l.log(slog.LevelError, sprintln(args)); os.Exit(1) }
func (l slogGRPC) Fatalf(format string, args ...any) {
	l.log(slog.LevelError, fmt.Sprintf(format, args...))
	os.Exit(1)
}

// V reports whether grpc-go's verbose level l is logged: its level 0
// only, and only when slog's default logs DEBUG.
func (slogGRPC) V(l int) bool {
	return l <= 0 && slog.Default().Enabled(context.Background(), slog.LevelDebug)
}

func sprintln(args []any) string {
	s := fmt.Sprintln(args...)
	return s[:len(s)-1]
}
