package dummy

import (
	"bufio"
	"fmt"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// pcapIn reads the packets of a pcap file, one at a time.
type pcapIn struct {
	f *os.File
	r *pcapgo.Reader
}

func openPcapIn(name string) (*pcapIn, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	r, err := pcapgo.NewReader(bufio.NewReader(f))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("pcap %s: %w", name, err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		f.Close()
		return nil, fmt.Errorf("pcap %s: link type %v, want Ethernet", name, r.LinkType())
	}
	return &pcapIn{f: f, r: r}, nil
}

// next returns the next packet; its bytes are valid until the next call.
// A truncated or corrupt file ends the stream like EOF does.
func (p *pcapIn) next() ([]byte, bool) {
	data, _, err := p.r.ZeroCopyReadPacketData()
	return data, err == nil
}

func (p *pcapIn) close() error { return p.f.Close() }

// pcapOut appends packets to a new pcap file.
type pcapOut struct {
	f *os.File
	b *bufio.Writer
	w *pcapgo.Writer
}

func openPcapOut(name string) (*pcapOut, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	b := bufio.NewWriter(f)
	w := pcapgo.NewWriter(b)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		f.Close()
		return nil, fmt.Errorf("pcap %s: %w", name, err)
	}
	return &pcapOut{f: f, b: b, w: w}, nil
}

// write records one packet. Errors are not the datapath's concern: a full
// disk shows as a short file, as with tcpdump.
func (p *pcapOut) write(data []byte) {
	ci := gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: len(data), Length: len(data)}
	_ = p.w.WritePacket(ci, data)
}

func (p *pcapOut) close() error {
	err := p.b.Flush()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	return err
}
