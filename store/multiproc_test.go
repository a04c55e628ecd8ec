package store_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/store"
)

// countToFlow counts to n, logging each number, then ends (ok) or fails.
func countToFlow(n int, fail bool) string {
	last := `{"id":"end","type":"control.end"}`
	if fail {
		last = `{"id":"end","type":"control.fail","params":{"message":"failed on purpose at {{ i }}"}}`
	}
	return fmt.Sprintf(`{"format":"deskbot.flow","version":1,"name":"count to %d",
 "variables":[{"name":"i","type":"number","default":0}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"inc","type":"control.set_variable","params":{"variable":"i","value":"i + 1"}},
   {"id":"say","type":"control.log","params":{"message":"i={{ i }}"}},
   {"id":"more","type":"control.if","params":{"condition":"i < %d"}},
   %s],
 "edges":[{"from":"start","port":"next","to":"inc"},{"from":"inc","port":"next","to":"say"},
   {"from":"say","port":"next","to":"more"},
   {"from":"more","port":"true","to":"inc"},{"from":"more","port":"false","to":"end"}]}`, n, n, last)
}

// lockHold is how long TestManyProcesses holds the write lock: longer
// than a busy timeout.
const lockHold = 11 * time.Second

const (
	runHelperEnv  = "DESKBOT_STORE_RUN_DB"
	listHelperEnv = "DESKBOT_STORE_LIST_DB"
)

