package models

import (
	"embed"
	"io/fs"
)

// DefaultName is the model name the embedded default bundle is served under.
const DefaultName = "gold"

//go:embed gold
var bundles embed.FS

// Gold returns the embedded gold bundle as an fs.FS rooted at the bundle
// (model.json, weights/, scaler.json, backtest.json, manifest.json, ...).
func Gold() fs.FS {
	sub, err := fs.Sub(bundles, DefaultName)
	if err != nil { // cannot happen: the directory is embedded at build time
		panic(err)
	}
	return sub
}
