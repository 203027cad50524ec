package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/seqcast/seqcast/bundle"
	"github.com/seqcast/seqcast/nn"
	"github.com/seqcast/seqcast/serving"
	"github.com/seqcast/seqcast/weights"
)

// runInspect prints a Keras-style summary of a bundle or a Keras file:
//
//	seqcast inspect DIR|MODEL.h5|MODEL.keras
func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "Usage: seqcast inspect DIR|MODEL.h5|MODEL.keras") }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	_, b, err := loadSource(fs.Arg(0), bundle.KerasOptions{})
	if err != nil {
		fmt.Fprintf(stderr, "seqcast inspect: %v\n", err)
		return 1
	}
	io.WriteString(stdout, summary(b))
	return 0
}

// summary renders the bundle like Keras's model.summary(), with a
// "Connected to" column when the model is not a plain chain.
func summary(b *weights.Bundle) string {
	m := b.Model
	nodes := m.Nodes()
	chain := true
	for i, nd := range nodes {
		chain = chain && len(nd.Inputs) == 1 && nd.Inputs[0] == i-1
	}
	head := []string{"Layer (type)", "Output Shape", "Param #"}
	if !chain {
		head = append(head, "Connected to")
	}
	inNames, outNames := ioNames(b)
	for j := range inNames {
		if inNames[j] == "" {
			inNames[j] = "input"
		}
	}
	rows := [][]string{}
	if !chain {
		for j, s := range m.InputShapes() {
			rows = append(rows, []string{inNames[j] + " (InputLayer)", s.String(), "0", ""})
		}
	}
	for i, nd := range nodes {
		l := nd.Layer
		row := []string{fmt.Sprintf("%s (%s)", l.Name(), l.Class()), m.NodeShape(i).String(), commas(nn.ParamCount(l))}
		if !chain {
			var from []string
			for _, k := range nd.Inputs {
				if k < 0 {
					from = append(from, inNames[nn.InputIndex(k)])
				} else {
					from = append(from, nodes[k].Layer.Name())
				}
			}
			row = append(row, strings.Join(from, ", "))
		}
		rows = append(rows, row)
	}
	width := make([]int, len(head))
	for _, r := range append([][]string{head}, rows...) {
		for j, c := range r {
			width[j] = max(width[j], len(c))
		}
	}
	total := 0
	for _, w := range width {
		total += w + 3
	}
	line := func(r []string) string {
		var sb strings.Builder
		for j, c := range r {
			sb.WriteString(" " + c + strings.Repeat(" ", width[j]-len(c)+2))
		}
		return strings.TrimRight(sb.String(), " ") + "\n"
	}
	var sb strings.Builder
	kind := b.Info.Class
	fmt.Fprintf(&sb, "Model: %q (%s)\n", m.Name(), kind)
	ver := b.KerasVersion
	if ver == "" {
		ver = "unknown"
	}
	fmt.Fprintf(&sb, "Keras version: %s (config dialect %s, Keras 3 semantics: %v)\n", ver, b.Info.Dialect, b.Info.Keras3)
	if st := b.Info.Stateful; len(st) > 0 {
		fmt.Fprintf(&sb, "Stateful: %s saved with stateful=True: seqcast starts every request from a zero state "+
			"(what Keras computes for a freshly loaded model or after reset_states()), at any batch size\n", strings.Join(st, ", "))
	}
	if mf := b.Manifest; mf != nil {
		fmt.Fprintf(&sb, "Bundle: %s version %s, %d checksummed file(s)\n", mf.Name, mf.Version, len(mf.Files))
		if mf.SelfTest != nil {
			fmt.Fprintf(&sb, "Self-test: max |error| %.3g (tolerance %.3g)\n", b.SelfTestError, mf.SelfTest.Tol())
		}
	}
	if b.ScalerJSON != nil {
		sb.WriteString("Scaler: scaler.json\n")
	}
	if m.MultiIO() {
		// Named as Keras names them (model.input_names, model.output_names),
		// in the order `seqcast predict` takes --input and writes --output.
		for j, s := range m.InputShapes() {
			fmt.Fprintf(&sb, "Input %d: %s %s\n", j, inNames[j], s)
		}
		for j, s := range m.OutputShapes() {
			fmt.Fprintf(&sb, "Output %d: %s %s\n", j, outNames[j], s)
		}
	} else {
		in := m.InputShape()
		fmt.Fprintf(&sb, "Input shape: %s\n", in)
		if steps, features, err := serving.WindowShape(in); err == nil && len(in) > 2 {
			fmt.Fprintf(&sb, "Served window: %d steps of %d feature(s) (%d subsequences of %d steps)\n", steps, features, in[0], steps/in[0])
		}
	}
	sb.WriteString(strings.Repeat("_", total) + "\n")
	sb.WriteString(line(head))
	sb.WriteString(strings.Repeat("=", total) + "\n")
	for i, r := range rows {
		sb.WriteString(line(r))
		if i < len(rows)-1 {
			sb.WriteString("\n")
		}
	}
	sb.WriteString(strings.Repeat("=", total) + "\n")
	fmt.Fprintf(&sb, "Total params: %s\n", commas(m.ParamCount()))
	sb.WriteString(strings.Repeat("_", total) + "\n")
	return sb.String()
}

// commas formats 108577 as 108,577.
func commas(n int) string {
	s := strconv.Itoa(n)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
