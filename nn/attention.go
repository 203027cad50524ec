package nn

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Bounds that keep a hostile config from making Build or a workspace
// allocate without limit (or overflow a size) before any weight is read:
// each attention dimension, and each per-sample projection, score matrix,
// kernel or index table, in values. Real forecasters are far below them.
const (
	maxAttentionDim  = 1 << 16
	maxAttentionSize = 1 << 24
)

// MultiHeadAttention is keras.layers.MultiHeadAttention at inference
// (keras/src/layers/attention/multi_head_attention.py) on (steps, features)
// inputs, attending over the steps axis (attention_axes None or [1]):
//
//	Q = query·Wq + bq   (Tq, H, KeyDim)     K = key·Wk + bk   (Tv, H, KeyDim)
//	V = value·Wv + bv   (Tv, H, ValueDim)
//	P_h = softmax(Q_h/sqrt(KeyDim) · K_hᵀ)  over the key steps (causal: j <= i)
//	out = concat_h(P_h · V_h) · Wo + bo    (Tq, OutputDim)
//
// Inputs: [query, value] or [query, value, key] (key defaults to value).
// Weights, in Keras order: query kernel (Fq, H, KeyDim), query bias (H,
// KeyDim), key kernel (Fk, H, KeyDim), key bias, value kernel (Fv, H,
// ValueDim), value bias (H, ValueDim), output kernel (H, ValueDim,
// OutputDim), output bias (OutputDim); no biases without UseBias. Dropout
// is the identity at inference.
type MultiHeadAttention struct {
	LayerName string
	NumHeads  int
	KeyDim    int
	ValueDim  int // 0 means KeyDim
	UseBias   bool
	OutputDim int  // 0 means the query's feature count
	Causal    bool // use_causal_mask: step i attends to steps j <= i only

	tq, fq, tv, fv, fk int
	hk, hv, out        int // H*KeyDim, H*ValueDim, output features
	scale              float32
	params             []*Param
	wq, wk, wv, wo     *Param
	bq, bk, bv, bo     *Param
	rq, rk, rv, ro     rhs
}

// Class returns "MultiHeadAttention".
func (l *MultiHeadAttention) Class() string { return "MultiHeadAttention" }

// Name returns the Keras layer name.
func (l *MultiHeadAttention) Name() string { return l.LayerName }

// attentionInputs checks [query, value(, key)] of rank 2 (steps, features)
// and that value and key have the same number of steps.
func attentionInputs(l Layer, in []Shape) error {
	if len(in) != 2 && len(in) != 3 {
		return errorf(l, "want 2 or 3 inputs (query, value[, key]), got %d", len(in))
	}
	for i, s := range in {
		if len(s) != 2 {
			return errorf(l, "input %d shape %v: only rank-2 (steps, features) inputs are supported (attention over the steps axis)", i, s)
		}
		if s[0] > maxAttentionSize || s[1] > maxAttentionSize {
			return errorf(l, "input %d shape %v: at most %d steps and features", i, s, maxAttentionSize)
		}
	}
	if in[0][0]*in[1][0] > maxAttentionSize {
		return errorf(l, "%d query steps x %d value steps: the scores would exceed %d values per sample", in[0][0], in[1][0], maxAttentionSize)
	}
	if len(in) == 3 && in[2][0] != in[1][0] {
		return errorf(l, "value has %d steps and key %d: they must be equal", in[1][0], in[2][0])
	}
	return nil
}

