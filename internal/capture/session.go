package capture

import (
	"io"
	"time"
)

// SessionOptions bound a capture.
type SessionOptions struct {
	Count    uint64        // stop after this many packets; 0: no limit
	Duration time.Duration // stop after this long; 0: no limit
	// Gone, called every PollGone, returns why the capture cannot go on
	// (the port was deleted), or "".
	Gone func() string
}

// drainPause is how long the streaming goroutine sleeps on an empty ring:
// short enough that tcpdump shows packets at once, long enough to cost
// nothing. A ring of 64 to 4096 records covers bursts between drains.
const drainPause = 2 * time.Millisecond

// pollGone is how often Gone is asked.
const pollGone = 500 * time.Millisecond

// Serve streams tap's records to conn until the capture ends: the count or
// duration is reached, the client shuts down its sending side or goes
// away, or o.Gone reports a reason. detach must remove the tap from the
// datapath and return once no producer can still put records into it;
// Serve then sends what the ring still holds, and the end record. It
// returns the end it sent (Reason "client went away" when it could not).
func Serve(conn io.ReadWriter, tap *Tap, o SessionOptions, detach func()) End {
	clientDone := make(chan struct{})
	go func() {
		// The client sends nothing after its request: a read returns
		// when it shuts down its side or the connection breaks.
		var b [64]byte
		for {
			if _, err := conn.Read(b[:]); err != nil {
				close(clientDone)
				return
			}
		}
	}()
	enc := NewEncoder(conn)
	end := End{}
	var deadline <-chan time.Time
	if o.Duration > 0 {
		t := time.NewTimer(o.Duration)
		defer t.Stop()
		deadline = t.C
	}
	pause := time.NewTimer(drainPause)
	defer pause.Stop()
	lastGone := time.Now()
	failed := false
	for end.Reason == "" {
		if err := drain(enc, tap.ring, o.Count, &end.Sent); err != nil {
			end.Reason, failed = "client went away", true
			break
		}
		if o.Count > 0 && end.Sent >= o.Count {
			end.Reason = "packet count reached"
			break
		}
		if o.Gone != nil && time.Since(lastGone) >= pollGone {
			lastGone = time.Now()
			end.Reason = o.Gone()
		}
		pause.Reset(drainPause)
		select {
		case <-pause.C:
		case <-clientDone:
			end.Reason = "stopped by the client"
		case <-deadline:
			end.Reason = "duration reached"
		}
	}
	detach()
	if !failed {
		failed = drain(enc, tap.ring, o.Count, &end.Sent) != nil
	}
	end.Stats = tap.Stats()
	if failed {
		end.Reason = "client went away"
		return end
	}
	if err := enc.WriteEnd(end); err != nil {
		end.Reason = "client went away"
	}
	return end
}

// drain sends the ring's ready records, up to count in all (0: no limit).
func drain(enc *Encoder, r *Ring, count uint64, sent *uint64) error {
	for count == 0 || *sent < count {
		rec, ok := r.Get()
		if !ok {
			break
		}
		err := enc.WritePacket(rec)
		r.Release()
		if err != nil {
			return err
		}
		*sent++
	}
	return enc.Flush()
}