// TestHelperRecordRun is a child of TestManyProcesses: it opens the
// database named by $DESKBOT_STORE_RUN_DB, records one run of the count
// flow ($DESKBOT_STORE_RUN_N, failing when $DESKBOT_STORE_RUN_FAIL is set)
// and prints "run ID STATUS STEPS".
func TestHelperRecordRun(t *testing.T) {
	path := os.Getenv(runHelperEnv)
	if path == "" {
		t.Skip("helper process for TestManyProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv("DESKBOT_STORE_RUN_N"))
	fail := os.Getenv("DESKBOT_STORE_RUN_FAIL") != ""
	die := func(err error) {
		fmt.Println("error", err)
		os.Exit(2)
	}
	db, err := store.Open(path)
	if err != nil {
		die(err)
	}
	ctx := context.Background()
	doc := countToFlow(n, fail)
	f, err := engine.Parse([]byte(doc))
	if err != nil {
		die(err)
	}
	v, err := db.SaveFlow(ctx, f.Name, "count.json", []byte(doc))
	if err != nil {
		die(err)
	}
	rec, err := db.Recorder(ctx, store.RunInfo{Flow: f.Name, FlowVersion: v})
	if err != nil {
		die(err)
	}
	res, _ := engine.Run(ctx, f, engine.Options{Observer: rec, RunID: rec.RunID()})
	if err := rec.Close(res); err != nil {
		die(err)
	}
	if err := db.Close(); err != nil {
		die(err)
	}
	fmt.Printf("run %s %s %d\n", rec.RunID(), res.Status, res.Steps)
	os.Exit(0)
}

// TestHelperListRuns is a child of TestManyProcesses: until the file
// $DESKBOT_STORE_LIST_DB.stop exists, it opens the database, lists the
// runs and the steps of the newest, and closes it, as `deskbot runs` and
// the studio's History do; it prints each failure and "listed N" at the end.
func TestHelperListRuns(t *testing.T) {
	path := os.Getenv(listHelperEnv)
	if path == "" {
		t.Skip("helper process for TestManyProcesses")
	}
	ctx := context.Background()
	n := 0
	for {
		if _, err := os.Stat(path + ".stop"); err == nil {
			break
		}
		err := func() error {
			db, err := store.Open(path)
			if err != nil {
				return err
			}
			defer db.Close()
			runs, err := db.Runs(ctx, store.RunFilter{Limit: 20})
			if err != nil {
				return err
			}
			if len(runs) > 0 {
				if _, err := db.StepsAfter(ctx, runs[0].ID, 0, 100); err != nil {
					return err
				}
				if _, err := db.VarsAt(ctx, runs[0].ID, runs[0].Steps); err != nil {
					return err
				}
			}
			return nil
		}()
		if err != nil {
			fmt.Println("error", err)
		}
		n++
	}
	fmt.Printf("listed %d\n", n)
	os.Exit(0)
}

// Several processes record runs into one data folder at once while
// another lists runs in a loop and a third holds the write lock for longer
// than the busy timeout: every run ends recorded complete, with its true
// status and step count, and no listing fails.
func TestManyProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts several processes")
	}
	path := filepath.Join(t.TempDir(), "data", store.FileName)
	// The children open an existing database, as the CLI mostly does
	// (TestOpen_ConcurrentFresh covers a new one).
	if db, err := store.Open(path); err != nil {
		t.Fatal(err)
	} else {
		db.Close()
	}
	lister := exec.Command(os.Args[0], "-test.run=^TestHelperListRuns$")
	lister.Env = append(os.Environ(), listHelperEnv+"="+path)
	lout, err := lister.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	lister.Stderr = os.Stderr
	if err := lister.Start(); err != nil {
		t.Fatal(err)
	}
	listed := make(chan []string, 1)
	go func() {
		var lines []string
		sc := bufio.NewScanner(lout)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		listed <- lines
	}()

	const procs = 4
	type child struct {
		cmd   *exec.Cmd
		out   strings.Builder
		fail  bool
		steps int
	}
	children := make([]*child, procs)
	for i := range children {
		n := 3000 + 1000*i
		c := &child{fail: i%2 == 1, steps: 1 + 3*n + 1}
		c.cmd = exec.Command(os.Args[0], "-test.run=^TestHelperRecordRun$")
		c.cmd.Env = append(os.Environ(), runHelperEnv+"="+path, "DESKBOT_STORE_RUN_N="+strconv.Itoa(n))
		if c.fail {
			c.cmd.Env = append(c.cmd.Env, "DESKBOT_STORE_RUN_FAIL=1")
		}
		c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children[i] = c
	}
	// Meanwhile this process holds the write lock for longer than a busy
	// timeout, as a long transaction of another run or a migration would:
	// the recorders wait and go on, the lister does not notice.
	time.Sleep(300 * time.Millisecond)
	locker, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := locker.SQL().Begin() // BEGIN IMMEDIATE
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE runs SET error = error`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(lockHold)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	locker.Close()
	type result struct {
		id, status string
		steps      int
	}
	var results []result
	for i, c := range children {
		err := c.cmd.Wait()
		out := c.out.String()
		var r result
		for _, l := range strings.Split(out, "\n") {
			if rest, ok := strings.CutPrefix(l, "run "); ok {
				f := strings.Fields(rest)
				if len(f) == 3 {
					r.id, r.status = f[0], f[1]
					r.steps, _ = strconv.Atoi(f[2])
				}
			}
		}
		if err != nil || r.id == "" {
			t.Errorf("recording process %d: %v\n%s", i, err, out)
			continue
		}
		want := engine.StatusOK
		if c.fail {
			want = engine.StatusFailed
		}
		if r.status != want || r.steps != c.steps {
			t.Errorf("process %d ran %s with %d steps, want %s with %d", i, r.status, r.steps, want, c.steps)
		}
		results = append(results, r)
	}
	// Let the lister go on a little after the runs, then stop it.
	time.Sleep(100 * time.Millisecond)
	if err := os.WriteFile(path+".stop", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	lines := <-listed
	if err := lister.Wait(); err != nil {
		t.Errorf("lister: %v", err)
	}
	nlisted := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "error") {
			t.Errorf("lister: %s", l)
		}
		if rest, ok := strings.CutPrefix(l, "listed "); ok {
			nlisted, _ = strconv.Atoi(rest)
		}
	}
	if nlisted == 0 {
		t.Errorf("the lister listed nothing: %q", lines)
	}
	t.Logf("the lister opened and listed %d times", nlisted)

	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, r := range results {
		run, err := db.Run(ctx, r.id)
		if err != nil {
			t.Fatal(err)
		}
		steps, err := db.Steps(ctx, r.id)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != r.status || run.Steps != r.steps || len(steps) != r.steps || steps[len(steps)-1].Seq != r.steps {
			t.Errorf("run %s recorded as %s with %d steps (%d rows), want %s with %d", r.id, run.Status, run.Steps, len(steps), r.status, r.steps)
		}
		logs, err := db.Logs(ctx, r.id)
		if err != nil {
			t.Fatal(err)
		}
		if want := (r.steps - 2) / 3; len(logs) != want {
			t.Errorf("run %s: %d log lines, want %d", r.id, len(logs), want)
		}
	}
}