// Build checks the inputs and lists the weights.
func (l *MultiHeadAttention) Build(in []Shape) (Shape, error) {
	if err := attentionInputs(l, in); err != nil {
		return nil, err
	}
	if l.NumHeads <= 0 || l.KeyDim <= 0 || l.ValueDim < 0 || l.OutputDim < 0 {
		return nil, errorf(l, "num_heads %d, key_dim %d, value_dim %d, output_shape %d: must be positive",
			l.NumHeads, l.KeyDim, l.ValueDim, l.OutputDim)
	}
	vd := l.ValueDim
	if vd == 0 {
		vd = l.KeyDim
	}
	l.tq, l.fq = in[0][0], in[0][1]
	l.tv, l.fv = in[1][0], in[1][1]
	l.fk = l.fv
	if len(in) == 3 {
		l.fk = in[2][1]
	}
	for _, d := range []int{l.NumHeads, l.KeyDim, vd, l.OutputDim} {
		if d > maxAttentionDim {
			return nil, errorf(l, "num_heads %d, key_dim %d, value_dim %d, output_shape %d: at most %d each",
				l.NumHeads, l.KeyDim, vd, l.OutputDim, maxAttentionDim)
		}
	}
	l.hk, l.hv = l.NumHeads*l.KeyDim, l.NumHeads*vd
	for _, p := range [][2]int{{l.hk, max(l.fq, l.fk, l.tq, l.tv)}, {l.hv, max(l.fv, l.tq, l.tv, l.OutputDim)}, {l.tq, l.tv}} {
		if p[0]*p[1] > maxAttentionSize {
			return nil, errorf(l, "num_heads %d x key_dim %d / value_dim %d on inputs %v: a projection or the scores would exceed %d values",
				l.NumHeads, l.KeyDim, vd, in, maxAttentionSize)
		}
	}
	l.out = l.OutputDim
	if l.out == 0 {
		l.out = l.fq
	}
	l.scale = float32(1 / math.Sqrt(float64(l.KeyDim)))
	h := l.NumHeads
	l.params = nil
	add := func(name string, shape Shape) *Param {
		p := &Param{Name: name, Shape: shape}
		l.params = append(l.params, p)
		return p
	}
	proj := func(name string, f, d int) (w, b *Param) {
		w = add(name+"/kernel", Shape{f, h, d})
		if l.UseBias {
			b = add(name+"/bias", Shape{h, d})
		}
		return w, b
	}
	l.wq, l.bq = proj("query", l.fq, l.KeyDim)
	l.wk, l.bk = proj("key", l.fk, l.KeyDim)
	l.wv, l.bv = proj("value", l.fv, vd)
	l.wo = add("attention_output/kernel", Shape{h, vd, l.out})
	if l.UseBias {
		l.bo = add("attention_output/bias", Shape{l.out})
	}
	return Shape{l.tq, l.out}, nil
}

// Weights returns the query, key, value and output projections' kernels
// and biases, in Keras order.
func (l *MultiHeadAttention) Weights() []*Param { return l.params }

// Prepare lays the four kernels out as GEMM right-hand sides.
func (l *MultiHeadAttention) Prepare() error {
	if err := checkParams(l); err != nil {
		return err
	}
	l.rq = newRHS(l.wq.Value, l.fq, l.hk)
	l.rk = newRHS(l.wk.Value, l.fk, l.hk)
	l.rv = newRHS(l.wv.Value, l.fv, l.hv)
	l.ro = newRHS(l.wo.Value, l.hv, l.out)
	return nil
}

// ScratchSize holds the projected Q, K, V and the context, and per head
// its scores, transposed keys and values, and transposed context.
func (l *MultiHeadAttention) ScratchSize(n int) int {
	vd := l.hv / l.NumHeads
	return n*(l.tq*l.hk+l.tv*l.hk+l.tv*l.hv+l.tq*l.hv) + l.tq*l.tv + l.KeyDim*l.tv + vd*l.tv + vd*l.tq
}

// project computes dst = x·W + b for rows rows.
func project(dst, x []float32, rows, in int, w rhs, b *Param, width int) {
	dst = dst[:rows*width]
	if b != nil {
		fillRows(dst, b.Value)
	} else {
		clear(dst)
	}
	w.mulAdd(rows, x, in, dst, width)
}

// headT writes the transpose of one head's (steps × d) block of x (row
// stride ld, starting at column off) into dst (d × steps).
func headT(dst, x []float32, steps, d, ld, off int) {
	for j := 0; j < steps; j++ {
		row := x[j*ld+off : j*ld+off+d]
		for c, v := range row {
			dst[c*steps+j] = v
		}
	}
}

