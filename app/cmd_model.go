package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"deskbot/engine/redact"
	"deskbot/model"
	"deskbot/model/gpt2"
	"deskbot/model/hub"
	"deskbot/model/openai"
	"deskbot/store"
)

func init() {
	commands["model"] = command{"manage language models: deskbot model pull|list|import|remove|provider", cmdModel}
}

func modelUsage() {
	fmt.Fprintln(os.Stderr, `usage: deskbot model pull NAME...            download from Hugging Face (`+strings.Join(hub.KnownNames(), ", ")+`)
       deskbot model list                   installed models with sizes
       deskbot model import DIR [--name N] [--replace]   copy a Hugging Face GPT-2 folder in
       deskbot model remove NAME
       deskbot model provider add NAME --url URL --model M [--org ORG] [--type azure --api-version V] [--timeout 5m] [--concurrency N]
       deskbot model provider list
       deskbot model provider key NAME      store the API key in the OS keyring (typed without echo, or piped)
       deskbot model provider test NAME     send a tiny request
       deskbot model provider remove NAME
       deskbot model history [--run ID] [--model M] [--limit N] [--json] [--data DIR]   recorded generations
       deskbot model cache [clear]          where local models' converted weights are cached; clear removes them

Models go to $DESKBOT_MODELS or the user cache folder; DESKBOT_HF_ENDPOINT replaces huggingface.co.
Converted weights (f32 in panels, q8) go to $DESKBOT_CACHE (off: none) or the user cache folder.
API keys come from $DESKBOT_API_KEY_<PROFILE>, the OS keyring, or $OPENAI_API_KEY; they are never written to files.`)
}

func cmdModel(args []string) int {
	if len(args) == 0 {
		modelUsage()
		return 2
	}
	switch args[0] {
	case "pull":
		return modelPull(args[1:])
	case "list", "ls":
		return modelList(args[1:])
	case "import":
		return modelImport(args[1:])
	case "remove", "rm":
		if len(args) != 2 {
			modelUsage()
			return 2
		}
		if err := hub.Remove(args[1]); err != nil {
			printErr(err)
			return 1
		}
		return 0
	case "provider", "providers":
		return modelProvider(args[1:])
	case "history":
		return modelHistory(args[1:])
	case "cache":
		return modelCache(args[1:])
	case "help", "-h", "--help":
		modelUsage()
		return 0
	}
	fmt.Fprintf(os.Stderr, "deskbot model: unknown subcommand %q\n", args[0])
	modelUsage()
	return 2
}

// pullBar draws one progress line per file on w.
type pullBar struct {
	w     io.Writer
	file  string
	done  string // the file whose bar was completed last
	start time.Time
	from  int64
}

func (b *pullBar) progress(file string, done, total int64) {
	if file == b.done && total > 0 && done >= total {
		return // already drawn complete
	}
	if file != b.file {
		b.file, b.start, b.from = file, time.Now(), done
	}
	const width = 30
	line := fmt.Sprintf("%-18s", file)
	if total > 0 {
		n := int(done * width / total)
		line += fmt.Sprintf(" [%s%s] %3d%% %s/%s", strings.Repeat("=", n), strings.Repeat(" ", width-n), done*100/total, humanBytes(done), humanBytes(total))
	} else {
		line += " " + humanBytes(done)
	}
	if el := time.Since(b.start).Seconds(); el > 0.5 {
		line += fmt.Sprintf("  %s/s", humanBytes(int64(float64(done-b.from)/el)))
	}
	fmt.Fprintf(b.w, "\r%-80s", line)
	if total > 0 && done >= total {
		fmt.Fprintln(b.w)
		b.file, b.done = "", file
	}
}

func modelPull(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: deskbot model pull NAME...   ("+strings.Join(hub.KnownNames(), ", ")+")")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, name := range args {
		bar := &pullBar{w: os.Stderr}
		p := &hub.Puller{Progress: bar.progress}
		fmt.Fprintf(os.Stderr, "pulling %s from %s\n", name, hub.Endpoint())
		dir, err := p.Pull(ctx, name)
		if bar.file != "" {
			fmt.Fprintln(os.Stderr)
		}
		if err != nil {
			printErr(err)
			return 1
		}
		fmt.Printf("%s installed in %s\n", name, dir)
	}
	return 0
}

