package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

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
