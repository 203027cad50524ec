package nn

import "math"

// Shared machinery of LSTM and GRU (and of Bidirectional over them).
//
// A recurrent layer runs in chunks of at most rnnChunk samples. For each
// chunk, the input projection x·kernel + bias of every time step and sample
// is one matrix product into scratch; only the recurrence h·recurrent_kernel
// and the gate math are sequential, one step at a time for the whole chunk.
// Weights are repacked once in Prepare into column panels (packPanels) with
// each gate block padded to a whole number of panels, the layout the
// kernels in rnn_kernels.go stream through.

// rnnChunk is how many samples a recurrent layer runs together: it bounds
// the scratch memory and keeps one chunk's pre-activations in cache.
const rnnChunk = 32

// rnnCore is the state LSTM and GRU share after Build and Prepare.
//
// Gate blocks are padded from u to up = roundUpPanel(u) columns so that
// every block is a whole number of packed panels (packPanels); the padding
// columns of the packed weights are zero and the padded units never feed
// back (the recurrent product only reads the first u values of h).
type rnnCore struct {
	steps, feat int // input (T, F)
	up, g       int // padded units and gate width (gates*up)
	params      []*Param

	w  []float32 // kernel (F, g), gate-padded, in panels (packPanels)
	u  []float32 // recurrent kernel (Units, g), gate-padded, in panels
	bi []float32 // packed input bias (g), zeros without bias
	br []float32 // GRU reset_after: packed recurrent bias (g)

	raKind, actKind actKind

	// skipZero: w has no Inf or NaN and bi no -0, so project may leave out
	// columns of x that are zero (gemmBiasSkip); set by setSkipZero.
	skipZero bool
}

// recurrent is what Bidirectional needs from an LSTM or a GRU.
type recurrent interface {
	Layer
	config() (units int, seq, backwards bool)
	// run computes n samples of x into dst: the output vector of sample b
	// at output position p is dst[(b*P+p)*ldo+off:][:units], where P is T
	// with return_sequences, else 1. p is the processing step s, or T-1-s
	// with revOut (which puts a backward layer's outputs in time order).
	//
	// mask, when not nil, holds n*T values in time order (1 kept, 0
	// masked): a masked step keeps the previous state, and its output is
	// the previous output, or zero with zero_output_for_mask.
	run(dst []float32, ldo, off int, revOut bool, x, mask []float32, n int, scratch []float32)
	// setZeroOutput sets zero_output_for_mask (Bidirectional forces it to
	// return_sequences, as Keras does).
	setZeroOutput(bool)
}

// chunker is what runChunks calls: an LSTM's or a GRU's pass over at most
// rnnChunk samples.
type chunker interface {
	chunk(dst []float32, ldo, off int, revOut bool, x, mask []float32, nb int, scratch []float32)
}

// runChunks is recurrent.run for both layers: it hands c the samples in
// groups of at most rnnChunk (seq is return_sequences).
func (r *rnnCore) runChunks(c chunker, seq bool, dst []float32, ldo, off int, revOut bool, x, mask []float32, n int, scratch []float32) {
	outRows := 1
	if seq {
		outRows = r.steps
	}
	in := r.steps * r.feat
	for b0 := 0; b0 < n; b0 += rnnChunk {
		nb := min(rnnChunk, n-b0)
		var m []float32
		if mask != nil {
			m = mask[b0*r.steps : (b0+nb)*r.steps]
		}
		c.chunk(dst[b0*outRows*ldo:], ldo, off, revOut, x[b0*in:(b0+nb)*in], m, nb, scratch)
	}
}

// masked reports whether step t of sample b is masked.
func (r *rnnCore) masked(mask []float32, b, t int) bool {
	return mask != nil && mask[b*r.steps+t] == 0
}

// emitStep writes sample b's output of a masked step (masked) or of a
// computed one (h): with zero_output_for_mask a masked step outputs zeros,
// otherwise the previous output, which is the kept state h.
func emitStep(o, h []float32, masked, zeroOut bool) {
	if masked && zeroOut {
		clear(o)
		return
	}
	copy(o, h)
}

// lastStep is the time index a layer processes last.
func (r *rnnCore) lastStep(backwards bool) int {
	if backwards {
		return 0
	}
	return r.steps - 1
}

// buildCore validates the input shape and units, allocates the parameters
// and returns the output shape.
func (r *rnnCore) buildCore(l Layer, in []Shape, units, gates int, seq bool, biasShape Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	if len(in[0]) != 2 {
		return nil, errorf(l, "input must be 3-D (None, timesteps, features), got %v", in[0])
	}
	if units <= 0 {
		return nil, errorf(l, "units must be positive, got %d", units)
	}
	r.steps, r.feat = in[0][0], in[0][1]
	r.up = roundUpPanel(units)
	r.g = gates * r.up
	r.params = []*Param{
		{Name: "kernel", Shape: Shape{r.feat, gates * units}},
		{Name: "recurrent_kernel", Shape: Shape{units, gates * units}},
	}
	if biasShape != nil {
		r.params = append(r.params, &Param{Name: "bias", Shape: biasShape})
	}
	if seq {
		return Shape{r.steps, units}, nil
	}
	return Shape{units}, nil
}

// pad returns a Keras (rows, gates*units) matrix as (rows, g), each gate
// block padded with zeros to up columns.
func (r *rnnCore) pad(src []float32, rows, units int) []float32 {
	gates := r.g / r.up
	dst := make([]float32, rows*r.g)
	for i := 0; i < rows; i++ {
		for k := 0; k < gates; k++ {
			copy(dst[i*r.g+k*r.up:][:units], src[(i*gates+k)*units:][:units])
		}
	}
	return dst
}

// pack returns a Keras kernel matrix padded (pad) and in panels (packPanels).
func (r *rnnCore) pack(src []float32, rows, units int) []float32 {
	padded := r.pad(src, rows, units)
	dst := make([]float32, len(padded))
	packPanels(dst, padded, rows, r.g, r.g)
	return dst
}

// prepareCore checks that Build ran and the values' sizes, and packs the
// kernel and recurrent kernel. Prepare always builds new arrays, never
// rewriting ones a running Forward could be reading.
func (r *rnnCore) prepareCore(l Layer, units int) error {
	if r.params == nil {
		return errorf(l, "Prepare before Build")
	}
	if err := checkParams(l); err != nil {
		return err
	}
	r.w = r.pack(r.params[0].Value, r.feat, units)
	r.u = r.pack(r.params[1].Value, units, units)
	return nil
}

// project fills z (nb*T rows of g) with x·W + bias for a chunk of nb
// samples: the one big matrix product of a recurrent layer.
func (r *rnnCore) project(z, x []float32, nb int) {
	if r.skipZero {
		gemmBiasSkip(nb*r.steps, r.feat, x, r.feat, r.w, z, r.g, r.bi)
		return
	}
	gemmBias(nb*r.steps, r.feat, x, r.feat, r.w, z, r.g, r.bi)
}

// setSkipZero sets skipZero from w and bi (after they are packed).
func (r *rnnCore) setSkipZero() {
	r.skipZero = false
	for _, v := range r.w {
		if math.IsInf(float64(v), 0) || v != v {
			return
		}
	}
	for _, v := range r.bi {
		if math.Float32bits(v) == 0x80000000 {
			return
		}
	}
	r.skipZero = true
}
