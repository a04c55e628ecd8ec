// Command deskbot is the Deskbot desktop RPA studio and its headless runner.
//
// Run without arguments (or with a flow file) it opens the studio; the
// subcommands run, lint and inspect flows from the command line.
package main

import (
	"fmt"
	"os"
	"sort"

	"deskbot/ui"
)

// command is one subcommand. Each lives in its own cmd_*.go file and adds
// itself to commands from init().
type command struct {
	summary string
	run     func(args []string) int
}

var commands = map[string]command{}

func main() {
	ui.RestoreLocaleEnv()
	os.Exit(realMain(os.Args[1:]))
}

func realMain(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "help", "-h", "--help":
			usage()
			return 0
		case "--version", "-version":
			return printVersion()
		}
		if c, ok := commands[args[0]]; ok {
			return c.run(args[1:])
		}
		if len(args[0]) > 0 && args[0][0] != '-' && !looksLikeFile(args[0]) {
			fmt.Fprintf(os.Stderr, "deskbot: unknown command %q\n\n", args[0])
			usage()
			return 2
		}
	}
	return openStudio(args)
}

func looksLikeFile(s string) bool {
	_, err := os.Stat(s)
	return err == nil || len(s) > 5 && s[len(s)-5:] == ".json"
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: deskbot [FLOW.json]          open the studio")
	fmt.Fprintln(os.Stderr, "       deskbot COMMAND [arguments]")
	fmt.Fprintln(os.Stderr, "       deskbot --version                print the version and commit")
	fmt.Fprintln(os.Stderr, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
}
