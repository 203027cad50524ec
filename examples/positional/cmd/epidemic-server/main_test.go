package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestServesEpidemicTransformer builds this program as a static binary
// (CGO_ENABLED=0), serves the epidemic transformer with it on a free
// loopback port, and sends one /predict: the answer is the model's output
// on the window, which examples/positional's Example prints (0.66562).
func TestServesEpidemicTransformer(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the example: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "epidemic-server")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	model := filepath.Join("..", "..", "..", "..", "kerasfile", "testdata", "survey", "epidemic-transformer", "transformer_model_optimized.keras")
	cmd := exec.Command(bin, "--model", model, "--addr", "127.0.0.1:0", "--log-format", "json", "--drain-timeout", "2s")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	pr, pw := io.Pipe()
	cmd.Stdout = pw // the log (--log-output stdout, the default)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	var log strings.Builder
	var mu sync.Mutex
	go func() { // reads the log to its end, so that Wait returns
		sc := bufio.NewScanner(pr)
		addr := ""
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			switch m["msg"] {
			case "listening":
				addr, _ = m["addr"].(string)
			case "ready":
				ready <- addr
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	var addr string
	select {
	case addr = <-ready:
	case err := <-exited:
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("epidemic-server exited before ready (%v):\n%s", err, log.String())
	case <-time.After(60 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("epidemic-server not ready after 60 s:\n%s", log.String())
	}

	// The Example's first window: 30 days of 7 features.
	rows := make([][]float64, 30)
	for p := range rows {
		rows[p] = make([]float64, 7)
		for f := range rows[p] {
			rows[p][f] = float64(float32(0.5 + 0.4*math.Sin(0.2*float64(p)+0.7*float64(f))))
		}
	}
	body, _ := json.Marshal(map[string]any{"window": rows})
	resp, err := http.Post("http://"+addr+"/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/predict: %d %s", resp.StatusCode, raw)
	}
	var out struct {
		PredictedPrice float64 `json:"predicted_price"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if math.Abs(out.PredictedPrice-0.66562) > 1e-5 {
		t.Errorf("/predict answered %s, want predicted_price 0.66562 (the Example's)", raw)
	}
	t.Logf("/predict: %s", raw)
}
