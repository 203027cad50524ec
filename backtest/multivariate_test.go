package backtest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/bundle"
	"github.com/seqcast/seqcast/serving"
)

const airQuality = "../parity/testdata/fixtures/airquality-cnn-bilstm"

// TestMultivariateKeras: the air-quality Keras file (24 hours x 7 sensors
// -> CO, with its scaler pickles) backtested on a CSV of its first three
// printed windows, which are consecutive (26 hourly rows, plus a 27th so
// that the third window has a target row): the forecasts of the three test
// windows are what Keras printed for them (1e-6 relative), and the target
// is a column the model does not take as input.
func TestMultivariateKeras(t *testing.T) {
	b, err := bundle.FromKeras(filepath.Join(airQuality, "cnn_bilstm_model.keras"), bundle.KerasOptions{
		ScalerX: filepath.Join(airQuality, "scaler_X.pkl"), ScalerY: filepath.Join(airQuality, "scaler_y.pkl")})
	mustDo(t, err)
	m, err := serving.New(context.Background(), b, "air", 1, nil)
	mustDo(t, err)
	raw, err := os.ReadFile(filepath.Join(airQuality, "x_printed_raw.npy"))
	mustDo(t, err)
	// A version 1.0 .npy of little-endian float64 (6, 24, 7).
	if string(raw[:6]) != "\x93NUMPY" || raw[6] != 1 || !strings.Contains(string(raw[10:10+int(binary.LittleEndian.Uint16(raw[8:]))]), "'<f8'") {
		t.Fatalf("x_printed_raw.npy: not a v1 <f8 array")
	}
	data := raw[10+int(binary.LittleEndian.Uint16(raw[8:])):]
	at := func(w, r, f int) float64 {
		return math.Float64frombits(binary.LittleEndian.Uint64(data[8*((w*24+r)*7+f):]))
	}
	cols := []string{"PT08.S1(CO)", "PT08.S2(NMHC)", "PT08.S3(NOx)", "PT08.S5(O3)", "T", "RH", "AH"}
	var csv strings.Builder
	csv.WriteString("date," + strings.Join(cols, ",") + ",CO\n")
	for i := 0; i < 27; i++ {
		w, r := 0, i
		if i >= 24 {
			w, r = min(i-23, 2), 23 // rows 24 and 25 end windows 1 and 2; row 26 repeats 25
		}
		fmt.Fprintf(&csv, "2004-03-%02dT%02d:00:00", 10+i/24, i%24)
		for f := range cols {
			csv.WriteString("," + strconv.FormatFloat(at(w, r, f), 'g', -1, 64))
		}
		fmt.Fprintf(&csv, ",%g\n", 2+0.1*float64(i%3))
	}
	s := readSeries(t, csv.String(), CSVOptions{Columns: cols, Target: "CO"})
	if s.DateColumn != "date" || len(s.X[0]) != 7 {
		t.Fatalf("series: %q %d", s.DateColumn, len(s.X[0]))
	}
	r, err := Run(context.Background(), m, s, Config{TestFraction: 3.0 / 27, Horizon: 1})
	mustDo(t, err)
	keras := []float64{2.2591043, 2.1535041, 2.1212983} // keras_printed_predictions.npy[:3]
	if len(r.Forecasts) != 3 || r.Frequency.Name != "every 1h0m0s" {
		t.Fatalf("%d windows, frequency %q", len(r.Forecasts), r.Frequency.Name)
	}
	var mae float64
	for k, want := range keras {
		if got := r.Forecasts[k][0]; math.Abs(got-want) > 1e-6*want {
			t.Errorf("window %d: forecast %.8g, Keras printed %.8g", k, got, want)
		}
		mae += math.Abs(s.Y[24+k]-r.Forecasts[k][0]) / 3
	}
	if !near(r.Steps[0].Model.MAE, mae, 1e-12) {
		t.Errorf("MAE %g, want %g", r.Steps[0].Model.MAE, mae)
	}
	// A recursive forecast needs a univariate model.
	_, err = Run(context.Background(), m, s, Config{TestFraction: 3.0 / 27, Horizon: 2})
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != "horizon" || !strings.Contains(err.Error(), "a recursive forecast needs a univariate model") {
		t.Errorf("horizon 2: %v", err)
	}
}
