package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"deskbot/engine"
)

// http.request as a flow step (lint-free flow, prepared once) against the
// same GET and JSON decoding done with net/http directly (the baseline),
// on one loopback server.
func BenchmarkHTTPRequest(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id": 1, "items": [{"name": "a", "price": 2.5}, {"name": "b", "price": 1}], "ok": true}`)
	}))
	defer srv.Close()
	f := engine.NewFlow("b")
	f.Nodes = append(f.Nodes, &engine.Node{ID: "n", Type: "http.request", Params: map[string]any{"url": srv.URL, "output": "r"}})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "n"}}
	prep, err := engine.Prepare(f, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("step", func(b *testing.B) {
		for b.Loop() {
			res, err := engine.Run(context.Background(), f, engine.Options{Prepared: prep})
			if err != nil || res.Vars["r"] == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-net-http", func(b *testing.B) {
		for b.Loop() {
			resp, err := http.Get(srv.URL)
			if err != nil {
				b.Fatal(err)
			}
			var v any
			err = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
