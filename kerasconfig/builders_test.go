package kerasconfig

import (
	"errors"
	"slices"
	"testing"

	"github.com/seqcast/seqcast/nn"
)

// TestBuildersAreValues checks that a program can add and remove classes
// on its own copy of the table without changing anyone else's.
func TestBuildersAreValues(t *testing.T) {
	mine := Default()
	mine["Lambda"] = func(c *LayerConfig) (nn.Layer, error) {
		if _, err := c.Str("function", ""); err != nil {
			return nil, err
		}
		return &nn.Identity{LayerName: c.Name(), ClassName: c.Class()}, nil
	}
	mine["Custom>Scale"] = func(c *LayerConfig) (nn.Layer, error) {
		return &nn.Identity{LayerName: c.Name(), ClassName: c.Class()}, nil
	}
	delete(mine, "Dropout")
	if _, ok := Default()["Lambda"]; ok {
		t.Fatal("adding a class to one table changed Default()")
	}
	if _, ok := Default()["Dropout"]; !ok {
		t.Fatal("removing a class from one table changed Default()")
	}

	lambda := seq(`{"class_name":"Lambda","config":{"name":"lam","function":"identity"}}`)
	custom := seq(`{"module":"my.layers","class_name":"Scale","config":{"name":"sc"},"registered_name":"Custom>Scale"}`)
	dropout := seq(`{"class_name":"Dropout","config":{"name":"drop","rate":0.1}}`)
	for _, tt := range []struct {
		name     string
		json     string
		builders Builders
		ok       bool
	}{
		{"Lambda by default", lambda, nil, false},
		{"Lambda added", lambda, mine, true},
		{"custom object by default", custom, nil, false},
		{"custom object added under its registered name", custom, mine, true},
		{"Dropout by default", dropout, nil, true},
		{"Dropout removed", dropout, mine, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := Parse([]byte(tt.json), Options{Builders: tt.builders})
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if got := m.Nodes()[0].Layer.Class(); got == "" {
					t.Errorf("class %q", got)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrUnsupported) {
				t.Fatalf("err = %v, want an unsupported *Error", err)
			}
			want := tt.builders
			if want == nil {
				want = Default()
			}
			if !slices.Equal(e.Supported, want.Classes()) {
				t.Errorf("Supported = %v, want the table's classes %v", e.Supported, want.Classes())
			}
		})
	}
}

// TestClassesSorted checks that the table lists what the old hand-written
// list named, and more (the aliases Keras accepts).
func TestClassesSorted(t *testing.T) {
	got := Default().Classes()
	if !slices.IsSorted(got) {
		t.Errorf("Classes() is not sorted: %v", got)
	}
	for _, class := range []string{"Activation", "Bidirectional", "Conv1D", "Convolution1D", "Dense", "GRU", "InputLayer",
		"LSTM", "MaxPool1D", "TimeDistributed", "Dropout", "AlphaDropout", "Average"} {
		if !slices.Contains(got, class) {
			t.Errorf("Classes() lacks %s", class)
		}
	}
}
