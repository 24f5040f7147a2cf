package vulndb

import (
	"encoding/binary"
	"errors"
	"math"
)

// The stored form of an affected entry is a small binary record: matching
// decodes tens of thousands of them per image, and this is several times
// faster than JSON.
//
//	byte    format (1)
//	string  name, urgency, GHSA severity
//	byte    1 if a per-package score follows: float64 bits, then vector,
//	        rating, basis, from as strings
//	uvarint ranges; per range: uvarint events; per event: kind byte, string
//	uvarint versions; per version: string
//
// A string is a uvarint length and the bytes.
const codecVersion = 1

// maxItems bounds the counts a stored entry may claim.
const maxItems = 1 << 20

var errCorrupt = errors.New("corrupt affected entry")

func (d *affectedData) marshal() []byte {
	b := make([]byte, 0, 64)
	b = append(b, codecVersion)
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	str(d.Name)
	str(d.Urgency)
	str(d.DBSeverity)
	if d.Score != nil {
		b = append(b, 1)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(d.Score.Value))
		str(d.Score.Vector)
		str(d.Score.Rating)
		str(d.Score.Basis)
		str(d.Score.From)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(d.Ranges)))
	for _, r := range d.Ranges {
		b = binary.AppendUvarint(b, uint64(len(r)))
		for _, e := range r {
			b = append(b, e.K)
			str(e.V)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(d.Versions)))
	for _, v := range d.Versions {
		str(v)
	}
	return b
}

// decoder reads the binary form with bounds checks; any error sticks.
type decoder struct {
	b   []byte
	err error
}

func (r *decoder) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *decoder) count() int {
	n := r.uvarint()
	if n > maxItems || n > uint64(len(r.b)) {
		r.err = errCorrupt
		return 0
	}
	return int(n)
}

func (r *decoder) byte1() byte {
	if r.err != nil || len(r.b) < 1 {
		r.err = errCorrupt
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *decoder) str() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errCorrupt
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (d *affectedData) unmarshal(b []byte) error {
	r := &decoder{b: b}
	if r.byte1() != codecVersion {
		return errCorrupt
	}
	*d = affectedData{Name: r.str(), Urgency: r.str(), DBSeverity: r.str()}
	if r.byte1() == 1 {
		if len(r.b) < 8 {
			return errCorrupt
		}
		s := &Score{Value: math.Float64frombits(binary.LittleEndian.Uint64(r.b))}
		r.b = r.b[8:]
		s.Vector, s.Rating, s.Basis, s.From = r.str(), r.str(), r.str(), r.str()
		d.Score = s
	}
	if n := r.count(); n > 0 {
		d.Ranges = make([][]event, n)
		for i := range d.Ranges {
			m := r.count()
			evs := make([]event, m)
			for j := range evs {
				evs[j] = event{K: r.byte1(), V: r.str()}
			}
			d.Ranges[i] = evs
		}
	}
	if n := r.count(); n > 0 {
		d.Versions = make([]string, n)
		for i := range d.Versions {
			d.Versions[i] = r.str()
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	return r.err
}