// Forward computes n samples. Per sample and head, the scores are
// Q_h·(K_hᵀ) with K_hᵀ laid out (KeyDim × Tv), so that each row of scores
// accumulates contiguous AXPYs, and the context is computed transposed,
// (V_hᵀ)·Pᵀ, as contiguous dot products over the key steps.
func (l *MultiHeadAttention) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	query, value := ins[0], ins[1]
	key := value
	if len(ins) == 3 {
		key = ins[2]
	}
	kd, vd := l.KeyDim, l.hv/l.NumHeads
	q, rest := scratch[:n*l.tq*l.hk], scratch[n*l.tq*l.hk:]
	k, rest := rest[:n*l.tv*l.hk], rest[n*l.tv*l.hk:]
	v, rest := rest[:n*l.tv*l.hv], rest[n*l.tv*l.hv:]
	ctx, rest := rest[:n*l.tq*l.hv], rest[n*l.tq*l.hv:]
	scores, rest := rest[:l.tq*l.tv], rest[l.tq*l.tv:]
	kt, rest := rest[:kd*l.tv], rest[kd*l.tv:]
	vt, rest := rest[:vd*l.tv], rest[vd*l.tv:]
	ct := rest[:vd*l.tq]

	project(q, query, n*l.tq, l.fq, l.rq, l.bq, l.hk)
	project(k, key, n*l.tv, l.fk, l.rk, l.bk, l.hk)
	project(v, value, n*l.tv, l.fv, l.rv, l.bv, l.hv)
	// Keras scales the projected query, before the product with the keys.
	for i := range q {
		q[i] *= l.scale
	}
	for b := 0; b < n; b++ {
		qb := q[b*l.tq*l.hk:]
		kb := k[b*l.tv*l.hk:]
		vb := v[b*l.tv*l.hv:]
		cb := ctx[b*l.tq*l.hv:]
		for h := 0; h < l.NumHeads; h++ {
			headT(kt, kb, l.tv, kd, l.hk, h*kd)
			clear(scores)
			gemm(false, false, l.tq, l.tv, kd, qb[h*kd:], l.hk, kt, l.tv, scores, l.tv)
			softmaxRows(scores, l.tq, l.tv, l.Causal)
			headT(vt, vb, l.tv, vd, l.hv, h*vd)
			clear(ct)
			gemm(false, true, vd, l.tq, l.tv, vt, l.tv, scores, l.tv, ct, l.tq)
			for i := 0; i < l.tq; i++ {
				row := cb[i*l.hv+h*vd : i*l.hv+h*vd+vd]
				for c := range row {
					row[c] = ct[c*l.tq+i]
				}
			}
		}
	}
	project(out, ctx, n*l.tq, l.hv, l.ro, l.bo, l.out)
}

// gemm computes c += op(a)·op(b) (m×n, inner k) for row-major operands with
// leading dimensions lda, ldb, ldc, in tiles small enough that gonum's
// Sgemm stays serial (and so does not allocate).
func gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	impl := blas32.Implementation()
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	for i := 0; i < m; i += gemmTileRows {
		mi := min(gemmTileRows, m-i)
		ao := i * lda
		if transA {
			ao = i
		}
		for j := 0; j < n; j += gemmTileCols {
			nj := min(gemmTileCols, n-j)
			bo := j
			if transB {
				bo = j * ldb
			}
			impl.Sgemm(ta, tb, mi, nj, k, 1, a[ao:], lda, b[bo:], ldb, 1, c[i*ldc+j:], ldc)
		}
	}
}

