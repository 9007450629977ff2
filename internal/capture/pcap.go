package capture

import (
	"bufio"
	"io"
	"runtime"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// PcapWriter writes records as a pcap (nanosecond timestamps) or pcapng
// file, both read by tcpdump -r and Wireshark.
type PcapWriter struct {
	b    *bufio.Writer // pcap only (NgWriter buffers itself)
	pcap *pcapgo.Writer
	ng   *pcapgo.NgWriter
}

// PcapOptions describe the capture in the file's headers.
type PcapOptions struct {
	NG     bool   // pcapng instead of pcap
	Port   string // pcapng interface name
	Filter string // pcapng interface filter (the expression)
	Snap   int
}

// NewPcapWriter writes the file header to w.
func NewPcapWriter(w io.Writer, o PcapOptions) (*PcapWriter, error) {
	if o.Snap <= 0 {
		o.Snap = DefaultSnapLen
	}
	if o.NG {
		ng, err := pcapgo.NewNgWriterInterface(w, pcapgo.NgInterface{
			Name: o.Port, Filter: o.Filter, OS: runtime.GOOS, LinkType: layers.LinkTypeEthernet,
			TimestampResolution: 9, SnapLength: uint32(o.Snap),
		}, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
			Hardware: runtime.GOARCH, OS: runtime.GOOS, Application: "govs capture",
		}})
		if err != nil {
			return nil, err
		}
		return &PcapWriter{ng: ng}, nil
	}
	b := bufio.NewWriterSize(w, 64<<10)
	p := pcapgo.NewWriterNanos(b)
	if err := p.WriteFileHeader(uint32(o.Snap), layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	return &PcapWriter{b: b, pcap: p}, nil
}

// Write writes one packet; pcapng records its direction (EPB flags).
func (w *PcapWriter) Write(r Record) error {
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, r.TimeNs), CaptureLength: len(r.Data), Length: r.OrigLen}
	if w.ng == nil {
		return w.pcap.WritePacket(ci, r.Data)
	}
	flags := pcapgo.NgEpbFlags{Direction: pcapgo.NgEpbFlagDirectionInbound}
	if r.Dir == Tx {
		flags.Direction = pcapgo.NgEpbFlagDirectionOutbound
	}
	return w.ng.WritePacketWithOptions(ci, r.Data, pcapgo.NgPacketOptions{Flags: &flags})
}

// Flush writes buffered packets out.
func (w *PcapWriter) Flush() error {
	if w.ng != nil {
		return w.ng.Flush()
	}
	return w.b.Flush()
}
