package telemetry

import (
	"context"
	"log/slog"
)

// RocketMQLogger adapts slog to the RocketMQ client's rlog.Logger. The client
// logs routine reconnects at info; only warnings and errors pass by default.
type RocketMQLogger struct {
	Log *slog.Logger
	Min slog.Level
}

// expected are client messages that describe how the gateway uses the
// client on purpose; they are logged at debug.
var expected = map[string]bool{
	// The gateway answers unknown after every half message: the decision
	// comes later through its own END_TRANSACTION.
	"executeLocalTransaction but state unexpected": true,
}

func (l RocketMQLogger) emit(level slog.Level, msg string, fields map[string]interface{}) {
	if expected[msg] {
		level = slog.LevelDebug
	}
	if level < l.Min {
		return
	}
	attrs := make([]slog.Attr, 0, len(fields)+1)
	attrs = append(attrs, slog.String("component", "rocketmq-client"))
	for k, v := range fields {
		attrs = append(attrs, slog.Any(k, v))
	}
	l.Log.LogAttrs(context.Background(), level, msg, attrs...)
}

// Debug logs at debug level.
func (l RocketMQLogger) Debug(msg string, fields map[string]interface{}) {
	l.emit(slog.LevelDebug, msg, fields)
}

// Info logs at info level.
func (l RocketMQLogger) Info(msg string, fields map[string]interface{}) {
	l.emit(slog.LevelInfo, msg, fields)
}

// Warning logs at warn level.
func (l RocketMQLogger) Warning(msg string, fields map[string]interface{}) {
	l.emit(slog.LevelWarn, msg, fields)
}

// Error logs at error level.
func (l RocketMQLogger) Error(msg string, fields map[string]interface{}) {
	l.emit(slog.LevelError, msg, fields)
}

// Fatal logs at error level; unlike rlog's default it does not exit.
func (l RocketMQLogger) Fatal(msg string, fields map[string]interface{}) {
	l.emit(slog.LevelError, msg, fields)
}

// Level is ignored: Min decides.
func (l RocketMQLogger) Level(string) {}

// OutputPath is ignored: logs go where slog writes.
func (l RocketMQLogger) OutputPath(string) error { return nil }
