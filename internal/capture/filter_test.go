package capture

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/govs/govs/internal/race"
)

// arpProg is tcpdump -ddd -y EN10MB arp.
const arpProg = "4\n40 0 0 12\n21 0 1 2054\n6 0 0 262144\n6 0 0 0\n"

func arpFrame() []byte {
	b := make([]byte, 42)
	b[12], b[13] = 0x08, 0x06
	return b
}

func TestParseFilterRuns(t *testing.T) {
	race.SkipAllocs(t)
	f, err := ParseFilter(arpProg)
	if err != nil {
		t.Fatal(err)
	}
	if f.String() != arpProg {
		t.Errorf("String() = %q", f.String())
	}
	if n := f.Match(arpFrame()); n != 262144 {
		t.Errorf("arp frame: %d", n)
	}
	ip := arpFrame()
	ip[13] = 0
	if n := f.Match(ip); n != 0 {
		t.Errorf("ipv4 frame accepted: %d", n)
	}
	if n := f.Match(ip[:5]); n != 0 {
		t.Errorf("runt accepted: %d", n)
	}
	if a := testing.AllocsPerRun(100, func() { f.Match(ip) }); a != 0 {
		t.Errorf("Match allocates %v", a)
	}
}

func TestParseFilterErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "instruction count"},
		{"x\n", "instruction count"},
		{"0\n", "0 instructions"},
		{"5000\n", "5000 instructions"},
		{"2\n6 0 0 1\n", "2 instructions announced, 1 given"},
		{"1\n6 0 0\n", "want \"code jt jf k\""},
		{"1\n6 0 0 99999999999\n", "value out of range"},
		{"1\n65535 0 0 0\n", "unknown opcode"},
		{"1\n40 0 0 12\n", "must end with RetA or RetConstant"},
		{"2\n21 5 0 1\n6 0 0 0\n", "jumping past program bounds"},
	} {
		if _, err := ParseFilter(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFilter(%q) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

// FuzzParseFilter: any text gets an error or a program that runs on any
// frame without panicking.
func FuzzParseFilter(f *testing.F) {
	f.Add(arpProg, []byte{0, 1, 2})
	f.Add("3\n177 0 0 14\n80 0 0 0\n22 0 0 0\n", arpFrame())
	f.Add("2\n96 0 0 3\n6 0 0 1\n", arpFrame())
	f.Fuzz(func(t *testing.T, text string, frame []byte) {
		flt, err := ParseFilter(text)
		if err != nil {
			return
		}
		flt.Match(frame)
		if _, err := ParseFilter(flt.String()); err != nil {
			t.Fatalf("own output refused: %v", err)
		}
	})
}

// TestCompileWithTcpdump compiles with the installed tcpdump, as the
// client does.
func TestCompileWithTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed")
	}
	prog, err := Compile("arp", 0)
	if err != nil {
		t.Fatal(err)
	}
	if prog != arpProg {
		t.Errorf("arp compiled to %q, want %q", prog, arpProg)
	}
	_, err = Compile("icmp and and", 0)
	if err == nil || !strings.Contains(err.Error(), `filter "icmp and and": `) || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("bad expression: %v", err)
	}
}
