package server

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuf is a bytes.Buffer safe for the server's goroutines.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogOutput: the JSON log goes to stdout by default (the container's
// log stream, as issue 16's request log asks), to stderr with --log-output
// stderr or SEQCAST_LOG_OUTPUT=stderr, and a bad value is a usage error
// naming the flag, on stderr.
func TestLogOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the embedded model and listens on loopback")
	}
	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		toStdout bool
	}{
		{"default", nil, nil, true},
		{"flag stderr", []string{"--log-output", "stderr"}, nil, false},
		{"env stderr", nil, map[string]string{"SEQCAST_LOG_OUTPUT": "stderr"}, false},
		{"flag wins over env", []string{"--log-output", "stdout"}, map[string]string{"SEQCAST_LOG_OUTPUT": "stderr"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr lockedBuf
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ready := make(chan string, 1)
			done := make(chan int, 1)
			args := append([]string{"--addr", "127.0.0.1:0", "--drain-timeout", "1s"}, tc.args...)
			go func() {
				done <- Main(ctx, args, Options{Stdout: &stdout, Stderr: &stderr, Ready: ready,
					Getenv: func(k string) string { return tc.env[k] }, Hangup: make(chan os.Signal)})
			}()
			select {
			case <-ready:
			case code := <-done:
				t.Fatalf("exited %d before ready\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
			case <-time.After(60 * time.Second):
				t.Fatal("not ready after 60 s")
			}
			cancel()
			if code := <-done; code != 0 {
				t.Fatalf("exit %d", code)
			}
			logs, quiet := &stdout, &stderr
			if !tc.toStdout {
				logs, quiet = &stderr, &stdout
			}
			if !strings.Contains(logs.String(), `"msg":"ready"`) {
				t.Errorf("no ready line in the log stream:\n%s", logs.String())
			}
			if quiet.String() != "" {
				t.Errorf("the other stream got output:\n%s", quiet.String())
			}
		})
	}
	var stdout, stderr lockedBuf
	if code := Main(context.Background(), []string{"--log-output", "file"}, Options{Stdout: &stdout, Stderr: &stderr,
		Getenv: func(string) string { return "" }, Hangup: make(chan os.Signal)}); code != 2 ||
		!strings.Contains(stderr.String(), `--log-output "file": want stdout or stderr`) || stdout.String() != "" {
		t.Errorf("--log-output file: exit %d, stderr %q, stdout %q", code, stderr.String(), stdout.String())
	}
}
