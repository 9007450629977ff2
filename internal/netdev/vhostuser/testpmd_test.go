package vhostuser

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govs/govs/internal/netdev"
	"github.com/govs/govs/internal/packet"
	"github.com/govs/govs/internal/testpmd"
)

// forward is the datapath stand-in: a ↔ b, until stop is closed.
func forward(a, b netdev.Netdev, stop chan struct{}, sentB *atomic.Uint64, wg *sync.WaitGroup) {
	defer wg.Done()
	ba, bb := packet.NewBatch(), packet.NewBatch()
	for {
		select {
		case <-stop:
			return
		default:
		}
		if n, _ := a.RxQueues()[0].Recv(ba); n > 0 {
			sentB.Add(uint64(b.Send(0, ba)))
		}
		if n, _ := b.RxQueues()[0].Recv(bb); n > 0 {
			a.Send(0, bb)
		}
	}
}

// TestTestpmd runs DPDK's virtio-user against our ports in both modes:
// testpmd forwards io between its two ports after a tx_first burst, so
// packets circle testpmd → port A → (this test) → port B → testpmd.
func TestTestpmd(t *testing.T) {
	testpmd.Require(t)
	for _, mode := range []string{TypeServer, TypeClient} {
		t.Run(mode, func(t *testing.T) {
			huge := testpmd.Hugepages(t, 160)
			dir := t.TempDir()
			var ports [2]netdev.Netdev
			var vdevs []string
			for i := range ports {
				name := fmt.Sprintf("vhu%d", i)
				spec := netdev.Spec{Name: name, Type: mode, RunDir: dir}
				path := filepath.Join(dir, name)
				vdev := fmt.Sprintf("net_virtio_user%d,path=%s,queue_size=256", i, path)
				if mode == TypeClient {
					path = filepath.Join(dir, name+".sock")
					spec.Options = map[string]string{"vhost-server-path": path}
					vdev = fmt.Sprintf("net_virtio_user%d,path=%s,server=1,queue_size=256", i, path)
				}
				p, err := netdev.Open(spec)
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				ports[i] = p
				vdevs = append(vdevs, vdev)
			}
			tp := testpmd.Start(t, testpmd.Options{HugeDir: huge, Vdevs: vdevs})
			for _, p := range ports {
				eventually(t, p.Name()+" link up", p.LinkUp)
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var sentB atomic.Uint64
			wg.Add(1)
			go forward(ports[0], ports[1], stop, &sentB, &wg)
			tp.Cmd("start tx_first")
			time.Sleep(2 * time.Second)
			tp.Cmd("stop")
			time.Sleep(300 * time.Millisecond)
			close(stop)
			wg.Wait()
			st := tp.Stats()
			if len(st) != 2 {
				t.Fatalf("port stats: %+v\n%s", st, tp.Output())
			}
			rx := []uint64{st[0].RxPackets, st[1].RxPackets}
			sent := sentB.Load()
			t.Logf("%s: sent to port B %d, testpmd port 1 received %d, port 0 received %d; status %v",
				mode, sent, rx[1], rx[0], ports[0].Status())
			if sent < 1000 || rx[1] > sent || sent-rx[1] > 512 {
				t.Errorf("forwarded %d into port B, testpmd received %d there", sent, rx[1])
			}
		})
	}
}