// softmaxRows normalises each of the rows rows of s (cols values each):
// exp(x - max) / sum with the sum accumulated in float64. With causal, row i
// keeps only columns j <= i (the others become exactly 0, as Keras's large
// negative bias makes them).
func softmaxRows(s []float32, rows, cols int, causal bool) {
	for i := 0; i < rows; i++ {
		row := s[i*cols : (i+1)*cols]
		live := row
		if causal {
			live = row[:min(i+1, cols)]
			clear(row[len(live):])
		}
		m := live[0]
		for _, x := range live[1:] {
			m = max(m, x)
		}
		var sum float64
		for j, x := range live {
			e := Exp32(x - m)
			live[j] = e
			sum += float64(e)
		}
		inv := 1 / sum
		for j, x := range live {
			live[j] = float32(float64(x) * inv)
		}
	}
}

// ScoreMode is how keras.layers.Attention scores a query against a key.
type ScoreMode int

const (
	// ScoreDot is "dot": q·k (times scale when UseScale).
	ScoreDot ScoreMode = iota
	// ScoreConcat is "concat": concat_score_weight * Σ tanh(scale*(q+k)).
	ScoreConcat
	// ScoreAdditive is AdditiveAttention's Σ scale_d * tanh(q_d + k_d).
	ScoreAdditive
)

// Attention is keras.layers.Attention (Luong-style; ScoreDot or
// ScoreConcat) and keras.layers.AdditiveAttention (Bahdanau-style;
// ScoreAdditive) at inference, on inputs [query (Tq, d), value (Tv, dv)] or
// [query, value, key (Tv, d)]:
//
//	scores = score(query, key)  (Tq, Tv)
//	out = softmax(scores over the value steps; causal: j <= i) · value
//
// Weights: Attention with UseScale: scale (); with ScoreConcat:
// concat_score_weight () after it. AdditiveAttention with UseScale: scale
// (d), d being the query's feature count in Keras 3 and the value's in
// Keras 2 (ScaleOnValue); the two must be equal for the sum to be defined.
type Attention struct {
	LayerName string
	Additive  bool // class AdditiveAttention (Score must be ScoreAdditive)
	Score     ScoreMode
	UseScale  bool
	Causal    bool
	// ScaleOnValue sizes AdditiveAttention's scale by the value's features
	// (Keras 2) instead of the query's (Keras 3).
	ScaleOnValue bool

	tq, tv, d, dv int
	scale, concat *Param
	params        []*Param
}

// Class returns "Attention" or "AdditiveAttention".
func (l *Attention) Class() string {
	if l.Additive {
		return "AdditiveAttention"
	}
	return "Attention"
}

// Name returns the Keras layer name.
func (l *Attention) Name() string { return l.LayerName }

// Build checks the inputs and lists the weights.
func (l *Attention) Build(in []Shape) (Shape, error) {
	if err := attentionInputs(l, in); err != nil {
		return nil, err
	}
	if l.Additive != (l.Score == ScoreAdditive) {
		return nil, errorf(l, "score mode %d does not match the class", l.Score)
	}
	l.tq, l.d = in[0][0], in[0][1]
	l.tv, l.dv = in[1][0], in[1][1]
	kd := l.dv
	if len(in) == 3 {
		kd = in[2][1]
	}
	if kd != l.d {
		return nil, errorf(l, "query has %d features and key %d: they must be equal", l.d, kd)
	}
	l.params = nil
	if l.UseScale {
		shape := Shape{}
		if l.Additive {
			sd := l.d
			if l.ScaleOnValue {
				sd = l.dv
			}
			if sd != l.d {
				return nil, errorf(l, "scale has %d values but the query and key have %d features", sd, l.d)
			}
			shape = Shape{sd}
		}
		l.scale = &Param{Name: "scale", Shape: shape}
		l.params = append(l.params, l.scale)
	}
	if l.Score == ScoreConcat {
		l.concat = &Param{Name: "concat_score_weight", Shape: Shape{}}
		l.params = append(l.params, l.concat)
	}
	return Shape{l.tq, l.dv}, nil
}

// Weights returns scale (with UseScale) and concat_score_weight (concat).
func (l *Attention) Weights() []*Param { return l.params }

// Prepare checks the weights.
func (l *Attention) Prepare() error { return checkParams(l) }

