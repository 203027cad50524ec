package nn

import "fmt"

// TCNNorm is the normalization inside keras-tcn's residual blocks.
type TCNNorm int

const (
	TCNNoNorm    TCNNorm = iota // use_batch_norm and use_layer_norm false
	TCNBatchNorm                // use_batch_norm: BatchNormalization() after each dilated conv
	TCNLayerNorm                // use_layer_norm: LayerNormalization() after each dilated conv
)

// TCN is keras-tcn's TCN layer (philipperemy/keras-tcn, tcn/tcn.py, in the
// layout of the current versions, which Keras 3 saves: blocks with
// matching_conv1D or matching_identity, Act_Conv_Blocks and Act_Res_Block;
// the older 3.x layout, with a main_conv1D and ReLU hard-coded in the
// blocks, is another computation):
// nb_stacks stacks of one residual block per dilation. Residual block k
// with dilation d and F filters, on its input x (T, C):
//
//	h  = Activation(Norm(Conv1D(F, kernel_size, dilation d, padding)(x)))      # conv1D_0, Act_Conv1D_0
//	h  = Activation(Norm(Conv1D(F, kernel_size, dilation d, padding)(h)))      # conv1D_1, Act_Conv1D_1
//	x1 = Activation(h)                                                         # Act_Conv_Blocks
//	x2 = Conv1D(F, 1)(x) if C != F else x                                      # matching_conv1D / matching_identity
//	out = Activation(x2 + x1)                                                  # Act_Res_Block
//
// (SpatialDropout1D after each Act_Conv1D is the identity at inference;
// Norm is absent, BatchNormalization() or LayerNormalization(), both with
// Keras's defaults: epsilon 1e-3, center and scale.) The next block reads
// out. With use_skip_connections the TCN's sequence is the sum of every
// block's x1, otherwise the last block's out. Without return_sequences it
// returns one step of it: the last (causal) or step int(T/2) (same).
// GoBackwards reverses the input in time first (keras-tcn does not reverse
// the output back).
//
// Filters holds one count per dilation (keras-tcn's nb_filters as a list)
// or a single count for all. Weights, in seqcast's order (the .keras
// archive's groups, which the loader maps by path): per block, conv1D_0
// kernel and bias, its norm's weights, conv1D_1 kernel and bias, its
// norm's, then matching_conv1D kernel and bias when C != F.
type TCN struct {
	LayerName          string
	Filters            []int
	KernelSize         int
	Stacks             int
	Dilations          []int
	Padding            string // "causal" or "same"
	UseSkipConnections bool
	ReturnSequences    bool
	GoBackwards        bool
	Activation         Activation
	Norm               TCNNorm

	steps, inCh, outCh int
	blocks             []tcnBlock
	params             []*Param
	fuse               bool // the dilated convs apply the activation themselves (no norm)
}

type tcnBlock struct {
	conv      [2]*Conv1D
	bn        [2]*BatchNormalization // with TCNBatchNorm
	ln        [2]*LayerNormalization // with TCNLayerNorm
	match     *Conv1D                // nil when the block's input already has F channels
	inC, filt int
}

// Bounds that make a hostile config fail at Build instead of allocating
// without limit (or overflowing a size): residual blocks (nb_stacks *
// len(dilations)), a dilation, filters and kernel_size, and the values of
// one sample's sequence buffer and of one kernel. Real TCNs are far below.
const (
	maxTCNBlocks     = 1024
	maxTCNDilation   = 1 << 20
	maxTCNDim        = 1 << 16
	maxTCNSampleSize = 1 << 24
	maxTCNKernelSize = 1 << 26
)

// Class returns "TCN".
func (l *TCN) Class() string { return "TCN" }

// Name returns the Keras layer name.
func (l *TCN) Name() string { return l.LayerName }

// filtersAt is block i's filter count (i indexes the dilations).
func (l *TCN) filtersAt(i int) int {
	if len(l.Filters) == 1 {
		return l.Filters[0]
	}
	return l.Filters[i]
}

