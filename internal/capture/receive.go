package capture

// Receive is the client's side of a capture: it writes the packets of the
// record stream d to w, at most count of them (0: no limit), until the end
// record, which it returns with the number of packets written. w is
// flushed whenever no further record is waiting, so a reader at the other
// end of a pipe (tcpdump -r -) sees each packet at once. When writing
// fails (that reader exited), Receive calls stop, which asks the daemon
// to end the capture, and reads on to the end record; the write error is
// returned with it, as a *WriteError.
func Receive(d *Decoder, w *PcapWriter, count uint64, stop func()) (End, uint64, error) {
	var written uint64
	var werr error
	for {
		rec, end, err := d.Next()
		if err != nil {
			w.Flush() // keep what came; the stream's error is the news
			return End{}, written, err
		}
		if end != nil {
			if werr == nil {
				werr = w.Flush()
			}
			if werr != nil {
				return *end, written, &WriteError{werr}
			}
			return *end, written, nil
		}
		if werr != nil || (count > 0 && written >= count) {
			continue
		}
		if werr = w.Write(rec); werr == nil {
			written++
			if d.Buffered() == 0 {
				werr = w.Flush()
			}
		}
		if werr != nil {
			stop()
		}
	}
}

// WriteError is an error writing the capture file.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }
