package store_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/store"
)

// loopFlow counts forever (until MaxSteps), logging every step of the loop.
const loopFlow = `{"format":"deskbot.flow","version":1,"name":"endless",
 "variables":[{"name":"i","type":"number","default":0}],
 "nodes":[{"id":"start","type":"control.start"},
   {"id":"inc","type":"control.set_variable","params":{"variable":"i","value":"i + 1"}},
   {"id":"say","type":"control.log","params":{"message":"i={{ i }}"}},
   {"id":"more","type":"control.if","params":{"condition":"i > 0"}},
   {"id":"end","type":"control.end"}],
 "edges":[{"from":"start","port":"next","to":"inc"},{"from":"inc","port":"next","to":"say"},
   {"from":"say","port":"next","to":"more"},
   {"from":"more","port":"true","to":"inc"},{"from":"more","port":"false","to":"end"}]}`

const helperEnv = "DESKBOT_STORE_HELPER_DB"

// TestHelperProcess is the child of TestSIGKILL: it records an endless run
// into the database named by $DESKBOT_STORE_HELPER_DB and prints
// "committed SEQ" after each batch is committed, until it is killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestSIGKILL")
	}
	db, err := store.Open(path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	ctx := context.Background()
	f, err := engine.Parse([]byte(loopFlow))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	rec, err := db.Recorder(ctx, store.RunInfo{Flow: f.Name, Path: "endless.json"})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	rec.OnCommit(func(seq int) {
		mu.Lock()
		fmt.Printf("committed %d\n", seq) // os.Stdout is unbuffered
		mu.Unlock()
	})
	fmt.Printf("run %s\n", rec.RunID())
	// Slow the loop a little so the kill lands mid-run with events both
	// committed and pending.
	slow := engine.ObserverFunc(func(e engine.Event) {
		if e.Kind == engine.EventStepFinished && e.Seq%500 == 0 {
			time.Sleep(time.Millisecond)
		}
	})
	res, err := engine.Run(ctx, f, engine.Options{Observer: engine.Observers{rec, slow}, RunID: rec.RunID()})
	rec.Close(res)
	fmt.Println("error: the endless run ended:", err)
	os.Exit(2)
}

