package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"deskbot/engine"
	"deskbot/engine/cred"
)

func init() {
	commands["cred"] = command{summary: "store, list and remove named credentials (OS keyring or encrypted file)", run: cmdCred}
	serviceWirers = append(serviceWirers, wireCred)
}

func credUsage() {
	fmt.Fprintln(os.Stderr, `usage: deskbot cred set NAME [--user USER] [--store keyring|file]
       deskbot cred list
       deskbot cred rm NAME

Flows name a credential (mail.send, mail.read, http.request); the secret stays
here: in the OS keyring, or where none answers, in credentials.enc in the data
folder, encrypted with a passphrase ($DESKBOT_CRED_PASSPHRASE, or asked).
set reads the secret without echo on a terminal, else from standard input.`)
}

// credPassphrase gives the encrypted file's passphrase: from
// $DESKBOT_CRED_PASSPHRASE, else asked on the terminal (twice when the file
// is new).
func credPassphrase(dir string) func() (string, error) {
	return func() (string, error) {
		if p := os.Getenv(cred.EnvPassphrase); p != "" {
			return p, nil
		}
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return "", fmt.Errorf("set %s (no terminal to ask on)", cred.EnvPassphrase)
		}
		defer tty.Close()
		restore := echoOff(int(tty.Fd()))
		if restore == nil {
			return "", fmt.Errorf("set %s (no terminal to ask on)", cred.EnvPassphrase)
		}
		restore()
		_, statErr := os.Stat(filepath.Join(dir, cred.SealFile))
		p, err := readSecret(tty, "Passphrase of the credentials file: ")
		if err != nil {
			return "", err
		}
		p = strings.TrimRight(p, "\r\n")
		if errors.Is(statErr, os.ErrNotExist) && p != "" {
			again, err := readSecret(tty, "The same passphrase again: ")
			if err != nil {
				return "", err
			}
			if strings.TrimRight(again, "\r\n") != p {
				return "", errors.New("the two passphrases differ")
			}
		}
		return p, nil
	}
}

func openCred(backend string) (*cred.Store, error) {
	dir, err := cred.DataDir()
	if err != nil {
		return nil, err
	}
	return cred.Open(cred.Options{Dir: dir, Backend: backend, Passphrase: credPassphrase(dir)})
}

func cmdCred(args []string) int {
	if len(args) == 0 {
		credUsage()
		return 2
	}
	switch args[0] {
	case "set":
		return credSet(args[1:])
	case "list", "ls":
		if len(args) != 1 {
			credUsage()
			return 2
		}
		s, err := openCred("")
		if err != nil {
			printErr(err)
			return 1
		}
		l, err := s.List()
		if err != nil {
			printErr(err)
			return 1
		}
		if len(l) == 0 {
			fmt.Fprintf(os.Stderr, "no credentials in %s; add one with `deskbot cred set NAME --user USER`\n", s.Dir())
			return 0
		}
		for _, e := range l {
			fmt.Printf("%-24s %-32s %s\n", e.Name, e.User, e.Store)
		}
		return 0
	case "rm", "remove":
		if len(args) != 2 {
			credUsage()
			return 2
		}
		s, err := openCred("")
		if err != nil {
			printErr(err)
			return 1
		}
		if err := s.Delete(args[1]); err != nil {
			printErr(err)
			return 1
		}
		fmt.Printf("removed credential %q\n", args[1])
		return 0
	case "help", "-h", "--help":
		credUsage()
		return 0
	}
	fmt.Fprintf(os.Stderr, "deskbot cred: unknown subcommand %q\n", args[0])
	credUsage()
	return 2
}

func credSet(args []string) int {
	fs := flag.NewFlagSet("cred set", flag.ContinueOnError)
	user := fs.String("user", "", "user name (mail login, basic authentication)")
	where := fs.String("store", "", "keyring or file (default: the keyring when it answers, else the file; or $"+cred.EnvBackend+")")
	fs.Usage = credUsage
	if err := fs.Parse(reorderCred(args)); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		credUsage()
		return 2
	}
	name := fs.Arg(0)
	if err := cred.ValidName(name); err != nil {
		printErr(err)
		return 2
	}
	secret, err := readCredSecret(name)
	if err != nil {
		printErr(err)
		return 1
	}
	s, err := openCred(*where)
	if err != nil {
		printErr(err)
		return 1
	}
	got, err := s.Set(cred.Credential{Name: name, User: *user, Secret: secret})
	if err != nil {
		printErr(err)
		return 1
	}
	switch got {
	case cred.StoreKeyring:
		fmt.Printf("stored credential %q in the OS keyring\n", name)
	default:
		why := ""
		if *where == "" && os.Getenv(cred.EnvBackend) == "" {
			if err := s.KeyringStatus(); err != nil {
				why = fmt.Sprintf(" (the OS keyring is not available: %v)", err)
			}
		}
		fmt.Printf("stored credential %q in the encrypted file %s%s\n", name, filepath.Join(s.Dir(), cred.SealFile), why)
	}
	return 0
}

// readCredSecret reads the secret: without echo from a terminal, else all
// of standard input less one trailing line break.
func readCredSecret(name string) (string, error) {
	var s string
	if restore := echoOff(int(os.Stdin.Fd())); restore != nil {
		restore()
		line, err := readSecret(os.Stdin, fmt.Sprintf("Secret of %q: ", name))
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		s = line
	} else {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
		if err != nil {
			return "", fmt.Errorf("read the secret from standard input: %w", err)
		}
		s = string(b)
	}
	s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("credential %q: the secret is empty (type it, or pipe it to standard input)", name)
	}
	return s, nil
}

// reorderCred moves flags after NAME to the front.
func reorderCred(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && (a == "--user" || a == "-user" || a == "--store" || a == "-store") && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

// The credential store of runs: opened on the first lookup, once per
// process; the passphrase from the environment or the terminal.
var (
	runCredOnce sync.Once
	runCred     *cred.Store
	runCredErr  error
)

type lazyCred struct{}

func (lazyCred) Get(name string) (cred.Credential, error) {
	runCredOnce.Do(func() { runCred, runCredErr = openCred("") })
	if runCredErr != nil {
		return cred.Credential{}, runCredErr
	}
	return runCred.Get(name)
}

func wireCred(_ context.Context, _ context.CancelCauseFunc, opts *engine.Options) error {
	cred.Use(opts, lazyCred{})
	return nil
}
