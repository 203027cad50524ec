package ref64

import "math"

// keras-tcn's TCN layer (philipperemy/keras-tcn, tcn/tcn.py, in the layout
// of the current versions, the ones Keras 3 saves), twice:
//
//   - TCN: explicit loops over batch, step, tap and channel for every
//     convolution, written from ResidualBlock.build/call and TCN.call;
//   - TCNEinsum: every convolution as Einsum("btkc,kcf->btf") on a tensor of
//     gathered (dilated, padded) taps, the 1x1 matching convolution as
//     Einsum("btc,cf->btf"), the normalizations vectorised differently.
//
// Both read the same TCNConfig and TCNBlockWeights.

// TCNConfig is the TCN's options. Filters has one count, or one per
// dilation. Norm is "", "batch" or "layer".
type TCNConfig struct {
	Filters         []int
	KernelSize      int
	Stacks          int
	Dilations       []int
	Padding         string // "causal" or "same"
	Skip            bool
	ReturnSequences bool
	GoBackwards     bool
	Activation      string
	Norm            string
}

// TCNNorm holds one normalization's arrays (Keras's defaults: center and
// scale, epsilon 1e-3): gamma, beta, and for batch norm the moving mean and
// variance.
type TCNNorm struct {
	Gamma, Beta, Mean, Variance []float64
}

// TCNBlockWeights is one residual block's arrays in Keras's shapes: Kernel
// (K, C, F), Bias (F), MatchKernel (1, C, F) and MatchBias (F) when the
// block's input has C != F channels.
type TCNBlockWeights struct {
	Kernel, Bias           [2]Tensor
	Norm                   [2]TCNNorm
	MatchKernel, MatchBias Tensor
}

// FiltersAt is block i's filter count (i indexes the dilations).
func (c TCNConfig) FiltersAt(i int) int {
	if len(c.Filters) == 1 {
		return c.Filters[0]
	}
	return c.Filters[i]
}

// tcnEps is the epsilon of BatchNormalization() and LayerNormalization().
const tcnEps = 1e-3

// convLoops is Conv1D(F, K, dilation d, padding, stride 1) + bias on x
// (B, T, C) by explicit loops.
func convLoops(x Tensor, k, bias Tensor, d int, padding string) Tensor {
	B, T, C := x.Shape[0], x.Shape[1], x.Shape[2]
	K, F := k.Shape[0], k.Shape[2]
	span := d*(K-1) + 1
	left := span - 1 // causal
	if padding == "same" {
		left = (span - 1) / 2
	}
	y := New(B, T, F)
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			for f := 0; f < F; f++ {
				s := bias.Data[f]
				for j := 0; j < K; j++ {
					src := t - left + j*d
					if src < 0 || src >= T {
						continue
					}
					for c := 0; c < C; c++ {
						s += x.Data[(b*T+src)*C+c] * k.Data[(j*C+c)*F+f]
					}
				}
				y.Data[(b*T+t)*F+f] = s
			}
		}
	}
	return y
}

// normLoops applies batch or layer normalization over the last axis.
func normLoops(kind string, x Tensor, w TCNNorm) {
	F := x.Shape[len(x.Shape)-1]
	for off := 0; off < len(x.Data); off += F {
		row := x.Data[off : off+F]
		switch kind {
		case "batch":
			for f := range row {
				row[f] = (row[f]-w.Mean[f])/math.Sqrt(w.Variance[f]+tcnEps)*w.Gamma[f] + w.Beta[f]
			}
		case "layer":
			mean, v := 0.0, 0.0
			for _, e := range row {
				mean += e
			}
			mean /= float64(F)
			for _, e := range row {
				v += (e - mean) * (e - mean)
			}
			v /= float64(F)
			for f := range row {
				row[f] = (row[f]-mean)/math.Sqrt(v+tcnEps)*w.Gamma[f] + w.Beta[f]
			}
		}
	}
}

// reverseTime reverses x (B, T, C) along T.
func reverseTime(x Tensor) Tensor {
	B, T, C := x.Shape[0], x.Shape[1], x.Shape[2]
	y := New(B, T, C)
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			copy(y.Data[(b*T+t)*C:(b*T+t+1)*C], x.Data[(b*T+T-1-t)*C:(b*T+T-t)*C])
		}
	}
	return y
}

// tcnOutput adds the skip connections or takes the last block's output,
// then slices one step without return_sequences.
func tcnOutput(c TCNConfig, last Tensor, skips []Tensor) Tensor {
	res := last
	if c.Skip {
		res = New(skips[0].Shape...)
		for _, s := range skips {
			for i, v := range s.Data {
				res.Data[i] += v
			}
		}
	}
	if c.ReturnSequences {
		return res
	}
	B, T, F := res.Shape[0], res.Shape[1], res.Shape[2]
	idx := T - 1
	if c.Padding == "same" {
		idx = int(float64(T) / 2) // int(T / 2) in Python
	}
	out := New(B, F)
	for b := 0; b < B; b++ {
		copy(out.Data[b*F:(b+1)*F], res.Data[(b*T+idx)*F:(b*T+idx+1)*F])
	}
	return out
}

