package grpcbank

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"google.golang.org/grpc/grpclog"

	"github.com/igbank/igbank/common/logs"
)

// Logs returns a grpclog.LoggerV2 that writes what grpc-go itself logs
// to slog.Default() at the time of each record: INFO as DEBUG, WARNING
// as WARN, ERROR and FATAL as ERROR. Which of grpc-go's severities are
// written is grpc-go's own setting, $GRPC_GO_LOG_SEVERITY_LEVEL (info,
// warning or error; by default error only, as grpc-go's default logger
// does), read when Logs is called. Set it once, first thing in main,
// with grpclog.SetLoggerV2: it is process-wide and grpc-go does not
// guard it.
func Logs() grpclog.LoggerV2 {
	min := slog.LevelError
	switch strings.ToLower(os.Getenv("GRPC_GO_LOG_SEVERITY_LEVEL")) {
	case "info":
		min = slog.LevelDebug
	case "warning":
		min = slog.LevelWarn
	}
	return slogGRPC{min: min}
}

type slogGRPC struct{ min slog.Level }

func (l slogGRPC) log(level slog.Level, msg string) {
	if level < l.min {
		return
	}
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
// only, when its INFO records are and slog's default logs DEBUG.
func (l slogGRPC) V(v int) bool {
	return v <= 0 && l.min <= slog.LevelDebug && slog.Default().Enabled(context.Background(), slog.LevelDebug)
}

func sprintln(args []any) string {
	s := fmt.Sprintln(args...)
	return s[:len(s)-1]
}
