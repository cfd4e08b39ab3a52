package translate

import (
	"bytes"
	"errors"
	"fmt"
)

// MaxEventBytes bounds one server-sent event as received, field names and
// line ends included. Vendors send deltas of a few hundred bytes, so 1 MiB
// leaves ample room while bounding what one stream can make phigate hold.
const MaxEventBytes = 1 << 20

// Stream errors. Each is returned wrapped, with the client's stream ended
// by an error event in its own format.
var (
	// ErrEventTooLarge is returned when one event exceeds MaxEventBytes.
	ErrEventTooLarge = errors.New("server-sent event too large")
	// ErrStreamTruncated is returned by Close when the upstream body ended
	// in the middle of an event or before the format's final event
	// (Anthropic message_stop or error, OpenAI data: [DONE] or error).
	ErrStreamTruncated = errors.New("stream ended early")
	// ErrStreamClosed is returned by Write after Close.
	ErrStreamClosed = errors.New("stream already closed")
)

// sseEvent is one dispatched server-sent event.
type sseEvent struct {
	// name is the event field, empty when the event has none.
	name string
	// data is the data lines joined by "\n". hasData is false when the
	// event has no data line, which data alone cannot show.
	data    []byte
	hasData bool
	// raw is the event's bytes as received, through its blank line. When
	// the blank line ended with CR, the LF that may follow belongs to the
	// next event's raw bytes.
	raw []byte
}

// sseDecoder splits a byte stream into events by the WHATWG server-sent
// events parsing rules. Lines end with CRLF, LF or CR. A line starting with a
// colon is a comment. In "field: value" one space after the colon is
// dropped. A blank line dispatches the event. Chunks may split the stream
// anywhere, including inside a CRLF pair or a multi-byte character, because
// only complete lines are interpreted.
type sseDecoder struct {
	raw     []byte // bytes of the current event, partial line included
	line    []byte // the current partial line
	skipLF  bool   // the last line ended with CR, so a leading LF is its end
	started bool   // the current event has a non-blank line
	event   sseEvent
}

// feed consumes chunk and calls emit for each event it completes. The
// event's slices are valid only during the call.
func (d *sseDecoder) feed(chunk []byte, emit func(*sseEvent) error) error {
	for len(chunk) > 0 {
		if d.skipLF {
			d.skipLF = false
			if chunk[0] == '\n' {
				d.raw = append(d.raw, '\n')
				chunk = chunk[1:]
				continue
			}
		}

		i := bytes.IndexAny(chunk, "\r\n")
		if i < 0 {
			i = len(chunk)
		}
		if len(d.raw)+i >= MaxEventBytes {
			return fmt.Errorf("%w: an event exceeds %d bytes", ErrEventTooLarge, MaxEventBytes)
		}
		d.line = append(d.line, chunk[:i]...)
		if i == len(chunk) {
			d.raw = append(d.raw, chunk...)
			return nil
		}
		d.raw = append(d.raw, chunk[:i+1]...)
		d.skipLF = chunk[i] == '\r'
		chunk = chunk[i+1:]

		if err := d.processLine(emit); err != nil {
			return err
		}
	}
	return nil
}

func (d *sseDecoder) processLine(emit func(*sseEvent) error) error {
	line := d.line
	d.line = d.line[:0]

	if len(line) == 0 {
		if !d.started {
			return nil // a stray line end, such as the LF of a CRLF pair
		}
		d.event.raw = d.raw
		err := emit(&d.event)
		d.raw, d.started = d.raw[:0], false
		d.event = sseEvent{data: d.event.data[:0]}
		return err
	}

	d.started = true
	if line[0] == ':' {
		return nil // a comment
	}
	field, value, found := bytes.Cut(line, []byte{':'})
	if found {
		value = bytes.TrimPrefix(value, []byte{' '})
	}
	switch string(field) {
	case "event":
		d.event.name = string(value)
	case "data":
		if d.event.hasData {
			d.event.data = append(d.event.data, '\n')
		}
		d.event.data = append(d.event.data, value...)
		d.event.hasData = true
	}
	// id, retry and unknown fields do not affect translation; they stay in
	// raw for streams passed through unchanged.
	return nil
}

// takeLineEnds removes and returns the bytes kept between events, which is
// the LF of a CRLF blank line that arrived after its event was dispatched.
func (d *sseDecoder) takeLineEnds() []byte {
	if d.pending() || len(d.raw) == 0 {
		return nil
	}
	rest := d.raw
	d.raw = d.raw[:0]
	return rest
}

// pending reports whether the decoder holds part of an event.
func (d *sseDecoder) pending() bool {
	return d.started || len(d.line) > 0
}
