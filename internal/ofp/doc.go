// Package ofp is govs's OpenFlow wire codec: pure encode/decode with no
// knowledge of the switch model (package ofproto), so every byte ovs-ofctl
// or a controller sends can be decoded, re-encoded byte-identically and
// answered with the spec's error when it is malformed.
//
// Layout, one package per concern:
//
//   - ofp (this package): the ofp_header, framing from a byte stream with a
//     length limit, OXM/NXM TLVs (kept generic and in order, so unknown
//     fields round-trip), the Action/Instruction interfaces shared by the
//     versions, and Error, which carries the OFPT_ERROR type/code a decode
//     failure must be answered with (ErrorReply builds that answer).
//   - ofp/of13: OpenFlow 1.3.5 messages, actions, instructions, multipart
//     bodies and the ONF bundle extension.
//   - ofp/of10: OpenFlow 1.0 messages, ofp_match, actions and stats.
//   - ofp/nx: Nicira extensions shared by both versions: NX actions (which
//     appear inside OF1.0 and OF1.3 action lists) and the NXT_* / NXST_*
//     vendor messages plain ovs-ofctl sends.
//
// Decoding never panics on any input (each decoder has a fuzz target) and
// keeps sub-slices of its input: a decoded message aliases the bytes it was
// decoded from. Reader hands out a fresh slice per message so that is safe.
// Encoding is append-style: AppendTo(b) appends the whole message,
// header included, with the length filled in.
//
// The golden corpus in testdata/corpus was recorded from the real ovs-ofctl
// by the stand-in switch in internal/capture (go test -run Capture -update).
package ofp
