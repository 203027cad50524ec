package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seqcast/seqcast/serving"
	"github.com/seqcast/seqcast/weights"
)

// TestBacktestTrainStatsGold regenerates the gold bundle's
// training_stats.json with the command docs/bundle-format.md gives and
// checks it is byte for byte the shipped one, and that the bundle's
// manifest then lists its checksum.
func TestBacktestTrainStatsGold(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"model.json", "scaler.json", "manifest.json", "backtest.json"} {
		data, err := os.ReadFile(filepath.Join("../../models/gold", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "manifest.json" { // as before the file existed: the command adds its line
			data = regexp.MustCompile(`\n\s*"training_stats.json": "[0-9a-f]{64}",`).ReplaceAll(data, nil)
			if bytes.Contains(data, []byte("training_stats")) {
				t.Fatal("manifest.json still lists training_stats.json")
			}
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range []string{"weights", "self_test"} {
		if err := os.CopyFS(filepath.Join(dir, sub), os.DirFS(filepath.Join("../../models/gold", sub))); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runCmd("backtest", "--model", dir, "--csv", "../../data/gold_daily_usd.csv",
		"--test-from", "2019-09-02", "--train-to", "2015-08-28", "--horizon", "1", "--train-stats", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	got, err := os.ReadFile(filepath.Join(dir, "training_stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../models/gold/training_stats.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("regenerated training_stats.json differs from models/gold's:\n%.600s", got)
	}
	mdata, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := weights.ParseManifest(mdata)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Files["training_stats.json"]; !ok {
		t.Fatal("the manifest does not list training_stats.json")
	}
	if err := m.VerifyFiles(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}

	// A training part shorter than a window.
	for _, args := range [][]string{
		{"--train-to", "1968-01-10"},
	} {
		a := append([]string{"backtest", "--model", dir, "--csv", "../../data/gold_daily_usd.csv", "--test-from", "2019-09-02",
			"--horizon", "1", "--train-stats", filepath.Join(t.TempDir(), "ts.json")}, args...)
		if code, _, stderr := runCmd(a...); code != 1 || !bytes.Contains([]byte(stderr), []byte("--train-stats")) {
			t.Errorf("%v: exit %d, %s", args, code, stderr)
		}
	}
}

// TestImportTrainCSV: seqcast import --train-csv writes training_stats.json
// (scale-free statistics for --window-zscore, raw values otherwise) that the
// bundle then loads with, its checksum in the manifest.
func TestImportTrainCSV(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "train.csv")
	var b strings.Builder
	b.WriteString("date,sales,price\n")
	for i := range 100 {
		fmt.Fprintf(&b, "%s,%g,%g\n", time.Date(2020, 1, 1+i, 0, 0, 0, 0, time.UTC).Format("2006-01-02"), 100+10*math.Sin(float64(i)/5), 3+float64(i%7))
	}
	if err := os.WriteFile(csvPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	m := filepath.Join(salesDir, salesModels[0]+".keras")
	for _, c := range []struct {
		flags []string
		stat  string
	}{
		{[]string{"--window-zscore"}, serving.StatRelativeSpread},
		{nil, serving.StatValue},
	} {
		out := filepath.Join(t.TempDir(), "b")
		args := append([]string{"import", m, "--out", out, "--train-csv", csvPath, "--train-columns", "sales"}, c.flags...)
		if code, stdout, stderr := runCmd(args...); code != 0 {
			t.Fatalf("%v: exit %d: %s%s", c.flags, code, stdout, stderr)
		}
		mod, err := serving.LoadDir(context.Background(), out, "sales", 0)
		if err != nil {
			t.Fatal(err)
		}
		ts := mod.TrainingStats()
		if ts == nil || ts.Stats[0].Stat != c.stat || ts.Window != 8 {
			t.Fatalf("%v: training stats %+v, want %s over windows of 8", c.flags, ts, c.stat)
		}
	}
	code, _, stderr := runCmd("import", m, "--out", filepath.Join(dir, "two"), "--train-csv", csvPath, "--train-columns", "sales,price")
	if code != 1 || !strings.Contains(stderr, "takes 1 feature") {
		t.Errorf("two columns for a univariate model: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "two")); !os.IsNotExist(err) {
		t.Errorf("a refused import wrote its bundle: %v", err)
	}
}
