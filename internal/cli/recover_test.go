package cli

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestRecoverStreamTurnsPanicIntoError(t *testing.T) {
	var logs bytes.Buffer
	interceptor := recoverStream(slog.New(slog.NewJSONHandler(&logs, nil)))
	handler := func(any, grpc.ServerStream) error { panic("secret value 999-12-3456") }

	err := interceptor(nil, nil, &grpc.StreamServerInfo{FullMethod: "/test/Process"}, handler)

	if status.Code(err) != codes.Internal {
		t.Errorf("error = %v, want codes.Internal", err)
	}
	if strings.Contains(logs.String(), "999-12-3456") {
		t.Error("the panic value reached the log")
	}
	if !strings.Contains(logs.String(), "panicked") {
		t.Errorf("the panic was not logged: %s", logs.String())
	}
}