// TCN runs the layer on x (B, T, C) by explicit loops; w holds one entry
// per residual block (nb_stacks * len(dilations), stack by stack).
func TCN(c TCNConfig, x Tensor, w []TCNBlockWeights) Tensor {
	if c.GoBackwards {
		x = reverseTime(x)
	}
	var skips []Tensor
	k := 0
	for s := 0; s < c.Stacks; s++ {
		for _, d := range c.Dilations {
			bw := w[k]
			k++
			h := x
			for j := 0; j < 2; j++ {
				h = convLoops(h, bw.Kernel[j], bw.Bias[j], d, c.Padding)
				normLoops(c.Norm, h, bw.Norm[j])
				Activation(c.Activation, h.Data) // Act_Conv1D_j (SpatialDropout1D: identity)
			}
			Activation(c.Activation, h.Data) // Act_Conv_Blocks
			x2 := x
			if bw.MatchKernel.Data != nil {
				x2 = convLoops(x, bw.MatchKernel, bw.MatchBias, 1, "same")
			}
			next := New(h.Shape...)
			for i := range next.Data {
				next.Data[i] = x2.Data[i] + h.Data[i]
			}
			Activation(c.Activation, next.Data) // Act_Res_Block
			skips = append(skips, h)
			x = next
		}
	}
	return tcnOutput(c, x, skips)
}

// taps gathers x (B, T, C) into (B, T, K, C): tap j of step t is input step
// t - left + j*d, zero outside.
func taps(x Tensor, K, d int, padding string) Tensor {
	B, T, C := x.Shape[0], x.Shape[1], x.Shape[2]
	total := d * (K - 1)
	left := total
	if padding == "same" {
		left = total / 2
	}
	// pad once, then read windows of the padded sequence
	P := T + total
	pad := New(B, P, C)
	for b := 0; b < B; b++ {
		copy(pad.Data[(b*P+left)*C:(b*P+left+T)*C], x.Data[b*T*C:(b+1)*T*C])
	}
	out := New(B, T, K, C)
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			for j := 0; j < K; j++ {
				copy(out.Data[out.At(b, t, j, 0):out.At(b, t, j, 0)+C], pad.Data[(b*P+t+j*d)*C:(b*P+t+j*d+1)*C])
			}
		}
	}
	return out
}

// TCNEinsum is TCN with every convolution an einsum over gathered taps.
func TCNEinsum(c TCNConfig, x Tensor, w []TCNBlockWeights) Tensor {
	if c.GoBackwards {
		x = reverseTime(x)
	}
	conv := func(x, k, b Tensor, d int) Tensor {
		y := Einsum("btkc,kcf->btf", taps(x, k.Shape[0], d, c.Padding), k)
		broadcastAdd(y, b)
		return y
	}
	norm := func(x Tensor, n TCNNorm) Tensor {
		F := x.Shape[len(x.Shape)-1]
		switch c.Norm {
		case "batch": // folded into a scale and shift per channel
			a, sh := New(F), New(F)
			for f := 0; f < F; f++ {
				a.Data[f] = n.Gamma[f] / math.Sqrt(n.Variance[f]+tcnEps)
				sh.Data[f] = n.Beta[f] - n.Mean[f]*a.Data[f]
			}
			y := New(x.Shape...)
			for i, v := range x.Data {
				y.Data[i] = v*a.Data[i%F] + sh.Data[i%F]
			}
			return y
		case "layer": // E[x^2] - E[x]^2 over the row
			y := New(x.Shape...)
			for off := 0; off < len(x.Data); off += F {
				s1, s2 := 0.0, 0.0
				for _, v := range x.Data[off : off+F] {
					s1 += v
					s2 += v * v
				}
				m := s1 / float64(F)
				inv := 1 / math.Sqrt(s2/float64(F)-m*m+tcnEps)
				for f := 0; f < F; f++ {
					y.Data[off+f] = (x.Data[off+f]-m)*inv*n.Gamma[f] + n.Beta[f]
				}
			}
			return y
		}
		return x
	}
	var skips []Tensor
	k := 0
	for s := 0; s < c.Stacks; s++ {
		for _, d := range c.Dilations {
			bw := w[k]
			k++
			h := x
			for j := 0; j < 2; j++ {
				h = norm(conv(h, bw.Kernel[j], bw.Bias[j], d), bw.Norm[j])
				Activation(c.Activation, h.Data)
			}
			Activation(c.Activation, h.Data)
			x2 := x
			if bw.MatchKernel.Data != nil {
				x2 = Einsum("btc,cf->btf", x, Tensor{Shape: bw.MatchKernel.Shape[1:], Data: bw.MatchKernel.Data})
				broadcastAdd(x2, bw.MatchBias)
			}
			next := New(h.Shape...)
			copy(next.Data, h.Data)
			broadcastAdd(next, x2)
			Activation(c.Activation, next.Data)
			skips = append(skips, h)
			x = next
		}
	}
	return tcnOutput(c, x, skips)
}