func modelList(args []string) int {
	if len(args) != 0 {
		fmt.Fprintln(os.Stderr, "usage: deskbot model list")
		return 2
	}
	l, err := hub.List()
	if err != nil {
		printErr(err)
		return 1
	}
	dir, _ := hub.ModelsDir()
	if len(l) == 0 {
		fmt.Printf("no models in %s; get one with: deskbot model pull gpt2\n", dir)
		return 0
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSIZE\tSTATUS\tSOURCE")
	for _, m := range l {
		status := "ok"
		if !m.Complete {
			status = "incomplete"
			if len(m.Missing) > 0 {
				status += " (missing " + strings.Join(m.Missing, ", ") + ")"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, humanBytes(m.Size), status, m.Source)
	}
	tw.Flush()
	fmt.Printf("(in %s)\n", dir)
	return 0
}

func modelImport(args []string) int {
	fs := flag.NewFlagSet("model import", flag.ContinueOnError)
	name := fs.String("name", "", "name to install it as (default: the folder's name)")
	replace := fs.Bool("replace", false, "replace an installed model of that name")
	if err := fs.Parse(reorderFlags(args, "name")); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: deskbot model import DIR [--name NAME] [--replace]")
		return 2
	}
	bar := &pullBar{w: os.Stderr}
	dir, err := hub.Import(fs.Arg(0), *name, *replace, bar.progress)
	if err != nil {
		printErr(err)
		return 1
	}
	fmt.Printf("imported into %s\n", dir)
	return 0
}

// reorderFlags lets flags follow positional arguments; valued names take
// the next argument.
func reorderFlags(args []string, valued ...string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			flags = append(flags, a)
			n := strings.TrimLeft(a, "-")
			for _, v := range valued {
				if n == v && i+1 < len(args) {
					flags = append(flags, args[i+1])
					i++
				}
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func loadProfiles() (string, *openai.Profiles, error) {
	path, err := openai.ProfilesPath()
	if err != nil {
		return "", nil, err
	}
	ps, err := openai.LoadProfiles(path)
	return path, ps, err
}

func modelProvider(args []string) int {
	if len(args) == 0 {
		modelUsage()
		return 2
	}
	fail := func(err error) int {
		printErr(err)
		return 1
	}
	switch args[0] {
	case "add", "set":
		fs := flag.NewFlagSet("provider add", flag.ContinueOnError)
		url := fs.String("url", "", "API base URL, e.g. https://api.openai.com/v1 or http://localhost:11434/v1")
		mdl := fs.String("model", "", "model name, e.g. gpt-4o-mini or llama3.2 (Azure: the deployment)")
		org := fs.String("org", "", "organisation id (OpenAI)")
		typ := fs.String("type", "", "openai (default) or azure")
		ver := fs.String("api-version", "", "Azure API version")
		timeout := fs.Duration("timeout", 0, "longest time for one generation (default 5m)")
		firstByte := fs.Duration("first-byte-timeout", 0, "longest wait for the server's first answer (default 60s)")
		retries := fs.Int("retries", -1, "retries on 429 and 5xx (default 4)")
		concurrency := fs.Int("concurrency", 0, fmt.Sprintf("most requests at once, e.g. when generating for each row of a table (default %d; 0 = the default)", openai.DefaultConcurrency))
		if err := fs.Parse(reorderFlags(args[1:], "url", "model", "org", "type", "api-version", "timeout", "first-byte-timeout", "retries", "concurrency")); err != nil {
			return 2
		}
		if fs.NArg() != 1 {
			fmt.Fprintln(os.Stderr, "usage: deskbot model provider add NAME --url URL --model M [--org ORG]")
			return 2
		}
		path, ps, err := loadProfiles()
		if err != nil {
			return fail(err)
		}
		p, _ := ps.Get(fs.Arg(0))
		p.Name = fs.Arg(0)
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if set["url"] {
			p.BaseURL = *url
		}
		if set["model"] {
			p.Model = *mdl
		}
		if set["org"] {
			p.Organization = *org
		}
		if set["type"] {
			p.Type = *typ
		}
		if set["api-version"] {
			p.APIVersion = *ver
		}
		if set["timeout"] {
			p.Timeout = openai.Duration(*timeout)
		}
		if set["first-byte-timeout"] {
			p.FirstByteTimeout = openai.Duration(*firstByte)
		}
		if set["retries"] {
			r := *retries
			p.MaxRetries = &r
		}
		if set["concurrency"] {
			p.Concurrency = *concurrency
		}
		if err := ps.Set(p); err != nil {
			return fail(err)
		}
		if err := ps.Save(path); err != nil {
			return fail(err)
		}
		_, src := openai.APIKey(p.Name)
		fmt.Printf("profile %q saved in %s; use it as api:%s\n", p.Name, path, p.Name)
		if src == "none" {
			fmt.Printf("no API key found: store one with `deskbot model provider key %s` or set %s (servers such as Ollama need none)\n", p.Name, openai.EnvName(p.Name))
		}
		return 0
	case "list", "ls":
		path, ps, err := loadProfiles()
		if err != nil {
			return fail(err)
		}
		if len(ps.Profiles) == 0 {
			fmt.Printf("no API profiles in %s; add one with: deskbot model provider add NAME --url URL --model M\n", path)
			return 0
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tURL\tMODEL\tORG\tCONCURRENCY\tKEY FROM")
		for _, p := range ps.Profiles {
			_, src := openai.APIKey(p.Name)
			conc := p.Concurrency
			if conc == 0 {
				conc = openai.DefaultConcurrency
			}
			fmt.Fprintf(tw, "api:%s\t%s\t%s\t%s\t%d\t%s\n", p.Name, p.BaseURL, p.Model, p.Organization, conc, src)
		}
		tw.Flush()
		return 0
	case "key":
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, "usage: deskbot model provider key NAME   (type or pipe the key on standard input)")
			return 2
		}
		if _, ps, err := loadProfiles(); err != nil {
			return fail(err)
		} else if _, ok := ps.Get(args[1]); !ok {
			return fail(fmt.Errorf("no API profile %q; add it first with: deskbot model provider add %s --url URL --model M", args[1], args[1]))
		}
		line, err := readSecret(os.Stdin, fmt.Sprintf("API key for %s: ", args[1]))
		key := strings.TrimSpace(line)
		redact.Add(key)
		if key == "" {
			if err != nil && err != io.EOF {
				return fail(err)
			}
			return fail(fmt.Errorf("no key given"))
		}
		if err := openai.SetAPIKey(args[1], key); err != nil {
			return fail(err)
		}
		fmt.Fprintln(os.Stderr, "stored in the OS keyring")
		return 0
	case "test":
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, "usage: deskbot model provider test NAME")
			return 2
		}
		c, err := openai.Open(args[1], openai.Options{})
		if err != nil {
			return fail(err)
		}
		defer c.Close()
		res, err := c.Generate(context.Background(), model.Request{Prompt: "Say OK.", MaxTokens: 5}, nil)
		if err != nil {
			return fail(err)
		}
		fmt.Printf("api:%s works: %q in %s\n", args[1], res.Text, res.Total.Round(time.Millisecond))
		return 0
	case "remove", "rm":
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, "usage: deskbot model provider remove NAME")
			return 2
		}
		path, ps, err := loadProfiles()
		if err != nil {
			return fail(err)
		}
		if !ps.Delete(args[1]) {
			return fail(fmt.Errorf("no API profile %q", args[1]))
		}
		if err := ps.Save(path); err != nil {
			return fail(err)
		}
		if err := openai.DeleteAPIKey(args[1]); err != nil {
			printErr(err)
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "deskbot model provider: unknown subcommand %q\n", args[0])
	modelUsage()
	return 2
}

