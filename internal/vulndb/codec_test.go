package vulndb

import (
	"reflect"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	for _, d := range []affectedData{
		{},
		{Name: "Django", Urgency: "low", DBSeverity: "HIGH", Versions: []string{"1.0", "1.1"}},
		{Ranges: [][]event{{{'i', "0"}, {'f', "1:2.3-4~deb12u1"}}, {{'i', "2.0"}, {'l', "2.5"}, {'m', "3"}}},
			Score: &Score{Value: 9.8, Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Rating: "critical", Basis: "CVSS v3.1", From: "GHSA-x"}},
	} {
		var got affectedData
		if err := got.unmarshal(d.marshal()); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, d) {
			t.Errorf("round trip: %+v, want %+v", got, d)
		}
	}
	b := (&affectedData{Versions: []string{"1.0"}}).marshal()
	for i := range b {
		var d affectedData
		if d.unmarshal(b[:i]) == nil {
			t.Errorf("truncated at %d of %d: no error", i, len(b))
		}
	}
}

// FuzzCodec: any bytes decode to an error or to an entry that encodes back
// to the same bytes; nothing panics or allocates without bound.
func FuzzCodec(f *testing.F) {
	f.Add((&affectedData{Name: "n", Versions: []string{"1"}}).marshal())
	f.Add((&affectedData{Ranges: [][]event{{{'i', "0"}, {'f', "1.2"}}}, Score: &Score{Value: 7.5}}).marshal())
	f.Add([]byte{1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var d affectedData
		if err := d.unmarshal(b); err != nil {
			return
		}
		var again affectedData
		if err := again.unmarshal(d.marshal()); err != nil || !reflect.DeepEqual(again, d) {
			t.Fatalf("re-encoded entry differs: %v %+v %+v", err, again, d)
		}
	})
}
