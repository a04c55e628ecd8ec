package packaging

import (
	"archive/zip"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"deskbot/engine/desktop/xvfbtest"
)

// root is the source tree's root.
const root = ".."

// mustRun runs a command and returns its output; it fails the test on error.
func mustRun(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	c := exec.Command(name, args...)
	if env != nil {
		c.Env = env
	}
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// makeTarget runs make in the source tree.
func makeTarget(t *testing.T, args ...string) string {
	t.Helper()
	return mustRun(t, nil, "make", append([]string{"-C", root, "--no-print-directory"}, args...)...)
}

// version is FyneApp.toml's Version.
func version(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*Version\s*=\s*"([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatal("FyneApp.toml has no Version")
	}
	return string(m[1])
}

// userEnv is a clean user's environment: HOME a fresh folder, no XDG
// folders, no Deskbot variables, no display.
func userEnv(t *testing.T) (env []string, home string) {
	home = t.TempDir()
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		if k == "HOME" || k == "DISPLAY" || strings.HasPrefix(k, "XDG_") || strings.HasPrefix(k, "DESKBOT_") {
			continue
		}
		env = append(env, e)
	}
	return append(env, "HOME="+home), home
}

// tree lists the files under dir with their sizes and modes.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fmt.Sprintf("%s %v %d", rel, info.Mode(), info.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// checkInstalledRuns runs an installed deskbot as a new user would: its
// version, the samples copied into the documents folder, a sample run there,
// and an installed sample run by its install path (which runs the copy).
// The install folder must not change.
func checkInstalledRuns(t *testing.T, bin, samples string) {
	t.Helper()
	before := tree(t, samples)
	env, home := userEnv(t)
	out := mustRun(t, env, bin, "--version")
	if !strings.HasPrefix(out, "deskbot "+version(t)+" (commit ") || strings.Contains(out, "commit unknown") {
		t.Errorf("--version: %q", out)
	}
	docs := filepath.Join(home, "Documents", "Deskbot", "samples")
	out = mustRun(t, env, bin, "samples")
	if !strings.Contains(out, docs) || !strings.Contains(out, "csv-to-letters.json") {
		t.Errorf("deskbot samples:\n%s", out)
	}
	out = mustRun(t, env, bin, "run", filepath.Join(docs, "csv-to-letters.json"))
	if !regexp.MustCompile(`(?m)^run \S+ ok: \d+ steps`).MatchString(out) {
		t.Errorf("the sample's run:\n%s", out)
	}
	if letters, _ := filepath.Glob(filepath.Join(docs, "out", "letters", "letter-*.txt")); len(letters) != 4 {
		t.Errorf("%d letters in the documents folder, want 4", len(letters))
	}
	out = mustRun(t, env, bin, "run", filepath.Join(samples, "invoice-summary.json"))
	if !strings.Contains(out, "running its copy "+filepath.Join(docs, "invoice-summary.json")) {
		t.Errorf("an installed sample run by its install path:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(docs, "out", "open-invoices.csv")); err != nil {
		t.Errorf("the installed sample's output is not in the documents folder: %v", err)
	}
	// The run history went to the user's config folder.
	if _, err := os.Stat(filepath.Join(home, ".config", "deskbot", "deskbot.db")); err != nil {
		t.Errorf("no run history in ~/.config/deskbot: %v", err)
	}
	if after := tree(t, samples); after != before {
		t.Errorf("running the samples changed the install folder %s", samples)
	}
}

// TestInstallFirstRun: make install into a temporary PREFIX lays out the
// binary, samples, .desktop file (valid, Exec pointing at the binary),
// hicolor icons and metainfo (valid); the installed binary, for a user with
// a clean HOME, copies the samples into ~/Documents/Deskbot/samples and
// runs them there; its studio opens on an X display without warnings.
func TestInstallFirstRun(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "prefix")
	makeTarget(t, "install", "PREFIX="+prefix)
	for _, f := range []string{"bin/deskbot", "share/deskbot/flows/csv-to-letters.json", "share/deskbot/flows/data/customers.csv",
		"share/deskbot/flows/data/inbox/notes.txt", "share/applications/deskbot.desktop",
		"share/icons/hicolor/scalable/apps/deskbot.svg", "share/metainfo/io.deskbot.studio.metainfo.xml"} {
		if _, err := os.Stat(filepath.Join(prefix, f)); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	for _, s := range []string{"16", "24", "32", "48", "64", "128", "256", "512"} {
		if _, err := os.Stat(filepath.Join(prefix, "share/icons/hicolor", s+"x"+s, "apps/deskbot.png")); err != nil {
			t.Errorf("icon: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(prefix, "share/deskbot/flows/out")); err == nil {
		t.Error("sample outputs (assets/flows/out) were installed")
	}
	desktop := filepath.Join(prefix, "share/applications/deskbot.desktop")
	mustRun(t, nil, "desktop-file-validate", desktop)
	if b, _ := os.ReadFile(desktop); !strings.Contains(string(b), "Exec="+filepath.Join(prefix, "bin/deskbot")+" %f\n") {
		t.Errorf("deskbot.desktop:\n%s", b)
	}
	mustRun(t, nil, "appstreamcli", "validate", "--no-net", "--pedantic", filepath.Join(prefix, "share/metainfo/io.deskbot.studio.metainfo.xml"))

	bin := filepath.Join(prefix, "bin", "deskbot")
	checkInstalledRuns(t, bin, filepath.Join(prefix, "share", "deskbot", "flows"))

	// The studio on a display, for a clean HOME: its window opens, and it
	// warns of nothing.
	xs := xvfbtest.Start(t, xvfbtest.Options{WM: true, Tools: []string{"xdotool"}})
	env, _ := userEnv(t)
	env = append(env, "DISPLAY="+xs.Display)
	studio := exec.Command(bin)
	studio.Env = env
	var log strings.Builder
	studio.Stdout, studio.Stderr = &log, &log
	if err := studio.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { studio.Process.Kill(); studio.Wait() }()
	deadline := time.Now().Add(time.Minute) // patience, not a speed check
	var win string
	for {
		search := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^Deskbot$")
		search.Env = env
		if out, _ := search.Output(); len(out) > 0 {
			win = strings.Fields(string(out))[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the installed studio opened no window:\n%s", log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if strings.Contains(log.String(), "deskbot:") {
		t.Errorf("the studio complained:\n%s", log.String())
	}
	// The desktop file's StartupWMClass is the window's class, so that
	// docks and task bars put the window under Deskbot's launcher.
	xp := exec.Command("xprop", "-id", win, "WM_CLASS")
	xp.Env = env
	class, err := xp.Output()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(desktop)
	m := regexp.MustCompile(`(?m)^StartupWMClass=(.+)$`).FindSubmatch(b)
	if m == nil || !strings.HasSuffix(strings.TrimSpace(string(class)), `"`+string(m[1])+`"`) {
		t.Errorf("window %s, desktop file's StartupWMClass %q", class, m)
	}
}

// TestDeb: make deb builds a .deb whose Depends name the package of every
// shared library the binary needs; dpkg -i installs it (into /usr), the
// installed deskbot prints its version and runs a sample for a clean HOME
// (in ~/Documents/Deskbot/samples), and dpkg -r removes every file it
// installed.
func TestDeb(t *testing.T) {
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "deskbot").Output(); err == nil && strings.Contains(string(out), "installed") {
		t.Fatalf("a deskbot package is installed already (%s): remove it first (dpkg -r deskbot)", out)
	}
	makeTarget(t, "deb")
	deb := filepath.Join(root, "dist", "deskbot_"+version(t)+"_amd64.deb")
	depends := mustRun(t, nil, "dpkg-deb", "-f", deb, "Depends")
	declared := map[string]bool{}
	for _, alt := range strings.Split(depends, ",") {
		for _, d := range strings.Split(alt, "|") {
			declared[strings.Fields(d)[0]] = true
		}
	}
	// Every library the binary names (NEEDED) comes from a declared
	// package; ldd says where each is.
	bin := filepath.Join(root, "bin", "deskbot")
	where := map[string]string{}
	for _, line := range strings.Split(mustRun(t, nil, "ldd", bin), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[1] == "=>" {
			where[f[0]] = f[2]
		}
	}
	needed := regexp.MustCompile(`\(NEEDED\).*\[(.+)\]`).FindAllStringSubmatch(mustRun(t, nil, "readelf", "-d", bin), -1)
	if len(needed) < 3 {
		t.Fatalf("readelf found %d NEEDED libraries", len(needed))
	}
	for _, m := range needed {
		lib := m[1]
		path, err := filepath.EvalSymlinks(where[lib])
		if err != nil {
			t.Errorf("%s: %v", lib, err)
			continue
		}
		owner, err := exec.Command("dpkg", "-S", path).Output()
		if err != nil { // usrmerge: /lib is /usr/lib
			owner, err = exec.Command("dpkg", "-S", "/usr"+path).Output()
		}
		if err != nil {
			owner, err = exec.Command("dpkg", "-S", strings.TrimPrefix(path, "/usr")).Output()
		}
		if err != nil {
			t.Errorf("%s (%s): no package owns it", lib, path)
			continue
		}
		pkg, _, _ := strings.Cut(strings.TrimSpace(string(owner)), ":")
		if !declared[pkg] {
			t.Errorf("the binary needs %s from %s, which the .deb's Depends do not name: %s", lib, pkg, depends)
		}
	}

	dpkg(t, "-i", deb)
	installed := strings.Fields(mustRun(t, nil, "dpkg-query", "-L", "deskbot"))
	removed := false
	defer func() {
		if !removed {
			c := asRoot("dpkg", "-r", "deskbot")
			exec.Command(c[0], c[1:]...).Run()
		}
	}()
	if path, err := exec.LookPath("deskbot"); err != nil || path != "/usr/bin/deskbot" {
		t.Errorf("deskbot on PATH: %q, %v", path, err)
	}
	checkInstalledRuns(t, "/usr/bin/deskbot", "/usr/share/deskbot/flows")

	dpkg(t, "-r", "deskbot")
	removed = true
	for _, f := range installed {
		st, err := os.Lstat(f)
		if err == nil && !st.IsDir() {
			t.Errorf("dpkg -r left %s", f)
		}
	}
	if _, err := os.Stat("/usr/share/deskbot"); err == nil {
		t.Error("dpkg -r left /usr/share/deskbot")
	}
	if out, _ := exec.Command("dpkg-query", "-W", "-f=${Status}", "deskbot").Output(); strings.Contains(string(out), " installed") {
		t.Errorf("after dpkg -r the package is %q", out)
	}
}

// asRoot is the command line, through `sudo -n` when the tests do not run
// as root (as make deps does).
func asRoot(name string, args ...string) []string {
	if os.Geteuid() == 0 {
		return append([]string{name}, args...)
	}
	return append([]string{"sudo", "-n", name}, args...)
}

// dpkg runs dpkg as root, waiting while another dpkg or apt holds the lock
// (the test stage may install Debian packages at the same time).
func dpkg(t *testing.T, args ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute) // patience, not a speed check
	cmd := asRoot("dpkg", args...)
	for {
		out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput()
		if err == nil {
			return
		}
		if !strings.Contains(string(out), "lock") || time.Now().After(deadline) {
			t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		time.Sleep(2 * time.Second)
	}
}

// TestTarball: make dist-linux builds the tarball; unpacked, its install.sh
// installs into a PREFIX, the installed deskbot runs as a clean user would,
// and install.sh --uninstall removes every file it installed.
func TestTarball(t *testing.T) {
	makeTarget(t, "dist-linux")
	name := "deskbot-" + version(t) + "-linux-amd64"
	tarball := filepath.Join(root, "dist", name+".tar.xz")
	unpack := t.TempDir()
	mustRun(t, nil, "tar", "-C", unpack, "-xJf", tarball)
	dir := filepath.Join(unpack, name)
	for _, f := range []string{"install.sh", "bin/deskbot", "share/deskbot/flows/tidy-inbox.json",
		"share/applications/deskbot.desktop", "share/icons/hicolor/48x48/apps/deskbot.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("not in the tarball: %v", err)
		}
	}
	prefix := filepath.Join(t.TempDir(), "opt")
	out := mustRun(t, nil, filepath.Join(dir, "install.sh"), prefix)
	if !strings.Contains(out, "installed in "+prefix) {
		t.Errorf("install.sh: %s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(prefix, "share/applications/deskbot.desktop")); !strings.Contains(string(b), "Exec="+prefix+"/bin/deskbot %f") {
		t.Errorf("installed deskbot.desktop:\n%s", b)
	}
	checkInstalledRuns(t, filepath.Join(prefix, "bin", "deskbot"), filepath.Join(prefix, "share", "deskbot", "flows"))
	mustRun(t, nil, filepath.Join(dir, "install.sh"), "--uninstall", prefix)
	var left []string
	filepath.WalkDir(prefix, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("install.sh --uninstall left %v", left)
	}
}

// TestWindowsZip: make winres makes the exe's resources with go-winres: an
// icon (several sizes, from Deskbot's PNG), a manifest and a version
// resource carrying FyneApp.toml's version; packaging/windows/zip.sh lays
// out the zip (the exe, the samples with their data, a README).
//
// With a `make windows` target in the tree, make dist-windows builds the
// real zip from deskbot.exe and the test checks that. Without one (the
// Windows build comes from another branch), the exe checked is a small Go
// program linked with the same resource object, and the zip is laid out
// from it: the resources and the layout are tested, the Windows build is
// not.
func TestWindowsZip(t *testing.T) {
	name := "deskbot-" + version(t) + "-windows-amd64"
	zipPath := filepath.Join(root, "dist", name+".zip")
	var exe string
	if exec.Command("make", "-C", root, "-n", "windows").Run() == nil {
		makeTarget(t, "dist-windows")
		exe = filepath.Join(root, "bin", "deskbot.exe")
	} else {
		t.Log("no `make windows` in this tree: the resources and the zip are checked on a small exe linked with them")
		makeTarget(t, "winres")
		mod := t.TempDir()
		os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module probe\n\ngo 1.21\n"), 0o644)
		os.WriteFile(filepath.Join(mod, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
		syso, err := os.ReadFile(filepath.Join(root, "app", "rsrc_windows_amd64.syso"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(mod, "rsrc_windows_amd64.syso"), syso, 0o644)
		exe = filepath.Join(mod, "deskbot.exe")
		build := exec.Command("go", "build", "-o", exe, ".")
		build.Dir = mod
		build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
		absZip, _ := filepath.Abs(zipPath)
		zipSh := exec.Command("packaging/windows/zip.sh", exe, absZip)
		zipSh.Dir = root
		if out, err := zipSh.CombinedOutput(); err != nil {
			t.Fatalf("zip.sh: %v\n%s", err, out)
		}
	}

	// The resources, as icoutils' wrestool lists them: an icon group with
	// several sizes, and a version resource.
	list := mustRun(t, nil, "wrestool", "-l", exe)
	if n := strings.Count(list, "--type=3 "); n < 4 {
		t.Errorf("%d icon images in the exe, want the sizes up to 256:\n%s", n, list)
	}
	if !strings.Contains(list, "--type=14 ") || !strings.Contains(list, "--type=16 ") || !strings.Contains(list, "--type=24 ") {
		t.Errorf("the exe lacks the icon group, version or manifest resource:\n%s", list)
	}
	ver, err := exec.Command("wrestool", "-x", "--raw", "--type=16", exe).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ProductVersion", version(t), "Deskbot", "deskbot.exe"} {
		if !strings.Contains(utf16le(ver), want) {
			t.Errorf("the version resource has no %q", want)
		}
	}

	// The zip's layout.
	z, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	have := map[string]bool{}
	for _, f := range z.File {
		have[f.Name] = true
	}
	for _, f := range []string{"deskbot.exe", "README.txt", "samples/csv-to-letters.json", "samples/data/customers.csv",
		"samples/data/inbox/notes.txt", "samples/fill-form-name.png"} {
		if !have[name+"/"+f] {
			t.Errorf("the zip has no %s/%s", name, f)
		}
	}
	for f := range have {
		if strings.Contains(f, "/samples/out/") {
			t.Errorf("the zip holds sample outputs: %s", f)
		}
	}
}

// utf16le decodes the UTF-16LE text of a Windows resource, leaving other
// bytes out.
func utf16le(b []byte) string {
	var sb strings.Builder
	for i := 0; i+1 < len(b); i += 2 {
		if b[i+1] == 0 && b[i] >= 0x20 && b[i] < 0x7f {
			sb.WriteByte(b[i])
		} else {
			sb.WriteByte(' ')
		}
	}
	return sb.String()
}