// Build checks the options on a (T, C) input and builds the blocks'
// convolutions and norms.
func (l *TCN) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) != 2 {
		return nil, errorf(l, "input shape %v: want rank 2 (steps, channels)", s)
	}
	if l.KernelSize <= 0 {
		return nil, errorf(l, "kernel_size: must be positive, got %d", l.KernelSize)
	}
	if l.Stacks <= 0 {
		return nil, errorf(l, "nb_stacks: must be positive, got %d", l.Stacks)
	}
	if len(l.Dilations) == 0 {
		return nil, errorf(l, "dilations: want at least one")
	}
	if l.Stacks*len(l.Dilations) > maxTCNBlocks || l.Stacks > maxTCNBlocks {
		return nil, errorf(l, "nb_stacks %d x %d dilations: at most %d residual blocks are supported", l.Stacks, len(l.Dilations), maxTCNBlocks)
	}
	for _, d := range l.Dilations {
		if d <= 0 || d > maxTCNDilation {
			return nil, errorf(l, "dilations: %d is not in 1..%d", d, maxTCNDilation)
		}
	}
	if len(l.Filters) != 1 && len(l.Filters) != len(l.Dilations) {
		return nil, errorf(l, "nb_filters: want one count or one per dilation (%d), got %d", len(l.Dilations), len(l.Filters))
	}
	for _, f := range l.Filters {
		if f <= 0 {
			return nil, errorf(l, "nb_filters: must be positive, got %v", l.Filters)
		}
		if l.UseSkipConnections && f != l.Filters[0] {
			return nil, errorf(l, "nb_filters %v: skip connections need every block to have the same filters (keras-tcn refuses this too)", l.Filters)
		}
	}
	if l.KernelSize > maxTCNDim {
		return nil, errorf(l, "kernel_size %d: at most %d", l.KernelSize, maxTCNDim)
	}
	for _, f := range l.Filters {
		if f > maxTCNDim {
			return nil, errorf(l, "nb_filters %d: at most %d", f, maxTCNDim)
		}
	}
	if s[0] > maxTCNSampleSize || s[1] > maxTCNSampleSize {
		return nil, errorf(l, "input shape %v: at most %d steps and channels", s, maxTCNSampleSize)
	}
	switch l.Padding {
	case "causal", "same":
	default:
		return nil, errorf(l, "padding: want \"causal\" or \"same\", got %q", l.Padding)
	}
	switch l.Norm {
	case TCNNoNorm, TCNBatchNorm, TCNLayerNorm:
	default:
		return nil, errorf(l, "unknown normalization %d", l.Norm)
	}
	l.steps, l.inCh = s[0], s[1]
	widest := l.inCh
	for _, f := range l.Filters {
		widest = max(widest, f)
	}
	if l.rows()*widest > maxTCNSampleSize {
		return nil, errorf(l, "%d steps x %d channels: a sample's sequence would exceed %d values", l.rows(), widest, maxTCNSampleSize)
	}
	if l.KernelSize*widest*widest > maxTCNKernelSize {
		return nil, errorf(l, "kernel_size %d with %d channels: a kernel would exceed %d values", l.KernelSize, widest, maxTCNKernelSize)
	}
	l.fuse = l.Norm == TCNNoNorm
	l.blocks, l.params = nil, nil
	cur := s.Clone()
	for st := 0; st < l.Stacks; st++ {
		for i, d := range l.Dilations {
			k := len(l.blocks)
			b := tcnBlock{inC: cur[1], filt: l.filtersAt(i)}
			prefix := fmt.Sprintf("residual_block_%d/", k)
			shape := cur
			for j := 0; j < 2; j++ {
				c := &Conv1D{LayerName: fmt.Sprintf("%s/%sconv1D_%d", l.LayerName, prefix, j), Filters: b.filt,
					KernelSize: l.KernelSize, DilationRate: d, Padding: l.Padding, UseBias: true}
				if l.fuse {
					c.Activation = l.Activation
				}
				o, err := c.Build([]Shape{shape})
				if err != nil {
					return nil, errorf(l, "residual block %d: %v", k, err)
				}
				b.conv[j] = c
				l.addParams(prefix+fmt.Sprintf("conv1D_%d/", j), c.Weights())
				switch l.Norm {
				case TCNBatchNorm:
					n := &BatchNormalization{LayerName: fmt.Sprintf("%s/%snorm_%d", l.LayerName, prefix, j), Axis: -1, Epsilon: 1e-3, Center: true, Scale: true}
					if _, err := n.Build([]Shape{{b.filt}}); err != nil { // per row
						return nil, err
					}
					b.bn[j] = n
					l.addParams(prefix+"batch_norm_layers/batch_normalization"+normSuffix(j)+"/", n.Weights())
				case TCNLayerNorm:
					n := &LayerNormalization{LayerName: fmt.Sprintf("%s/%snorm_%d", l.LayerName, prefix, j), Axis: -1, Epsilon: 1e-3, Center: true, Scale: true}
					if _, err := n.Build([]Shape{{b.filt}}); err != nil { // per row
						return nil, err
					}
					b.ln[j] = n
					l.addParams(prefix+"layer_norm_layers/layer_normalization"+normSuffix(j)+"/", n.Weights())
				}
				shape = o
			}
			if b.inC != b.filt {
				m := &Conv1D{LayerName: l.LayerName + "/" + prefix + "matching_conv1D", Filters: b.filt, KernelSize: 1, Padding: "same", UseBias: true}
				if _, err := m.Build([]Shape{cur}); err != nil {
					return nil, errorf(l, "residual block %d: %v", k, err)
				}
				b.match = m
				l.addParams(prefix+"matching_conv1D/", m.Weights())
			}
			l.blocks = append(l.blocks, b)
			cur = Shape{l.steps, b.filt}
		}
	}
	l.outCh = cur[1]
	if l.ReturnSequences {
		return Shape{l.steps, l.outCh}, nil
	}
	return Shape{l.outCh}, nil
}

