package capture

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// Filter is a classic BPF program, as libpcap compiles a tcpdump
// expression for Ethernet (link type EN10MB).
type Filter struct {
	vm   *bpf.VM
	text string // the program in tcpdump -ddd's format
}

// maxInsns is the kernel's BPF_MAXINSNS, the limit libpcap compiles for.
const maxInsns = 4096

// ParseFilter reads a program in the format tcpdump -ddd prints: the
// number of instructions on the first line, then one instruction per line
// as four decimal numbers "code jt jf k". The daemon reads what the client
// sends through it, so any input gets an error or a program the
// interpreter runs to completion without allocating.
func ParseFilter(text string) (*Filter, error) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	n, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil {
		return nil, fmt.Errorf("bpf program: first line %q is not the instruction count", lines[0])
	}
	if n < 1 || n > maxInsns {
		return nil, fmt.Errorf("bpf program: %d instructions (want 1 to %d)", n, maxInsns)
	}
	if len(lines)-1 != n {
		return nil, fmt.Errorf("bpf program: %d instructions announced, %d given", n, len(lines)-1)
	}
	raw := make([]bpf.RawInstruction, n)
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 4 {
			return nil, fmt.Errorf("bpf program: instruction %d: %q: want \"code jt jf k\"", i, l)
		}
		var v [4]uint64
		for j, bits := range []int{16, 8, 8, 32} {
			if v[j], err = strconv.ParseUint(f[j], 10, bits); err != nil {
				return nil, fmt.Errorf("bpf program: instruction %d: %q: %v", i, l, errors.Unwrap(err))
			}
		}
		raw[i] = bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}
	}
	insns, ok := bpf.Disassemble(raw)
	if !ok {
		for i, in := range insns {
			if _, bad := in.(bpf.RawInstruction); bad {
				return nil, fmt.Errorf("bpf program: instruction %d: unknown opcode %#x", i, raw[i].Op)
			}
		}
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		return nil, fmt.Errorf("bpf program: %w", err)
	}
	return &Filter{vm: vm, text: formatRaw(raw)}, nil
}

func formatRaw(raw []bpf.RawInstruction) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", len(raw))
	for _, r := range raw {
		fmt.Fprintf(&b, "%d %d %d %d\n", r.Op, r.Jt, r.Jf, r.K)
	}
	return b.String()
}

// String returns the program in tcpdump -ddd's format.
func (f *Filter) String() string { return f.text }

// Match runs the program on an Ethernet frame and returns how many of its
// bytes to keep: 0 rejects it.
func (f *Filter) Match(frame []byte) int {
	// Run's error is only for instructions ParseFilter refuses.
	n, _ := f.vm.Run(frame)
	return n
}

// Compile compiles a tcpdump filter expression for Ethernet frames with
// the installed tcpdump (libpcap's compiler; see the package comment) and
// returns the program in tcpdump -ddd's format.
func Compile(expr string, snap int) (string, error) {
	path, err := exec.LookPath("tcpdump")
	if err != nil {
		return "", errors.New("a capture filter needs tcpdump installed (libpcap compiles the expression)")
	}
	if snap <= 0 {
		snap = DefaultSnapLen
	}
	cmd := exec.Command(path, "-ddd", "-y", "EN10MB", "-s", strconv.Itoa(snap), "--", expr)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		msg := ""
		for _, l := range strings.Split(stderr.String(), "\n") {
			if l = strings.TrimPrefix(l, "tcpdump: "); l != "" && !strings.HasPrefix(l, "Warning:") {
				msg = l
			}
		}
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("filter %q: %s", expr, msg)
	}
	if _, err := ParseFilter(out.String()); err != nil {
		return "", fmt.Errorf("filter %q: %w", expr, err)
	}
	return out.String(), nil
}
