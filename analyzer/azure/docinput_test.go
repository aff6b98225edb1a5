package azure

import (
	"encoding/binary"
	"strings"
	"testing"
)

func TestSniffDocument(t *testing.T) {
	mpo := []byte{0xFF, 0xD8, 0xFF, 0xE2, 0x00, 0x08, 'M', 'P', 'F', 0x00, 0, 0, 0xFF, 0xDA}
	tests := []struct {
		data    []byte
		want    string
		wantErr string
	}{
		{[]byte("%PDF-1.7\n"), formatPDF, ""},
		{[]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), formatHEIF, ""},
		{[]byte("\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00"), formatHEIF, ""},
		{[]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10}, formatJPEG, ""},
		{mpo, formatJPEG, ""},
		{[]byte("\x89PNG\r\n\x1a\n...."), formatPNG, ""},
		{[]byte("II*\x00\x08\x00\x00\x00"), formatTIFF, ""},
		{append([]byte("BM"), make([]byte, 30)...), formatBMP, ""},
		{[]byte("\x00\x00\x00\x18ftypavif\x00\x00\x00\x00"), "", "not a PDF"},
		{[]byte("GIF89a...."), "", "GIF is not a format"},
		{append([]byte("RIFF\x00\x00\x00\x00WEBP"), make([]byte, 20)...), "", "WEBP is not a format"},
		{[]byte("<html>"), "", "not a PDF, JPEG, PNG, TIFF, BMP or HEIF file"},
	}
	for _, tt := range tests {
		got, err := sniffDocument(tt.data)
		if got != tt.want || (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("sniffDocument(%q) = %q, %v; want %q, %q", tt.data[:min(len(tt.data), 12)], got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPageCount(t *testing.T) {
	// A TIFF whose IFDs point back to the first: counted once, no loop.
	loop := []byte("II*\x00\x08\x00\x00\x00\x00\x00\x08\x00\x00\x00")
	twoIFDs := []byte("II*\x00\x08\x00\x00\x00\x00\x00\x0e\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	bigEndian := make([]byte, 14)
	copy(bigEndian, "MM\x00*")
	binary.BigEndian.PutUint32(bigEndian[4:], 8)
	tests := []struct {
		format string
		data   string
		want   int
	}{
		{formatPDF, "%PDF-1.7 << /Type /Pages /Kids [3 0 R] /Count 12 >> << /Type /Pages /Count 5 >>", 12},
		{formatPDF, "%PDF-1.4 << /Type /Page >> << /Type/Page >> << /Type /Pages >>", 2},
		{formatPDF, "%PDF-1.5 (compressed object streams only)", 0},
		{formatTIFF, string(twoIFDs), 2},
		{formatTIFF, string(loop), 1},
		{formatTIFF, string(bigEndian), 1},
		{formatTIFF, "II*\x00\xff\xff\x00\x00", 0},
		{formatJPEG, "\xff\xd8\xff", 1},
	}
	for _, tt := range tests {
		if got := pageCount(tt.format, []byte(tt.data)); got != tt.want {
			t.Errorf("pageCount(%s, %q) = %d, want %d", tt.format, tt.data, got, tt.want)
		}
	}
}

func TestDecodeDocumentEdgeCases(t *testing.T) {
	body := `{"status":"succeeded","analyzeResult":{"modelId":"m","content":"c","pages":[{},{}],"documents":[{"docType":"t","fields":{
		"Undated":{"type":"date","content":"next Tuesday"},
		"Count":{"type":"integer","valueInteger":3},
		"Signed":{"type":"signature","valueSignature":"signed"},
		"Group":{"type":"selectionGroup","valueSelectionGroup":["a","b"]},
		"Future":{"type":"hologram","valueHologram":1},
		"Items":{"type":"array","valueArray":[{"type":"string","valueString":"not an object"}]}
	}}]}}`
	d, err := DecodeDocument([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if d.Model != "m" || d.DocType != "t" || d.Pages != 2 || d.Content != "c" || len(d.Items) != 0 {
		t.Errorf("document %+v", d)
	}
	checks := map[string]any{"Undated": nil, "Count": int64(3), "Signed": "signed", "Future": nil}
	for name, want := range checks {
		if got := d.Fields[name].Value; got != want {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	if g, ok := d.Fields["Group"].Value.([]string); !ok || len(g) != 2 || d.Fields["Group"].Text() != "a, b" {
		t.Errorf("Group = %#v", d.Fields["Group"].Value)
	}
	if d.Fields["Undated"].Text() != "next Tuesday" || d.Fields["Undated"].Confidence != nil || d.Fields["Undated"].BoundingPolygon == nil {
		t.Errorf("an unnormalised field keeps its text, a nil confidence and an empty polygon: %+v", d.Fields["Undated"])
	}
	if _, ok := d.Fields["Items"]; !ok {
		t.Error("Items that are not objects must stay a field")
	}
	if _, err := DecodeDocument([]byte(`{"status":"succeeded"}`)); err == nil || !strings.Contains(err.Error(), "no analyzeResult") {
		t.Errorf("err = %v", err)
	}
}
