package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// RunHooks runs hooks in the runtime's namespaces, in order, each with the
// state on stdin; the first failure (non-zero exit, timeout, missing
// binary) is returned naming the hook.
func RunHooks(field string, hooks []specs.Hook, state []byte) error {
	for i, h := range hooks {
		if err := runHook(h, state); err != nil {
			return fmt.Errorf("%s[%d] path %q: %w", field, i, h.Path, err)
		}
	}
	return nil
}

// RunHooksWarn runs every hook, logging each failure as a warning (for
// poststop: "the remaining hooks and lifecycle continue").
func RunHooksWarn(field string, hooks []specs.Hook, state []byte) {
	for i, h := range hooks {
		if err := runHook(h, state); err != nil {
			logrus.Warnf("%s[%d] path %q: %v", field, i, h.Path, err)
		}
	}
}

func runHook(h specs.Hook, state []byte) error {
	ctx := context.Background()
	if h.Timeout != nil {
		if *h.Timeout <= 0 {
			return fmt.Errorf("timeout %d: must be positive", *h.Timeout)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	args := h.Args
	if len(args) == 0 {
		args = []string{h.Path}
	}
	cmd := exec.CommandContext(ctx, h.Path)
	cmd.Args, cmd.Env = args, h.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	// the hook and whatever it started go on a timeout, and its output
	// pipe is not waited for beyond a second after that
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	cmd.Stdin = bytes.NewReader(state)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := WithCallerScheduling(cmd.Start)
	if err == nil {
		err = cmd.Wait()
	}
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		msg := strings.Join(strings.Fields(out.String()), " ") // one line
		var ee *exec.ExitError
		if errors.As(err, &ee) && msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}
