package state

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const crashChildEnv = "MINICLOUD_STATE_CRASH_CHILD"

// TestAckedWritesSurviveKill9 re-executes this test binary as a child that
// performs acknowledged writes and prints "acked N" after each Update
// returns. The parent SIGKILLs it mid-stream, reopens the file and demands
// every acknowledged write: an API call we answered must survive kill -9.
func TestAckedWritesSurviveKill9(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestAckedWritesSurviveKill9$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := -1
	killed := false
	timeout := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer timeout.Stop()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		n, ok := strings.CutPrefix(sc.Text(), "acked ")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(n)
		if err != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		acked = max(acked, i)
		if acked >= 100 && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true // keep draining: lines already printed were acked
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("child exited before being killed; last ack %d", acked)
	}

	s, err := OpenBolt(path)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	for i := 0; i <= acked; i++ {
		want := fmt.Sprintf("value-%d", i)
		if v, ok := get(t, s, crashKey(i)); !ok || v != want {
			t.Fatalf("acknowledged write %d lost (got %q %v); acked up to %d", i, v, ok, acked)
		}
	}
	t.Logf("all %d acknowledged writes survived SIGKILL", acked+1)
}

func crashKey(i int) string { return fmt.Sprintf("crash/%08d", i) }

// crashChild writes forever until killed, acknowledging each commit.
func crashChild(path string) {
	s, err := OpenBolt(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		err := s.Update(ctx, func(tx Tx) error {
			return tx.Put(crashKey(i), []byte(fmt.Sprintf("value-%d", i)))
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child update:", err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stdout, "acked %d\n", i) // os.Stdout is unbuffered
	}
}
