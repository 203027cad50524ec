package kerasfile

import (
	"strings"
	"testing"
)

// TestSnakeCaseKeras2: Keras 2's to_snake_case (the keys of a Keras
// 2.13-2.15 .keras archive) differs from Keras 3's only for ConvLSTM1D and
// ConvLSTM2D among the supported classes.
func TestSnakeCaseKeras2(t *testing.T) {
	for _, c := range []struct{ class, keras2, keras3 string }{
		{"ConvLSTM2D", "conv_lst_m2d", "conv_lstm2d"},
		{"ConvLSTM1D", "conv_lst_m1d", "conv_lstm1d"},
		{"Conv1D", "conv1d", "conv1d"},
		{"Conv1DTranspose", "conv1d_transpose", "conv1d_transpose"},
		{"PReLU", "p_re_lu", "p_re_lu"},
		{"GlobalAveragePooling1D", "global_average_pooling1d", "global_average_pooling1d"},
		{"CuDNNLSTM", "cu_dnnlstm", "cu_dnnlstm"},
		{"TimeDistributed", "time_distributed", "time_distributed"},
	} {
		if got := snakeCaseKeras2(c.class); got != c.keras2 {
			t.Errorf("snakeCaseKeras2(%s) = %s, want %s", c.class, got, c.keras2)
		}
		if got := SnakeCase(c.class); got != c.keras3 {
			t.Errorf("SnakeCase(%s) = %s, want %s", c.class, got, c.keras3)
		}
	}
	for _, cls := range DefaultLayers().Classes() {
		if k2, k3 := snakeCaseKeras2(cls), SnakeCase(cls); k2 != k3 && !strings.HasPrefix(cls, "ConvLSTM") {
			t.Errorf("%s: Keras 2 key %s, Keras 3 key %s", cls, k2, k3)
		}
	}
}
