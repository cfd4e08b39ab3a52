package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The test binary doubles as a writer process, so tests can run several
// writers at once and kill one with SIGKILL. The child reads its settings
// from the environment.
const (
	childEnv        = "PHIGATE_AUDIT_PG_CHILD"
	childDSNEnv     = "PHIGATE_AUDIT_PG_CHILD_DSN"
	childWriterEnv  = "PHIGATE_AUDIT_PG_CHILD_WRITER"
	childSpoolEnv   = "PHIGATE_AUDIT_PG_CHILD_SPOOL"
	childRecordsEnv = "PHIGATE_AUDIT_PG_CHILD_RECORDS"
	childWorkersEnv = "PHIGATE_AUDIT_PG_CHILD_WORKERS"

	// exitWriterInUse is the child's exit code when its writer id is taken.
	exitWriterInUse = 3
)

// runChild opens a store and appends records from several goroutines,
// printing "ready" once open and "ack REQUEST_ID" for each record Append
// acknowledged, until it has appended the number of records asked for.
func runChild() int {
	records, _ := strconv.Atoi(os.Getenv(childRecordsEnv))
	workers, _ := strconv.Atoi(os.Getenv(childWorkersEnv))
	writer := os.Getenv(childWriterEnv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	s, err := Open(ctx, Options{
		DSN:           os.Getenv(childDSNEnv),
		WriterID:      writer,
		SpoolPath:     os.Getenv(childSpoolEnv),
		RetryInterval: 20 * time.Millisecond,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "child: %v\n", err)
		if errors.Is(err, ErrWriterInUse) {
			return exitWriterInUse
		}
		return 1
	}
	fmt.Println("ready")

	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > records {
					return
				}
				rec := sampleRecord(i)
				rec.RequestID = fmt.Sprintf("%s-%06d", writer, i)
				if err := s.Append(context.Background(), rec); err != nil {
					fmt.Fprintf(os.Stderr, "child: Append: %v\n", err)
					return
				}
				// One write per line, so a kill never leaves half an ack.
				os.Stdout.WriteString("ack " + rec.RequestID + "\n")
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "child: Close: %v\n", err)
		return 1
	}
	return 0
}

// child is a running writer process.
type child struct {
	cmd    *exec.Cmd
	stderr strings.Builder
	ready  chan struct{}
	done   chan struct{}

	mu   sync.Mutex
	acks map[string]bool
}

// startChild starts a writer process and collects its acknowledgements.
func startChild(t *testing.T, dsn, writer, spool string, records, workers int) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		childEnv+"=1",
		childDSNEnv+"="+dsn,
		childWriterEnv+"="+writer,
		childSpoolEnv+"="+spool,
		childRecordsEnv+"="+strconv.Itoa(records),
		childWorkersEnv+"="+strconv.Itoa(workers),
	)
	c := &child{cmd: cmd, ready: make(chan struct{}), done: make(chan struct{}), acks: map[string]bool{}}
	cmd.Stderr = &c.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting writer process: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})

	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if line == "ready" {
				close(c.ready)
				continue
			}
			if id, ok := strings.CutPrefix(line, "ack "); ok {
				c.mu.Lock()
				c.acks[id] = true
				c.mu.Unlock()
			}
		}
		_ = cmd.Wait()
	}()
	return c
}

func (c *child) ackCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.acks)
}

func (c *child) acked() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]bool, len(c.acks))
	for id := range c.acks {
		out[id] = true
	}
	return out
}

// wait waits for the process to exit and returns its exit code.
func (c *child) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		t.Fatalf("writer process did not exit within %s; stderr:\n%s", timeout, c.stderr.String())
	}
	return c.cmd.ProcessState.ExitCode()
}
