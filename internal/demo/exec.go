package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// runner runs the demo's commands: with the demo's environment (pointing
// OVS tools at its govs), each in its own process group so a Ctrl-C in the
// terminal reaches only the demo, killed when ctx ends or when the demo
// dies, and shown to the user when asked.
type runner struct {
	env   []string
	paths map[string]string // tool name -> path (preflight)
	p     *printer
}

// command prepares name args... The command is killed (its whole process
// group) when ctx ends.
func (r *runner) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := r.paths[name]
	if path == "" {
		path = name
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = r.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// show says what run prints of a command.
type show int

const (
	quiet      show = iota // nothing
	showCmd                // the command line
	showOutput             // the command line, then the output indented
)

// run runs a command to completion and returns its output (stdout and
// stderr together), printing as much of it as show says.
func (r *runner) run(ctx context.Context, sh show, name string, args ...string) (string, error) {
	if sh >= showCmd {
		r.p.command(name, args...)
	}
	cmd := r.command(ctx, name, args...)
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	out := buf.String()
	if sh == showOutput {
		r.p.output(out)
	}
	if err != nil {
		if ctx.Err() != nil {
			return out, context.Cause(ctx)
		}
		return out, fmt.Errorf("%s: %w: %s", commandLine(name, args...), err, strings.TrimSpace(out))
	}
	return out, nil
}

// printer writes what the user reads: step headings, the commands the demo
// runs (as they would type them), their output, and notes.
type printer struct {
	w     io.Writer
	step  int
	steps int
	title string // of the current step
}

func (p *printer) heading(title string) {
	p.step++
	p.title = title
	fmt.Fprintf(p.w, "\n=== Step %d/%d: %s ===\n", p.step, p.steps, title)
}

// section is a heading outside the numbered steps (clean-up, failure).
func (p *printer) section(title string) {
	fmt.Fprintf(p.w, "\n=== %s ===\n", title)
}

func (p *printer) note(format string, args ...any) {
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *printer) command(name string, args ...string) {
	fmt.Fprintf(p.w, "$ %s\n", commandLine(name, args...))
}

func (p *printer) output(out string) {
	out = strings.TrimRight(out, "\n")
	if out == "" {
		return
	}
	for line := range strings.SplitSeq(out, "\n") {
		fmt.Fprintf(p.w, "    %s\n", line)
	}
}

// commandLine renders a command as a user would type it in a shell.
func commandLine(name string, args ...string) string {
	var b strings.Builder
	b.WriteString(name)
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(shellQuote(a))
	}
	return b.String()
}

func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
