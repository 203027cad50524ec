package backtest

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Plot draws the result as a self-contained SVG (no scripts, fonts or
// links): the test period's actual values, the one-step forecasts and
// their interval band, then the distribution of the one-step errors with
// the interval's quantiles marked, and the MAE per step beside the naive
// forecast's.
func Plot(r *Result) []byte {
	const W, pad = 960, 60
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", W, 940, W, 940)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	s := r.Series
	st := r.Steps[0]
	lo, hi := probKey((1-r.Level)/2), probKey((1+r.Level)/2)
	qlo, qhi := st.Quantiles[lo], st.Quantiles[hi]
	n := len(r.Origins)
	stride := max(1, n/4000)
	var act, fc, bl, bh []float64
	var xs []int
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for k := 0; k < n; k += stride {
		i := r.Origins[k]
		p := r.Forecasts[k][0]
		l, h := offset(p, qlo, r.Absolute), offset(p, qhi, r.Absolute)
		xs = append(xs, k)
		act, fc, bl, bh = append(act, s.Y[i]), append(fc, p), append(bl, l), append(bh, h)
		ymin = min(ymin, s.Y[i], l, p)
		ymax = max(ymax, s.Y[i], h, p)
	}
	title := fmt.Sprintf("%s: one-step forecast vs actual over the test period (%d windows), %.0f%% interval", r.Model, n, 100*r.Level)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", pad, html.EscapeString(title))
	// Panel 1: series.
	top, h1 := 50.0, 380.0
	x0, x1 := float64(pad), float64(W-20)
	px := func(k int) float64 { return x0 + (x1-x0)*float64(k)/float64(max(n-1, 1)) }
	ymin, ymax = niceRange(ymin, ymax)
	py := func(v float64) float64 { return top + h1 - h1*(v-ymin)/(ymax-ymin) }
	axes(&b, x0, x1, top, h1, ymin, ymax, py)
	// x labels: dates or rows.
	for j := 0; j <= 5; j++ {
		k := (n - 1) * j / 5
		i := r.Origins[k]
		lab := fmt.Sprintf("row %d", i+1)
		if s.Dates != nil {
			lab = s.Dates[i].Format(s.DateLayout)
		}
		anchor := map[int]string{0: "start", 5: "end"}[j]
		if anchor == "" {
			anchor = "middle"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="%s" fill="#444">%s</text>`+"\n", px(k), top+h1+18, anchor, html.EscapeString(lab))
	}
	var band strings.Builder
	for j, k := range xs {
		fmt.Fprintf(&band, "%.1f,%.1f ", px(k), py(bh[j]))
	}
	for j := len(xs) - 1; j >= 0; j-- {
		fmt.Fprintf(&band, "%.1f,%.1f ", px(xs[j]), py(bl[j]))
	}
	fmt.Fprintf(&b, `<polygon points="%s" fill="#9ecae1" fill-opacity="0.55" stroke="none"><title>%.0f%% interval</title></polygon>`+"\n", band.String(), 100*r.Level)
	line := func(v []float64, color string, width float64, name string) {
		var p strings.Builder
		for j, k := range xs {
			fmt.Fprintf(&p, "%.1f,%.1f ", px(k), py(v[j]))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="%.1f"><title>%s</title></polyline>`+"\n", p.String(), color, width, name)
	}
	line(act, "#222", 1.2, "actual")
	line(fc, "#d62728", 1.0, "forecast (1 step)")
	legend(&b, x0+10, top+12, []string{"#222", "#d62728", "#9ecae1"}, []string{"actual " + s.Target, "forecast, 1 step ahead", fmt.Sprintf("%.0f%% interval (%s)", 100*r.Level, intervalKind(r))})

	// Panel 2: error histogram.
	top2, h2 := 500.0, 150.0
	errs := st.errs
	unit, scale := "", 1.0
	if !r.Absolute {
		unit, scale = "%", 100
	}
	elo, ehi := errs[0]*scale, errs[len(errs)-1]*scale
	if pl, ph := quantile(errs, 0.005)*scale, quantile(errs, 0.995)*scale; ph > pl {
		elo, ehi = pl, ph
	}
	elo, ehi = min(elo, 0), max(ehi, 0)
	const bins = 50
	counts := make([]int, bins)
	for _, e := range errs {
		j := int(math.Floor((e*scale - elo) / (ehi - elo) * bins))
		counts[min(max(j, 0), bins-1)]++
	}
	cmax := 1
	for _, c := range counts {
		cmax = max(cmax, c)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%.0f" font-size="14" font-weight="bold">one-step errors, actual - forecast%s (%d windows; tails beyond 0.5%%/99.5%% in the end bins)</text>`+"\n",
		pad, top2-16, map[bool]string{true: "", false: ", relative to |forecast|"}[r.Absolute], len(errs))
	ex := func(v float64) float64 { return x0 + (x1-x0)*(v-elo)/(ehi-elo) }
	bw := (x1 - x0) / bins
	for j, c := range counts {
		hh := h2 * float64(c) / float64(cmax)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#6baed6" stroke="white" stroke-width="0.5"><title>%d</title></rect>`+"\n", x0+bw*float64(j), top2+h2-hh, bw, hh, c)
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/>`+"\n", x0, top2+h2, x1, top2+h2)
	for _, m := range []struct {
		v     float64
		label string
		color string
	}{{0, "0", "#222"}, {qlo * scale, "q" + lo[1:], "#d62728"}, {qhi * scale, "q" + hi[1:], "#d62728"}} {
		x := ex(m.v)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="4 3"/>`+"\n", x, top2, x, top2+h2, m.color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s = %.3g%s</text>`+"\n", x, top2+h2+16, m.color, m.label, m.v, unit)
	}
	for j := 0; j <= 4; j++ {
		v := elo + (ehi-elo)*float64(j)/4
		anchor := map[int]string{0: "start", 4: "end"}[j]
		if anchor == "" {
			anchor = "middle"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="%s" fill="#444">%.3g%s</text>`+"\n", ex(v), top2+h2+32, anchor, v, unit)
	}

	// Panel 3: MAE per step, model vs naive.
	top3, h3 := 720.0, 140.0
	mmax := 0.0
	for _, st := range r.Steps {
		mmax = max(mmax, st.Model.MAE, st.Naive.MAE)
	}
	_, mmax = niceRange(0, mmax)
	py3 := func(v float64) float64 { return top3 + h3 - h3*v/mmax }
	fmt.Fprintf(&b, `<text x="%d" y="%.0f" font-size="14" font-weight="bold">MAE by step ahead: model vs naive (last value)</text>`+"\n", pad, top3-16)
	axes(&b, x0, x1, top3, h3, 0, mmax, py3)
	H := len(r.Steps)
	sx := func(h int) float64 { return x0 + (x1-x0)*(float64(h)-0.5)/float64(H) }
	gw := (x1 - x0) / float64(H) * 0.35
	for _, st := range r.Steps {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#d62728"><title>step %d model MAE %.4g</title></rect>`+"\n", sx(st.H)-gw, py3(st.Model.MAE), gw, top3+h3-py3(st.Model.MAE), st.H, st.Model.MAE)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#999"><title>step %d naive MAE %.4g</title></rect>`+"\n", sx(st.H), py3(st.Naive.MAE), gw, top3+h3-py3(st.Naive.MAE), st.H, st.Naive.MAE)
		if H <= 30 || st.H%5 == 0 || st.H == 1 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#444">%d</text>`+"\n", sx(st.H), top3+h3+16, st.H)
		}
	}
	legend(&b, x0+10, top3+10, []string{"#d62728", "#999"}, []string{"model", "naive"})
	for i, l := range wrap(r.Verdict(), 140) {
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#444">%s</text>`+"\n", pad, 898+16*i, html.EscapeString(l))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

func intervalKind(r *Result) string {
	if r.Absolute {
		return "absolute errors"
	}
	return "relative errors"
}

// offset is serving's rule: v + |v|q (relative) or v + q (absolute).
func offset(v, q float64, absolute bool) float64 {
	if absolute {
		return v + q
	}
	return v + math.Abs(v)*q
}

// axes draws a panel's frame and y ticks.
func axes(b *strings.Builder, x0, x1, top, h, ymin, ymax float64, py func(float64) float64) {
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#bbb"/>`+"\n", x0, top, x1-x0, h)
	step := niceStep((ymax - ymin) / 5)
	for v := math.Ceil(ymin/step) * step; v <= ymax+step*1e-9; v += step {
		y := py(v)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", x0, y, x1, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="#444">%.4g</text>`+"\n", x0-6, y+4, v)
	}
}

func legend(b *strings.Builder, x, y float64, colors, labels []string) {
	for i, c := range colors {
		yy := y + 16*float64(i)
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="14" height="10" fill="%s"/><text x="%.1f" y="%.1f">%s</text>`+"\n", x, yy, c, x+20, yy+9, html.EscapeString(labels[i]))
	}
}

// niceStep rounds a step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if !(raw > 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// niceRange widens [lo, hi] to whole ticks (and a flat series to a band).
func niceRange(lo, hi float64) (float64, float64) {
	if !(hi > lo) {
		d := max(math.Abs(lo)*0.05, 1)
		lo, hi = lo-d, hi+d
	}
	s := niceStep((hi - lo) / 5)
	return math.Floor(lo/s) * s, math.Ceil(hi/s) * s
}

// wrap breaks text into lines of at most n bytes at spaces.
func wrap(text string, n int) []string {
	var lines []string
	var cur string
	for _, w := range strings.Fields(text) {
		if cur != "" && len(cur)+1+len(w) > n {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	return append(lines, cur)
}
