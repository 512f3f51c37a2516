package launch

import (
	"encoding/binary"
	"os"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/plan"
	"github.com/oci-rt/oci-rt/libcontainer/planner"
)

// recorder is a launch that notes what the conversation asks of it.
type recorder struct {
	executorRun
	calls []string
}

func (r *recorder) start(*planner.Input) error { return nil }
func (r *recorder) abort()                     {}
func (r *recorder) pidKnown() error {
	r.calls = append(r.calls, "pid")
	return nil
}
func (r *recorder) answer(kind, pid int, _ string) error {
	r.calls = append(r.calls, "sync")
	return r.reply(0, nil)
}
func (r *recorder) hungUp() error {
	r.calls = append(r.calls, "hung up")
	return nil
}

// fakeExecutor gives r a sync socket whose other end the test writes the
// executor's messages to, and a plan with the given ops.
func fakeExecutor(t *testing.T, r *recorder, ops ...plan.Code) *os.File {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.SetNonblock(fds[0], true)
	r.sync = os.NewFile(uintptr(fds[0]), "sync")
	peer := os.NewFile(uintptr(fds[1]), "executor")
	t.Cleanup(func() { r.sync.Close(); peer.Close() })
	r.plan = &plan.Plan{}
	for i, op := range ops {
		r.plan.Add("field "+string(rune('a'+i)), op, nil)
	}
	r.spec = &specs.Spec{}
	return peer
}

func send(t *testing.T, w *os.File, typ uint32, a, b int32, payload string) {
	t.Helper()
	msg := make([]byte, plan.MsgHeaderLen, plan.MsgHeaderLen+len(payload))
	binary.NativeEndian.PutUint32(msg, typ)
	binary.NativeEndian.PutUint32(msg[4:], uint32(a))
	binary.NativeEndian.PutUint32(msg[8:], uint32(b))
	if _, err := w.Write(append(msg, payload...)); err != nil {
		t.Fatal(err)
	}
}

// TestAnswerWaitsForPid: with a fork in the plan, a request the container
// process sends before the executor's first half reported its pid is
// answered only once the pid is known; the id maps are not held back.
func TestAnswerWaitsForPid(t *testing.T) {
	r := &recorder{}
	ex := fakeExecutor(t, r, plan.OpFork)
	send(t, ex, plan.MsgSync, plan.SyncHooks, 42, "")
	send(t, ex, plan.MsgPid, 42, 0, "")
	send(t, ex, plan.MsgReady, 42, 0, "")
	if err := r.answerUntilReady(r); err != nil {
		t.Fatal(err)
	}
	if want := []string{"pid", "sync"}; !slices.Equal(r.calls, want) {
		t.Errorf("calls %v, want %v", r.calls, want)
	}
	if r.pid != 42 {
		t.Errorf("pid %d, want 42", r.pid)
	}
	// the answer went back to the executor
	buf := make([]byte, 64)
	if n, err := ex.Read(buf); err != nil || n != plan.MsgHeaderLen || binary.NativeEndian.Uint32(buf) != plan.MsgSync {
		t.Errorf("reply: %d bytes %x, %v; want a MsgSync header", n, buf[:n], err)
	}
}

// TestAnswerErrorNamesField: a failed step is reported with the config
// field of its op, and ends the conversation.
func TestAnswerErrorNamesField(t *testing.T) {
	r := &recorder{}
	ex := fakeExecutor(t, r, plan.OpMount, plan.OpMount)
	send(t, ex, plan.MsgError, 1, int32(unix.ENOENT), "mount proc")
	err := r.answerUntilReady(r)
	if err == nil || !strings.HasPrefix(err.Error(), "field b: mount proc: no such file") {
		t.Errorf("error %v, want it to name field b", err)
	}
	if len(r.calls) != 0 {
		t.Errorf("calls %v, want none", r.calls)
	}
}

// TestAnswerHangUp: an executor that closes its socket before it said
// ready is the launch's to word (exec: the process runs).
func TestAnswerHangUp(t *testing.T) {
	r := &recorder{}
	ex := fakeExecutor(t, r)
	ex.Close()
	if err := r.answerUntilReady(r); err != nil {
		t.Fatal(err)
	}
	if want := []string{"hung up"}; !slices.Equal(r.calls, want) {
		t.Errorf("calls %v, want %v", r.calls, want)
	}
}
