// Package ofpcorpus reads the codec's golden corpus: OpenFlow messages as
// ovs-ofctl sent them, captured in internal/ofp/testdata/corpus, one
// message in hex per line ('#' starts a comment: the command that sent
// them). The codec's golden and fuzz tests use it, and so do the tests
// of its users that want real messages.
package ofpcorpus

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Msg is one message of the corpus and where it is.
type Msg struct {
	File string // base name
	Line int
	Data []byte
}

// Load returns the messages of every *.txt file in dir, in file and line
// order; it fails tb if there are none or a line is not hex.
func Load(tb testing.TB, dir string) []Msg {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no corpus in %s: %v", dir, err)
	}
	var out []Msg
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for ln := 1; sc.Scan(); ln++ {
			s := strings.TrimSpace(sc.Text())
			if s == "" || s[0] == '#' {
				continue
			}
			b, err := hex.DecodeString(s)
			if err != nil {
				tb.Fatalf("%s:%d: %v", f, ln, err)
			}
			out = append(out, Msg{filepath.Base(f), ln, b})
		}
		fh.Close()
	}
	return out
}