// ScratchSize holds one sample's scores and, for the tanh scores, one row
// of q+k sums.
func (l *Attention) ScratchSize(n int) int {
	s := l.tq * l.tv
	if l.Score != ScoreDot {
		s += l.tv * l.d
	}
	return s
}

// Forward computes n samples.
func (l *Attention) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	query, value := ins[0], ins[1]
	key := value
	if len(ins) == 3 {
		key = ins[2]
	}
	scores := scratch[:l.tq*l.tv]
	sums := scratch[l.tq*l.tv:]
	for b := 0; b < n; b++ {
		qb := query[b*l.tq*l.d : (b+1)*l.tq*l.d]
		kb := key[b*l.tv*l.d : (b+1)*l.tv*l.d]
		vb := value[b*l.tv*l.dv : (b+1)*l.tv*l.dv]
		ob := out[b*l.tq*l.dv : (b+1)*l.tq*l.dv]
		if l.Score == ScoreDot {
			clear(scores)
			gemm(false, true, l.tq, l.tv, l.d, qb, l.d, kb, l.d, scores, l.tv)
			if l.UseScale {
				s := l.scale.Value[0]
				for i := range scores {
					scores[i] *= s
				}
			}
		} else {
			l.tanhScores(scores, sums[:l.tv*l.d], qb, kb)
		}
		softmaxRows(scores, l.tq, l.tv, l.Causal)
		clear(ob)
		gemm(false, false, l.tq, l.dv, l.tv, scores, l.tv, vb, l.dv, ob, l.dv)
	}
}

// tanhScores computes the concat and additive scores of one sample.
func (l *Attention) tanhScores(scores, sums, q, k []float32) {
	d := l.d
	var s float32 = 1
	var w []float32
	if l.UseScale {
		if l.Additive {
			w = l.scale.Value
		} else {
			s = l.scale.Value[0]
		}
	}
	for i := 0; i < l.tq; i++ {
		qi := q[i*d : (i+1)*d]
		for j := 0; j < l.tv; j++ {
			kj := k[j*d : (j+1)*d]
			row := sums[j*d : (j+1)*d]
			for c := range row {
				row[c] = qi[c] + kj[c]
			}
			if s != 1 {
				for c := range row {
					row[c] *= s
				}
			}
		}
		Tanh(sums)
		for j := 0; j < l.tv; j++ {
			row := sums[j*d : (j+1)*d]
			var acc float32
			if w != nil {
				for c, t := range row {
					acc += w[c] * t
				}
			} else {
				for _, t := range row {
					acc += t
				}
			}
			if l.Score == ScoreConcat {
				acc *= l.concat.Value[0]
			}
			scores[i*l.tv+j] = acc
		}
	}
}

// EinsumDense is keras.layers.EinsumDense for equations that contract
// input axes with kernel axes and add new ones (kernel axes are each either
// an input axis or an output axis, never both): "abc,cd->abd",
// "abc,cde->abde", "abcd,cde->abe", "...b,bc->...c", and any transposition
// of the output. Per sample, it gathers the input into a (free × contracted)
// matrix, multiplies it by the kernel laid out as (contracted × new), and
// scatters the result into the output's axis order, then adds the bias
// (bias_axes) and applies the activation.
//
// Equation and OutputShape are Keras's; OutputShape excludes the batch axis
// and the axes of the ellipsis, and 0 stands for None (taken from the
// input). BiasAxes "" means no bias.
type EinsumDense struct {
	LayerName   string
	Equation    string
	OutputShape []int
	BiasAxes    string
	Activation  Activation

	inSize, outSize int
	last            int   // the output's last axis (the activation's axis)
	free, contr     int   // rows and inner dimension of the product
	newN            int   // columns
	gather          []int // per-sample: matrix element -> input offset (nil: identity)
	scatter         []int // per-sample: product element -> output offset (nil: identity)
	kernelPerm      []int // kernel matrix element -> Keras kernel offset
	kernel, bias    *Param
	params          []*Param
	biasIndex       []int // output offset -> bias offset
	w               rhs
	fullBias        []float32
}

