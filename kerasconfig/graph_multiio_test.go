package kerasconfig

import (
	"slices"
	"testing"

	"github.com/seqcast/seqcast/nn"
)

// TestFunctionalMultiIO parses a two-input, two-output graph in the Keras 2
// dialect (lists of [name, 0, 0]) and in Keras 3's (__keras_tensor__ inbound
// nodes, a bare [name, 0, 0] when there is one output), with the inputs
// listed in an order other than the layers'.
func TestFunctionalMultiIO(t *testing.T) {
	keras2 := `{"class_name":"Functional","config":{"name":"f","layers":[
		{"class_name":"InputLayer","name":"a","config":{"name":"a","batch_input_shape":[null,5,2]},"inbound_nodes":[]},
		{"class_name":"InputLayer","name":"b","config":{"name":"b","batch_input_shape":[null,3,4]},"inbound_nodes":[]},
		{"class_name":"LSTM","name":"la","config":{"name":"la","units":3},"inbound_nodes":[[["a",0,0,{}]]]},
		{"class_name":"LSTM","name":"lb","config":{"name":"lb","units":2},"inbound_nodes":[[["b",0,0,{}]]]},
		{"class_name":"Concatenate","name":"cat","config":{"name":"cat","axis":-1},"inbound_nodes":[[["la",0,0,{}],["lb",0,0,{}]]]},
		{"class_name":"Dense","name":"h1","config":{"name":"h1","units":1},"inbound_nodes":[[["cat",0,0,{}]]]},
		{"class_name":"Dense","name":"h2","config":{"name":"h2","units":4},"inbound_nodes":[[["cat",0,0,{}]]]}],
		"input_layers":[["b",0,0],["a",0,0]],"output_layers":[["h2",0,0],["h1",0,0]]}}`
	tensor := func(name string) string {
		return `{"class_name":"__keras_tensor__","config":{"shape":[null,1],"dtype":"float32","keras_history":["` + name + `",0,0]}}`
	}
	keras3 := `{"class_name":"Functional","config":{"name":"f","layers":[
		{"class_name":"InputLayer","name":"a","config":{"name":"a","batch_shape":[null,5,2]},"inbound_nodes":[]},
		{"class_name":"InputLayer","name":"b","config":{"name":"b","batch_shape":[null,3,4]},"inbound_nodes":[]},
		{"class_name":"LSTM","name":"la","config":{"name":"la","units":3},"inbound_nodes":[{"args":[` + tensor("a") + `],"kwargs":{}}]},
		{"class_name":"LSTM","name":"lb","config":{"name":"lb","units":2},"inbound_nodes":[{"args":[` + tensor("b") + `],"kwargs":{}}]},
		{"class_name":"Concatenate","name":"cat","config":{"name":"cat","axis":-1},"inbound_nodes":[{"args":[[` + tensor("la") + `,` + tensor("lb") + `]],"kwargs":{}}]},
		{"class_name":"Dense","name":"h1","config":{"name":"h1","units":1},"inbound_nodes":[{"args":[` + tensor("cat") + `],"kwargs":{}}]},
		{"class_name":"Dense","name":"h2","config":{"name":"h2","units":4},"inbound_nodes":[{"args":[` + tensor("cat") + `],"kwargs":{}}]}],
		"input_layers":[["b",0,0],["a",0,0]],"output_layers":%s}}`
	for _, tc := range []struct {
		name, config string
		outs         []string
		outShapes    []nn.Shape
	}{
		{"keras2", keras2, []string{"h2", "h1"}, []nn.Shape{{4}, {1}}},
		{"keras3 list", fmtConfig(keras3, `[["h2",0,0],["h1",0,0]]`), []string{"h2", "h1"}, []nn.Shape{{4}, {1}}},
		{"keras3 bare", fmtConfig(keras3, `["h1",0,0]`), []string{"h1"}, []nn.Shape{{1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, info, err := Parse([]byte(tc.config), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(info.InputNames, []string{"b", "a"}) || info.InputName != "b" {
				t.Errorf("inputs %q (first %q), want [b a]", info.InputNames, info.InputName)
			}
			if !slices.Equal(info.OutputNames, tc.outs) {
				t.Errorf("outputs %q, want %q", info.OutputNames, tc.outs)
			}
			ins := m.InputShapes()
			if len(ins) != 2 || !ins[0].Equal(nn.Shape{3, 4}) || !ins[1].Equal(nn.Shape{5, 2}) {
				t.Errorf("input shapes %v", ins)
			}
			outs := m.OutputShapes()
			if len(outs) != len(tc.outShapes) {
				t.Fatalf("output shapes %v, want %v", outs, tc.outShapes)
			}
			for j := range outs {
				if !outs[j].Equal(tc.outShapes[j]) {
					t.Errorf("output %d shape %v, want %v", j, outs[j], tc.outShapes[j])
				}
			}
			// la reads input 1 (a), lb input 0 (b).
			nd := m.Nodes()
			if !slices.Equal(nd[0].Inputs, []int{nn.InputAt(1)}) || !slices.Equal(nd[1].Inputs, []int{nn.InputAt(0)}) {
				t.Errorf("LSTM inputs %v %v", nd[0].Inputs, nd[1].Inputs)
			}
		})
	}
}

func fmtConfig(template, outputs string) string {
	i := len(template) - len(`%s}}`)
	return template[:i] + outputs + "}}"
}
