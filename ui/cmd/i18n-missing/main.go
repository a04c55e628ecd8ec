// Command i18n-missing lists the translation keys that the studio's
// translations lack: activity titles, summaries, field titles and help,
// categories, ports and the samples' names and descriptions, for every
// activity registered by the activity packages.
//
//	go run ./ui/cmd/i18n-missing            # keys with their English text, as JSON
//	go run ./ui/cmd/i18n-missing -lang zh_Hans -samples assets/flows
//
// The JSON printed can be translated and merged into
// ui/translations/LANG.json. It exits with status 1 when keys are missing.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"deskbot/engine"
	_ "deskbot/engine/activities"
	_ "deskbot/engine/desktop"
	_ "deskbot/engine/textgen"
	"deskbot/ui"
)

func main() {
	language := flag.String("lang", "", "translation to check (default: all of "+fmt.Sprint(ui.Languages)+")")
	samples := flag.String("samples", "assets/flows", "folder of the sample flows")
	flag.Parse()
	langs := ui.Languages
	if *language != "" {
		langs = []string{*language}
	}
	keys := ui.RequiredKeys(engine.Default, ui.LoadSamples(*samples))
	missing := 0
	for _, l := range langs {
		ks, err := ui.MissingKeys(l, engine.Default, ui.LoadSamples(*samples))
		if err != nil {
			fmt.Fprintln(os.Stderr, "i18n-missing:", err)
			os.Exit(2)
		}
		out := map[string]string{}
		for _, k := range ks {
			out[k] = keys[k]
		}
		b, _ := json.MarshalIndent(out, "", " ")
		fmt.Printf("%s: %d missing\n%s\n", l, len(ks), b)
		missing += len(ks)
	}
	if missing > 0 {
		os.Exit(1)
	}
}
