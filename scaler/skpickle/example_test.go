package skpickle_test

import (
	"errors"
	"fmt"

	"github.com/seqcast/seqcast/scaler/skpickle"
)

// Reading the output scaler of the air-quality model: a joblib file written
// by scikit-learn 1.6.1 with numpy 2.
func Example() {
	s, err := skpickle.LoadFile("../../parity/testdata/fixtures/airquality-cnn-bilstm/scaler_y.pkl")
	if err != nil {
		fmt.Println(err)
		return
	}
	doc, _ := s.MarshalJSON()
	fmt.Println(s.Class, s.NumFeatures())
	fmt.Println(string(doc))

	sc, err := s.Scaler()
	if err != nil {
		fmt.Println(err)
		return
	}
	y := []float64{0.5}
	_ = sc.InverseTransform(y, y, 1)
	fmt.Printf("model output 0.5 is %.2f mg/m3 of CO\n", y[0])

	// A pickle that would run os.system is refused when the name is read.
	_, err = skpickle.Load([]byte("\x80\x02cos\nsystem\nX\x04\x00\x00\x00truep\x85R."))
	var ue *skpickle.UnsafeError
	fmt.Println(errors.As(err, &ue), ue.Global())
	// Output:
	// MinMaxScaler 1
	// {"kind": "minmax", "feature_range": [0.0, 1.0], "clip": false, "data_min": [0.1], "data_max": [11.9], "scale": [0.0847457627118644], "min": [-0.00847457627118644]}
	// model output 0.5 is 6.00 mg/m3 of CO
	// true os.system
}