// A run killed with SIGKILL keeps every committed event and shows as
// interrupted on the next Open.
func TestSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	path := dir + "/deskbot.db"
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var runID string
	committed, commits := 0, 0
	timeout := time.After(60 * time.Second)
	for committed < 20000 || commits < 5 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the child ended before it was killed")
			}
			switch {
			case strings.HasPrefix(l, "run "):
				runID = strings.TrimPrefix(l, "run ")
			case strings.HasPrefix(l, "committed "):
				n, err := strconv.Atoi(strings.TrimPrefix(l, "committed "))
				if err != nil || n < committed {
					t.Fatalf("bad line %q after %d", l, committed)
				}
				committed = n
				commits++
			default:
				t.Fatalf("child: %s", l)
			}
		case <-timeout:
			t.Fatalf("no progress from the child: %d committed", committed)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	// Lines printed before the kill still count.
	for l := range lines {
		if n, err := strconv.Atoi(strings.TrimPrefix(l, "committed ")); err == nil && n > committed {
			committed = n
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not by SIGKILL", err)
	}
	t.Logf("child killed after %d committed steps in %d reported commits", committed, commits)

	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	r, err := db.Run(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != engine.StatusInterrupted || r.Error == "" || r.End.IsZero() || r.Steps < committed {
		t.Fatalf("run after the kill = %+v, want interrupted with >= %d steps", r, committed)
	}
	steps, err := db.Steps(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) < committed {
		t.Fatalf("%d steps stored, the child reported %d committed", len(steps), committed)
	}
	for _, s := range steps {
		if s.Status == store.StatusRunning {
			t.Fatalf("step %d still running after the run was interrupted", s.Seq)
		}
	}
	order := []string{"inc", "say", "more"}
	for i, s := range steps[:committed] {
		if s.Seq != i+1 || s.Status != engine.StatusOK {
			t.Fatalf("step %d = %+v", i+1, s)
		}
		if i > 0 && s.NodeID != order[(i-1)%3] {
			t.Fatalf("step %d is node %s, want %s", s.Seq, s.NodeID, order[(i-1)%3])
		}
	}
	// The variables and logs up to the last committed step are there too.
	// inc runs as steps 2, 5, 8, ...: the k-th sets i to k.
	wantI := (committed-2)/3 + 1
	v, err := db.VarsAt(ctx, runID, committed)
	if err != nil || v["i"] != float64(wantI) {
		t.Fatalf("i at step %d = %v, want %d (%v)", committed, v["i"], wantI, err)
	}
	logs, err := db.Logs(ctx, runID)
	if err != nil || len(logs) < (committed-1)/3 {
		t.Fatalf("%d logs for %d steps: %v", len(logs), committed, err)
	}
	if logs[0].Message != "i=1" {
		t.Fatalf("first log %+v", logs[0])
	}
}

// Several handles on one file: a recorder writes while others read and
// save flows; WAL lets them all proceed.
func TestFile_Concurrent(t *testing.T) {
	db, path := MustOpenFile(t)
	other, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	f := mustParse(t, countFlow)
	const runs = 6
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := 0; w < runs; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			h := db
			if w%2 == 1 {
				h = other
			}
			for k := 0; k < 5; k++ {
				rec, err := h.Recorder(ctx, store.RunInfo{Flow: f.Name})
				if err != nil {
					errs <- err
					return
				}
				res, _ := engine.Run(ctx, f, engine.Options{Observer: rec, RunID: rec.RunID()})
				if res.Status != engine.StatusOK {
					errs <- fmt.Errorf("run %d: %v", w, res.Err)
				}
				if err := rec.Close(res); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for k := 0; k < 50; k++ {
			if _, err := other.SaveFlow(ctx, "f", "f.json", []byte(strconv.Itoa(k))); err != nil {
				errs <- err
			}
		}
	}()
	go func() {
		defer wg.Done()
		for k := 0; k < 50; k++ {
			runs, err := other.Runs(ctx, store.RunFilter{Limit: 5})
			if err != nil {
				errs <- err
				continue
			}
			for _, r := range runs {
				if _, err := db.Steps(ctx, r.ID); err != nil {
					errs <- err
				}
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	all, err := db.Runs(ctx, store.RunFilter{})
	if err != nil || len(all) != runs*5 {
		t.Fatalf("runs = %d, %v", len(all), err)
	}
	for _, r := range all {
		steps, _ := db.Steps(ctx, r.ID)
		if len(steps) != 12 || r.Status != engine.StatusOK {
			t.Fatalf("run %s: %d steps, %s", r.ID, len(steps), r.Status)
		}
	}
	if vs, _ := db.FlowVersions(ctx, "f"); len(vs) != 50 {
		t.Fatalf("%d versions, want 50", len(vs))
	}
}

// Events reach the disk on their own, without Flush or Close, soon after
// they arrive (the writer commits at least every few tens of ms).
func TestRecorder_CommitsUnprompted(t *testing.T) {
	db, _ := MustOpenFile(t)
	ctx := context.Background()
	rec, err := db.Recorder(ctx, store.RunInfo{Flow: "trickle"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close(nil)
	rec.Event(engine.Event{Kind: engine.EventStepStarted, Time: time.Now(), Seq: 1, NodeID: "a", Type: "t"})
	rec.Event(engine.Event{Kind: engine.EventStepFinished, Time: time.Now(), Seq: 1, NodeID: "a", Type: "t", Status: engine.StatusOK})
	deadline := time.Now().Add(10 * time.Second)
	for {
		steps, err := db.Steps(ctx, rec.RunID())
		if err != nil {
			t.Fatal(err)
		}
		if len(steps) == 1 && steps[0].Status == engine.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the step was not committed without a flush: %+v", steps)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r, _ := db.Run(ctx, rec.RunID()); r.Steps != 1 || r.Status != store.StatusRunning {
		t.Fatalf("run while recording = %+v", r)
	}
}

// While another process holds the write lock, Event still returns at
// once while the backlog is under MaxPendingEvents (TestRecorder_Backpressure
// covers a larger one), and every event is written once the lock is
// released.
func TestRecorder_LockedDatabase(t *testing.T) {
	l := lockedRecorder(t, "locked")
	steps := store.MaxPendingEvents/2 - 10 // two events a step
	sent := l.send(steps)
	select {
	case <-sent:
	case <-time.After(time.Minute):
		// The lock is held until sent closes and the writer never gives
		// up on a batch, so an Event that blocked would never return: the
		// minute only keeps a broken build from hanging (no speed is
		// asserted).
		t.Fatal("Event blocked while the database was locked")
	}
	l.noStepsYet(t)
	time.Sleep(50 * time.Millisecond)
	l.release(t, sent, steps)
}

// lockedRun is a recorder whose database another connection holds the
// write lock of (BEGIN IMMEDIATE), as another process would.
type lockedRun struct {
	other *store.DB
	rec   *store.Recorder
	tx    *sql.Tx
}

func lockedRecorder(t *testing.T, flow string) *lockedRun {
	t.Helper()
	db, path := MustOpenFile(t)
	other, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	rec, err := db.Recorder(context.Background(), store.RunInfo{Flow: flow})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := other.SQL().Begin() // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	return &lockedRun{other: other, rec: rec, tx: tx}
}

// send hands the recorder steps steps (two events each) from another
// goroutine; the channel closes when Event has returned for all of them.
func (l *lockedRun) send(steps int) <-chan struct{} {
	sent := make(chan struct{})
	go func() {
		for seq := 1; seq <= steps; seq++ {
			l.rec.Event(engine.Event{Kind: engine.EventStepStarted, Time: time.Now(), Seq: seq, NodeID: "a", Type: "t"})
			l.rec.Event(engine.Event{Kind: engine.EventStepFinished, Time: time.Now(), Seq: seq, NodeID: "a", Type: "t", Status: engine.StatusOK})
		}
		close(sent)
	}()
	return sent
}

func (l *lockedRun) noStepsYet(t *testing.T) {
	t.Helper()
	if got, _ := l.other.Steps(context.Background(), l.rec.RunID()); len(got) != 0 {
		t.Fatalf("%d steps committed through a held lock", len(got))
	}
}

// release gives the lock back, waits for every event to be handed over,
// closes the recorder and checks that all steps were written.
func (l *lockedRun) release(t *testing.T, sent <-chan struct{}, steps int) {
	t.Helper()
	if err := l.tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	<-sent
	if err := l.rec.Close(&engine.Result{Status: engine.StatusOK, Steps: steps}); err != nil {
		t.Fatal(err)
	}
	got, err := l.other.Steps(context.Background(), l.rec.RunID())
	if err != nil || len(got) != steps {
		t.Fatalf("%d steps after the lock was released, want %d (%v)", len(got), steps, err)
	}
}
