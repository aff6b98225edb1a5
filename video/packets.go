package video

import (
	"github.com/asticode/go-astiav"
)

// PacketStream describes the encoded packets a PacketSink is about to
// receive.
type PacketStream struct {
	// Params are the stream's codec parameters (with the extradata a muxer
	// needs). They stay the caller's: copy them during StartStream.
	Params   *astiav.CodecParameters
	TimeBase astiav.Rational
	// Start is the timestamp, in TimeBase, that Frame.PTS counts from, so
	// a sink can place packets on the frames' timeline.
	Start int64
	// FrameRate is the nominal rate; zero when unknown.
	FrameRate astiav.Rational
}

// PacketSink receives a source's encoded video packets as they are read,
// before decoding (event clips keep them in a ring and copy them out
// without re-encoding). Files and network streams hand over what they
// demux; webcams, whose frames arrive raw, are encoded once for it (see
// PacketEncoder). The methods are called on the source's reading
// goroutine, so they must be quick. Each connection of a live source is a
// stream of its own: StartStream, packets, EndStream.
type PacketSink interface {
	StartStream(s PacketStream)
	// WritePacket hands over one packet; pkt stays the caller's, so the
	// sink references (astiav Clone) what it keeps.
	WritePacket(pkt *astiav.Packet)
	// EndStream says the stream ended: the source closed, its connection
	// was lost, or it is being switched.
	EndStream()
}

// tap hands the packet just read to the input's packet sink, announcing
// the stream first.
func (in *avInput) tap() {
	if !in.tapping {
		in.tapping = true
		in.cfg.packets.StartStream(PacketStream{Params: in.st.CodecParameters(), TimeBase: in.st.TimeBase(),
			Start: in.start, FrameRate: in.st.AvgFrameRate()})
	}
	in.cfg.packets.WritePacket(in.pkt)
}

// untap ends the input's packet stream, if it started.
func (in *avInput) untap() {
	if in.tapping {
		in.tapping = false
		in.cfg.packets.EndStream()
	}
}
