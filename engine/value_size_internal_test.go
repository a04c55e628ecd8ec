package engine

import "testing"

// A list that grows by appending is counted from the last check on; the
// counts equal a full walk's, and the limits still apply to what was added.
func TestCheckSizePrefix(t *testing.T) {
	row := func(i int) any { return map[string]any{"name": "x", "n": float64(i)} }
	var rows []any
	var prev *valueSize
	for i := 0; i < 50; i++ {
		rows = append(append([]any(nil), rows...), row(i))
		s, err := checkSizeIn(rows, nil, prev)
		if err != nil {
			t.Fatal(err)
		}
		full, _ := checkSizeIn(rows, nil, nil)
		if s.items != full.items || s.text != full.text {
			t.Fatalf("after %d rows: prefix count %+v, full walk %+v", i+1, *s, *full)
		}
		prev = s
	}
	if prev.items != 50*3 || prev.text != 50*len("x") {
		t.Errorf("counted %+v", *prev)
	}
	// What is appended is still checked: a cycle, a value too big.
	vars := map[string]any{}
	if _, err := checkSizeIn(append(append([]any(nil), rows...), vars), vars, prev); err == nil {
		t.Error("appending $env passed")
	}
	leaf := make([]any, 1_000_000)
	big := make([]any, MaxItems/1_000_000+1)
	for i := range big {
		big[i] = leaf
	}
	if _, err := checkSizeIn(append(append([]any(nil), rows...), big), nil, prev); err == nil {
		t.Error("appending too many items passed")
	}
	// A list that does not start with the last one's items gets a full walk.
	other := append([]any{row(99)}, rows...)
	s, _ := checkSizeIn(other, nil, prev)
	if s.items != 51*3 {
		t.Errorf("full walk counted %d items", s.items)
	}
}