// Class returns "EinsumDense".
func (l *EinsumDense) Class() string { return "EinsumDense" }

// Name returns the Keras layer name.
func (l *EinsumDense) Name() string { return l.LayerName }

// einsumSpec splits "in,kernel->out", expanding a leading "..." to one
// letter per elided axis (n axes of the per-sample input after the batch).
func einsumSpec(eq string, inRank int) (in, ker, out string, err error) {
	eq = strings.ReplaceAll(eq, " ", "")
	lhs, outS, ok := strings.Cut(eq, "->")
	if !ok {
		return "", "", "", fmt.Errorf("equation %q: want in,kernel->out", eq)
	}
	inS, kerS, ok := strings.Cut(lhs, ",")
	if !ok {
		return "", "", "", fmt.Errorf("equation %q: want in,kernel->out", eq)
	}
	ell := strings.HasPrefix(inS, "...")
	if ell != strings.HasPrefix(outS, "...") || strings.Contains(kerS, ".") ||
		strings.Contains(strings.TrimPrefix(inS, "..."), ".") || strings.Contains(strings.TrimPrefix(outS, "..."), ".") {
		return "", "", "", fmt.Errorf("equation %q: only a leading ... on both the input and the output is supported", eq)
	}
	if ell {
		inS, outS = inS[3:], outS[3:]
		elided := inRank + 1 - len(inS) // batch included
		if elided < 1 {
			return "", "", "", fmt.Errorf("equation %q: input of rank %d has too few axes", eq, inRank+1)
		}
		pre := ""
		for i := 0; i < elided; i++ {
			pre += string(rune('0' + i)) // digits never clash with letters
		}
		inS, outS = pre+inS, pre+outS
	}
	for _, s := range []string{inS, kerS, outS} {
		for i, r := range s {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') || strings.ContainsRune(s[i+1:], r) {
				return "", "", "", fmt.Errorf("equation %q: axes must be distinct letters", eq)
			}
		}
	}
	return inS, kerS, outS, nil
}

