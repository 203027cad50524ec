package kerasflags

import (
	"flag"
	"fmt"

	"github.com/seqcast/seqcast/bundle"
)

// Names are the preprocessing flags' names.
var Names = []string{"scaler-x", "scaler-y", "window-zscore", "epsilon", "target-feature", "window"}

// Flags are the preprocessing flags' values.
type Flags struct {
	ScalerX, ScalerY string
	WindowZScore     bool
	Epsilon          float64
	TargetFeature    int
	Window           int
	// Set holds the names of the flags given on the command line (the
	// caller fills it after parsing).
	Set map[string]bool
}

// Register defines the flags on fs.
func (k *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&k.ScalerX, "scaler-x", "", "scikit-learn scaler pickle (pickle.dump or joblib.dump) fitted on the model inputs")
	fs.StringVar(&k.ScalerY, "scaler-y", "", "scikit-learn scaler pickle fitted on the targets (its inverse is applied to outputs)")
	fs.BoolVar(&k.WindowZScore, "window-zscore", false, "per-window z-score of the input, outputs de-normalized with the same window's stats")
	fs.Float64Var(&k.Epsilon, "epsilon", 1e-8, "window z-score: added to the population std")
	fs.IntVar(&k.TargetFeature, "target-feature", 0, "window z-score: input feature whose stats de-normalize the output")
	fs.IntVar(&k.Window, "window", 0, "time steps per window (default: the model's input length)")
}

// Check reports a usage error: exclusive flags, or window z-score options
// without --window-zscore (which the Python exporter silently ignores).
func (k *Flags) Check() error {
	if k.WindowZScore && (k.ScalerX != "" || k.ScalerY != "") {
		return fmt.Errorf("--window-zscore and --scaler-x/--scaler-y are exclusive")
	}
	if !k.WindowZScore && (k.Set["epsilon"] || k.Set["target-feature"]) {
		return fmt.Errorf("--epsilon and --target-feature need --window-zscore")
	}
	if k.Set["window"] && k.Window <= 0 {
		return fmt.Errorf("--window must be positive")
	}
	return nil
}

// Options are the flags as bundle.FromKeras takes them.
func (k *Flags) Options() bundle.KerasOptions {
	o := bundle.KerasOptions{ScalerX: k.ScalerX, ScalerY: k.ScalerY, WindowZScore: k.WindowZScore,
		TargetFeature: k.TargetFeature, Window: k.Window}
	if k.WindowZScore {
		eps := k.Epsilon
		o.Epsilon = &eps
	}
	return o
}
