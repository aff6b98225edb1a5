package dataset

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzDecode: any bytes give a dataset or a one-line error, never a panic;
// a dataset that decodes writes back to JSON that decodes to the same.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte(`{"info":{},"images":[{"id":1,"file_name":"a.jpg","width":1,"height":1,"x":[1]}],"annotations":[],"categories":[]}`))
	f.Add([]byte(`{"images":[{"id":1}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(bytes.NewReader(b))
		if err != nil {
			if bytes.ContainsAny([]byte(err.Error()), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("written dataset does not decode: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(normalise(t, back), normalise(t, d)) {
			t.Fatalf("round trip changed the dataset:\n%s", out)
		}
	})
}

// normalise compares datasets by their JSON, so that equal raw members
// spelled differently ({"a":1} and {"a": 1}) compare equal.
func normalise(t *testing.T, d *Dataset) any {
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
