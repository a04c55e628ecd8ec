package engine

import (
	"context"
	"strings"
	"testing"
)

func TestRegisterChecksPickMarkers(t *testing.T) {
	nop := func(p *Params) (Activity, error) {
		return ActivityFunc(func(context.Context, *Call) (string, error) { return "", nil }), nil
	}
	for _, c := range []struct {
		fields []Field
		err    string
	}{
		{[]Field{{Name: "x", Kind: KindExpr, Pick: PickPoint}}, "PickY"},
		{[]Field{{Name: "x", Kind: KindExpr, Pick: PickPoint, PickY: "nope"}}, "PickY"},
		{[]Field{{Name: "x", Kind: KindExpr, Pick: PickPoint, PickY: "y", PickAnchor: "y"}, {Name: "y", Kind: KindExpr}}, "PickAnchor"},
		{[]Field{{Name: "x", Kind: KindExpr, PickY: "y"}, {Name: "y", Kind: KindExpr}}, "need Pick"},
		{[]Field{{Name: "img", Kind: KindPath, Pick: "picture"}}, "unknown pick kind"},
		{[]Field{{Name: "x", Kind: KindExpr, Pick: PickPoint, PickY: "y", PickAnchor: "img"}, {Name: "y", Kind: KindExpr}, {Name: "img", Kind: KindPath, Pick: PickImage}}, ""},
	} {
		err := NewRegistry().Register(Spec{Type: "t.pick", Fields: c.fields, New: nop})
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%+v: got %v, want %q", c.fields, err, c.err)
		}
	}
}
