package dpif

import (
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govs/govs/internal/flow"
	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/netdev/dummy"
	"github.com/govs/govs/internal/odp"
	"github.com/govs/govs/internal/packet"
)

// udpFrame builds an Ethernet/IPv4/UDP frame of 64 bytes.
func udpFrame(dstIP uint32, sport, dport uint16) []byte {
	b := make([]byte, 64)
	copy(b[0:6], []byte{0x02, 0, 0, 0, 0, 2})
	copy(b[6:12], []byte{0x02, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], 50)
	ip[8] = 64
	ip[9] = 17
	binary.BigEndian.PutUint32(ip[12:], 0x0a000001)
	binary.BigEndian.PutUint32(ip[16:], dstIP)
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], sport)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], 30)
	return b
}

// testUpcaller forwards by destination IPv4 address: the last byte of
// nw_dst names the odp output port. Its megaflows match in_port, dl_type
// and nw_dst exactly unless wildTp is false, then tp_dst as well. Rules
// can be changed with setOffset (output port = last byte + offset).
type testUpcaller struct {
	upcalls    atomic.Int64
	offset     atomic.Uint32
	fail       atomic.Bool
	matchTpDst atomic.Bool
	extra      odp.Actions // prepended to the output, set before use

	mu        sync.Mutex
	userspace int
	revalPkts uint64
}

func (u *testUpcaller) translate(k *flow.Key, mask *flow.Mask, acts odp.Actions) odp.Actions {
	*mask = flow.Mask{}
	mask.InPort = ^uint32(0)
	mask.EthType = 0xffff
	mask.NwDst = ^uint32(0)
	if u.matchTpDst.Load() {
		mask.NwProto = 0xff
		mask.TpDst = 0xffff
	}
	acts = append(acts[:0], u.extra...)
	return append(acts, odp.Output(k.NwDst&0xff+u.offset.Load()))
}

func (u *testUpcaller) Upcall(up *Upcall) error {
	u.upcalls.Add(1)
	if u.fail.Load() {
		return errors.New("translation failed")
	}
	up.Actions = u.translate(&up.Key, &up.Mask, up.Actions)
	return nil
}

func (u *testUpcaller) Userspace(p *packet.Buffer, k *flow.Key, a *odp.Action) {
	u.mu.Lock()
	u.userspace++
	u.mu.Unlock()
}

func (u *testUpcaller) Revalidate(r *Revalidation) error {
	u.mu.Lock()
	u.revalPkts += r.Packets
	u.mu.Unlock()
	r.Actions = u.translate(&r.Key, &r.Mask, r.Actions)
	return nil
}

func newPort(t testing.TB, name string, opts map[string]string) *dummy.Port {
	t.Helper()
	p, err := dummy.New(netdev.Spec{Name: name, Type: dummy.Type, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// newTestDP returns a datapath with dummy ports 1..nports.
func newTestDP(t testing.TB, cfg Config, up Upcaller, nports int, opts map[string]string) (*Datapath, []*dummy.Port) {
	t.Helper()
	dp, err := New(cfg, up)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dp.Close)
	ports := make([]*dummy.Port, nports+1)
	for i := 1; i <= nports; i++ {
		ports[i] = newPort(t, "p"+string(rune('0'+i)), opts)
		if err := dp.AddPort(uint32(i), ports[i]); err != nil {
			t.Fatal(err)
		}
	}
	// Cleanups run last-in first: stop the PMDs before the ports close
	// (a port unmaps its frames, which a running PMD may be reading).
	t.Cleanup(dp.Stop)
	return dp, ports
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// rxBatch fills a batch with copies of frames in frames of pool.
func rxBatch(t testing.TB, pool *packet.Pool, frames [][]byte) *packet.Batch {
	t.Helper()
	b := packet.NewBatch()
	for i, f := range frames {
		s := b.Slot(i)
		if err := pool.Get(s); err != nil {
			t.Fatal(err)
		}
		s.SetLen(len(f))
		copy(s.Data(), f)
	}
	b.SetCount(len(frames))
	return b
}