// addParams renames a sublayer's weights to their path in the TCN and
// appends them.
func (l *TCN) addParams(prefix string, ps []*Param) {
	for _, p := range ps {
		p.Name = prefix + p.Name
		l.params = append(l.params, p)
	}
}

// Weights lists every block's weights (see TCN).
func (l *TCN) Weights() []*Param { return l.params }

// Prepare prepares every convolution and norm.
func (l *TCN) Prepare() error {
	if err := checkParams(l); err != nil {
		return err
	}
	for _, b := range l.blocks {
		for j := 0; j < 2; j++ {
			if err := b.conv[j].Prepare(); err != nil {
				return err
			}
			if b.bn[j] != nil {
				if err := b.bn[j].Prepare(); err != nil {
					return err
				}
			}
		}
		if b.match != nil {
			if err := b.match.Prepare(); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxCh is the widest block output.
func (l *TCN) maxCh() int {
	c := 0
	for _, b := range l.blocks {
		c = max(c, b.filt)
	}
	return c
}

// rows is the number of steps a sequence buffer holds: T, or the kernel
// size if larger (the last block's taps, see lastStep).
func (l *TCN) rows() int { return max(l.steps, l.KernelSize) }

// ScratchSize holds, for n samples: the reversed input (with GoBackwards),
// two block outputs (ping-pong), the block's conv intermediate h and x1,
// the skip sum, and the convolutions' own scratch.
func (l *TCN) ScratchSize(n int) int {
	seq := n * l.rows() * l.maxCh()
	s := 5*seq + l.convScratchFor(n)
	if l.GoBackwards {
		s += n * l.steps * l.inCh
	}
	return s
}

// convScratchFor is the larger of the im2col chunk of tcnConv and what
// Conv1D.Forward needs.
func (l *TCN) convScratchFor(n int) int {
	s := min(n*l.steps, convChunkRows) * l.KernelSize * max(l.inCh, l.maxCh())
	for _, b := range l.blocks {
		for j := 0; j < 2; j++ {
			s = max(s, b.conv[j].ScratchSize(n))
		}
		if b.match != nil {
			s = max(s, b.match.ScratchSize(n))
		}
	}
	return s
}

// outIdx is the step returned without return_sequences: keras-tcn's
// output_slice_index, -1 (causal) or int(T/2) (same).
func (l *TCN) outIdx() int {
	if l.Padding == "same" {
		return l.steps / 2
	}
	return l.steps - 1
}

// Forward computes n samples. Without return_sequences the last block
// computes only what the returned step needs (lastStep), and the skip
// connections are summed at that step only.
func (l *TCN) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	T := l.steps
	seq := n * l.rows() * l.maxCh()
	x := ins[0][:n*T*l.inCh]
	if l.GoBackwards {
		rev := scratch[5*seq : 5*seq+n*T*l.inCh]
		C := l.inCh
		for b := 0; b < n; b++ {
			for t := 0; t < T; t++ {
				copy(rev[(b*T+t)*C:(b*T+t+1)*C], x[(b*T+T-1-t)*C:(b*T+T-t)*C])
			}
		}
		x = rev
	}
	bufs := [2][]float32{scratch[:seq], scratch[seq : 2*seq]}
	hb, x1b, skipb := scratch[2*seq:3*seq], scratch[3*seq:4*seq], scratch[4*seq:5*seq]
	cs := scratch[5*seq:]
	if l.GoBackwards {
		cs = cs[n*T*l.inCh:]
	}
	cs = cs[:l.convScratchFor(n)]
	C, idx := l.outCh, l.outIdx()
	full := len(l.blocks) // blocks computed over every step
	if !l.ReturnSequences {
		full--
		if l.UseSkipConnections {
			clear(out[:n*C])
		}
	}
	var one [1][]float32
	cur := x
	for k := 0; k < full; k++ {
		b := &l.blocks[k]
		F := b.filt
		size := n * T * F
		h, x1 := hb[:size], x1b[:size]
		l.conv(b.conv[0], h, cur, n, cs)
		l.normAct(b, 0, h, n*T)
		l.conv(b.conv[1], x1, h, n, cs)
		l.normAct(b, 1, x1, n*T)
		l.Activation.Apply(x1, F) // Act_Conv_Blocks
		next := bufs[k%2][:size]
		if b.match != nil {
			one[0] = cur
			b.match.Forward(next, one[:], n, cs)
			for i, v := range x1 {
				next[i] += v
			}
		} else {
			for i, v := range x1 {
				next[i] = cur[i] + v
			}
		}
		l.Activation.Apply(next, F) // Act_Res_Block
		switch {
		case !l.UseSkipConnections:
		case !l.ReturnSequences: // every block has C filters
			for s := 0; s < n; s++ {
				o, row := out[s*C:(s+1)*C], x1[(s*T+idx)*C:(s*T+idx+1)*C]
				for i, v := range row {
					o[i] += v
				}
			}
		case k == 0:
			copy(skipb[:size], x1)
		default:
			skip := skipb[:size]
			for i, v := range x1 {
				skip[i] += v
			}
		}
		cur = next
	}
	if !l.ReturnSequences {
		l.lastStep(&l.blocks[len(l.blocks)-1], cur, out, n, hb, x1b)
		return
	}
	res := cur
	if l.UseSkipConnections {
		res = skipb[:n*T*C]
	}
	copy(out[:n*T*C], res)
}

// lastStep is the last residual block at the returned step only: conv1D_1
// there reads KernelSize rows of conv1D_0's output, each computed from
// KernelSize rows of the block's input. With skip connections its x1 is
// added to out (which holds the other blocks' x1 at that step); without,
// out receives Activation(x2 + x1) at that step.
func (l *TCN) lastStep(b *tcnBlock, cur, out []float32, n int, hb, x1b []float32) {
	T, K, F, C := l.steps, l.KernelSize, b.filt, b.inC
	d, pad, idx := b.conv[0].dilation, b.conv[0].pad, l.outIdx()
	w0, w1 := b.conv[0].kernel.Value, b.conv[1].kernel.Value
	b0, b1 := b.conv[0].bias.Value, b.conv[1].bias.Value
	for s := 0; s < n; s++ {
		xs := cur[s*T*C : (s+1)*T*C]
		hrows := hb[s*K*F : (s+1)*K*F] // row j: conv1D_0's output at step idx - pad + j*d
		for j := 0; j < K; j++ {
			r := idx - pad + j*d
			if r < 0 || r >= T {
				continue // conv1D_1 reads zero padding there
			}
			row := hrows[j*F : (j+1)*F]
			copy(row, b0)
			for jj := 0; jj < K; jj++ {
				if t := r - pad + jj*d; t >= 0 && t < T {
					axpyRows(row, xs[t*C:(t+1)*C], w0[jj*C*F:(jj+1)*C*F])
				}
			}
			l.normActRow(b, 0, row)
		}
		x1 := x1b[s*F : (s+1)*F]
		copy(x1, b1)
		for j := 0; j < K; j++ {
			if r := idx - pad + j*d; r >= 0 && r < T {
				axpyRows(x1, hrows[j*F:(j+1)*F], w1[j*F*F:(j+1)*F*F])
			}
		}
		l.normActRow(b, 1, x1)
		l.Activation.Apply(x1, F) // Act_Conv_Blocks
		o := out[s*F : (s+1)*F]
		if l.UseSkipConnections {
			for i, v := range x1 {
				o[i] += v
			}
			continue
		}
		if b.match != nil {
			copy(o, b.match.bias.Value)
			axpyRows(o, xs[idx*C:(idx+1)*C], b.match.kernel.Value)
		} else {
			copy(o, xs[idx*C:(idx+1)*C])
		}
		for i, v := range x1 {
			o[i] += v
		}
		l.Activation.Apply(o, F) // Act_Res_Block
	}
}

// conv runs a block's dilated Conv1D on n samples. With AVX2 and FMA it
// lowers the convolution to im2col patches (convChunkRows rows at a time)
// and multiplies them with smallGemmBias, which on these shapes (K*C of a
// few hundred, F a multiple of 8) is about three times faster than the
// general GEMM Conv1D.Forward uses; otherwise it calls Conv1D.Forward.
func (l *TCN) conv(c *Conv1D, out, x []float32, n int, scratch []float32) {
	F := c.Filters
	if !haveAVX2FMA || F%8 != 0 || c.small {
		one := [1][]float32{x}
		c.Forward(out, one[:], n, scratch)
		return
	}
	T, K, C := l.steps, c.KernelSize, c.inCh
	kc := K * C
	rows := n * T
	relu := c.Activation.Name == "relu"
	for r0 := 0; r0 < rows; r0 += convChunkRows {
		r1 := min(r0+convChunkRows, rows)
		patches := scratch[:(r1-r0)*kc]
		for r := r0; r < r1; r++ {
			b, o := r/T, r%T
			sample := x[b*T*C : (b+1)*T*C]
			row := patches[(r-r0)*kc : (r-r0+1)*kc]
			t := o - c.pad
			for k := 0; k < K; k, t = k+1, t+c.dilation {
				dst := row[k*C : (k+1)*C]
				if t < 0 || t >= T {
					clear(dst)
				} else {
					copy(dst, sample[t*C:(t+1)*C])
				}
			}
		}
		smallGemmBias(r1-r0, F, kc, patches, kc, c.kernel.Value, out[r0*F:], F, c.bias.Value, relu)
	}
	if !relu {
		c.Activation.Apply(out[:rows*F], F)
	}
}

// axpyRows adds x·W to dst, W row-major (len(x), len(dst)).
func axpyRows(dst, x, w []float32) {
	F := len(dst)
	for c, xv := range x {
		row := w[c*F : (c+1)*F]
		for f, wv := range row {
			dst[f] += xv * wv
		}
	}
}

// normAct applies conv j's norm and the activation (unless the conv
// already applied it) in place to rows rows of the block's filters.
func (l *TCN) normAct(b *tcnBlock, j int, h []float32, rows int) {
	one := [1][]float32{h}
	switch {
	case b.bn[j] != nil:
		b.bn[j].Forward(h, one[:], rows, nil)
	case b.ln[j] != nil:
		b.ln[j].Forward(h, one[:], rows, nil)
	}
	if !l.fuse {
		l.Activation.Apply(h, b.filt)
	}
}

// normActRow is normAct on one row, whose activation is never fused.
func (l *TCN) normActRow(b *tcnBlock, j int, row []float32) {
	one := [1][]float32{row}
	switch {
	case b.bn[j] != nil:
		b.bn[j].Forward(row, one[:], 1, nil)
	case b.ln[j] != nil:
		b.ln[j].Forward(row, one[:], 1, nil)
	}
	l.Activation.Apply(row, b.filt)
}

// normSuffix is the Keras name suffix of a block's j-th norm layer in its
// list (batch_normalization, batch_normalization_1).
func normSuffix(j int) string {
	if j == 0 {
		return ""
	}
	return fmt.Sprintf("_%d", j)
}
