package backtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/seqcast/seqcast/serving"
	"github.com/seqcast/seqcast/weights"
)

// Install writes backtest.json data to out and returns the files written.
// out is a file, or a directory that gets a backtest.json: a bundle, or a
// folder holding a Keras file (serving reads a backtest.json beside a
// Keras file when the folder holds no other). When the folder has a
// manifest.json, its sha256 of backtest.json is set (added when it listed
// none) so the checksums still hold. Each file is written to a temporary
// name and renamed into place, backtest.json first; a server reloading
// between the two renames refuses the half-written version and keeps the
// one it had.
func Install(out string, data []byte) ([]string, error) {
	return InstallFile(out, serving.BacktestFile, data)
}

// InstallFile is Install for another bundle file name
// (training_stats.json): out is a file, or a directory that gets name.
func InstallFile(out, name string, data []byte) ([]string, error) {
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		out = filepath.Join(out, name)
	}
	dir := filepath.Dir(out)
	var manifest []byte
	mpath := filepath.Join(dir, "manifest.json")
	if filepath.Base(out) == name {
		old, err := os.ReadFile(mpath)
		switch {
		case err == nil:
			if manifest, err = setChecksum(old, name, data); err != nil {
				return nil, fmt.Errorf("%s: %w", mpath, err)
			}
		case !os.IsNotExist(err):
			return nil, err
		}
	}
	if err := writeAtomic(out, data); err != nil {
		return nil, err
	}
	written := []string{out}
	if manifest != nil {
		if err := writeAtomic(mpath, manifest); err != nil {
			return written, err
		}
		written = append(written, mpath)
		m, err := weights.ParseManifest(manifest)
		if err == nil {
			err = m.VerifyFiles(os.DirFS(dir))
		}
		if err != nil {
			return written, fmt.Errorf("%s after the update: %w", mpath, err)
		}
	}
	return written, nil
}

// checksumLine finds a manifest's sha256 of backtest.json.
var checksumLine = regexp.MustCompile(`("backtest\.json"\s*:\s*")([0-9a-fA-F]{64})(")`)

// setChecksum returns the manifest with file's sha256 set to data's: the
// one line changed when the manifest lists the file, else the file added
// to "files" (the manifest is rewritten, keys sorted).
func setChecksum(manifest []byte, file string, data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	hexsum := hex.EncodeToString(sum[:])
	if file == serving.BacktestFile {
		if locs := checksumLine.FindAllSubmatchIndex(manifest, -1); len(locs) == 1 {
			l := locs[0]
			out := bytes.Clone(manifest[:l[4]])
			out = append(out, hexsum...)
			return append(out, manifest[l[5]:]...), nil
		}
	}
	var m map[string]any
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, err
	}
	files, _ := m["files"].(map[string]any)
	if files == nil {
		if _, has := m["files"]; has {
			return nil, fmt.Errorf("\"files\" is not an object")
		}
		// A manifest without checksums: nothing to keep true.
		return nil, nil
	}
	files[file] = hexsum
	out, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// writeAtomic writes data to path through a temporary file in the same
// folder.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+strings.TrimPrefix(filepath.Base(path), ".")+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