// Build analyses the equation against the input shape.
func (l *EinsumDense) Build(in []Shape) (Shape, error) {
	if err := wantInputs(l, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	inS, kerS, outS, err := einsumSpec(l.Equation, len(s))
	if err != nil {
		return nil, errorf(l, "%v", err)
	}
	if len(inS) != len(s)+1 {
		return nil, errorf(l, "equation %q: the input has rank %d (with the batch axis), the equation %d", l.Equation, len(s)+1, len(inS))
	}
	batch := inS[0]
	if len(outS) < 2 || outS[0] != batch || strings.IndexByte(kerS, batch) >= 0 {
		return nil, errorf(l, "equation %q: the first input axis (the batch) must lead the output and not be in the kernel", l.Equation)
	}
	size := map[byte]int{}
	for i := 1; i < len(inS); i++ {
		size[inS[i]] = s[i-1]
	}
	// OutputShape covers the output axes after the batch and the elided ones.
	elided := 0
	for elided+1 < len(outS) && outS[elided+1] >= '0' && outS[elided+1] <= '9' {
		elided++
	}
	named := outS[1+elided:]
	if len(l.OutputShape) != len(named) {
		return nil, errorf(l, "output_shape %v: want %d dimension(s) for output axes %q", l.OutputShape, len(named), named)
	}
	for i := 0; i < len(named); i++ {
		c, d := named[i], l.OutputShape[i]
		if known, ok := size[c]; ok {
			if d != 0 && d != known {
				return nil, errorf(l, "output_shape %v: axis %q is %d in the input", l.OutputShape, string(c), known)
			}
			continue
		}
		if d <= 0 || d > maxAttentionSize {
			return nil, errorf(l, "output_shape %v: axis %q is not in the input and needs a size from 1 to %d", l.OutputShape, string(c), maxAttentionSize)
		}
		size[c] = d
	}
	for c, d := range size {
		if d > maxAttentionSize {
			return nil, errorf(l, "input shape %v: axis %q has %d values, more than %d", s, string(c), d, maxAttentionSize)
		}
	}
	var freeAx, contrAx, newAx []byte
	for i := 1; i < len(inS); i++ {
		c := inS[i]
		inK, inO := strings.IndexByte(kerS, c) >= 0, strings.IndexByte(outS, c) >= 0
		switch {
		case inK && inO:
			return nil, errorf(l, "equation %q: axis %q is in the input, the kernel and the output; only contracted or new kernel axes are supported", l.Equation, string(c))
		case inK:
			contrAx = append(contrAx, c)
		case inO:
			freeAx = append(freeAx, c)
		default:
			return nil, errorf(l, "equation %q: input axis %q is summed without the kernel; not supported", l.Equation, string(c))
		}
	}
	for i := 1; i < len(outS); i++ {
		c := outS[i]
		if strings.IndexByte(inS, c) < 0 {
			if strings.IndexByte(kerS, c) < 0 {
				return nil, errorf(l, "equation %q: output axis %q is in neither the input nor the kernel", l.Equation, string(c))
			}
			newAx = append(newAx, c)
		}
	}
	kshape := Shape{}
	for i := 0; i < len(kerS); i++ {
		c := kerS[i]
		if strings.IndexByte(inS, c) < 0 && strings.IndexByte(outS, c) < 0 {
			return nil, errorf(l, "equation %q: kernel axis %q is in neither the input nor the output", l.Equation, string(c))
		}
		kshape = append(kshape, size[c])
	}
	oshape := Shape{}
	for i := 1; i < len(outS); i++ {
		oshape = append(oshape, size[outS[i]])
	}
	l.inSize, l.outSize = s.Size(), oshape.Size()
	l.last = oshape[len(oshape)-1]
	prod := func(ax []byte) int {
		p := 1
		for _, c := range ax {
			p = min(p*size[c], maxAttentionSize+1) // both factors <= 2^24+1: no overflow
		}
		return p
	}
	l.free, l.contr, l.newN = prod(freeAx), prod(contrAx), prod(newAx)
	if l.free*l.contr > maxAttentionSize || l.free*l.newN > maxAttentionSize || l.contr*l.newN > maxAttentionSize {
		return nil, errorf(l, "equation %q on input %v with output_shape %v: the input, kernel or output would exceed %d values per sample",
			l.Equation, s, l.OutputShape, maxAttentionSize)
	}
	// strides of every axis in the input, kernel and output layouts
	strides := func(spec string, skip int) map[byte]int {
		st := map[byte]int{}
		acc := 1
		for i := len(spec) - 1; i >= skip; i-- {
			st[spec[i]] = acc
			acc *= size[spec[i]]
		}
		return st
	}
	inSt, kSt, oSt := strides(inS, 1), strides(kerS, 0), strides(outS, 1)
	// offsets enumerates, in row-major order over axes, the offsets of a
	// layout with strides st.
	offsets := func(ax []byte, st map[byte]int) []int {
		out := []int{0}
		for _, c := range ax {
			next := make([]int, 0, len(out)*size[c])
			for _, o := range out {
				for i := 0; i < size[c]; i++ {
					next = append(next, o+i*st[c])
				}
			}
			out = next
		}
		return out
	}
	identity := func(p []int) bool {
		for i, v := range p {
			if v != i {
				return false
			}
		}
		return true
	}
	// outer lists a[i]+b[j] in row-major (i, j) order.
	outer := func(a, b []int) []int {
		out := make([]int, 0, len(a)*len(b))
		for _, x := range a {
			for _, y := range b {
				out = append(out, x+y)
			}
		}
		return out
	}
	l.gather = outer(offsets(freeAx, inSt), offsets(contrAx, inSt))
	if identity(l.gather) {
		l.gather = nil
	}
	l.scatter = outer(offsets(freeAx, oSt), offsets(newAx, oSt))
	if identity(l.scatter) {
		l.scatter = nil
	}
	l.kernelPerm = outer(offsets(contrAx, kSt), offsets(newAx, kSt))
	l.kernel = &Param{Name: "kernel", Shape: kshape}
	l.params = []*Param{l.kernel}
	l.bias, l.biasIndex = nil, nil
	if l.BiasAxes != "" {
		first := len(outS)
		for i := 0; i < len(l.BiasAxes); i++ {
			p := strings.IndexByte(outS, l.BiasAxes[i])
			if p < 1 || strings.IndexByte(l.BiasAxes[i+1:], l.BiasAxes[i]) >= 0 {
				return nil, errorf(l, "bias_axes %q: each axis must be a distinct non-batch axis of the output %q", l.BiasAxes, outS)
			}
			first = min(first, p)
		}
		bshape := Shape{}
		bst := map[byte]int{}
		acc := 1
		for i := len(outS) - 1; i >= first; i-- {
			if strings.IndexByte(l.BiasAxes, outS[i]) >= 0 {
				bst[outS[i]] = acc
				acc *= size[outS[i]]
			}
		}
		for i := first; i < len(outS); i++ {
			if strings.IndexByte(l.BiasAxes, outS[i]) >= 0 {
				bshape = append(bshape, size[outS[i]])
			} else {
				bshape = append(bshape, 1)
			}
		}
		l.bias = &Param{Name: "bias", Shape: bshape}
		l.params = append(l.params, l.bias)
		all := make([]byte, 0, len(outS)-1)
		for i := 1; i < len(outS); i++ {
			all = append(all, outS[i])
		}
		l.biasIndex = offsets(all, bst)
	}
	return oshape, nil
}

// Weights returns kernel and, with bias_axes, bias.
func (l *EinsumDense) Weights() []*Param { return l.params }

// Prepare lays the kernel out as a (contracted × new) matrix and expands
// the bias to one sample's output.
func (l *EinsumDense) Prepare() error {
	if err := checkParams(l); err != nil {
		return err
	}
	m := make([]float32, len(l.kernelPerm))
	for i, o := range l.kernelPerm {
		m[i] = l.kernel.Value[o]
	}
	l.w = newRHS(m, l.contr, l.newN)
	l.fullBias = nil
	if l.bias != nil {
		l.fullBias = make([]float32, l.outSize)
		for i, o := range l.biasIndex {
			l.fullBias[i] = l.bias.Value[o]
		}
	}
	return nil
}

// ScratchSize holds one sample's gathered input and product.
func (l *EinsumDense) ScratchSize(n int) int { return l.free*l.contr + l.free*l.newN }

// Forward computes n samples.
func (l *EinsumDense) Forward(out []float32, ins [][]float32, n int, scratch []float32) {
	x := ins[0]
	if l.gather == nil && l.scatter == nil {
		// The whole batch is one product.
		o := out[:n*l.outSize]
		clear(o)
		l.w.mulAdd(n*l.free, x, l.contr, o, l.newN)
	} else {
		a := scratch[:l.free*l.contr]
		p := scratch[l.free*l.contr : l.free*l.contr+l.free*l.newN]
		for b := 0; b < n; b++ {
			xb := x[b*l.inSize : (b+1)*l.inSize]
			ob := out[b*l.outSize : (b+1)*l.outSize]
			src := xb
			if l.gather != nil {
				for i, o := range l.gather {
					a[i] = xb[o]
				}
				src = a
			}
			if l.scatter == nil {
				clear(ob)
				l.w.mulAdd(l.free, src, l.contr, ob, l.newN)
				continue
			}
			clear(p)
			l.w.mulAdd(l.free, src, l.contr, p, l.newN)
			for i, o := range l.scatter {
				ob[o] = p[i]
			}
		}
	}
	if l.fullBias != nil {
		for b := 0; b < n; b++ {
			ob := out[b*l.outSize : (b+1)*l.outSize]
			for i, v := range l.fullBias {
				ob[i] += v
			}
		}
	}
	l.Activation.Apply(out[:n*l.outSize], l.last)
}
