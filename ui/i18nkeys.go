package ui

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"deskbot/engine"
)

// Languages are the studio's translations besides English, by file name
// in ui/translations.
var Languages = []string{"zh_Hans"}

// RequiredKeys returns the dotted translation keys that the studio looks
// up for the activities of reg and the samples, with their English text:
// activity.TYPE (title), summary.TYPE, category.NAME, port.NAME,
// field.NAME (a field's title), help.TYPE.FIELD, status.S, level.L,
// sample.FILE.name and sample.FILE.description. Texts with {{ }} are left
// out: go-i18n would execute them as templates, so tr shows them as they
// are.
func RequiredKeys(reg *engine.Registry, samples []Sample) map[string]string {
	keys := map[string]string{}
	add := func(k, en string) {
		if en == "" || strings.Contains(en, "{{") {
			return
		}
		if _, ok := keys[k]; !ok {
			keys[k] = en
		}
	}
	for _, s := range reg.Specs() {
		add("activity."+s.Type, s.Title)
		add("summary."+s.Type, s.Summary)
		add("category."+s.Category, s.Category)
		for _, p := range append(s.OutPorts(), engine.PortError) {
			add("port."+p, p)
		}
		for _, f := range s.Fields {
			add("field."+f.Name, f.Title)
			add("help."+s.Type+"."+f.Name, f.Help)
		}
	}
	for _, st := range []string{engine.StatusOK, engine.StatusFailed, engine.StatusCaught, engine.StatusRetrying,
		engine.StatusCancelled, engine.StatusStopped, engine.StatusDry, engine.StatusInterrupted} {
		add("status."+st, st)
	}
	for _, l := range []string{"debug", "warn", "error"} {
		add("level."+l, strings.ToUpper(l))
	}
	for _, sm := range samples {
		k := sampleKey(sm.Path)
		add(k+".name", sm.Name)
		add(k+".description", firstLine(sm.Description))
	}
	return keys
}

// sampleKey is the key prefix of a sample's texts: sample.FILE without
// .json, dots and spaces made underscores (go-i18n splits keys at dots).
func sampleKey(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return "sample." + strings.NewReplacer(".", "_", " ", "_").Replace(base)
}

// MissingKeys returns the keys of RequiredKeys that translation file
// lang (e.g. "zh_Hans") lacks or leaves empty, sorted.
func MissingKeys(language string, reg *engine.Registry, samples []Sample) ([]string, error) {
	b, err := translations.ReadFile("translations/" + language + ".json")
	if err != nil {
		return nil, fmt.Errorf("translation %s: %w", language, err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("translations/%s.json: %w", language, err)
	}
	var out []string
	for k := range RequiredKeys(reg, samples) {
		if strings.TrimSpace(m[k]) == "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

// LoadSamples lists the sample flows of dir (as the start page does).
func LoadSamples(dir string) []Sample {
	s := &Studio{opts: Options{SamplesDir: dir}}
	return s.Samples()
}
