package kerasconfig

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the layer list in docs/bundle-format.md from Default()")

const (
	docsFile  = "../docs/bundle-format.md"
	docsBegin = "<!-- layer classes: generated from kerasconfig.Default(); do not edit -->\n"
	docsEnd   = "<!-- end of layer classes -->\n"
)

// docsLayerList is the documented list: Default().Classes(), wrapped.
func docsLayerList() string {
	var b strings.Builder
	line := 0
	for i, class := range Default().Classes() {
		word := class
		if i < len(Default().Classes())-1 {
			word += ","
		}
		if line > 0 && line+1+len(word) > 104 {
			b.WriteString("\n")
			line = 0
		}
		if line > 0 {
			b.WriteString(" ")
			line++
		}
		b.WriteString(word)
		line += len(word)
	}
	return b.String() + "\n"
}

// TestDocsLayerList checks that the layer list in docs/bundle-format.md is
// the builder table's. Regenerate it with
//
//	go test ./kerasconfig/ -run TestDocsLayerList -update
func TestDocsLayerList(t *testing.T) {
	data, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, docsBegin), strings.Index(doc, docsEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q section", docsFile, docsBegin, docsEnd)
	}
	got, want := doc[i+len(docsBegin):j], docsLayerList()
	if got == want {
		return
	}
	if !*update {
		t.Fatalf("%s lists\n%s\nbut the builder table has\n%s\nrun: go test ./kerasconfig/ -run TestDocsLayerList -update", docsFile, got, want)
	}
	doc = doc[:i+len(docsBegin)] + want + doc[j:]
	if err := os.WriteFile(docsFile, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}
