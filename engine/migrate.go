package engine

import (
	"encoding/json"
	"fmt"
)

// migrations turn a document of version v into version v+1. Each one works
// on raw JSON so it never depends on today's Go types.
var migrations = map[int]func([]byte) ([]byte, error){
	0: migrateV0,
}

// v0 was the pre-release format: no "format" key, "steps" with flat x/y and
// "links" whose port could be empty (meaning "next"). Durations were numbers
// of milliseconds, which Duration still reads.
type v0Doc struct {
	Name      string          `json:"name"`
	Variables json.RawMessage `json:"variables"`
	Steps     []struct {
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Label   string          `json:"label"`
		X       float32         `json:"x"`
		Y       float32         `json:"y"`
		Params  json.RawMessage `json:"params"`
		Timeout json.RawMessage `json:"timeout_ms"`
	} `json:"steps"`
	Links []struct {
		From string `json:"from"`
		To   string `json:"to"`
		Port string `json:"port"`
	} `json:"links"`
}

func migrateV0(b []byte) ([]byte, error) {
	var d v0Doc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	nodes := make([]map[string]any, 0, len(d.Steps))
	for _, s := range d.Steps {
		n := map[string]any{"id": s.ID, "type": s.Type, "position": map[string]any{"x": s.X, "y": s.Y}}
		if s.Label != "" {
			n["label"] = s.Label
		}
		if len(s.Params) > 0 {
			n["params"] = s.Params
		}
		if len(s.Timeout) > 0 {
			n["timeout"] = s.Timeout
		}
		nodes = append(nodes, n)
	}
	edges := make([]map[string]any, 0, len(d.Links))
	for _, l := range d.Links {
		if l.From == "" || l.To == "" {
			return nil, fmt.Errorf("link without from or to")
		}
		port := l.Port
		if port == "" {
			port = PortNext
		}
		edges = append(edges, map[string]any{"from": l.From, "port": port, "to": l.To})
	}
	out := map[string]any{
		"format": FormatName, "version": 1, "name": d.Name,
		"settings": map[string]any{}, "nodes": nodes, "edges": edges,
	}
	if len(d.Variables) > 0 {
		out["variables"] = d.Variables
	} else {
		out["variables"] = []any{}
	}
	return json.Marshal(out)
}