// readSecret shows prompt on standard error and reads one line from f; on
// a terminal with echo off, from before the prompt shows (so nothing typed
// at once is echoed) until the command ends, however it ends: Enter, end
// of input, Ctrl-C.
func readSecret(f *os.File, prompt string) (string, error) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	restore := echoOff(int(f.Fd()))
	if restore == nil {
		signal.Stop(sig)
	} else {
		go func() {
			if _, ok := <-sig; ok {
				restore()
				fmt.Fprintln(os.Stderr)
				os.Exit(130)
			}
		}()
		defer func() {
			signal.Stop(sig)
			close(sig)
			restore()
			fmt.Fprintln(os.Stderr) // the Enter that was not echoed
		}()
	}
	fmt.Fprint(os.Stderr, prompt)
	return bufio.NewReader(f).ReadString('\n')
}

// modelHistory lists the generations that text.generate recorded.
func modelHistory(args []string) int {
	fs := flag.NewFlagSet("model history", flag.ContinueOnError)
	run := fs.String("run", "", "only this run")
	mdl := fs.String("model", "", "only this model, e.g. \"gpt2 (local)\"")
	limit := fs.Int("limit", 20, "how many, newest first")
	asJSON := fs.Bool("json", false, "one JSON object per line, with prompt and output")
	data := fs.String("data", "", "data folder")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	db, err := openStore(*data)
	if err != nil {
		printErr(err)
		return 1
	}
	defer db.Close()
	gens, err := db.Generations(context.Background(), store.GenerationFilter{RunID: *run, Model: *mdl, Limit: *limit})
	if err != nil {
		printErr(err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetEscapeHTML(false)
		for _, g := range gens {
			enc.Encode(map[string]any{
				"id": g.ID, "created": g.Created.UTC().Format(time.RFC3339Nano), "run_id": g.RunID, "node_id": g.NodeID,
				"provider": g.Provider, "model": g.Model, "prompt": g.Prompt, "output": g.Output, "params": g.Params,
				"prompt_tokens": g.PromptTokens, "output_tokens": g.OutputTokens,
				"first_token_ms": ms(g.FirstToken), "total_ms": ms(g.Total), "tokens_per_second": g.TokensPerSec,
				"finish_reason": g.FinishReason, "error": redact.String(g.Error),
			})
		}
		return 0
	}
	if len(gens) == 0 {
		fmt.Println("no generations recorded")
		return 0
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tRUN\tNODE\tMODEL\tTOKENS\tFIRST\tTOK/S\tRESULT")
	for _, g := range gens {
		result := g.FinishReason
		if g.Error != "" {
			result = "error: " + clipText(redact.String(g.Error), 60)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d+%d\t%s\t%.1f\t%s\n", g.Created.Local().Format("2006-01-02 15:04:05"), g.RunID, g.NodeID,
			g.Model, g.PromptTokens, g.OutputTokens, g.FirstToken.Round(time.Millisecond), g.TokensPerSec, result)
	}
	tw.Flush()
	return 0
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// modelCache shows or clears the cache of converted weights (see
// gpt2.CacheDir).
func modelCache(args []string) int {
	dir, err := gpt2.CacheDir()
	if err != nil {
		printErr(err)
		return 1
	}
	if dir == "" {
		fmt.Println("the weights cache is off ($DESKBOT_CACHE=off)")
		return 0
	}
	switch {
	case len(args) == 0:
		var n int
		var size int64
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
				n++
				size += info.Size()
			}
		}
		fmt.Printf("%s: %d files, %s\n", dir, n, humanBytes(size))
		return 0
	case len(args) == 1 && args[0] == "clear":
		n, size, err := gpt2.ClearCache(dir)
		fmt.Printf("removed %d files (%s) from %s\n", n, humanBytes(size), dir)
		if err != nil {
			printErr(err)
			return 1
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, "usage: deskbot model cache [clear]")
	return 2
}
